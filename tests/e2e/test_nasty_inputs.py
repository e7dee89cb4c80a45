"""Hostile and malformed input over real HTTP and through the real CLI.

The rule under test: bad input gets a clear error (a 4xx with ``{"error": {"code", "message", "details"}}``, or
one line on stderr and exit code 2), never a traceback, a hang or a 500. Input that is odd but valid (NUL
bytes, lone surrogates, code nobody can parse) must still get a normal answer.
"""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import REPO, RunningServer

pytestmark = pytest.mark.slow

JSON = {"content-type": "application/json"}


def post_raw(
    server: RunningServer, path: str, body: bytes | str, headers: dict[str, str] | None = None
) -> Any:
    content = body.encode() if isinstance(body, str) else body
    return httpx.post(f"{server.url}{path}", content=content, headers=headers or JSON, timeout=120)


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is the contract's error with this status (and code)."""
    assert response.status_code == status, response.text[:500]
    body = response.json()
    assert set(body) == {"error"} and {"code", "message", "details"} <= set(body["error"]), body
    assert body["error"]["message"].strip()
    if code is not None:
        assert body["error"]["code"] == code, body
    error: dict[str, Any] = body["error"]
    return error


def assert_no_server_error(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text[:500]
    if response.status_code >= 400:
        assert_error(response, response.status_code)


# --- unicode: NUL bytes and lone surrogates (valid JSON escapes that are not encodable as UTF-8) ----------

UNICODE_BODIES = {
    "chat-nul": ("/v1/chat", r'{"message": "hi\u0000there, review this: import torch\u0000"}'),
    "chat-surrogate": (
        "/v1/chat",
        r'{"message": "review this:\n```python\nimport torch\nx = \"\ud800\"\n```"}',
    ),
    "stream-surrogate": ("/v1/chat/stream", r'{"message": "hello \udaf0 review"}'),
    "review-nul": ("/v1/review", r'{"code": "import torch\u0000\n"}'),
    "review-surrogate": ("/v1/review", r'{"code": "x = \"\ud800\"\n", "fix": true, "format": "sarif"}'),
    "review-surrogate-path": ("/v1/review", r'{"files": {"\ud800.py": "import torch\n"}}'),
    "review-emoji-bom": ("/v1/review", '{"code": "\ufeffimport torch  # \U0001f600\\n"}'),
    "generate-surrogate": (
        "/v1/generate",
        r'{"task": "classification\ud800", "backbone": "resnet18", "num_classes": 3}',
    ),
    "recommend-surrogate": ("/v1/recommendations", r'{"question": "detect \ud800 cars"}'),
    "openai-surrogate": ("/v1/chat/completions", r'{"messages": [{"role": "user", "content": "hi \ud800"}]}'),
}


@pytest.mark.parametrize("case", sorted(UNICODE_BODIES))
def test_nul_bytes_and_lone_surrogates_never_break_an_endpoint(server: RunningServer, case: str) -> None:
    path, body = UNICODE_BODIES[case]
    assert_no_server_error(post_raw(server, path, body))


@pytest.mark.parametrize(
    "files",
    [r'{"\ud800.py": "x = 1"}', r'{"a.py": "x = \"\ud800\""}', r'{"a.py": "x = 1", "c.yaml": "\udc80"}'],
)
def test_smoke_run_with_a_lone_surrogate_is_refused_with_422(server: RunningServer, files: str) -> None:
    response = post_raw(server, "/v1/smoke-runs", f'{{"files": {files}, "steps": 1, "timeout_s": 5}}')
    assert_error(response, 422)


# --- JSON the parser cannot use, sizes and content types -------------------------------------------------


def test_deeply_nested_json_is_a_400_that_says_so(server: RunningServer) -> None:
    error = assert_error(post_raw(server, "/v1/chat", "[" * 10_000 + "]" * 10_000), 400, "invalid_json")
    assert "deeply" in error["message"]
    nested = '{"message": "hi", "x": ' + '{"a":' * 5000 + "1" + "}" * 5000 + "}"
    assert_error(post_raw(server, "/v1/review", nested), 400, "invalid_json")


def test_numbers_too_large_are_client_errors(server: RunningServer) -> None:
    spec = '{"task": "classification", "backbone": "resnet18", "num_classes": %s}'
    error = assert_error(post_raw(server, "/v1/generate", spec % ("9" * 5000)), 400, "invalid_json")
    assert "digits" in error["message"]
    assert_error(post_raw(server, "/v1/generate", spec % "1e400"), 422)
    assert_error(
        post_raw(server, "/v1/recommendations", '{"question": "cars", "top_k": 1%s}' % ("0" * 40)), 422
    )
    smoke = '{"files": {"a.py": "x = 1"}, "timeout_s": NaN}'
    assert_error(post_raw(server, "/v1/smoke-runs", smoke), 422)


def test_a_10_mb_body_is_413(server: RunningServer) -> None:
    body = b'{"code": "' + b"x" * 10_000_000 + b'"}'
    error = assert_error(post_raw(server, "/v1/review", body), 413, "payload_too_large")
    assert error["details"] == {"max_bytes": 2_000_000}


def test_a_chunked_body_over_the_limit_is_413_not_400(server: RunningServer) -> None:
    """No Content-Length: the limit is enforced while the body arrives (FastAPI used to turn it into a 400)."""

    def chunks() -> Iterator[bytes]:
        yield b'{"code": "'
        for _ in range(30):
            yield b"y" * 100_000
        yield b'"}'

    response = httpx.post(f"{server.url}/v1/review", content=chunks(), headers=JSON, timeout=60)
    assert "content-length" not in response.request.headers
    error = assert_error(response, 413, "payload_too_large")
    assert error["details"] == {"max_bytes": 2_000_000}


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"<review><code>x</code></review>", "application/xml", 422),
        (b"\xff\xfe\x00garbage", "application/json", 400),
        (b"[1, 2]", "application/json", 422),
        (b"null", "application/json", 422),
        (b'"just a string"', "text/plain", 422),
        (b"", "application/json", 400),
    ],
)
def test_bodies_that_are_not_a_json_object(
    server: RunningServer, body: bytes, content_type: str, status: int
) -> None:
    for path in ("/v1/review", "/v1/chat"):
        assert_error(post_raw(server, path, body, {"content-type": content_type}), status)


def test_multipart_upload_is_refused_clearly(server: RunningServer) -> None:
    response = httpx.post(f"{server.url}/v1/review", files={"file": ("a.py", b"import torch\n")}, timeout=30)
    assert_error(response, 422)


# --- ids in paths ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "thread_id", ["%00", "x" * 200, "%C3%BC", "%20", "a%20b", "-a", "a;rm", "abc%0A", "abc%0D%0A"]
)
def test_invalid_thread_ids_in_paths(server: RunningServer, thread_id: str) -> None:
    for method in ("GET", "DELETE"):
        response = httpx.request(method, f"{server.url}/v1/threads/{thread_id}", timeout=10)
        assert_error(response, 422, "invalid_thread_id")


@pytest.mark.parametrize("path", ["/v1/threads/..", "/v1/threads/a%2Fb", "/v1/smoke-runs/..%2F..%2Fetc"])
def test_path_traversal_in_ids_is_a_plain_404(server: RunningServer, path: str) -> None:
    assert_error(httpx.get(f"{server.url}{path}", timeout=10), 404)


def test_malformed_ids_of_runs_and_experiments_are_422(server: RunningServer) -> None:
    """Run and experiment ids have a documented pattern; what does not fit it is refused, not looked up."""
    for path, code in (
        ("/v1/experiments/%00", "invalid_experiment_id"),
        ("/v1/smoke-runs/%00", "invalid_run_id"),
        ("/v1/experiments/..%5C..", "invalid_experiment_id"),
        ("/v1/smoke-runs/%E2%80%AE", "invalid_run_id"),
        ("/v1/smoke-runs/run-1%0A", "invalid_run_id"),
        ("/v1/smoke-runs/run-1%0A/events", "invalid_run_id"),
    ):
        assert_error(httpx.get(f"{server.url}{path}", timeout=10), 422, code)
    assert_error(httpx.get(f"{server.url}/v1/smoke-runs/run-0123456789abcdef", timeout=10), 404)
    assert_error(
        httpx.get(f"{server.url}/v1/experiments/compare", params={"ids": "a," * 1000}, timeout=10), 422
    )


def test_experiments_offset_beyond_sqlite_integers_is_422(server: RunningServer) -> None:
    response = httpx.get(f"{server.url}/v1/experiments", params={"offset": str(2**63)}, timeout=10)
    assert_error(response, 422)


# --- the files dict ----------------------------------------------------------------------------------------


def test_review_treats_paths_and_binary_text_as_data(server: RunningServer) -> None:
    """Paths in ``files`` are names, never opened: ../../etc/passwd or /etc/passwd read nothing from disk."""
    etc_passwd = Path("/etc/passwd").read_text(errors="replace").splitlines()[0]
    for files in (
        {"../../etc/passwd": "import torch\n"},
        {"/etc/passwd": "import torch\n"},
        {"/tmp/abs.py": "import torch\n"},
        {"a.py": "\x00\x01\x02\xff\ufffd" * 100},
    ):
        response = httpx.post(f"{server.url}/v1/review", json={"files": files}, timeout=60)
        assert response.status_code == 200, response.text[:300]
        assert len(response.json()["checklist"]) == 14
        assert etc_passwd not in response.text


@pytest.mark.parametrize(
    ("files", "status"),
    [({}, 422), ({f"m{i}.py": "x = 1\n" for i in range(10_000)}, 422)],
)
def test_review_refuses_empty_and_huge_file_sets(
    server: RunningServer, files: dict[str, str], status: int
) -> None:
    assert_error(httpx.post(f"{server.url}/v1/review", json={"files": files}, timeout=60), status)


@pytest.mark.parametrize(
    ("files", "status"),
    [
        ({"../../etc/passwd.py": "x = 1"}, 422),
        ({"/etc/x.py": "x = 1"}, 422),
        ({"..\\..\\a.py": "x = 1"}, 422),
        ({"a\x00.py": "x = 1"}, 422),
        ({"notes.txt": "no python here"}, 422),
        ({}, 422),
        ({f"m{i}.py": "x = 1\n" for i in range(10_000)}, 413),
    ],
)
def test_smoke_runs_refuse_unsafe_or_empty_file_sets_before_running(
    server: RunningServer, files: dict[str, str], status: int
) -> None:
    body = {"files": files, "steps": 1, "timeout_s": 5}
    assert_error(httpx.post(f"{server.url}/v1/smoke-runs", json=body, timeout=60), status)


# --- code that is hard on the parser -------------------------------------------------------------------------

HARD_CODE = {
    "5000-nested-parens": "x = " + "(" * 5000 + "1" + ")" * 5000 + "\n",
    "100-nested-ifs": "".join("    " * i + "if x:\n" for i in range(100)) + "    " * 100 + "pass\n",
    "20000-term-sum": "x = " + " + ".join(["1"] * 20_000) + "\n",
    "100k-lines": "import torch\n" + "x = 1\n" * 100_000,
    "deep-calls": "x = " + "f(" * 3000 + ")" * 3000 + "\n",
}


@pytest.mark.parametrize("name", sorted(HARD_CODE))
def test_code_that_recurses_deeply_or_is_huge_is_reviewed_or_refused_clearly(
    server: RunningServer, name: str
) -> None:
    response = httpx.post(f"{server.url}/v1/review", json={"code": HARD_CODE[name]}, timeout=120)
    if response.status_code == 200:
        assert len(response.json()["checklist"]) == 14
    else:
        assert_error(response, 422)
    chat = httpx.post(
        f"{server.url}/v1/chat",
        json={"message": f"review this:\n```python\n{HARD_CODE[name][:150_000]}```"},
        timeout=120,
    )
    assert chat.status_code == 200, chat.text[:300]


# --- chat, OpenAI-compatible facade, recommendations -----------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"messages": []},
        {"messages": [{"role": "user", "content": [{"type": "text"}, {"no": "type"}, 5]}]},
        {"messages": [{"role": "system", "content": "be nice"}]},
        {"messages": [{"role": "user", "content": "   "}]},
        {"messages": [{"role": "wizard", "content": "hi"}]},
        {"messages": "hello"},
    ],
)
def test_chat_completions_bad_input(server: RunningServer, body: dict[str, Any]) -> None:
    assert_error(httpx.post(f"{server.url}/v1/chat/completions", json=body, timeout=30), 422)


def test_chat_completions_bad_thread_header(server: RunningServer) -> None:
    body = {"messages": [{"role": "user", "content": "hi"}]}
    response = httpx.post(
        f"{server.url}/v1/chat/completions", json=body, headers={"x-thread-id": "../x"}, timeout=30
    )
    assert_error(response, 422, "invalid_thread_id")


@pytest.mark.parametrize(
    "body",
    [
        {"message": ""},
        {"message": " \n\t "},
        {"message": "hi", "thread_id": "../../x"},
        {"message": None},
        {},
    ],
)
def test_chat_bad_input(server: RunningServer, body: dict[str, Any]) -> None:
    for path in ("/v1/chat", "/v1/chat/stream"):
        assert_error(httpx.post(f"{server.url}{path}", json=body, timeout=30), 422)


def test_a_blank_recommendation_question_is_422(server: RunningServer) -> None:
    error = assert_error(
        httpx.post(f"{server.url}/v1/recommendations", json={"question": "  \n "}, timeout=30), 422
    )
    assert "empty" in error["message"]


def test_a_client_leaving_a_stream_early_is_not_a_server_error(server: RunningServer) -> None:
    """FastAPI's SSE keep-alive task raises when the client disconnects mid-stream; that is not an error."""
    log_before = len(server.log())
    for _ in range(6):
        with (
            httpx.Client(timeout=30) as client,
            client.stream(
                "POST", f"{server.url}/v1/chat/stream", json={"message": "hello, review please"}
            ) as response,
        ):
            assert response.status_code == 200
            received = 0
            for chunk in response.iter_bytes():
                received += len(chunk)
                if received >= 600:
                    break
    assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200
    log = server.log()[log_before:]
    assert "unhandled error" not in log and "Exception in ASGI application" not in log


# --- the CLI ----------------------------------------------------------------------------------------------


def run_cli(*args: str, cwd: Path, data_dir: Path) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("MLAGENT_", "OPENAI_"))}
    environment["MLAGENT_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "agent.cli", *args],
        cwd=cwd,
        env={**environment, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def cli_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    (root / "empty").mkdir()
    (root / "text-only").mkdir()
    (root / "text-only" / "notes.txt").write_text("no python here\n")
    (root / "binary.py").write_bytes(bytes(range(256)) * 8)
    (root / "latin1.py").write_bytes(b'x = "caf\xe9"\n')
    (root / "not-empty").mkdir()
    (root / "not-empty" / "keep.txt").write_text("mine\n")
    return root


CLI_CASES = {
    "review-dir-without-python": (["review", "empty"], 2),
    "review-dir-with-text-only": (["review", "text-only"], 2),
    "review-binary-file": (["review", "binary.py"], 2),
    "review-non-utf8-file": (["review", "latin1.py"], 2),
    "review-missing-path": (["review", "missing.py"], 2),
    "review-unknown-rule": (["review", "latin1.py", "--select", "NOPE999"], 2),
    "generate-into-non-empty-dir": (
        [
            "generate",
            "--task",
            "classification",
            "--backbone",
            "resnet18",
            "--num-classes",
            "3",
            "--out",
            "not-empty",
        ],
        2,
    ),
    "generate-onto-a-file": (
        [
            "generate",
            "--task",
            "classification",
            "--backbone",
            "resnet18",
            "--num-classes",
            "3",
            "--out",
            "binary.py",
        ],
        2,
    ),
    "smoke-missing-dir": (["smoke", "missing-dir"], 2),
    "smoke-dir-without-python": (["smoke", "text-only"], 2),
    "recommend-empty": (["recommend", ""], 2),
    "recommend-blank": (["recommend", "   "], 2),
    "chat-empty": (["chat", ""], 2),
    "chat-bad-thread-id": (["chat", "hello", "--thread", "../x"], 2),
    "chat-unparsable-url": (["chat", "hello", "--url", "http://[::1"], 2),
    "unknown-command": (["frobnicate"], 2),
}


@pytest.mark.parametrize("case", sorted(CLI_CASES))
def test_cli_bad_input_is_one_line_and_exit_2(cli_tree: Path, tmp_path: Path, case: str) -> None:
    args, expected = CLI_CASES[case]
    result = run_cli(*args, cwd=cli_tree, data_dir=tmp_path / "data")
    assert result.returncode == expected, (result.stdout[-500:], result.stderr[-2000:])
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr


def test_cli_chat_against_a_server_that_is_not_mlagent(cli_tree: Path, tmp_path: Path) -> None:
    """A URL that answers HTML (here Python's own http.server) is a usage error, not a JSON traceback."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}"
        result = run_cli("chat", "hello", "--url", url, cwd=cli_tree, data_dir=tmp_path / "data")
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_cli_thread_id_rule_is_the_servers(cli_tree: Path) -> None:
    from agent.chat import THREAD_ID_PATTERN
    from agent.cli import _THREAD_ID

    assert _THREAD_ID.pattern == THREAD_ID_PATTERN.pattern
