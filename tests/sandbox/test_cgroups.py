"""cgroup detection and the per-run group file protocol, and the real v2 path where the host has it.

This host is hybrid (v1 memory/pids + a v2 mount without controllers), production hosts are mostly pure v2.
What runs where:
- the real v1 path: every sandbox test (limits, OOM, pids refusals, kill, reaping);
- the real v2 kernel files this host offers: a group created in the mounted cgroup2 hierarchy, processes
  joined to it, ``cgroup.kill``, removal, and ``create`` refusing (and cleaning up) without the controllers;
- the v2 limits (memory.max, pids.max, memory.events, memory.peak, pids.events): only on a pure-v2 host;
  here that test is skipped and says plainly that this path is untested on this host;
- the v2 set-up protocol (subtree_control writes): against a directory shaped like a delegated v2 root.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sandbox.cgroups import PARENT_NAME, CgroupLayout, RunCgroup, detect_layout

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="cgroup set-up needs root")


@needs_root
def test_real_unified_mount_without_controllers_is_refused() -> None:
    unified = Path("/sys/fs/cgroup/unified")
    if not (unified / "cgroup.controllers").exists():
        pytest.skip("no separate v2 mount on this host")
    layout, reason = detect_layout(unified)
    assert layout is None
    assert "cgroup v2 root lacks memory/pids controllers" in reason


@needs_root
def test_real_v1_hierarchy_is_detected_here() -> None:
    if not Path("/sys/fs/cgroup/memory/cgroup.procs").exists():
        pytest.skip("no v1 memory hierarchy on this host")
    layout, reason = detect_layout()
    assert layout is not None, reason
    assert layout.version == 1 and layout.memory_parent.name == PARENT_NAME


def fake_v2_root(tmp_path: Path, controllers: str) -> Path:
    (tmp_path / "cgroup.controllers").write_text(controllers + "\n")
    (tmp_path / "cgroup.subtree_control").write_text("")
    return tmp_path


@needs_root
def test_v2_layout_enables_controllers_for_the_parent(tmp_path: Path) -> None:
    root = fake_v2_root(tmp_path, "cpuset cpu io memory pids")
    (root / PARENT_NAME).mkdir()
    (root / PARENT_NAME / "cgroup.subtree_control").write_text("")
    layout, reason = detect_layout(root)
    assert layout is not None, reason
    assert layout.version == 2 and layout.memory_parent == layout.pids_parent == root / PARENT_NAME
    assert (root / "cgroup.subtree_control").read_text() == "+memory +pids"
    assert (root / PARENT_NAME / "cgroup.subtree_control").read_text() == "+memory +pids"

    group = RunCgroup(layout, "123-run")
    group.create(memory_bytes=256 << 20, max_pids=32)
    assert group.dirs == [root / PARENT_NAME / "123-run"]
    assert (group.memory_dir / "memory.max").read_text() == str(256 << 20)
    assert (group.memory_dir / "memory.swap.max").read_text() == "0"
    assert (group.memory_dir / "pids.max").read_text() == "32"
    assert group.procs_files == [str(group.memory_dir / "cgroup.procs")]
    assert not group.oom_killed()
    (group.memory_dir / "memory.events").write_text("low 0\nhigh 0\nmax 7\noom 1\noom_kill 1\n")
    assert group.oom_killed()
    (group.memory_dir / "memory.peak").write_text("1048576\n")
    assert group.peak_memory_bytes() == 1048576


@needs_root
def test_v2_without_memory_controller_is_refused(tmp_path: Path) -> None:
    layout, reason = detect_layout(fake_v2_root(tmp_path, "cpu io pids"))
    assert layout is None and "lacks memory/pids" in reason


def test_not_root_means_no_cgroups(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("runs as root here; the refusal path is for unprivileged services")
    layout, reason = detect_layout(tmp_path)
    assert layout is None and "not root" in reason


# --- the real cgroup v2 path ---

V2_LIMITS_UNTESTED = (
    "UNTESTED on this host: no cgroup v2 hierarchy here offers the memory and pids controllers (on a hybrid "
    "host they are bound to v1, and a controller lives in one hierarchy only, so a cgroup2 mounted in a "
    "private namespace lacks them too). The v2 limit path (memory.max, memory.swap.max, pids.max, "
    "memory.events oom_kill, memory.peak, pids.events) runs only on a pure-v2 host as root."
)


def _cgroup2_mount() -> Path | None:
    """A mounted cgroup2 hierarchy (the root on pure v2, ``unified`` on hybrid hosts), if any."""
    for line in Path("/proc/self/mounts").read_text().splitlines():
        fields = line.split()
        if len(fields) > 2 and fields[2] == "cgroup2":
            return Path(fields[1])
    return None


def _join_and_sleep(procs_file: Path) -> subprocess.Popen[bytes]:
    """A shell that moves itself into the group, then starts two children (members by inheritance)."""
    return subprocess.Popen(["sh", "-c", f"echo $$ > {procs_file}; sleep 60 & sleep 60 & wait"])


@needs_root
def test_real_v2_group_membership_kill_and_removal(tmp_path: Path) -> None:
    """What a cgroup2 hierarchy here allows, on the real kernel files: create's clean-up when a limit cannot be
    set, membership, ``cgroup.kill`` and removal."""
    mount = _cgroup2_mount()
    if mount is None:
        pytest.skip("no cgroup2 hierarchy mounted on this host")
    parent = mount / f"{PARENT_NAME}-test-{os.getpid()}"
    parent.mkdir()
    process = None
    try:
        layout = CgroupLayout(2, parent, parent)
        group = RunCgroup(layout, f"{os.getpid()}-v2")
        if "memory" not in (mount / "cgroup.controllers").read_text().split():
            with pytest.raises(OSError):  # no memory.max without the controller: refused, nothing left
                group.create(memory_bytes=64 << 20, max_pids=16)
            assert not group.memory_dir.exists()
        group.memory_dir.mkdir(exist_ok=True)
        assert (group.memory_dir / "cgroup.kill").exists()  # kernel >= 5.14: the one-write kill
        process = _join_and_sleep(group.memory_dir / "cgroup.procs")
        deadline = time.monotonic() + 10
        while len(group.pids()) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(group.pids()) == 3 and process.pid in group.pids()
        assert group.kill_all(deadline_s=5.0)
        assert process.wait(timeout=5) == -signal.SIGKILL and group.pids() == set()
        group.remove()
        assert not group.memory_dir.exists()
    finally:
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
        for child in (p for p in parent.iterdir() if p.is_dir()):
            child.rmdir()
        parent.rmdir()


@needs_root
def test_real_v2_limits_are_enforced() -> None:
    """On a pure-v2 host: the real layout, a fork bomb stopped by pids.max, a memory hog OOM-killed."""
    layout, reason = detect_layout()
    if layout is None or layout.version != 2:
        pytest.skip(V2_LIMITS_UNTESTED + f" (here: {reason or 'v1 memory/pids found'})")
    group = RunCgroup(layout, f"{os.getpid()}-v2limits")
    group.create(memory_bytes=64 << 20, max_pids=8)
    try:
        procs = group.memory_dir / "cgroup.procs"
        # The parent alone forks 32 children that sleep: at most 7 fit beside it, the rest are refused.
        bomb = (
            "import os, time\nfor _ in range(32):\n    try:\n        pid = os.fork()\n    except OSError:\n"
            "        continue\n    if pid == 0:\n        time.sleep(5)\n        os._exit(0)\n"
        )
        hog = "chunks = []\nwhile True:\n    chunks.append(bytearray(8 << 20))\n"
        for code in (bomb, hog):
            script = f"echo $$ > {procs}; exec {sys.executable} -c '{code}'"
            subprocess.run(["sh", "-c", script], timeout=60, check=False, capture_output=True)
            group.kill_all()
        assert group.pids_limit_hits() > 0
        assert group.oom_killed()
        peak = group.peak_memory_bytes()
        assert peak is None or peak <= 64 << 20
    finally:
        group.remove()
    assert not group.memory_dir.exists()
