"""``mlagent smoke`` and ``mlagent experiments`` through the real console entry point: output and exit codes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.smoke.conftest import BROKEN_MODULE, TINY_MODULE

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def mlagent(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLAGENT_", "OPENAI_"))}
    env["MLAGENT_DATA_DIR"] = str(tmp_path / "data")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "agent.cli", *args],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )

    return run


def _project(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_smoke_then_experiments_round_trip(mlagent, tmp_path: Path) -> None:
    project = _project(tmp_path / "proj", {"model.py": TINY_MODULE, "conf/train.yaml": "lr: 0.05\n"})
    (project / "__pycache__").mkdir()
    (project / "__pycache__" / "junk.py").write_text("raise SystemExit('must not be sent')\n")

    done = mlagent("smoke", str(project), "--steps", "3", "--format", "json")
    assert done.returncode == 0, done.stderr + done.stdout
    result = json.loads(done.stdout)
    assert result["status"] == "succeeded" and len(result["losses"]) == 3
    assert "step 3/3" in done.stderr  # plain progress lines when stderr is not a terminal
    first = result["experiment_id"]

    listed = mlagent("experiments", "list", "--format", "json")
    assert listed.returncode == 0 and [e["id"] for e in json.loads(listed.stdout)] == [first]
    assert json.loads(listed.stdout)[0]["file_names"] == ["conf/train.yaml", "model.py"]

    plot = tmp_path / "loss.svg"
    shown = mlagent("experiments", "show", first, "--plot", str(plot))
    assert shown.returncode == 0 and first in shown.stdout and "succeeded" in shown.stdout
    assert ET.parse(plot).getroot().tag.endswith("svg")

    again = mlagent("experiments", "reproduce", first, "--format", "json")
    assert again.returncode == 0, again.stdout + again.stderr
    report = json.loads(again.stdout)
    assert report["matches"] and report["curve"]["max_abs_diff"] <= 1e-4
    second = report["reproduction_id"]

    png = tmp_path / "compare.png"
    compared = mlagent("experiments", "compare", first, second, "--plot", str(png))
    assert (
        compared.returncode == 0 and "final_loss" in compared.stdout and "same code: yes" in compared.stdout
    )
    assert png.read_bytes().startswith(b"\x89PNG")


def test_smoke_of_broken_code_exits_1(mlagent, tmp_path: Path) -> None:
    project = _project(tmp_path / "broken", {"model.py": BROKEN_MODULE})
    done = mlagent("smoke", str(project), "--steps", "2")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "failed" in done.stdout and "error:" in done.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("smoke", "/nonexistent/project"),
        ("smoke", "{empty}"),
        ("smoke", "{empty}", "--steps", "0"),
        ("experiments", "show", "exp-nope"),
        ("experiments", "compare", "exp-a"),
        ("experiments", "compare", "exp-a", "exp-b"),
        ("experiments", "reproduce", "exp-nope"),
    ],
)
def test_bad_input_exits_2_with_one_line(mlagent, tmp_path: Path, args: tuple[str, ...]) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.yaml").write_text("a: 1\n")
    done = mlagent(*(a.replace("{empty}", str(empty)) for a in args))
    assert done.returncode == 2, done.stdout + done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_ctrl_c_cancels_the_run_and_reports_it(tmp_path: Path) -> None:
    slow = TINY_MODULE.replace(
        "        images, labels = batch", "        time.sleep(0.3)\n        images, labels = batch"
    )
    project = _project(tmp_path / "slow", {"model.py": "import time\n" + slow})
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLAGENT_", "OPENAI_"))}
    env["MLAGENT_DATA_DIR"] = str(tmp_path / "data")
    process = subprocess.Popen(
        [sys.executable, "-m", "agent.cli", "smoke", str(project), "--steps", "1000"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    try:
        for line in process.stderr:  # wait until training has started
            if line.startswith("step "):
                break
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 1, out + err
    assert "cancelled" in out and "experiment: exp-" in out and "cancelling" in err


def test_progress_counts_the_harness_steps_as_given() -> None:
    import io

    from sandbox.cli import Progress

    out = io.StringIO()
    progress = Progress(8, stream=out)
    for step in range(1, 9):  # the harness numbers steps from 1
        progress({"type": "step", "step": step, "loss": 1.0 / step})
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("step 1/8") and lines[-1].startswith("step 8/8")
    assert "9/8" not in out.getvalue()
