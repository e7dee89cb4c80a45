"""The repair loop end to end with real sandboxed runs: CLI, HTTP API and a chat turn (each two short runs).

Kept to three loops (six runs, ~4 s each on a quiet machine): the per-kind behaviour is covered by the
recorded-result tests in tests/diagnose; these prove the wiring (copy, re-run, run tree, write-back).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agent.service import create_app
from tools.fixrun.corpus import CORPUS_DIR, load_corpus
from tools.fixrun.models import FixRunRequest

REPO = Path(__file__).resolve().parents[2]


def _case_files(name: str) -> dict[str, str]:
    return next(c for c in load_corpus() if c.name == name).files


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLAGENT_", "OPENAI_"))}
    env["MLAGENT_DATA_DIR"] = str(tmp_path / "data")
    return subprocess.run(
        [sys.executable, "-m", "agent.cli", "fix-run", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )


def test_cli_bad_usage_exits_2(tmp_path: Path) -> None:
    assert _cli(tmp_path, str(tmp_path / "missing")).returncode == 2
    project = tmp_path / "p"
    shutil.copytree(CORPUS_DIR / "frozen_torch", project)
    bad = _cli(tmp_path, str(project), "--attempts", "99")
    assert bad.returncode == 2 and "attempts" in bad.stderr


def test_cli_repairs_a_plain_pytorch_script_and_writes_back_with_in_place(tmp_path: Path) -> None:
    project = tmp_path / "frozen"
    shutil.copytree(CORPUS_DIR / "frozen_torch", project)
    before = (project / "train.py").read_text()
    done = _cli(tmp_path, str(project), "--format", "json", "--in-place", "--steps", "12")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["trained"] and report["outcome"] == "trains"
    first, second = report["attempts"]
    assert first["diagnosis"]["kind"] == "frozen_parameters" and first["status"] == "failed"
    assert second["parent_id"] == first["experiment_id"] and second["repair"]["recipe"] == "unfreeze"
    assert second["diagnosis"]["trains"] and len(second["losses"]) == 12
    after = (project / "train.py").read_text()
    assert (
        after != before and "p.requires_grad = True" in after and after == report["final_files"]["train.py"]
    )


def _wait(client: TestClient, loop_id: str, timeout_s: float = 300.0) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout_s
    while True:
        body = client.get(f"/v1/fix-runs/{loop_id}").json()
        if body["status"] != "running":
            return body  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, body
        time.sleep(0.5)


def test_api_runs_the_loop_on_the_smoke_queue_and_records_the_run_tree(tmp_path: Path) -> None:
    from core.settings import Settings

    files = _case_files("label_dtype_float_ce")
    app = create_app(Settings(data_dir=tmp_path / "data"))  # type: ignore[call-arg]
    with TestClient(app) as client:
        assert client.post("/v1/fix-runs", json={"files": files, "attempts": 99}).status_code == 422
        assert client.get("/v1/fix-runs/fix-nope").status_code == 404
        response = client.post("/v1/fix-runs", json={"files": files, "steps": 12})
        assert response.status_code == 202, response.text
        loop_id = response.json()["id"]
        assert response.headers["location"] == f"/v1/fix-runs/{loop_id}"
        state = _wait(client, loop_id)
        assert state["status"] == "finished", state
        report = state["report"]
        assert report["trained"], report["summary"]
        first, second = report["attempts"]
        assert first["diagnosis"]["kind"] == "label_dtype"
        assert "y.long()" in second["repair"]["diff"]
        child = client.get(f"/v1/experiments/{second['experiment_id']}").json()
        assert child["parent_id"] == first["experiment_id"]
        assert child["diagnosis"]["kind"] == "label_dtype" and "y.long()" in child["diff"]
    assert files == _case_files("label_dtype_float_ce"), "the submitted files are never modified"


def test_chat_make_it_train_then_is_bf16_faster(tmp_path: Path) -> None:
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    from agent.chat import ChatService
    from agent.graph import build_graph
    from agent.llm.offline import OfflinePlannerChatModel
    from agent.toolbelt import ToolContext, build_tools
    from core.settings import Settings

    code = _case_files("head_num_classes_lightning")["model.py"]
    settings = Settings(data_dir=tmp_path, smoke_default_steps=12)  # type: ignore[call-arg]

    async def turns() -> tuple[object, object]:
        async with AsyncSqliteSaver.from_conn_string(str(tmp_path / "threads.sqlite")) as saver:
            graph = build_graph(OfflinePlannerChatModel(), build_tools(ToolContext(settings)), saver)
            service = ChatService(graph, recursion_limit=20)
            fixed = await service.turn(f"```python\n{code}```\nit crashes, make it train", "t")
            measured = await service.turn("is bf16 faster?", "t")
            return fixed, measured

    result, measured = asyncio.run(turns())
    [call] = result.tool_calls  # type: ignore[attr-defined]
    assert call.name == "fix_run"
    assert call.result["trained"], call.result["summary"]
    kinds = [a["diagnosis"]["kind"] for a in call.result["attempts"]]
    assert kinds == ["head_num_classes", "trains"]
    reply = result.reply  # type: ignore[attr-defined]
    assert "```diff" in reply and "NUM_CLASSES" in reply and "Loss curves" in reply
    # "is bf16 faster?" measures the thread's code (interleaved fp32/bf16 runs) and answers from the figures.
    [ab] = measured.tool_calls  # type: ignore[attr-defined]
    assert ab.name == "ab_test" and ab.result["order"] == ["fp32", "bf16", "fp32", "bf16"]
    speed = next(c for c in ab.result["comparisons"] if c["metric"] == "samples_per_s")
    assert speed["baseline_median"] and speed["variant_median"] and speed["noise"] is not None
    assert "bf16" in ab.result["recommendation"] and "cpu" in ab.result["recommendation"]


def test_request_validation_matches_smoke_runs() -> None:
    with pytest.raises(ValueError, match="relative"):
        FixRunRequest(files={"/etc/passwd": "x"})
    with pytest.raises(ValueError):
        FixRunRequest(files={"m.py": "x"}, attempts=11)
