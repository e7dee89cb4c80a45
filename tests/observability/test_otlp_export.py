"""A real server with MLAGENT_OTEL on exports its traces over OTLP/HTTP to the standard endpoint variable."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.conftest import RunningServer
from tests.samples import PLAIN_LOOP


class _Receiver(BaseHTTPRequestHandler):
    """Records the body of every POST to /v1/traces and answers 200, like a collector."""

    received: list[bytes]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        if self.path == "/v1/traces":
            self.server.received.append(body)  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.received = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _spans(bodies: list[bytes]) -> list[tuple[str, str, dict[str, str]]]:
    """(service name, span name, string attributes) of every span received."""
    found = []
    for body in bodies:
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            service = next(
                a.value.string_value for a in resource_spans.resource.attributes if a.key == "service.name"
            )
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    attributes = {a.key: a.value.string_value for a in span.attributes}
                    found.append((service, span.name, attributes))
    return found


def test_a_turn_reaches_the_otlp_endpoint(
    server_factory: Callable[..., RunningServer], collector: ThreadingHTTPServer
) -> None:
    endpoint = f"http://127.0.0.1:{collector.server_address[1]}"
    server = server_factory(
        env={
            "MLAGENT_OTEL": "true",
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_BSP_SCHEDULE_DELAY": "100",
            "OTEL_SERVICE_NAME": "mlagent-under-test",
        }
    )
    turn = httpx.post(
        f"{server.url}/v1/chat", json={"message": f"review this:\n```python\n{PLAIN_LOOP}```"}, timeout=120
    )
    assert turn.status_code == 200
    thread_id = turn.json()["thread_id"]
    deadline = time.monotonic() + 30
    spans: list[tuple[str, str, dict[str, str]]] = []
    while time.monotonic() < deadline:
        spans = _spans(list(collector.received))  # type: ignore[attr-defined]
        if {"turn chat", "tool review_code"} <= {name for _, name, _ in spans}:
            break
        time.sleep(0.1)
    names = {name for _, name, _ in spans}
    assert {"turn chat", "tool review_code"} <= names, (names, server.log()[-2000:])
    assert {service for service, _, _ in spans} == {"mlagent-under-test"}
    [turn_span] = [attributes for _, name, attributes in spans if name == "turn chat"]
    assert turn_span["mlagent.thread_id"] == thread_id and turn_span["mlagent.outcome"] == "ok"
    assert any(name.startswith("POST /v1/chat") for name in names), names  # the HTTP request's span
    assert "OpenTelemetry tracing on" in server.log()


def test_an_unreachable_collector_neither_slows_turns_nor_holds_the_exit(
    server_factory: Callable[..., RunningServer],
) -> None:
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    server = server_factory(
        env={"MLAGENT_OTEL": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}"}
    )
    for _ in range(3):
        started = time.monotonic()
        turn = httpx.post(f"{server.url}/v1/chat", json={"message": "explain MLR006"}, timeout=60)
        assert turn.status_code == 200 and time.monotonic() - started < 10
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 8, "the exporter's retries must not hold the exit (3 s at most)"
