"""Prometheus metrics of the service: HTTP requests and chat turns, tool calls, smoke runs and their queue.

Why here and this way: counting happens at the edges this package owns (an ASGI middleware for requests and
turns, a wrapper around each tool of the belt), so the chat service and the smoke-run manager stay free of
metrics code; smoke-run numbers are read from the manager and the experiment store when Prometheus scrapes.
Metrics live in their own registry (not the client's global one) so several apps in one process (the tests)
do not collide; ``/metrics`` (agent/api/metrics.py) renders it. With MLAGENT_OTEL on, the same two hooks open
OpenTelemetry spans (agent/tracing.py): one per turn and a child per tool call; off, ``tracer`` is None.
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from langchain_core.tools import BaseTool
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from opentelemetry.trace import Tracer

REGISTRY = CollectorRegistry(auto_describe=True)
# Seconds: from a review or a plain answer (tens of ms) to a long generation or an LLM turn (minutes).
_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
# The routes whose requests are chat turns, by the name used in the ``endpoint`` label.
TURN_ROUTES = {
    "/v1/chat": "chat",
    "/v1/chat/stream": "chat_stream",
    "/v1/chat/completions": "openai",
}

HTTP_REQUESTS = Counter(
    "mlagent_http_requests",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "mlagent_http_request_duration_seconds",
    "Time from the request's arrival to the last byte of the answer (a stream counts until it ends).",
    ["method", "route"],
    buckets=_BUCKETS,
    registry=REGISTRY,
)
TURNS = Counter(
    "mlagent_turns",
    "Chat turns, by endpoint (chat, chat_stream, openai) and outcome (ok, client_error, server_error).",
    ["endpoint", "outcome"],
    registry=REGISTRY,
)
TURN_LATENCY = Histogram(
    "mlagent_turn_duration_seconds",
    "Duration of a chat turn as its client saw it (streams until their last event).",
    ["endpoint"],
    buckets=_BUCKETS,
    registry=REGISTRY,
)
TOOL_CALLS = Counter(
    "mlagent_tool_calls",
    "Tool calls the agent made, by tool and status (ok; error: the tool reported a failure; exception).",
    ["tool", "status"],
    registry=REGISTRY,
)
TOOL_LATENCY = Histogram(
    "mlagent_tool_duration_seconds",
    "Duration of one tool call.",
    ["tool"],
    buckets=_BUCKETS,
    registry=REGISTRY,
)


def _outcome(status: int) -> str:
    return "ok" if status < 400 else "client_error" if status < 500 else "server_error"


class MetricsMiddleware:
    """Counts and times every HTTP request by its route template (never the raw path: ids would explode the
    label set), and chat turns by endpoint. Unmatched paths are labelled ``unmatched``. With a ``tracer``, a
    turn also runs inside a span (``turn <endpoint>``) that its tool calls' spans hang from."""

    def __init__(self, app: ASGIApp, tracer: Tracer | None = None) -> None:
        self.app = app
        self.tracer = tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.tracer is not None and scope["method"] == "POST":
            path, root = str(scope["path"]), str(scope.get("root_path", ""))
            turn = TURN_ROUTES.get(path.removeprefix(root) if root else path)
            if turn is not None:
                await self._traced(turn, self.tracer, scope, receive, send)
                return
        await self._counted(scope, receive, send)

    async def _traced(
        self, endpoint: str, tracer: Tracer, scope: Scope, receive: Receive, send: Send
    ) -> None:
        from agent import tracing

        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        with tracer.start_as_current_span(f"turn {endpoint}") as span:
            span.set_attribute(tracing.ENDPOINT, endpoint)
            try:
                await self._counted(scope, receive, recording_send)
            finally:
                outcome = _outcome(status)
                span.set_attribute(tracing.OUTCOME, outcome)
                span.set_attribute("http.response.status_code", status)
                if outcome == "server_error":
                    tracing.error_status(span, f"HTTP {status}")

    async def _counted(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        status = 500  # if the app raises before answering

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = str(scope.get("method", "GET"))
            HTTP_REQUESTS.labels(method, route, str(status)).inc()
            HTTP_LATENCY.labels(method, route).observe(elapsed)
            endpoint = TURN_ROUTES.get(route)
            if endpoint is not None and method == "POST":
                TURNS.labels(endpoint, _outcome(status)).inc()
                TURN_LATENCY.labels(endpoint).observe(elapsed)


def _tool_status(output: Any) -> str:
    """``error`` when the tool answered with a failure artifact (``{"error": ...}``), else ``ok``."""
    artifact = output[1] if isinstance(output, tuple) and len(output) == 2 else None
    return "error" if isinstance(artifact, dict) and artifact.get("error") else "ok"


def _traced_tool(name: str, function: Callable[..., Any], tracer: Tracer) -> Callable[..., Any]:
    """The function counted and timed, inside a span named ``tool <name>`` (a child of the turn's span)."""
    from agent import tracing

    timed = _timed(name, function)

    def finish(span: Any, output: Any) -> None:
        status = _tool_status(output)
        span.set_attribute(tracing.TOOL_STATUS, status)
        if status == "error":
            tracing.error_status(span, "the tool reported an error")

    def failed(span: Any, error: BaseException) -> None:
        span.set_attribute(tracing.TOOL_STATUS, "exception")
        span.record_exception(error)
        tracing.error_status(span, f"{type(error).__name__}: {error}"[:200])

    if inspect.iscoroutinefunction(function):

        @functools.wraps(function)
        async def traced_async(*args: Any, **kwargs: Any) -> Any:
            with tracer.start_as_current_span(
                f"tool {name}", attributes={tracing.TOOL_NAME: name}, record_exception=False
            ) as span:
                try:
                    output = await timed(*args, **kwargs)
                except BaseException as error:
                    failed(span, error)
                    raise
                finish(span, output)
                return output

        return traced_async

    @functools.wraps(function)
    def traced(*args: Any, **kwargs: Any) -> Any:
        with tracer.start_as_current_span(
            f"tool {name}", attributes={tracing.TOOL_NAME: name}, record_exception=False
        ) as span:
            try:
                output = timed(*args, **kwargs)
            except BaseException as error:
                failed(span, error)
                raise
            finish(span, output)
            return output

    return traced


def _timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(function):

        @functools.wraps(function)
        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            status = "exception"
            try:
                output = await function(*args, **kwargs)
                status = _tool_status(output)
                return output
            finally:
                TOOL_CALLS.labels(name, status).inc()
                TOOL_LATENCY.labels(name).observe(time.perf_counter() - started)

        return timed_async

    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        status = "exception"
        try:
            output = function(*args, **kwargs)
            status = _tool_status(output)
            return output
        finally:
            TOOL_CALLS.labels(name, status).inc()
            TOOL_LATENCY.labels(name).observe(time.perf_counter() - started)

    return timed


def instrument_tools(tools: Iterable[BaseTool], tracer: Tracer | None = None) -> list[BaseTool]:
    """The same tools, each call counted and timed under its name (the function is wrapped in place), and
    traced as a span when a ``tracer`` is given."""
    instrumented = []
    for tool in tools:
        for attribute in ("func", "coroutine"):
            function = getattr(tool, attribute, None)
            if callable(function):
                wrapped = (
                    _timed(tool.name, function)
                    if tracer is None
                    else _traced_tool(tool.name, function, tracer)
                )
                setattr(tool, attribute, wrapped)
        instrumented.append(tool)
    return instrumented


class SmokeRunCollector(Collector):
    """Smoke-run numbers read at scrape time: runs queued and running now (the queue), and recorded runs by
    status (from the experiment store, so the numbers survive restarts)."""

    def __init__(self, manager: Any) -> None:
        self.manager = manager

    def collect(self) -> Iterator[Metric]:
        active = self.manager.active()
        queue = GaugeMetricFamily("mlagent_smoke_queue_depth", "Smoke runs waiting for a slot.")
        queue.add_metric([], active.get("queued", 0))
        yield queue
        running = GaugeMetricFamily("mlagent_smoke_runs_running", "Smoke runs in progress.")
        running.add_metric([], active.get("running", 0))
        yield running
        recorded = GaugeMetricFamily(
            "mlagent_smoke_runs", "Recorded smoke runs (experiments) by status.", labels=["status"]
        )
        store = self.manager.store
        for status, count in sorted((store.count_by_status() if store is not None else {}).items()):
            recorded.add_metric([status], count)
        yield recorded
