"""Clean-up after supervisors that died: run cgroups, run directories and sandbox-uid processes no live run owns.

A run's name is ``<supervisor pid>-...``; a name is stale when that supervisor is dead, or is this process
and no longer runs it (``_active_runs``).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import threading
from pathlib import Path

from core.settings import Settings
from sandbox import isolation
from sandbox.cgroups import PARENT_NAME, reap_stale_cgroups

_active_lock = threading.Lock()
_active_runs: set[str] = set()
"""Names of the runs (and waiting warm sandboxes) this process supervises right now."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_stale(name: str) -> bool:
    owner, _, _ = name.partition("-")
    if not owner.isdigit():
        return False  # not ours
    if int(owner) == os.getpid():
        with _active_lock:
            return name not in _active_runs
    return not _pid_alive(int(owner))


def reap_leftovers(settings: Settings) -> dict[str, list[str]]:
    """Remove what killed supervisors left: per-run cgroups (and their processes), run dirs, and processes of
    the dedicated sandbox uid outside any live run. Called by the run manager at start-up; safe to repeat."""
    from sandbox.local import _host  # the cached host probe

    facts, _ = _host()
    reaped: dict[str, list[str]] = {"cgroups": [], "workdirs": [], "processes": []}
    if facts.cgroups is not None:
        reaped["cgroups"] = reap_stale_cgroups(facts.cgroups, _is_stale)
    runs_root = (Path(settings.data_dir) / "sandbox" / "runs").resolve()
    if runs_root.is_dir():
        for entry in runs_root.iterdir():
            if _is_stale(entry.name):
                shutil.rmtree(entry, ignore_errors=True)
                reaped["workdirs"].append(entry.name)
    if facts.is_root and facts.sandbox_uid != isolation.NOBODY:
        reaped["processes"] = [str(pid) for pid in _kill_orphans(facts)]
    return reaped


def _kill_orphans(facts: isolation.HostFacts) -> list[int]:
    """Processes of the sandbox uid in no live run's cgroup (a dedicated uid owns nothing else). A run is live
    when its supervisor (this process or another service on the host) is alive and still running it."""
    killed = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            cgroup_text = (entry / "cgroup").read_text()
        except OSError:
            continue
        uid_line = next((line for line in status.splitlines() if line.startswith("Uid:")), "")
        if uid_line.split()[1:2] != [str(facts.sandbox_uid)]:
            continue
        groups = re.findall(rf"/{PARENT_NAME}/([^/\s]+)$", cgroup_text, flags=re.MULTILINE)
        if any(not _is_stale(name) for name in groups):
            continue
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(int(entry.name), signal.SIGKILL)
            killed.append(int(entry.name))
    return killed
