"""The Python tracker against in-memory exporters: what a tracked event becomes, and every way one is rejected."""

import json
import logging
import re
import threading
from pathlib import Path

import observatory
from observatory.registry import Registry
from opentelemetry import trace
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    LogRecordExporter,
    LogRecordExportResult,
)
from observatory.telemetry import LogDeliveries, _CountingExporter, _OfferedCounter

UUIDV7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
SEARCH = {"query": "ndvi", "n_results": 3, "user_id": "u1"}


def only_record(records):
    finished = records.get_finished_logs()
    assert len(finished) == 1
    return finished[0].log_record


def test_an_event_tracked_in_a_span_is_a_log_record_with_its_name_properties_id_version_and_trace(records, spans):
    obs = observatory.Tracker()
    with trace.get_tracer("test").start_as_current_span("search") as span:
        obs.track("search_made", SEARCH)
    record = only_record(records)
    assert record.event_name == "search_made"
    assert record.body == SEARCH
    assert UUIDV7.match(record.attributes["event.id"])
    assert record.attributes["event.schema_version"] == "1-0-0"
    assert record.trace_id == span.get_span_context().trace_id
    assert record.span_id == span.get_span_context().span_id
    assert obs.counts() == observatory.TrackCounts(accepted=1, rejected=0, dropped=0)


def test_a_schema_violation_is_a_rejected_record_with_the_errors_worded_as_the_typescript_tracker_words_them(records):
    obs = observatory.Tracker()
    obs.track("search_made", {"query": "ndvi", "n_results": -1, "user_id": "u1", "extra": True})
    record = only_record(records)
    assert record.event_name == "search_made"
    assert record.attributes["event.rejected_reason"] == "schema_violation"
    assert json.loads(record.attributes["event.errors"]) == [
        {"path": "/", "message": "must NOT have additional properties (extra)"},
        {"path": "/n_results", "message": "must be >= 0"},
    ]
    assert json.loads(record.attributes["event.payload"])["n_results"] == -1
    assert record.attributes["event.payload_truncated"] is False
    assert obs.counts().rejected == 1


def test_a_missing_property_a_wrong_type_and_a_boolean_for_an_integer_are_each_named(records):
    observatory.Tracker().track("search_made", {"query": 7, "n_results": True})
    errors = json.loads(only_record(records).attributes["event.errors"])
    assert errors == [
        {"path": "/", "message": "must have required property 'user_id'"},
        {"path": "/query", "message": "must be string"},
        {"path": "/n_results", "message": "must be integer"},
    ]


def test_an_unknown_event_is_rejected_as_unknown_event_without_a_schema_version(records):
    observatory.Tracker().track("no_such_event", {"a": 1})
    record = only_record(records)
    assert record.event_name == "no_such_event"
    assert record.attributes["event.rejected_reason"] == "unknown_event"
    assert "event.schema_version" not in record.attributes
    assert "no_such_event" in record.attributes["event.errors"]


def test_an_event_over_the_size_limit_is_rejected_with_its_payload_truncated_to_the_attribute_limit(records):
    obs = observatory.Tracker(max_event_bytes=1024)
    obs.track("search_made", {**SEARCH, "query": "é" * 5000})
    record = only_record(records)
    assert record.attributes["event.rejected_reason"] == "size_violation"
    assert len(record.attributes["event.payload"]) == 4096
    assert record.attributes["event.payload_truncated"] is True
    assert "over the limit of 1024" in record.attributes["event.errors"]


def test_properties_that_are_not_json_are_a_schema_violation_not_an_exception(records):
    observatory.Tracker().track("search_made", {**SEARCH, "n_results": object()})
    record = only_record(records)
    assert record.attributes["event.rejected_reason"] == "schema_violation"
    assert "cannot be serialized as JSON" in record.attributes["event.errors"]


def test_track_never_raises_whatever_it_is_handed(records):
    obs = observatory.Tracker()
    obs.track(None, None)  # type: ignore[arg-type]
    obs.track("search_made", None)  # type: ignore[arg-type]
    obs.track("", {})
    names = [r.log_record.event_name for r in records.get_finished_logs()]
    assert names == ["_invalid_name", "search_made", "_invalid_name"]
    assert obs.counts().rejected == 3


def test_events_tracked_after_shutdown_are_dropped_and_counted(records):
    obs = observatory.Tracker()
    obs.track("search_made", SEARCH)
    result = obs.shutdown()
    obs.track("search_made", SEARCH)
    assert result.completed is True
    assert obs.counts() == observatory.TrackCounts(accepted=1, rejected=0, dropped=1)
    assert len(records.get_finished_logs()) == 1


def test_a_team_registry_from_a_folder_accepts_its_events_and_rejects_ours(records, tmp_path: Path):
    schema = {
        "$schema": "http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#",
        "self": {"vendor": "orders", "name": "order_placed", "format": "jsonschema", "version": "1-0-0"},
        "type": "object",
        "additionalProperties": False,
        "required": ["order_id"],
        "properties": {"order_id": {"type": "string"}, "placed_on": {"type": "string", "format": "date"}},
    }
    (tmp_path / "order_placed.1-0-0.json").write_text(json.dumps(schema))
    obs = observatory.Tracker(registry=tmp_path)
    obs.track("order_placed", {"order_id": "o1", "placed_on": "2026-12-04"})
    obs.track("order_placed", {"order_id": "o2", "placed_on": "2026-02-30"})
    obs.track("search_made", SEARCH)
    outcomes = [
        (r.log_record.event_name, (r.log_record.attributes or {}).get("event.rejected_reason"))
        for r in records.get_finished_logs()
    ]
    assert outcomes == [
        ("order_placed", None),
        ("order_placed", "schema_violation"),
        ("search_made", "unknown_event"),
    ]


def test_a_schema_file_whose_self_disagrees_with_its_file_name_is_refused_naming_it(tmp_path: Path):
    source = Path(observatory.registry.SCHEMAS_DIR) / "search_made.1-0-0.json"
    (tmp_path / "search_made.1-0-1.json").write_text(source.read_text())
    try:
        Registry.from_dir(tmp_path)
    except ValueError as error:
        assert "search_made.1-0-1.json" in str(error)
    else:
        raise AssertionError("a misnamed schema file was accepted")


def test_logging_records_carry_the_active_trace_and_span_id(caplog):
    observatory.install_log_correlation()
    with caplog.at_level(logging.INFO, logger="etl"):
        with trace.get_tracer("test").start_as_current_span("job") as span:
            logging.getLogger("etl").info("tile done")
        logging.getLogger("etl").info("outside")
    inside, outside = caplog.records
    assert inside.otelTraceID == format(span.get_span_context().trace_id, "032x")
    assert inside.otelSpanID == format(span.get_span_context().span_id, "016x")
    assert outside.otelTraceID == "0"


def test_a_worker_continues_the_trace_of_the_traceparent_it_is_handed(records, spans):
    carrier = {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
    obs = observatory.Tracker()
    with observatory.continue_trace(carrier, "ndvi-worker"):
        assert observatory.current_trace_id() == "4bf92f3577b34da6a3ce929d0e0e4736"
        obs.track("tile_processed", {
            "job_id": "j", "tile_id": "t", "date": "2026-12-04", "ndvi_mean": 0.5,
            "ndvi_p10": 0.1, "ndvi_p90": 0.9, "n_pixels": 10,
        })
    [span] = spans.get_finished_spans()
    assert span.name == "ndvi-worker"
    assert format(span.context.trace_id, "032x") == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert format(span.parent.span_id, "016x") == "00f067aa0ba902b7"
    assert only_record(records).span_id == span.context.span_id


class _BlockedExporter(LogRecordExporter):
    """An exporter that does not return until released: the Collector hangs."""

    def __init__(self):
        self.release = threading.Event()
        self.exported = 0

    def export(self, batch):
        self.release.wait(10)
        self.exported += len(batch)
        return LogRecordExportResult.SUCCESS

    def shutdown(self):
        self.release.set()

    def force_flush(self, timeout_millis=30000):
        return True


def test_track_does_not_wait_on_a_hung_collector_and_counts_what_the_bounded_queue_dropped():
    deliveries = LogDeliveries()
    blocked = _BlockedExporter()
    provider = LoggerProvider()
    provider.add_log_record_processor(_OfferedCounter(deliveries))
    provider.add_log_record_processor(
        BatchLogRecordProcessor(
            _CountingExporter(blocked, deliveries), max_queue_size=10, max_export_batch_size=5,
            schedule_delay_millis=1,
        )
    )
    obs = observatory.Tracker(logger_provider=provider)
    for _ in range(100):
        obs.track("search_made", SEARCH)
    assert obs.counts().accepted == 100
    blocked.release.set()
    provider.force_flush(5000)
    counts = deliveries.snapshot()
    assert counts["offered"] == 100
    assert counts["delivered"] == blocked.exported
    assert counts["dropped"] == 100 - blocked.exported
    assert counts["dropped"] >= 85
    provider.shutdown()
