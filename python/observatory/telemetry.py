"""
The OpenTelemetry SDK set-up of a Python process, as the preload does it for Node: one resource (service name,
version, stage, commit), spans and log records batched to the Collector over OTLP/HTTP (the SDK reads the standard
`OTEL_*` variables: endpoint, headers, timeouts, batch sizes), the W3C propagator, Python `logging` records
carrying the active trace and span ID, and a bounded flush at exit. An application that configured the SDK itself
keeps its providers: `setup()` then only adds what is ours.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import sys
import threading
from dataclasses import dataclass, field
from typing import Iterator, Mapping, Sequence

from opentelemetry import _logs, context as otel_context, propagate, trace
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider, LogRecordProcessor
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    LogRecordExporter,
    LogRecordExportResult,
)
from opentelemetry.sdk.resources import OTELResourceDetector, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from .config import TrackerConfig, tracker_config

SCOPE = "observatory.tracker"


@dataclass
class LogDeliveries:
    """What the log pipeline was handed and what its exporter delivered: drops are `offered - delivered`."""

    offered: int = 0
    delivered: int = 0
    failed: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for key, n in counts.items():
                setattr(self, key, getattr(self, key) + n)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {
                "offered": self.offered,
                "delivered": self.delivered,
                "failed": self.failed,
                "dropped": max(0, self.offered - self.delivered),
            }


class _OfferedCounter(LogRecordProcessor):
    """Counts every record handed to the pipeline, before the batch queue may drop it."""

    def __init__(self, deliveries: LogDeliveries):
        self._deliveries = deliveries

    def on_emit(self, log_record) -> None:  # noqa: ANN001 - the SDK's type moved between releases
        self._deliveries.add(offered=1)

    emit = on_emit  # older SDK releases call emit()

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class _CountingExporter(LogRecordExporter):
    """The OTLP exporter, counting what it delivered and what failed."""

    def __init__(self, inner: LogRecordExporter, deliveries: LogDeliveries):
        self._inner = inner
        self._deliveries = deliveries

    def export(self, batch: Sequence) -> LogRecordExportResult:  # type: ignore[override]
        try:
            result = self._inner.export(batch)
        except Exception:  # an exporter must not take the worker thread down
            result = LogRecordExportResult.FAILURE
        if result == LogRecordExportResult.SUCCESS:
            self._deliveries.add(delivered=len(batch))
        else:
            self._deliveries.add(failed=len(batch))
        return result

    def shutdown(self) -> None:
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return getattr(self._inner, "force_flush", lambda *_: True)(timeout_millis)


@dataclass
class Telemetry:
    tracer_provider: TracerProvider | None
    logger_provider: LoggerProvider
    deliveries: LogDeliveries | None
    config: TrackerConfig


_lock = threading.Lock()
_telemetry: Telemetry | None = None


def resource(config: TrackerConfig, env: Mapping[str, str] | None = None) -> Resource:
    """Our defaults, overridden by `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES` (as the Node preload does)."""
    defaults: dict[str, str] = {
        "service.namespace": config.service_namespace,
        "deployment.environment.name": config.stage,
        "service.name": _script_name(),
        "telemetry.distro.name": "observatory",
    }
    if config.service_version:
        defaults["service.version"] = config.service_version
    if config.commit:
        defaults["vcs.ref.head.revision"] = config.commit
    from_env = dict(OTELResourceDetector().detect().attributes)
    service_name = (env if env is not None else os.environ).get("OTEL_SERVICE_NAME", "").strip()
    if service_name:
        from_env["service.name"] = service_name
    return Resource.create({**defaults, **from_env})


def _script_name() -> str:
    script = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return os.path.splitext(script)[0] or "python"


def setup() -> Telemetry:
    """Sets the SDK up once per process (later calls return the same); never replaces an application's providers."""
    global _telemetry
    with _lock:
        if _telemetry is not None:
            return _telemetry
        config = tracker_config()
        res = resource(config)
        tracer_provider: TracerProvider | None = None
        if not isinstance(trace.get_tracer_provider(), TracerProvider):
            tracer_provider = TracerProvider(resource=res)
            tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
            trace.set_tracer_provider(tracer_provider)
        existing = _logs.get_logger_provider()
        deliveries: LogDeliveries | None = None
        if isinstance(existing, LoggerProvider):
            logger_provider = existing
        else:
            deliveries = LogDeliveries()
            logger_provider = LoggerProvider(resource=res)
            logger_provider.add_log_record_processor(_OfferedCounter(deliveries))
            logger_provider.add_log_record_processor(
                BatchLogRecordProcessor(_CountingExporter(OTLPLogExporter(), deliveries))
            )
            _logs.set_logger_provider(logger_provider)
        install_log_correlation()
        _telemetry = Telemetry(tracer_provider, logger_provider, deliveries, config)
        atexit.register(_flush_at_exit)
        return _telemetry


def _flush_at_exit() -> None:
    telemetry = _telemetry
    if telemetry is None:
        return
    timeout = telemetry.config.timeout_millis
    # Bounded: a Collector that is down must not hold a finished job for the exporter's own retries.
    if telemetry.tracer_provider is not None:
        telemetry.tracer_provider.force_flush(timeout)
    telemetry.logger_provider.force_flush(timeout)


_factory_installed = False


def install_log_correlation() -> None:
    """
    Every `logging` record gets `otelTraceID`, `otelSpanID` and `otelTraceSampled` (the names OpenTelemetry's
    logging instrumentation uses), from the span active where it was logged: a format string can print them,
    and a log line finds its trace. Installed once, around whatever record factory was there.
    """
    global _factory_installed
    if _factory_installed:
        return
    _factory_installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:  # noqa: ANN002, ANN003
        record = previous(*args, **kwargs)
        span_context = trace.get_current_span().get_span_context()
        valid = span_context.is_valid
        record.otelTraceID = format(span_context.trace_id, "032x") if valid else "0"
        record.otelSpanID = format(span_context.span_id, "016x") if valid else "0"
        record.otelTraceSampled = span_context.trace_flags.sampled if valid else False
        return record

    logging.setLogRecordFactory(factory)


def current_trace_id() -> str | None:
    """The correlation ID: the active span's W3C trace ID (32 lowercase hex), or None outside a span."""
    span_context = trace.get_current_span().get_span_context()
    return format(span_context.trace_id, "032x") if span_context.is_valid else None


@contextlib.contextmanager
def continue_trace(
    carrier: Mapping[str, str] | None, name: str, *, kind: trace.SpanKind = trace.SpanKind.CONSUMER
) -> Iterator[trace.Span]:
    """
    Continues the trace a job handed over: `carrier` is the `{traceparent, tracestate, baggage}` the producer put in
    the payload (W3C propagator). The span `name` is a child of the producer's span, current inside the block, so
    the worker's spans, events and log lines join the job's trace. Without a carrier it starts a new trace.
    """
    setup()
    parent = propagate.extract(dict(carrier or {}))
    token = otel_context.attach(parent)
    try:
        with trace.get_tracer(SCOPE).start_as_current_span(name, kind=kind) as span:
            yield span
    finally:
        otel_context.detach(token)


def inject() -> dict[str, str]:
    """The active context as a `{traceparent, tracestate, baggage}` carrier, for a job payload."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier
