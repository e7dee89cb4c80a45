"""One code path: ``POST /v1/review`` with ``{"code"}`` or ``{"files"}``, the CLI and the chat's review tool give
the same findings and verdicts for the same text (issue 11 saw 16 findings from ``{"code"}`` and 17 elsewhere).

Each entry point names the file its own way (``snippet.py``, the CLI's file name, chat's ``submitted.py``), so the
reports are compared with the path normalised; everything else (rule, place, message, checklist) must match.
"""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from agent.api.review import router
from agent.toolbelt.review import review_code
from tools.review.cli import main

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "bench" / "review_corpus"
NAME = "snippet.py"

# A module-level fit without a __main__ guard: the rule snippets used to skip (the 16-vs-17 of the issue).
MODULE_LEVEL_FIT = """\
import lightning as L
import torch
from torch import nn


class Lit(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = nn.Linear(4, 2)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = nn.functional.cross_entropy(self.net(x), y)
        self.log("loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


trainer = L.Trainer(max_epochs=1)
trainer.fit(Lit())
"""


def _samples() -> list[tuple[str, str]]:
    """The module-level-fit case, the autofix goldens' inputs and single-file corpus cases (real-world style)."""
    out = [("module_level_fit", MODULE_LEVEL_FIT)]
    out += [(p.name, p.read_text()) for p in sorted((Path(__file__).parent / "fixes").glob("*.in.py"))]
    singles = []
    for case in sorted(p for p in CORPUS.iterdir() if p.is_dir()):
        files = [
            p for p in case.iterdir() if p.suffix in {".py", ".yaml", ".yml"} and p.name != "labels.yaml"
        ]
        if len(files) == 1 and files[0].suffix == ".py":
            singles.append((case.name, files[0].read_text()))
    return out + singles[::6][:6]


SAMPLES = _samples()


def _normal(report: dict[str, Any], path: str) -> tuple[list[tuple[Any, ...]], list[tuple[str, str]]]:
    """Findings and checklist statuses with this entry point's file name replaced by a common one."""
    findings = sorted(
        (f["rule"], f["line"], f["column"], f["end_line"], f["end_column"], f["message"].replace(path, NAME))
        for f in report["findings"]
    )
    return findings, [(i["id"], i["status"]) for i in report["checklist"]]


def _cli(tmp_path: Path, code: str) -> dict[str, Any]:
    target = tmp_path / NAME
    target.write_text(code)
    out = io.StringIO()
    with redirect_stdout(out):
        main(["review", str(target), "--format", "json"])
    result: dict[str, Any] = json.loads(out.getvalue())
    return result


@pytest.mark.parametrize(("name", "code"), SAMPLES, ids=[n for n, _ in SAMPLES])
def test_every_entry_point_gives_the_same_findings(name: str, code: str, tmp_path: Path) -> None:
    app = FastAPI()
    app.include_router(router)
    client = TestClient(app)
    by_code = client.post("/v1/review", json={"code": code}).json()
    by_files = client.post("/v1/review", json={"files": {NAME: code}}).json()
    _, chat = review_code(code=code)
    reports = {
        "code": _normal(by_code, NAME),
        "files": _normal(by_files, NAME),
        "cli": _normal(_cli(tmp_path, code), NAME),
        "chat": _normal(chat, "submitted.py"),
    }
    assert reports["code"][0], f"{name}: a sample must have findings to compare"
    for entry, got in reports.items():
        assert got == reports["code"], f"{name}: {entry} disagrees with {{'code'}}"


def test_module_level_fit_is_flagged_from_a_snippet_too() -> None:
    app = FastAPI()
    app.include_router(router)
    body = TestClient(app).post("/v1/review", json={"code": MODULE_LEVEL_FIT}).json()
    assert "MLR107" in {f["rule"] for f in body["findings"]}


def test_a_real_chat_turn_agrees_with_the_cli(tmp_path: Path) -> None:
    """Through the LangGraph graph and the offline planner: pasted plainly or fenced, the same findings."""
    import asyncio

    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    from agent.chat import ChatService
    from agent.graph import build_graph
    from agent.llm.offline import OfflinePlannerChatModel
    from agent.toolbelt import ToolContext, build_tools
    from core.settings import Settings

    golden = (Path(__file__).parent / "fixes" / "lightning_script.in.py").read_text()

    async def turns() -> list[dict[str, Any]]:
        async with AsyncSqliteSaver.from_conn_string(str(tmp_path / "threads.sqlite")) as saver:
            tools = build_tools(ToolContext(Settings(data_dir=tmp_path)))
            service = ChatService(build_graph(OfflinePlannerChatModel(), tools, saver), recursion_limit=20)
            results = []
            for n, message in enumerate(
                [
                    f"review this:\n```python\n{MODULE_LEVEL_FIT}```",
                    golden,
                    f"please review\n```python\n{golden}```",
                ]
            ):
                turn = await service.turn(message, f"t{n}")
                [call] = [c for c in turn.tool_calls if c.name == "review_code"]
                results.append(call.result)
            return results

    fenced_fit, plain_golden, fenced_golden = asyncio.run(turns())
    assert _normal(fenced_fit, "submitted.py") == _normal(_cli(tmp_path, MODULE_LEVEL_FIT), NAME)
    expected = _normal(_cli(tmp_path, golden), NAME)
    assert _normal(plain_golden, "submitted.py") == expected, "a whole file pasted without a fence"
    assert _normal(fenced_golden, "submitted.py") == expected
