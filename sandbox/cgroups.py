"""Per-run control groups: a hard memory (+swap) limit, a pids limit, OOM detection, kill-all and clean-up.

Why cgroups and not rlimits alone: RLIMIT_NPROC is per uid (shared by concurrent runs, ignored for root) and
RLIMIT_AS counts virtual memory, which CUDA and OpenBLAS reserve in bulk. A memory cgroup limits what a run
really uses and tells us afterwards whether the kernel OOM-killed it; a pids cgroup stops fork bombs; and the
cgroup's member list is the one complete list of a run's processes, daemons included, so killing by cgroup
leaves nothing behind.

Hosts differ: cgroup v2 (unified, ``cgroup.controllers`` at the root) is the norm; hybrid hosts (like this
one) have writable v1 ``memory`` and ``pids`` hierarchies and a v2 mount without those controllers. Both are
detected; the per-run groups live under a ``mlagent`` parent so a reaper can find leftovers of a supervisor
that was killed before its ``finally`` ran.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
PARENT_NAME = "mlagent"


@dataclass(frozen=True)
class CgroupLayout:
    """Where the per-run groups can be created: one directory per controller (v1) or one (v2)."""

    version: int  # 1 or 2
    memory_parent: Path
    pids_parent: Path

    @property
    def parents(self) -> list[Path]:
        return (
            [self.memory_parent]
            if self.memory_parent == self.pids_parent
            else [
                self.memory_parent,
                self.pids_parent,
            ]
        )

    @property
    def description(self) -> str:
        return f"cgroup-v{self.version}"


def _write(path: Path, value: str) -> None:
    with open(path, "w") as handle:
        handle.write(value)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def detect_layout(root: Path = CGROUP_ROOT) -> tuple[CgroupLayout | None, str]:
    """Find a writable memory + pids hierarchy and prepare the ``mlagent`` parent(s); (layout, why-not)."""
    if os.geteuid() != 0:
        return None, "not root: per-run cgroups cannot be created"
    if (root / "cgroup.controllers").exists():
        return _prepare_v2(root)
    memory, pids = root / "memory", root / "pids"
    if (memory / "cgroup.procs").exists() and (pids / "cgroup.procs").exists():
        try:
            for base in (memory, pids):
                (base / PARENT_NAME).mkdir(exist_ok=True)
            # Probe: limits must be writable (a read-only cgroupfs in a container fails here).
            probe = memory / PARENT_NAME / f"probe-{os.getpid()}"
            probe.mkdir(exist_ok=True)
            try:
                _write(probe / "memory.limit_in_bytes", str(64 << 20))
            finally:
                probe.rmdir()
        except OSError as exc:
            return None, f"cgroup v1 memory/pids not writable: {exc}"
        return CgroupLayout(1, memory / PARENT_NAME, pids / PARENT_NAME), ""
    return None, "no cgroup v2 root and no v1 memory+pids hierarchies under /sys/fs/cgroup"


def _prepare_v2(root: Path) -> tuple[CgroupLayout | None, str]:
    available = _read(root / "cgroup.controllers").split()
    if not {"memory", "pids"} <= set(available):
        return None, f"cgroup v2 root lacks memory/pids controllers (has: {' '.join(available) or 'none'})"
    parent = root / PARENT_NAME
    try:
        parent.mkdir(exist_ok=True)
        # A group may only hand controllers to children when it enables them in its own subtree_control;
        # the root may always do so, and our parent holds no processes (the no-internal-process rule).
        _write(root / "cgroup.subtree_control", "+memory +pids")
        _write(parent / "cgroup.subtree_control", "+memory +pids")
    except OSError as exc:
        return None, f"cgroup v2 not delegated to us ({exc}); run as root on the host or delegate a subtree"
    return CgroupLayout(2, parent, parent), ""


@dataclass
class RunCgroup:
    """The group(s) of one run: created with limits, joined by the run's first process, killed, removed."""

    layout: CgroupLayout
    name: str

    @property
    def memory_dir(self) -> Path:
        return self.layout.memory_parent / self.name

    @property
    def pids_dir(self) -> Path:
        return self.layout.pids_parent / self.name

    @property
    def dirs(self) -> list[Path]:
        return [self.memory_dir] if self.memory_dir == self.pids_dir else [self.memory_dir, self.pids_dir]

    @property
    def procs_files(self) -> list[str]:
        """The ``cgroup.procs`` files a process writes its pid into to join (see ``isolation.join_script``)."""
        return [str(d / "cgroup.procs") for d in self.dirs]

    def create(self, memory_bytes: int, max_pids: int) -> None:
        """Make the group(s) and set the limits; on any failure nothing is left behind."""
        try:
            self._create(memory_bytes, max_pids)
        except BaseException:
            self.remove()
            raise

    def _create(self, memory_bytes: int, max_pids: int) -> None:
        for directory in self.dirs:
            directory.mkdir(exist_ok=False)
        if self.layout.version == 1:
            _write(self.memory_dir / "memory.limit_in_bytes", str(memory_bytes))
            # memsw exists only with swap accounting; without it there is no swap to escape to either.
            memsw = self.memory_dir / "memory.memsw.limit_in_bytes"
            if memsw.exists():
                with contextlib.suppress(OSError):
                    _write(memsw, str(memory_bytes))
            with contextlib.suppress(OSError):
                _write(self.memory_dir / "memory.swappiness", "0")
            _write(self.pids_dir / "pids.max", str(max_pids))
        else:
            _write(self.memory_dir / "memory.max", str(memory_bytes))
            with contextlib.suppress(OSError):
                _write(self.memory_dir / "memory.swap.max", "0")
            _write(self.pids_dir / "pids.max", str(max_pids))

    def pids(self) -> set[int]:
        found: set[int] = set()
        for directory in self.dirs:
            for line in _read(directory / "cgroup.procs").split():
                with contextlib.suppress(ValueError):
                    found.add(int(line))
        return found

    def oom_killed(self) -> bool:
        """Whether the kernel's OOM killer acted inside this group."""
        if self.layout.version == 1:
            text = _read(self.memory_dir / "memory.oom_control")
        else:
            text = _read(self.memory_dir / "memory.events")
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and value.strip().isdigit() and int(value) > 0:
                return True
        return False

    def pids_limit_hits(self) -> int:
        """How many forks the pids limit refused (``max`` in ``pids.events``, v1 and v2 alike)."""
        for line in _read(self.pids_dir / "pids.events").splitlines():
            key, _, value = line.partition(" ")
            if key == "max" and value.strip().isdigit():
                return int(value)
        return 0

    def peak_memory_bytes(self) -> int | None:
        name = "memory.max_usage_in_bytes" if self.layout.version == 1 else "memory.peak"
        text = _read(self.memory_dir / name).strip()
        return int(text) if text.isdigit() else None

    def memory_limit_bytes(self) -> int | None:
        name = "memory.limit_in_bytes" if self.layout.version == 1 else "memory.max"
        text = _read(self.memory_dir / name).strip()
        return int(text) if text.isdigit() else None

    def kill_all(self, deadline_s: float = 5.0) -> bool:
        """SIGKILL every member until the group is empty (forks racing the sweep are caught by the loop)."""
        kill_file = self.memory_dir / "cgroup.kill"
        if self.layout.version == 2 and kill_file.exists():
            with contextlib.suppress(OSError):
                _write(kill_file, "1")
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            members = self.pids()
            if not members:
                return True
            for pid in members:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.01)
        return not self.pids()

    def remove(self) -> None:
        """Remove the group(s); killed members may need a moment to leave, so retry briefly."""
        for directory in self.dirs:
            for _ in range(50):
                try:
                    directory.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    self.kill_all(deadline_s=0.2)
                    time.sleep(0.02)


def reap_stale_cgroups(layout: CgroupLayout, is_stale: Callable[[str], bool]) -> list[str]:
    """Kill and remove per-run groups left behind by a supervisor that died; returns the names reaped."""
    reaped: list[str] = []
    names: set[str] = set()
    for parent in layout.parents:
        with contextlib.suppress(OSError):
            names.update(entry.name for entry in parent.iterdir() if entry.is_dir())
    for name in sorted(n for n in names if is_stale(n)):
        group = RunCgroup(layout, name)
        group.kill_all(deadline_s=2.0)
        group.remove()
        reaped.append(name)
    return reaped
