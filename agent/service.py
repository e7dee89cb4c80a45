"""The FastAPI application: lifespan (checkpointer, model, graph), middleware and the contract's error shape.

Routers live in ``agent/api/<area>.py`` and are discovered, so each area (chat, review, smoke runs, ...) owns
its endpoints; they reach shared objects through ``request.app.state``.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import os
import pkgutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import ModuleType
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

import agent.api
from agent import __version__, tracing
from agent.metrics import MetricsMiddleware
from agent.middleware import (
    BearerAuthMiddleware,
    BodyLimitMiddleware,
    BodyTooLarge,
    HeadMiddleware,
    JsonBodyMiddleware,
    RequestLogMiddleware,
)
from core.errors import ApiError
from core.settings import Settings, get_settings
from tools.workers import WorkerPool

log = logging.getLogger("mlagent.service")

# Checkpoints are msgpack; refuse arbitrary types when reading them back (past deserialisation CVEs).
os.environ.setdefault("LANGGRAPH_STRICT_MSGPACK", "true")


def router_modules() -> list[ModuleType]:
    """Every ``agent.api`` submodule that defines a ``router``, in name order (health first so probes work
    even if others fail); helper modules such as ``deps`` have none."""
    names = sorted(info.name for info in pkgutil.iter_modules(agent.api.__path__))
    names.sort(key=lambda name: name != "health")
    modules = [importlib.import_module(f"agent.api.{name}") for name in names]
    return [module for module in modules if hasattr(module, "router")]


def _validation_details(error: RequestValidationError) -> list[dict[str, Any]]:
    details = []
    for item in error.errors():
        location = [str(part) for part in item.get("loc", ()) if part != "body"]
        details.append(
            {
                "field": ".".join(location) or "body",
                "message": str(item.get("msg", "invalid")).removeprefix("Value error, "),
            }
        )
    return details


def _validation_message(details: list[dict[str, Any]], error: RequestValidationError) -> tuple[str, str, int]:
    for item in error.errors():
        if item.get("type") == "json_invalid":
            return "invalid_json", "the request body is not valid JSON", 400
    if any(item.get("type") == "missing" and item.get("loc") == ("body",) for item in error.errors()):
        return "invalid_request", "the request needs a JSON body", 400
    summary = "; ".join(f"{item['field']}: {item['message']}" for item in details[:5])
    # A malformed id in the path or a header (thread_id, run_id, X-Thread-Id) is named: invalid_thread_id, ...
    errors = error.errors()
    if len(errors) == 1 and errors[0].get("loc", ())[:1] in {("path",), ("header",)}:
        name = str(errors[0]["loc"][-1]).lower().removeprefix("x-").replace("-", "_")
        shown = repr(errors[0].get("input"))[:80]
        return f"invalid_{name}", f"invalid {name} {shown}: {details[0]['message']}", 422
    return "invalid_request", f"invalid request: {summary}", 422


def _allowed_methods(request: Request) -> set[str]:
    """The methods of every documented operation whose path template matches the request's path."""
    methods: set[str] = set()
    for template, operations in request.app.openapi().get("paths", {}).items():
        if compile_path(template)[0].match(request.scope["path"]):
            methods |= {method.upper() for method in operations}
    return methods | {"HEAD"} if "GET" in methods else methods


_FASTAPI_BODY_PARSE_ERROR = "There was an error parsing the body"


def _unparsable_body(cause: BaseException | None) -> ApiError:
    """Say why FastAPI could not decode a body it judged to be JSON-shaped (its own message says nothing)."""
    if isinstance(cause, RecursionError):
        reason = "it nests arrays or objects too deeply"
    elif isinstance(cause, ValueError) and "digits" in str(cause):
        reason = "it contains a number with too many digits"
    elif isinstance(cause, UnicodeDecodeError):
        reason = "it is not UTF-8 text"
    else:
        reason = "it could not be decoded"
    return ApiError(400, "invalid_json", f"the request body is not usable JSON: {reason}")


def install_error_handlers(app: FastAPI) -> None:
    """Every error leaves as ``{"error": {code, message, details}}``; no traceback reaches a client."""

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, error: ApiError) -> JSONResponse:
        return JSONResponse(error.body(), status_code=error.status, headers=error.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, error: RequestValidationError) -> JSONResponse:
        details = _validation_details(error)
        code, message, status = _validation_message(details, error)
        return JSONResponse(ApiError(status, code, message, details).body(), status_code=status)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        if isinstance(error, BodyTooLarge):
            return JSONResponse(error.api_error.body(), status_code=error.api_error.status)
        if error.status_code == 400 and error.detail == _FASTAPI_BODY_PARSE_ERROR:
            return JSONResponse(_unparsable_body(error.__cause__).body(), status_code=400)
        codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 413: "payload_too_large"}
        code = codes.get(error.status_code, "http_error")
        message = (
            "no such endpoint"
            if error.status_code == 404 and error.detail == "Not Found"
            else str(error.detail)
        )
        headers = dict(error.headers or {})
        if error.status_code == 405:
            # RFC 9110: a 405 lists every allowed method. Starlette names only the first route matching the
            # path, which is wrong where GET and DELETE live on separate routes of the same path.
            allowed = _allowed_methods(request)
            if allowed:
                headers["Allow"] = ", ".join(sorted(allowed))
        return JSONResponse(
            ApiError(error.status_code, code, message).body(),
            status_code=error.status_code,
            headers=headers,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        body = ApiError(
            500, "internal_error", "the server failed to handle this request; it has been logged"
        ).body()
        return JSONResponse(body, status_code=500)


ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string", "description": "Stable machine-readable error code."},
                "message": {"type": "string", "description": "What is wrong, for a person."},
                "details": {"description": "Structured context (the fields at fault, limits, ids), or null."},
            },
        }
    },
}

_ERROR_DESCRIPTIONS = {
    400: "The body is missing or is not JSON",
    401: "Missing or wrong API key (only when MLAGENT_API_KEY is set)",
    404: "Nothing with that id",
    413: "The request body (or the message in it) is over the limit",
    422: "The request is well-formed JSON but a field is invalid",
    429: "Too many failed API-key attempts from this client; retry after Retry-After seconds",
}


def document_error_responses(schema: dict[str, Any], open_paths: set[str]) -> dict[str, Any]:
    """Declare the contract's error shape in the OpenAPI document, so clients and fuzzers can rely on it.

    FastAPI documents 422 as its own ``HTTPValidationError`` (``{"detail": [...]}``), which is not what this
    service sends, and leaves out the 400/401/404/413 answers every endpoint can give. Each operation gets
    those that apply to it; an error status a router declared without a body schema gets this one.
    """
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    error_content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            statuses = set()
            if "requestBody" in operation:
                statuses |= {400, 413, 422}
            if operation.get("parameters"):
                statuses.add(422)
            names = [str(parameter.get("name", "")) for parameter in operation.get("parameters", [])]
            if "{" in path or any(name.endswith(("id", "ids")) for name in names):
                statuses.add(404)
            if path not in open_paths:
                statuses |= {401, 429}
            for status in statuses:
                description = _ERROR_DESCRIPTIONS[status]
                if status == 429 and "429" in responses:  # the router's own 429 (a full queue) stays named
                    description = f"{responses['429']['description']} Or: {description}"
                responses[str(status)] = {"description": description}
            for status, response in responses.items():
                if status[:1] in {"4", "5"} and ("content" not in response or status == "422"):
                    response["content"] = error_content
    for unused in ("HTTPValidationError", "ValidationError"):
        if unused not in json.dumps(schema["paths"]):
            schemas.pop(unused, None)
    return schema


@asynccontextmanager
async def _review_pool(settings: Settings) -> AsyncIterator[WorkerPool]:
    """The review worker pool for the server's lifetime (submitted code is never parsed in this process).

    Its workers start in the background, so the server answers at once; a review that arrives before they
    are up waits for the first one (within the pool's queue timeout).
    """
    from tools.review.bounded import review_pool
    from tools.workers import PoolLimits

    pool = review_pool(PoolLimits.from_settings(settings))
    starting = asyncio.create_task(asyncio.to_thread(pool.start))
    try:
        yield pool
    finally:
        await asyncio.gather(starting, return_exceptions=True)
        await asyncio.to_thread(pool.close)


def _warm_up_understanding(settings: Settings) -> None:
    """Load the knowledge index (sentence-embedding model) and the slot parser's vocabulary in the background,
    so the first chat turn does not pay for them; the server answers meanwhile (a question asked before the
    index is ready waits for it)."""
    import threading

    from agent.understanding import warm_up
    from knowledge.retrieval import configure, warm_up_in_background

    configure(
        settings.cache_dir / "knowledge"
    )  # the quantised encoder and entry vectors, built once per machine
    warm_up_in_background()
    threading.Thread(target=warm_up, name="understanding-warm-up", daemon=True).start()


@asynccontextmanager
async def open_agent(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    """Open the checkpointer, build the model, tools and graph, and expose them on ``app.state``.

    Holds the data directory for the duration (agent/storage.py): DataDirBusy if another process has it.
    """
    from agent.chat import ChatService
    from agent.graph import build_graph
    from agent.history import HistoryPolicy
    from agent.llm import build_chat_model
    from agent.metrics import instrument_tools
    from agent.storage import open_storage
    from agent.thread_store import prepare_storage
    from agent.toolbelt import ToolContext, build_tools

    model = build_chat_model(settings)
    # Which part a real model plays (tools | compose, agent/llm/mode.py); None with the offline planner.
    choice = getattr(model, "choice", None)
    app.state.llm_mode = choice.as_dict() if choice is not None else None
    owner = getattr(app.state, "data_dir_owner", "an in-process mlagent")
    async with (
        open_storage(settings, owner) as storage,  # first: a refused second process starts no workers
        _review_pool(settings) as review_pool,
    ):
        checkpointer = storage.checkpointer
        app.state.storage = storage
        history = HistoryPolicy.from_settings(settings)
        await prepare_storage(checkpointer, history.keep_checkpoints)  # runs the saver's setup() too
        app.state.checkpointer = checkpointer
        app.state.review_pool = review_pool
        app.state.tool_context = ToolContext(settings=settings, review_pool=review_pool)
        # Counted and timed for /metrics; traced too with MLAGENT_OTEL (agent/tracing.py).
        tools = instrument_tools(
            build_tools(app.state.tool_context), tracer=getattr(app.state, "tracer", None)
        )
        retrieval = settings.llm != "offline"
        app.state.graph = build_graph(model, tools, checkpointer, history, retrieval=retrieval)
        app.state.chat = ChatService(
            app.state.graph, recursion_limit=settings.recursion_limit, history=history, locks=storage.locks
        )
        # Chat Completions clients send the whole conversation each time: no checkpointer for them.
        app.state.stateless_chat = ChatService(
            build_graph(model, tools, history=history, retrieval=retrieval),
            recursion_limit=settings.recursion_limit,
        )
        yield


def create_app(settings: Settings | None = None, span_exporter: Any = None) -> FastAPI:
    """The ASGI app for ``settings`` (the environment's when omitted).

    ``span_exporter``: where the traces go when ``settings.otel`` is on (tests: an in-memory exporter);
    by default the exporter the OTEL_* environment names (agent/tracing.py).
    """
    settings = settings or get_settings()
    modules = router_modules()
    provider = tracing.tracer_provider(settings, span_exporter)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_agent(app, settings):
            started: list[ModuleType] = []
            try:
                for module in modules:
                    if hasattr(module, "startup"):
                        await module.startup(app)
                        started.append(module)
                # The smoke-run queue (if its router started one) is shared with the agent's smoke_run tool.
                app.state.tool_context.smoke_manager = getattr(app.state, "smoke_manager", None)
                _warm_up_understanding(settings)  # after start-up: it must not delay the first /healthz
                mode = (app.state.llm_mode or {}).get("mode")
                log.info(
                    "ready", extra={"llm": settings.llm, "llm_mode": mode, "data_dir": str(settings.data_dir)}
                )
                yield
            finally:
                for module in reversed(started):
                    if hasattr(module, "shutdown"):
                        await module.shutdown(app)
                if provider is not None:
                    tracing.shutdown(provider)  # the last turns' spans, within 3 s

    app = FastAPI(
        title="ML Engineer Agent",
        version=__version__,
        description="An expert computer-vision ML engineer behind an HTTP API: chat, review, generate, "
        "recommend and smoke-train PyTorch Lightning code.",
        lifespan=lifespan,
        docs_url=None,  # agent/api/docs.py serves /docs and /redoc with local assets (no CDN)
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.tracer = tracing.tracer_of(provider)  # None unless MLAGENT_OTEL is on
    install_error_handlers(app)
    for module in modules:
        app.include_router(module.router)
    # Order: the outermost middleware is added last. Logging sees everything, auth runs before body reads.
    app.add_middleware(JsonBodyMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    # Probes, the API description and the web page's files are open; modules name theirs (OPEN_PATHS, ...).
    open_paths = {"/healthz", "/readyz", "/openapi.json"}.union(
        *(getattr(module, "OPEN_PATHS", ()) for module in modules)
    )
    open_prefixes = tuple(prefix for module in modules for prefix in getattr(module, "OPEN_PREFIXES", ()))
    app.add_middleware(
        BearerAuthMiddleware,
        api_key=settings.api_key.get_secret_value() if settings.api_key else None,
        open_paths=open_paths,
        open_prefixes=open_prefixes,
        max_failures=settings.auth_max_failures,
        failure_window_s=settings.auth_failure_window_s,
    )
    app.add_middleware(HeadMiddleware)
    app.add_middleware(MetricsMiddleware, tracer=app.state.tracer)
    app.add_middleware(RequestLogMiddleware)
    if provider is not None:
        tracing.instrument_http(app, provider)  # the request's span, outside every middleware above

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_error_responses(FastAPI.openapi(app), open_paths)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
