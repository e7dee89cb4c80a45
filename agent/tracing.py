"""Optional OpenTelemetry traces of the service: the HTTP request, the chat turn and each tool call in it.

Off by default (``MLAGENT_OTEL=false``): then no OpenTelemetry module is imported and the hooks below are
a ``None`` check. On, each app gets its own tracer provider (not the global one, so that several apps in
one process, the tests, stay apart) exporting in batches to the exporter ``OTEL_TRACES_EXPORTER`` names:
``otlp`` (default: OTLP over HTTP/protobuf to ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` or
``OTEL_EXPORTER_OTLP_ENDPOINT``, ``http://localhost:4318`` when unset), ``console`` (stdout) or ``none``.
``OTEL_SERVICE_NAME`` names the service (``ml-engineer-agent`` when unset).

The spans come from the hooks the Prometheus metrics already own (agent/metrics.py): the middleware that
counts turns opens the turn span, the wrapper that times tools opens a child span per call, and the chat
service names the turn's thread (``note_thread``). The packages (``pip install '.[otel]'``) are imported
only when tracing is on; missing, the service starts without traces and says so in its log.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import TYPE_CHECKING, Any

from agent import __version__

if TYPE_CHECKING:
    from fastapi import FastAPI
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Tracer

    from core.settings import Settings

log = logging.getLogger("mlagent.tracing")

SERVICE_NAME = "ml-engineer-agent"
# Attribute names of this service's spans.
ENDPOINT = "mlagent.endpoint"
THREAD_ID = "mlagent.thread_id"
OUTCOME = "mlagent.outcome"
TOOL_NAME = "mlagent.tool.name"
TOOL_STATUS = "mlagent.tool.status"

# True once an app of this process traces: until then ``note_thread`` returns at once, importing nothing.
_active = False


def _exporter_from_environment() -> SpanExporter | None:
    name = os.environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() or "otlp"
    if name == "none":
        return None
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    if name != "otlp":
        log.warning("OTEL_TRACES_EXPORTER=%s is not supported (otlp, console, none): using otlp", name)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()  # reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, _HEADERS, _TIMEOUT itself


def tracer_provider(settings: Settings, exporter: SpanExporter | None = None) -> TracerProvider | None:
    """A tracer provider for one app, or None: tracing off, or its packages missing (logged).

    ``exporter``: where spans go (tests pass an in-memory one, exported synchronously); by default the one the
    environment names, behind a batch processor so that requests never wait on the collector.
    """
    global _active
    if not settings.otel:
        return None
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

        resource = Resource.create(
            {
                "service.name": os.environ.get("OTEL_SERVICE_NAME") or SERVICE_NAME,
                "service.version": __version__,
            }
        )
        provider = TracerProvider(resource=resource, shutdown_on_exit=False)  # shut down by ``shutdown``
        if exporter is not None:
            provider.add_span_processor(SimpleSpanProcessor(exporter))
        else:
            configured = _exporter_from_environment()
            if configured is not None:
                provider.add_span_processor(BatchSpanProcessor(configured))
    except ImportError as error:
        log.warning(
            "MLAGENT_OTEL is on but OpenTelemetry is not installed (%s): no traces; pip install "
            "'ml-engineer-agent[otel]'",
            error,
        )
        return None
    _active = True
    log.info(
        "OpenTelemetry tracing on", extra={"otel_exporter": os.environ.get("OTEL_TRACES_EXPORTER", "otlp")}
    )
    return provider


def tracer_of(provider: TracerProvider | None) -> Tracer | None:
    return provider.get_tracer("mlagent", __version__) if provider is not None else None


def instrument_http(app: FastAPI, provider: TracerProvider) -> None:
    """A server span per HTTP request (opentelemetry-instrumentation-fastapi), the parent of the turn span;
    skipped with a log line when that package is missing."""
    try:
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    except ImportError:
        log.info("opentelemetry-instrumentation-fastapi is not installed: no HTTP request spans")
        return
    # /metrics and the probes are scraped every few seconds: no spans for them.
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=provider,
        excluded_urls="/metrics,/healthz,/readyz",
        exclude_spans=["receive", "send"],
    )


def shutdown(provider: TracerProvider, timeout_s: float = 3.0) -> None:
    """Export the spans still queued and stop, waiting at most ``timeout_s``: an unreachable collector (the
    exporter retries for up to 10 s) must not hold the server's exit; what is left then is dropped."""
    worker = threading.Thread(target=provider.shutdown, name="otel-shutdown", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():
        log.warning("the trace exporter did not finish within %.0f s: its last spans are dropped", timeout_s)


def note_thread(thread_id: str) -> None:
    """Name the thread on the span of the turn in progress (a no-op when nothing traces)."""
    if not _active:
        return
    from opentelemetry import trace

    span = trace.get_current_span()
    if span.is_recording():
        span.set_attribute(THREAD_ID, thread_id)


def error_status(span: Any, description: str) -> None:
    from opentelemetry.trace import Status, StatusCode

    span.set_status(Status(StatusCode.ERROR, description))
