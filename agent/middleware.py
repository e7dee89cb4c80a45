"""Pure-ASGI middleware: bearer-token auth, request-body size limit, structured access log.

Pure ASGI (not ``BaseHTTPMiddleware``) so streaming responses (SSE) pass through untouched and the body limit
also holds for chunked uploads that carry no Content-Length.
"""

from __future__ import annotations

import hmac
import json
import logging
import math
import time
import uuid
from collections import OrderedDict, deque
from typing import Any

import anyio
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.errors import ApiError

log = logging.getLogger("mlagent.access")


async def _send_error(send: Send, error: ApiError, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps(error.body()).encode()
    await send(
        {
            "type": "http.response.start",
            "status": error.status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            + (headers or []),
        }
    )
    await send({"type": "http.response.body", "body": body})


class AuthFailureLimiter:
    """Counts failed API-key attempts per client over a sliding window; past the limit the client must wait.

    Memory is bounded: at most ``max_clients`` clients are tracked, the least recently failing forgotten first.
    """

    def __init__(self, max_failures: int, window_s: float, max_clients: int = 10_000) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.max_clients = max_clients
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, client: str, now: float) -> deque[float] | None:
        times = self._failures.get(client)
        while times and times[0] <= now - self.window_s:
            times.popleft()
        if times is not None and not times:
            del self._failures[client]
            return None
        return times

    def retry_after(self, client: str, now: float) -> float | None:
        """Seconds until ``client`` may try again, or None when it is not locked out."""
        times = self._recent(client, now)
        if times is None or len(times) < self.max_failures:
            return None
        return times[-self.max_failures] + self.window_s - now

    def record_failure(self, client: str, now: float) -> None:
        times = self._recent(client, now) or deque()
        times.append(now)
        while len(times) > self.max_failures:
            times.popleft()  # the oldest failures no longer decide when the lockout ends
        self._failures[client] = times
        self._failures.move_to_end(client)
        while len(self._failures) > self.max_clients:
            self._failures.popitem(last=False)


class BearerAuthMiddleware:
    """When an API key is configured, every path but the open ones needs ``Authorization: Bearer KEY``.

    Failed attempts are limited per client address (``max_failures`` per ``failure_window_s``; 0 turns the limit
    off): past the limit every request of that client is answered 429 with ``Retry-After`` until the window has
    moved on, without looking at the key, so that guessing cannot go on at full speed.
    """

    def __init__(
        self,
        app: ASGIApp,
        api_key: str | None,
        open_paths: set[str],
        max_failures: int = 0,
        failure_window_s: float = 60.0,
        open_prefixes: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.api_key = api_key.encode() if api_key else None
        self.open_paths = open_paths
        self.open_prefixes = open_prefixes
        self.limiter = AuthFailureLimiter(max_failures, failure_window_s) if max_failures > 0 else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or self.api_key is None
            or path in self.open_paths
            or (self.open_prefixes and path.startswith(self.open_prefixes))
        ):
            await self.app(scope, receive, send)
            return
        client = str((scope.get("client") or ("unknown",))[0])
        now = time.monotonic()
        wait = self.limiter.retry_after(client, now) if self.limiter else None
        if wait is not None:
            seconds = max(1, math.ceil(wait))
            message = f"too many failed authentication attempts from this client; retry in {seconds} s"
            error = ApiError(429, "too_many_auth_failures", message, {"retry_after_s": seconds})
            await _send_error(send, error, [(b"retry-after", str(seconds).encode())])
            return
        headers = dict(scope.get("headers") or [])
        scheme, _, token = headers.get(b"authorization", b"").partition(b" ")
        if scheme.lower() != b"bearer" or not hmac.compare_digest(token.strip(), self.api_key):
            if self.limiter:
                self.limiter.record_failure(client, now)
            message = "missing or wrong API key: send 'Authorization: Bearer <MLAGENT_API_KEY>'"
            await _send_error(
                send, ApiError(401, "unauthorized", message), [(b"www-authenticate", b"Bearer")]
            )
            return
        await self.app(scope, receive, send)


class BodyTooLarge(HTTPException):
    """Raised from the body stream once more bytes than allowed arrived (a chunked upload has no length).

    An ``HTTPException`` because FastAPI turns any other exception raised while it reads the body into a 400
    "There was an error parsing the body"; this one it re-raises, and the app's handler answers 413 with
    ``api_error``'s body.
    """

    def __init__(self, api_error: ApiError) -> None:
        super().__init__(api_error.status, api_error.message)
        self.api_error = api_error


class BodyLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` with 413, by header and by counting what actually arrives."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _error(self) -> ApiError:
        return ApiError(
            413,
            "payload_too_large",
            f"the request body is larger than the limit of {self.max_bytes} bytes",
            {"max_bytes": self.max_bytes},
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _send_error(send, self._error())
            return
        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self._error())
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not response_started:
                await _send_error(send, self._error())


class RequestLogMiddleware:
    """One JSON log line per request (method, path, status, duration, request id); sets ``x-request-id``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex[:16]
        started = time.perf_counter()
        status: dict[str, Any] = {"code": 500, "sent": False}
        extra: dict[str, Any] = {}

        async def logging_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"], status["sent"] = message["status"], True
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, logging_send)
        except Exception as error:
            if not (status["sent"] and client_went_away(error)):
                raise
            extra["client_disconnected"] = True
        finally:
            log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope.get("method"),
                    "path": scope.get("path"),
                    "status": status["code"],
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    **extra,
                },
            )


def client_went_away(error: BaseException) -> bool:
    """True for what a stream raises when its client disconnected mid-response, and nothing else.

    FastAPI's SSE keep-alive task (fastapi 0.165, ``_keepalive_inserter``) raises ``BrokenResourceError`` in an
    exception group when the client leaves mid-stream; uncaught, every ordinary disconnect from
    ``/v1/chat/stream`` or a smoke run's events was logged as an unhandled error with a traceback.
    """
    if isinstance(error, BaseExceptionGroup):
        return all(client_went_away(inner) for inner in error.exceptions)
    return isinstance(error, anyio.BrokenResourceError | anyio.ClosedResourceError)


class JsonBodyMiddleware:
    """Treat request bodies as JSON whatever the client declared.

    Every endpoint takes JSON, and ``curl -d '{...}'`` (the README's examples) sends it labelled as a form.
    Relabelling lets FastAPI parse it, and a body that is not JSON then gets the contract's 400 error.
    """

    _RELABEL = {b"", b"application/x-www-form-urlencoded", b"text/plain"}

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") in {"POST", "PUT", "PATCH"}:
            headers = [(k, v) for k, v in scope.get("headers") or [] if k != b"content-type"]
            declared = (
                dict(scope.get("headers") or []).get(b"content-type", b"").split(b";")[0].strip().lower()
            )
            if declared in self._RELABEL:
                scope = dict(scope, headers=[*headers, (b"content-type", b"application/json")])
        await self.app(scope, receive, send)


class HeadMiddleware:
    """Answer ``HEAD`` on every ``GET`` route: the GET's status and headers, no body (RFC 9110 9.3.2).

    FastAPI's routes, unlike Starlette's, do not add HEAD to GET, so it was a 405. The request runs as a GET
    and the body is dropped; the app is stopped once the headers are out, so that HEAD on an event stream
    (``/v1/smoke-runs/{id}/events``) ends at once instead of streaming into nothing.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "HEAD":
            await self.app(scope, receive, send)
            return
        async with anyio.create_task_group() as group:

            async def headers_only(message: Message) -> None:
                if message["type"] == "http.response.start":
                    await send(message)
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                    group.cancel_scope.cancel()

            await self.app(dict(scope, method="GET"), receive, headers_only)
