"""uvicorn options for ``mlagent serve``: a request-read deadline that closes half-open connections.

uvicorn (0.54, h11) times out only *idle keep-alive* connections, and stops that timer as soon as any byte
arrives: a connection that opens and sends nothing, or half a request line, is held forever (2,000 such
sockets kept 2,013 file descriptors open). ``GuardedH11Protocol`` adds the deadline nginx calls
``client_header_timeout`` / ``client_body_timeout``: the request head must be complete within
``request_read_timeout_s`` of the connection (or of the first byte after a keep-alive pause), and a body may
not pause longer than that between two chunks. A connection past its deadline is closed.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from core.settings import Settings


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline on reading each request (head and body)."""

    read_timeout_s: float = 10.0

    _read_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._watch_reading()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch_reading()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._watch_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_timer()
        super().connection_lost(exc)

    def _watch_reading(self) -> None:
        """(Re)arm the deadline for what the client still owes us, or stop it when it owes nothing."""
        if self.transport is None or self.transport.is_closing():
            self._stop_timer()
            return
        state = self.conn.their_state
        if state is h11.IDLE:
            # Waiting for a request head. A fresh connection starts the clock; between keep-alive requests
            # uvicorn's own keep-alive timer runs until a byte arrives, and then ours starts (once: the head
            # has one deadline in all, however slowly its bytes trickle in).
            if self.timeout_keep_alive_task is not None:
                self._stop_timer()
            elif self._read_timer is None:
                self._start_timer()
        elif state is h11.SEND_BODY:
            self._start_timer()  # the body may pause at most read_timeout_s between two chunks
        else:
            self._stop_timer()

    def _start_timer(self) -> None:
        self._stop_timer()
        self._read_timer = self.loop.call_later(self.read_timeout_s, self._read_timed_out)

    def _stop_timer(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None

    def _read_timed_out(self) -> None:
        self._read_timer = None
        if self.transport.is_closing():
            return
        if self.conn.their_state is h11.SEND_BODY and self.flow.read_paused:
            self._start_timer()  # we stopped reading (the app is slow to consume): not the client's fault
            return
        if self.conn.their_state in {h11.IDLE, h11.SEND_BODY}:
            # Debug level: a flood of such connections must not flood the log too.
            self.logger.debug(
                "closing a connection that did not finish its request in %ss", self.read_timeout_s
            )
            self.transport.close()


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.run`` that apply the connection settings."""
    protocol = type(
        "GuardedH11Protocol", (GuardedH11Protocol,), {"read_timeout_s": settings.request_read_timeout_s}
    )
    options: dict[str, Any] = {"http": protocol}
    if settings.max_connections is not None:
        options["limit_concurrency"] = settings.max_connections
    return options
