"""Fixtures for the sandbox tests: a real LocalSandbox with its own data dir, and leftover checks.

The tests run real sandboxed processes; they need root (uid switch, cgroups) and bubblewrap. Without root
they are skipped (isolation is impossible by design there); with root but no bubblewrap they fail, because
the set-up script should have installed it.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.settings import Settings
from sandbox import isolation
from sandbox.cgroups import PARENT_NAME
from sandbox.local import LocalSandbox
from sandbox.spec import RunLimits, RunResult, RunSpec

PROJECTS = Path(__file__).parent / "projects"


def _descends_from(pid: int, ancestor: int) -> bool:
    for _ in range(64):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return False
        ppid = int(next(line for line in status.splitlines() if line.startswith("PPid:")).split()[1])
        if ppid == ancestor:
            return True
        if ppid <= 1:
            return False
        pid = ppid
    return False


def sandbox_processes() -> list[int]:
    """Live processes of the sandbox uid started by this test process: in one of its run cgroups or below it
    in the process tree (other services and test sessions on the host may be running their own runs)."""
    uid = str(isolation._sandbox_ids()[0])
    mine = f"/{PARENT_NAME}/{os.getpid()}-"
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        uid_line = next((line for line in status.splitlines() if line.startswith("Uid:")), "")
        state = next((line for line in status.splitlines() if line.startswith("State:")), "")
        if uid_line.split()[1:2] != [uid] or "Z" in state.split()[1:2]:
            continue
        try:
            in_my_group = mine in (entry / "cgroup").read_text()
        except OSError:
            continue
        if in_my_group or _descends_from(int(entry.name), os.getpid()):
            found.append(int(entry.name))
    return found


def run_cgroups() -> list[str]:
    """Per-run cgroups of this test process that still exist."""
    names: list[str] = []
    for controller in ("memory", "pids"):
        parent = Path("/sys/fs/cgroup") / controller / PARENT_NAME
        if parent.is_dir():
            names += [p.name for p in parent.iterdir() if p.is_dir() and p.name.startswith(f"{os.getpid()}-")]
    unified = Path("/sys/fs/cgroup") / PARENT_NAME
    if (Path("/sys/fs/cgroup") / "cgroup.controllers").exists() and unified.is_dir():
        names += [p.name for p in unified.iterdir() if p.is_dir() and p.name.startswith(f"{os.getpid()}-")]
    return names


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mlagent-data")


@pytest.fixture(scope="session")
def settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir)


@pytest.fixture(scope="session")
def sandbox(settings: Settings) -> LocalSandbox:
    if os.geteuid() != 0:
        pytest.skip("the local sandbox needs root (uid switch and per-run cgroups)")
    box = LocalSandbox(settings)
    check = box.check()
    assert check.usable, f"sandbox unusable: {check.reason} (run scripts/setup-system.sh)"
    return box


@pytest.fixture
def no_leftovers(sandbox: LocalSandbox) -> Iterator[None]:
    """After the test: no sandbox process, no per-run cgroup, no run directory."""
    yield
    assert sandbox_processes() == []
    assert run_cgroups() == []
    leftover = list(sandbox.runs_root.iterdir()) if sandbox.runs_root.is_dir() else []
    assert leftover == []


def script_spec(code: str, **limits: Any) -> RunSpec:
    """A script-mode run of ``code`` (dedented) with small limits, overridable per test."""
    base: dict[str, Any] = {
        "timeout_s": 10,
        "memory_mb": 256,
        "max_pids": 64,
        "tmpfs_mb": 32,
        "cpu_seconds": 30,
    }
    base.update(limits)
    return RunSpec(files={"main.py": textwrap.dedent(code)}, entrypoint="main.py", limits=RunLimits(**base))


def run_script(sandbox: LocalSandbox, code: str, run_id: str, **limits: Any) -> RunResult:
    return sandbox.run(script_spec(code, **limits), run_id=run_id)


def project_files(name: str) -> dict[str, str]:
    root = PROJECTS / name
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*.py"))}
