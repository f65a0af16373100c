"""
Every default of the Python tracker, read from the environment: the standard `OTEL_*` variables are read by the
OpenTelemetry SDK itself; these are ours, with the same names and defaults as the TypeScript side
(docs/configuration.md). Empty means unset; a bad value falls back to the default with a warning.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Mapping

_log = logging.getLogger("observatory")

#: The Collector's conform step truncates string attributes to this many characters; a rejected event's payload is
#: truncated to it here, so what is recorded is what arrives (tracker/config.ts).
ATTRIBUTE_VALUE_LIMIT = 4096
#: The longest event name a rejected record keeps.
MAX_NAME_LENGTH = 128


@dataclass(frozen=True)
class TrackerConfig:
    max_event_bytes: int
    timeout_millis: int
    stage: str
    service_namespace: str
    service_version: str | None
    commit: str | None


def _integer(env: Mapping[str, str], name: str, default: int, minimum: int, maximum: int) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        value = minimum - 1
    if not minimum <= value <= maximum:
        _log.warning(
            "observatory: %s=%r is not an integer in [%d, %d]; using %d", name, text, minimum, maximum, default
        )
        return default
    return value


def _string(env: Mapping[str, str], name: str) -> str | None:
    return env.get(name, "").strip() or None


def tracker_config(env: Mapping[str, str] | None = None) -> TrackerConfig:
    env = os.environ if env is None else env
    return TrackerConfig(
        max_event_bytes=_integer(env, "OBSERVATORY_TRACKER_MAX_EVENT_BYTES", 32 * 1024, 256, 2**53),
        timeout_millis=_integer(env, "OBSERVATORY_SHUTDOWN_TIMEOUT_MS", 5000, 0, 60_000),
        stage=_string(env, "OBSERVATORY_STAGE") or "local",
        service_namespace=_string(env, "OBSERVATORY_SERVICE_NAMESPACE") or "observatory",
        service_version=_string(env, "OBSERVATORY_SERVICE_VERSION"),
        commit=_string(env, "OBSERVATORY_COMMIT"),
    )
