"""cgroup detection and the per-run group file protocol.

This host is hybrid (v1 memory/pids + a v2 mount without controllers), production hosts are mostly pure v2:
the real v1 path is exercised by every sandbox test; here the v2 branch is checked against the real unified
mount where it exists (which must be refused: no memory/pids controllers) and, for the file protocol, against
a directory shaped like a delegated v2 root (what the kernel exposes is plain files with these names).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sandbox.cgroups import PARENT_NAME, RunCgroup, detect_layout

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
