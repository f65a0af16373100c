"""
Business events from Python, as the TypeScript Tracker records them (tracker/tracker.ts): an OpenTelemetry log
record with `eventName` set, the properties as its body, a UUIDv7 `event.id` and the `event.schema_version` it was
validated against; the SDK adds the active trace and span ID (the correlation ID) and the resource (service name,
version, stage, commit). `track()` is on the job's path: it never raises and never waits (the SDK's batch queue is
bounded; what it drops is counted). An invalid event is not lost: it becomes a rejected record with its reason, and
the lake keeps it in its `rejected` table.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from opentelemetry._logs import LoggerProvider, SeverityNumber

from .config import ATTRIBUTE_VALUE_LIMIT, MAX_NAME_LENGTH, tracker_config
from .registry import EventSchema, Registry, ValidationError
from .telemetry import SCOPE, LogDeliveries, setup
from .uuidv7 import uuidv7

_log = logging.getLogger("observatory")
_WARN_INTERVAL_S = 30.0

#: The `event.*` attributes, as common/names.ts names them.
EVENT_ID = "event.id"
SCHEMA_VERSION = "event.schema_version"
REJECTED_REASON = "event.rejected_reason"
ERRORS = "event.errors"
PAYLOAD = "event.payload"
PAYLOAD_TRUNCATED = "event.payload_truncated"


@dataclass(frozen=True)
class TrackCounts:
    #: Valid events handed to the SDK.
    accepted: int
    #: Invalid events, handed to the SDK as rejected records.
    rejected: int
    #: Events never handed to the SDK: tracked after shutdown, or a fault inside the tracker.
    dropped: int


@dataclass(frozen=True)
class FlushResult:
    #: False when the timeout ran out before everything was exported.
    completed: bool
    events: TrackCounts
    #: The pipeline's delivery counts (every log record of the process), or None with an injected provider.
    logs: dict[str, int] | None
    delivered: int | None
    #: Never silent: events the tracker dropped plus records the SDK had not delivered by the end of the flush.
    dropped: int


class Tracker:
    """
    `Tracker()` tracks our registry's events through the process' OpenTelemetry SDK (set up from `OTEL_*` and
    `OBSERVATORY_*` on first use); `Tracker(registry="schemas/")` tracks a team's own, from a folder of
    self-describing schemas (`<name>.<SchemaVer>.json`).
    """

    def __init__(
        self,
        registry: Registry | str | Path | None = None,
        *,
        logger_provider: LoggerProvider | None = None,
        validate: bool = True,
        max_event_bytes: int | None = None,
        timeout_millis: int | None = None,
        env: Mapping[str, str] | None = None,
    ):
        config = tracker_config(env)
        self._registry = _registry(registry)
        self._validate = validate
        self._max_event_bytes = max_event_bytes or config.max_event_bytes
        self._timeout_millis = config.timeout_millis if timeout_millis is None else timeout_millis
        self._deliveries: LogDeliveries | None = None
        if logger_provider is None:
            telemetry = setup()
            logger_provider = telemetry.logger_provider
            self._deliveries = telemetry.deliveries
        self._provider = logger_provider
        self._logger = logger_provider.get_logger(SCOPE)
        self._accepted = 0
        self._rejected = 0
        self._dropped = 0
        self._closed = False
        self._last_warning = 0.0

    def track(self, name: str, properties: Mapping[str, Any]) -> None:
        """Records one business event; an invalid one becomes a rejected record, never an exception."""
        try:
            if self._closed:
                return self._drop(name, "shutdown")
            self._conform_and_emit(name, properties)
        except Exception as error:  # the last line of defence of a call that must never raise
            self._drop(name, "internal_error", error)

    def flush(self, timeout_millis: int | None = None) -> FlushResult:
        """Exports what is buffered within the bound (for short-lived jobs); returns counts, never raises."""
        timeout = self._timeout_millis if timeout_millis is None else timeout_millis
        try:
            completed = bool(self._provider.force_flush(timeout))  # type: ignore[attr-defined]
        except Exception as error:
            self._warn(f"flush failed: {error}")
            completed = False
        logs = self._deliveries.snapshot() if self._deliveries else None
        return FlushResult(
            completed=completed,
            events=self.counts(),
            logs=logs,
            delivered=logs["delivered"] if logs else None,
            dropped=self._dropped + (logs["dropped"] if logs else 0),
        )

    def shutdown(self, timeout_millis: int | None = None) -> FlushResult:
        """Stops accepting events (later calls are dropped and counted) and flushes within the bound."""
        self._closed = True
        return self.flush(timeout_millis)

    def counts(self) -> TrackCounts:
        return TrackCounts(self._accepted, self._rejected, self._dropped)

    def _conform_and_emit(self, name: str, properties: Any) -> None:
        schema = self._registry.current(name)
        if schema is None:
            return self._reject(
                name,
                None,
                properties,
                "unknown_event",
                [ValidationError("", f"event {json.dumps(name)} is not in the registry")],
            )
        try:
            serialized = _to_json(properties)
        except (TypeError, ValueError) as error:
            return self._reject(
                name,
                schema,
                properties,
                "schema_violation",
                [ValidationError("/", f"properties cannot be serialized as JSON: {error}")],
            )
        # A character is at most 4 UTF-8 bytes: most events are far below the limit and need no exact count.
        size = 0
        if (len(serialized) + len(name)) * 4 > self._max_event_bytes:
            size = len(serialized.encode()) + len(name.encode())
        if size > self._max_event_bytes:
            return self._reject(
                name,
                schema,
                serialized,
                "size_violation",
                [
                    ValidationError(
                        "/",
                        f"the serialized event is {size} bytes, over the limit of {self._max_event_bytes}",
                    )
                ],
            )
        if self._validate:
            errors = schema.validate(properties)
            if errors:
                return self._reject(name, schema, serialized, "schema_violation", errors)
        self._logger.emit(
            event_name=name,
            timestamp=time.time_ns(),
            severity_number=SeverityNumber.INFO,
            severity_text="INFO",
            # A copy: the record waits in the batch queue, and the caller may reuse its dict.
            body=dict(properties),
            attributes={EVENT_ID: uuidv7(), SCHEMA_VERSION: schema.version},
        )
        self._accepted += 1

    def _reject(
        self,
        name: Any,
        schema: EventSchema | None,
        payload: Any,
        reason: str,
        errors: list[ValidationError],
    ) -> None:
        text = payload if isinstance(payload, str) else _safe_json(payload)
        attributes: dict[str, Any] = {
            EVENT_ID: uuidv7(),
            REJECTED_REASON: reason,
            ERRORS: _bounded_errors(errors),
            PAYLOAD: text[:ATTRIBUTE_VALUE_LIMIT],
            PAYLOAD_TRUNCATED: len(text) > ATTRIBUTE_VALUE_LIMIT,
        }
        if schema is not None:
            attributes[SCHEMA_VERSION] = schema.version
        self._logger.emit(
            event_name=_record_name(name),
            timestamp=time.time_ns(),
            severity_number=SeverityNumber.WARN,
            severity_text="WARN",
            attributes=attributes,
        )
        self._rejected += 1

    def _drop(self, name: Any, reason: str, error: BaseException | None = None) -> None:
        try:
            self._dropped += 1
            if reason == "internal_error":
                self._warn(f"dropped event {name!r}: {error}")
        except Exception:
            pass

    def _warn(self, message: str) -> None:
        now = time.monotonic()
        if now - self._last_warning < _WARN_INTERVAL_S and self._last_warning:
            return
        self._last_warning = now
        _log.warning("observatory tracker: %s", message)


def _registry(registry: Registry | str | Path | None) -> Registry:
    if registry is None:
        return Registry.ours()
    if isinstance(registry, Registry):
        return registry
    return Registry.from_dir(registry)


def _to_json(value: Any) -> str:
    # As JavaScript's JSON.stringify writes it (no spaces), so sizes match the TypeScript tracker's.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _safe_json(value: Any) -> str:
    try:
        return _to_json(value)
    except (TypeError, ValueError) as error:
        return f"[not serializable: {error}]"


def _record_name(name: Any) -> str:
    """The rejected record's eventName: the caller's name where usable, so the bad call can be found."""
    if not isinstance(name, str) or not name.strip():
        return "_invalid_name"
    return name[:MAX_NAME_LENGTH]


def _bounded_errors(errors: list[ValidationError]) -> str:
    """The errors as a JSON array that stays valid JSON under the attribute limit: whole entries are left out."""
    kept = [error.as_dict() for error in errors]
    text = _to_json(kept)
    while len(text) > ATTRIBUTE_VALUE_LIMIT and len(kept) > 1:
        kept.pop()
        text = _to_json(
            [*kept, {"path": "", "message": f"{len(errors) - len(kept)} more errors left out"}]
        )
    if len(text) > ATTRIBUTE_VALUE_LIMIT:
        return _to_json([{"path": "", "message": "errors too long"}])
    return text
