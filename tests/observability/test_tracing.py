"""OpenTelemetry traces (agent/tracing.py): real turns through the real app, spans caught in memory."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from langchain_core.tools import StructuredTool
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from agent import tracing
from agent.metrics import instrument_tools
from agent.service import create_app
from core.settings import Settings
from tests.samples import PLAIN_LOOP

REVIEW = f"review this:\n```python\n{PLAIN_LOOP}```"


def _by_name(spans: tuple[ReadableSpan, ...], name: str) -> list[ReadableSpan]:
    return [span for span in spans if span.name == name]


@pytest.fixture
def traced(tmp_path: Path) -> Iterator[tuple[TestClient, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    app = create_app(Settings(data_dir=tmp_path / "data", otel=True), span_exporter=exporter)  # type: ignore[call-arg]
    with TestClient(app) as client:
        yield client, exporter


def test_a_chat_turn_is_a_span_with_its_tool_calls_as_children_under_the_request(
    traced: tuple[TestClient, InMemorySpanExporter],
) -> None:
    client, exporter = traced
    response = client.post("/v1/chat", json={"message": REVIEW, "thread_id": "traced-thread"})
    assert response.status_code == 200 and [c["name"] for c in response.json()["tool_calls"]] == [
        "review_code"
    ]
    spans = exporter.get_finished_spans()
    [turn] = _by_name(spans, "turn chat")
    assert turn.attributes is not None
    assert turn.attributes[tracing.ENDPOINT] == "chat"
    assert turn.attributes[tracing.THREAD_ID] == "traced-thread"
    assert turn.attributes[tracing.OUTCOME] == "ok"
    assert turn.attributes["http.response.status_code"] == 200
    assert turn.end_time is not None and turn.start_time is not None and turn.end_time > turn.start_time
    assert turn.status.status_code is StatusCode.UNSET

    [tool] = _by_name(spans, "tool review_code")
    assert tool.attributes == {tracing.TOOL_NAME: "review_code", tracing.TOOL_STATUS: "ok"}
    assert tool.parent is not None and tool.parent.span_id == turn.context.span_id
    assert tool.context.trace_id == turn.context.trace_id
    assert tool.start_time is not None and tool.end_time is not None
    assert turn.start_time <= tool.start_time and tool.end_time <= turn.end_time

    # The HTTP server span (opentelemetry-instrumentation-fastapi) is the turn's parent and the trace's root.
    [request] = [span for span in spans if span.kind is SpanKind.SERVER]
    assert (
        request.parent is None and turn.parent is not None and turn.parent.span_id == request.context.span_id
    )
    assert request.attributes is not None and request.attributes.get("http.route") == "/v1/chat"


def test_streamed_and_openai_turns_are_traced_and_a_refused_turn_is_a_client_error(
    traced: tuple[TestClient, InMemorySpanExporter],
) -> None:
    client, exporter = traced
    with client.stream("POST", "/v1/chat/stream", json={"message": REVIEW}) as stream:
        events = "".join(stream.iter_text())
    assert "event: done" in events
    completion = client.post(
        "/v1/chat/completions", json={"model": "mlagent", "messages": [{"role": "user", "content": REVIEW}]}
    )
    assert completion.status_code == 200, completion.text
    assert client.post("/v1/chat", json={"message": " "}).status_code == 422
    spans = exporter.get_finished_spans()

    [streamed] = _by_name(spans, "turn chat_stream")
    assert streamed.attributes is not None and streamed.attributes[tracing.OUTCOME] == "ok"
    assert len(str(streamed.attributes[tracing.THREAD_ID])) == 32  # a new thread's id
    [openai] = _by_name(spans, "turn openai")
    refused = [
        s for s in _by_name(spans, "turn chat") if s.attributes and s.attributes[tracing.OUTCOME] != "ok"
    ]
    assert [s.attributes[tracing.OUTCOME] for s in refused if s.attributes] == ["client_error"]
    tools = _by_name(spans, "tool review_code")
    parents = sorted(span.parent.span_id for span in tools if span.parent is not None)
    assert parents == sorted([streamed.context.span_id, openai.context.span_id])


def test_a_tool_that_raises_or_reports_an_error_marks_its_span() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))

    def broken(x: int) -> str:
        raise ValueError("no good")

    def refusing(x: int) -> tuple[str, dict[str, str]]:
        return "cannot", {"error": "refused"}

    tools = instrument_tools(
        [
            StructuredTool.from_function(broken, name="broken", description="raises"),
            StructuredTool.from_function(
                refusing, name="refusing", description="reports", response_format="content_and_artifact"
            ),
        ],
        tracer=provider.get_tracer("test"),
    )
    with pytest.raises(ValueError):
        tools[0].func(1)  # type: ignore[attr-defined]
    tools[1].func(1)  # type: ignore[attr-defined]
    raised, reported = exporter.get_finished_spans()
    assert raised.attributes is not None and raised.attributes[tracing.TOOL_STATUS] == "exception"
    assert raised.status.status_code is StatusCode.ERROR and raised.events[0].name == "exception"
    assert reported.attributes is not None and reported.attributes[tracing.TOOL_STATUS] == "error"
    assert reported.status.status_code is StatusCode.ERROR


def test_tracing_is_off_by_default_and_then_makes_no_spans(tmp_path: Path) -> None:
    exporter = InMemorySpanExporter()
    settings = Settings(data_dir=tmp_path / "data")  # type: ignore[call-arg]
    assert settings.otel is False
    app = create_app(settings, span_exporter=exporter)
    assert app.state.tracer is None
    with TestClient(app) as client:
        response = client.post("/v1/chat", json={"message": REVIEW})
        assert response.status_code == 200 and response.json()["tool_calls"][0]["name"] == "review_code"
    assert exporter.get_finished_spans() == ()


def test_without_the_packages_tracing_on_logs_and_the_service_still_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry.sdk.trace", None)  # import fails as if not installed
    app = create_app(Settings(data_dir=tmp_path / "data", otel=True))  # type: ignore[call-arg]
    assert app.state.tracer is None
    assert "OpenTelemetry is not installed" in caplog.text
    with TestClient(app) as client:
        assert client.post("/v1/chat", json={"message": REVIEW}).status_code == 200


@pytest.mark.parametrize(
    ("name", "expected"),
    [("", "OTLPSpanExporter"), ("otlp", "OTLPSpanExporter"), ("console", "ConsoleSpanExporter")],
)
def test_the_exporter_is_the_one_otel_traces_exporter_names(
    name: str, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", name)
    assert type(tracing._exporter_from_environment()).__name__ == expected
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    assert tracing._exporter_from_environment() is None
