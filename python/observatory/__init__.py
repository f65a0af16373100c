"""
Observatory for Python: business events and traces on OpenTelemetry.

    import observatory
    obs = observatory.Tracker()
    obs.track('search_made', {'query': 'ndvi', 'n_results': 3, 'user_id': 'u1'})
    obs.flush()  # before a short-lived job exits

A worker continues the trace of the job it was handed (the payload's `{traceparent, tracestate, baggage}`):

    with observatory.continue_trace(job['trace'], 'ndvi-worker'):
        obs.track(...)
"""

from .registry import EventSchema, Registry, ValidationError
from .telemetry import continue_trace, current_trace_id, inject, install_log_correlation, setup
from .tracker import FlushResult, TrackCounts, Tracker

__all__ = [
    "EventSchema",
    "FlushResult",
    "Registry",
    "TrackCounts",
    "Tracker",
    "ValidationError",
    "continue_trace",
    "current_trace_id",
    "inject",
    "install_log_correlation",
    "setup",
]
