"""The review CLI: exit codes (0 clean, 1 findings, 2 usage/unreadable), --fix/--diff, explain, config."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.errors import UsageError
from tools.review.cli import explain_text, main
from tools.review.models import MAX_FILE_BYTES

REPO = Path(__file__).resolve().parents[2]
TRAIN = "import lightning as L\n\ntrainer = L.Trainer(max_epochs=2)\ntrainer.fit(model)\n"
CLEAN = "def add(a: int, b: int) -> int:\n    return a + b\n"


def test_findings_exit_1_and_clean_exit_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "train.py").write_text(TRAIN)
    assert main(["review", str(tmp_path / "train.py")]) == 1
    out = capsys.readouterr().out
    assert "train.py:3:11: MLR006 [*]" in out
    (tmp_path / "util.py").write_text(CLEAN)
    assert main(["review", str(tmp_path / "util.py")]) == 0


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["review", str(tmp_path / "missing.py")]) == 2
    assert "no such file or directory" in capsys.readouterr().err
    (tmp_path / "a.py").write_text(CLEAN)
    assert main(["review", str(tmp_path / "a.py"), "--select", "MLR999"]) == 2
    binary = tmp_path / "model.py"
    binary.write_bytes(b"\x00\x01torch")
    assert main(["review", str(binary)]) == 2
    latin = tmp_path / "latin.py"
    latin.write_bytes("x = 'caf\xe9'\n".encode("latin-1"))
    assert main(["review", str(latin)]) == 2
    assert "not UTF-8" in capsys.readouterr().err
    huge = tmp_path / "huge.py"
    huge.write_text("x = 1\n" * (MAX_FILE_BYTES // 6 + 10))
    assert main(["review", str(huge)]) == 2
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    assert main(["review", str(empty_dir)]) == 2


def test_unreadable_files_inside_a_directory_are_findings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "ok.py").write_text(TRAIN)
    (tmp_path / "bad.py").write_bytes(b"\xff\xfe\x00garbage")
    assert main(["review", str(tmp_path), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    bad = [f for f in report["findings"] if f["path"] == "bad.py"]
    assert bad and bad[0]["rule"] == "MLR000" and "skipped" in bad[0]["message"]


def test_parse_error_is_a_finding_with_the_real_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "broken.py").write_text("import torch\n\n\ndef f(:\n    pass\n")
    (tmp_path / "train.py").write_text(TRAIN)
    assert main(["review", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "broken.py:4:7: MLR000 syntax error" in out
    assert "train.py:3:11: MLR006" in out, "the other files are still reviewed"


def test_diff_changes_nothing_and_fix_writes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "train.py"
    target.write_text(TRAIN)
    main(["review", str(target), "--diff"])
    diff = capsys.readouterr().out
    assert diff.startswith("--- a/train.py")
    assert "gradient_clip_val=1.0" in diff
    assert target.read_text() == TRAIN
    main(["review", str(target), "--fix"])
    fixed = target.read_text()
    assert "gradient_clip_val=1.0" in fixed and "seed_everything(42, workers=True)" in fixed
    compile(fixed, "train.py", "exec")


def test_select_ignore_and_pyproject_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "train.py").write_text(TRAIN)
    main(["review", str(tmp_path), "--select", "gradient-clipping", "--format", "json"])
    rules = {f["rule"] for f in json.loads(capsys.readouterr().out)["findings"]}
    assert rules == {"MLR006"}
    main(["review", str(tmp_path), "--ignore", "MLR0,MLR1", "--format", "json"])
    rules = {f["rule"] for f in json.loads(capsys.readouterr().out)["findings"]}
    assert not any(r.startswith(("MLR0", "MLR1")) for r in rules)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.mlagent]\nignore = ["MLR012"]\n[tool.mlagent.per-path-ignores]\n"train.py" = ["seeding"]\n'
    )
    main(["review", str(tmp_path), "--format", "json"])
    rules = {f["rule"] for f in json.loads(capsys.readouterr().out)["findings"]}
    assert "MLR006" in rules and "MLR012" not in rules and "MLR009" not in rules


def test_bad_pyproject_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "train.py").write_text(TRAIN)
    (tmp_path / "pyproject.toml").write_text("[tool.mlagent]\nignore = 3\n")
    assert main(["review", str(tmp_path)]) == 2
    assert "must be a list" in capsys.readouterr().err


def test_explain() -> None:
    text = explain_text("MLR006")
    assert text.startswith("MLR006 no-gradient-clipping")
    assert "Flagged:" in text and "Accepted:" in text and "Fix:" in text
    assert "MLR014" in explain_text("loss-function")
    with pytest.raises(UsageError):
        explain_text("MLR999")


def test_module_entry_point_runs_without_importing_torch(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(TRAIN)
    probe = (
        "import sys, runpy\n"
        f"sys.argv = ['mlagent', 'review', {str(tmp_path)!r}, '--format', 'json']\n"
        "try:\n    runpy.run_module('tools.review', run_name='__main__')\n"
        "except SystemExit as exc:\n    code = exc.code\n"
        "heavy = [m for m in ('torch', 'lightning', 'pytorch_lightning') if m in sys.modules]\n"
        "print('EXIT', code, 'HEAVY', heavy, file=sys.stderr)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, env=env, timeout=60
    )
    assert "EXIT 1 HEAVY []" in done.stderr, done.stderr
    assert json.loads(done.stdout)["summary"]["files"] == 1
