"""What this host offers for isolation (probed once) and the exec chain that confines one run.

The exec chain, outermost first (no ``preexec_fn``: it is unsafe in a threaded server, so every step that
must happen in the child before user code is a small program of its own):

1. ``unshare --mount --propagation private sh -c JOIN``  (as root) the shell writes its own pid into the run's
   cgroup(s), mounts a tiny tmpfs over the stage directory *in a private mount namespace* and bind-mounts
   there the directories the sandbox must see (interpreter prefix, venv, the run's staged input). Why: the
   interpreter may live under ``/root`` (pyenv, mode 0700) and the clone anywhere; an unprivileged uid cannot
   traverse those parents, and bwrap's ``--ro-bind-fd`` re-resolves paths so it does not help. The staging
   namespace exposes exactly those directories at a neutral path without changing any permission on the
   host, and it disappears with the run.
2. ``prlimit`` CPU seconds (soft < hard), file size, open files, core 0 and, for CPU runs only, address space.
3. ``setpriv`` switch to the unprivileged sandbox uid/gid, no supplementary groups, no_new_privs.
4. ``bwrap`` new user/pid/net/ipc/uts/cgroup/mount namespaces, user namespaces disabled inside, all
   capabilities dropped, empty environment, read-only system and interpreter, sized tmpfs for /tmp, /dev/shm
   and the writable workdir, the staged input read-only, the seccomp deny-list, GPU nodes only when assigned.
5. the interpreter running ``harness.py`` with the run's config.

bwrap itself gets a minimal environment (``/proc/1/environ`` inside the sandbox is bwrap's own).
"""

from __future__ import annotations

import os
import pwd
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.cgroups import CgroupLayout, detect_layout

SANDBOX_USER = os.environ.get("MLAGENT_SANDBOX_USER", "mlagent-sbx")
NOBODY = 65534
# Paths inside the sandbox.
IN_DIR = "/sbx/in"  # the staged run directory (read-only): harness.py, run.json, src/, etc/
WORK_DIR = "/sbx/work"  # the run's only writable directory (a sized tmpfs)
# Environment for the tools of the exec chain and for bwrap (visible inside as /proc/1/environ).
CHAIN_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
SYSTEM_DIRS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# Harmless configuration the runtime reads (dynamic linker cache for CUDA's libcuda, fonts for matplotlib).
ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/fonts")
NVIDIA_SHARED_NODES = ("nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia-modeset")


@dataclass(frozen=True)
class HostFacts:
    """What was found on this host (probed once per process, see ``probe_host``)."""

    is_root: bool
    tools: dict[str, str | None]
    sandbox_uid: int
    sandbox_gid: int
    cgroups: CgroupLayout | None
    cgroup_reason: str
    stage_dir: Path
    python: str
    python_roots: tuple[str, ...]
    problems: tuple[str, ...] = field(default_factory=tuple)


def _sandbox_ids() -> tuple[int, int]:
    try:
        entry = pwd.getpwnam(SANDBOX_USER)
        return entry.pw_uid, entry.pw_gid
    except KeyError:
        return NOBODY, NOBODY


def python_roots(executable: str | None = None) -> tuple[str, ...]:
    """Directories the sandbox must see for the interpreter to run: venv prefix and base prefix.

    Paths under /usr are already visible; a root nested inside another is covered by it.
    """
    exe = executable or sys.executable
    candidates = {os.path.realpath(sys.prefix), os.path.realpath(sys.base_prefix)}
    real_exe = os.path.realpath(exe)
    candidates.add(os.path.dirname(os.path.dirname(real_exe)))
    if exe != real_exe:
        candidates.add(os.path.dirname(os.path.dirname(os.path.abspath(exe))))
    roots = sorted(c for c in candidates if c and not _under(c, "/usr") and c != "/")
    kept: list[str] = []
    for root in roots:
        if not any(_under(root, parent) for parent in kept):
            kept.append(root)
    return tuple(kept)


def _under(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def default_stage_dir() -> Path:
    return Path("/run/mlagent-sbx") if os.path.isdir("/run") else Path(tempfile.gettempdir()) / "mlagent-sbx"


def probe_host() -> HostFacts:
    """Inspect the host: root?, tools, sandbox user, cgroups, interpreter roots. Cheap (no process spawned)."""
    is_root = os.geteuid() == 0
    tools = {
        name: shutil.which(name, path=CHAIN_ENV["PATH"])
        for name in ("bwrap", "unshare", "setpriv", "prlimit", "mount", "sh", "mkdir")
    }
    uid, gid = _sandbox_ids()
    problems: list[str] = []
    missing = [name for name, path in tools.items() if path is None]
    if missing:
        hint = "apt-get install -y bubblewrap util-linux (or run scripts/setup-system.sh)"
        problems.append(f"missing tools: {', '.join(missing)}; {hint}")
    if not is_root:
        problems.append(
            "the service is not running as root: it cannot switch to the sandbox uid or create "
            "per-run cgroups"
        )
    layout, reason = detect_layout() if is_root else (None, "not root")
    if is_root and layout is None:
        problems.append(reason)
    stage = default_stage_dir()
    if is_root:
        try:
            stage.mkdir(mode=0o755, parents=True, exist_ok=True)
        except OSError as exc:
            problems.append(f"cannot create the stage directory {stage}: {exc}")
    return HostFacts(
        is_root=is_root,
        tools=tools,
        sandbox_uid=uid,
        sandbox_gid=gid,
        cgroups=layout,
        cgroup_reason=reason,
        stage_dir=stage,
        python=sys.executable,
        python_roots=python_roots(),
        problems=tuple(problems),
    )


# ---------------------------------------------------------------------------------------------- GPU


@dataclass(frozen=True)
class GpuPlan:
    """The device nodes to bind and the environment that makes the assigned GPU the sandbox's cuda:0."""

    index: int | None
    bwrap_args: tuple[str, ...]
    env: dict[str, str]

    @property
    def uses_gpu(self) -> bool:
        return self.index is not None


def host_gpu_indices(dev_dir: Path = Path("/dev")) -> list[int]:
    found = []
    for entry in dev_dir.glob("nvidia*"):
        match = re.fullmatch(r"nvidia(\d+)", entry.name)
        if match:
            found.append(int(match.group(1)))
    return sorted(found)


def assigned_gpu(available: list[int], visible: str | None) -> int | None:
    """The GPU this run may use: the first of CUDA_VISIBLE_DEVICES (set by Ray or the operator) if it names
    an existing node, else the first GPU; None when there is none."""
    if not available:
        return None
    if visible is not None:
        first = visible.split(",")[0].strip()
        if first.isdigit() and int(first) in available:
            return int(first)
        if first in ("", "-1"):
            return None  # the operator hid all GPUs from this service
    return available[0]


def gpu_plan(device: str, dev_dir: Path = Path("/dev"), visible: str | None = None) -> GpuPlan:
    """Bind only the assigned GPU (``--dev-bind``: a plain bind is nodev) plus the shared control nodes and
    /sys (cuInit needs it); CPU runs see no GPU node at all and get CUDA_VISIBLE_DEVICES empty."""
    hidden = GpuPlan(None, (), {"CUDA_VISIBLE_DEVICES": ""})
    if device == "cpu":
        return hidden
    index = assigned_gpu(host_gpu_indices(dev_dir), visible)
    if index is None:
        return hidden
    args: list[str] = []
    for name in (f"nvidia{index}", *NVIDIA_SHARED_NODES):
        node = dev_dir / name
        if node.exists():
            args += ["--dev-bind", str(node), f"/dev/{name}"]
    caps = dev_dir / "nvidia-caps"
    if caps.is_dir():
        args += ["--dev-bind", str(caps), "/dev/nvidia-caps"]
    args += ["--ro-bind", "/sys", "/sys"]
    # The node's minor number follows the driver's PCI order; make CUDA enumerate in that order too so that
    # index N means the same GPU to CUDA as /dev/nvidiaN.
    env = {"CUDA_DEVICE_ORDER": "PCI_BUS_ID", "CUDA_VISIBLE_DEVICES": str(index)}
    return GpuPlan(index, tuple(args), env)


# ---------------------------------------------------------------------------------------------- commands


@dataclass(frozen=True)
class ChainLimits:
    """The rlimits and tmpfs sizes of one run, in bytes/counts."""

    cpu_seconds: int
    file_bytes: int
    open_files: int
    address_space_bytes: int | None
    tmpfs_bytes: int


def address_space_limit(memory_bytes: int, uses_gpu: bool) -> int | None:
    """RLIMIT_AS for a run: a generous second line behind the memory cgroup (a CPU Lightning run needs about
    1 GiB of address space beyond what it touches); none for CUDA, which reserves huge virtual ranges."""
    if uses_gpu:
        return None
    return max(2 * memory_bytes, memory_bytes + (2048 << 20))


def prlimit_args(limits: ChainLimits) -> list[str]:
    args = [
        f"--cpu={limits.cpu_seconds}:{limits.cpu_seconds + 5}",
        f"--fsize={limits.file_bytes}",
        f"--nofile={limits.open_files}",
        "--core=0",
    ]
    if limits.address_space_bytes is not None:
        args.append(f"--as={limits.address_space_bytes}")
    return args


def join_script(procs_files: list[str], stage_dir: str, binds: list[tuple[str, str]]) -> str:
    """The root shell step: join the cgroups, then expose ``binds`` (host path, stage name) under the stage."""
    lines = ["set -e"]
    lines += [f"echo $$ > {shlex.quote(path)}" for path in procs_files]
    stage = shlex.quote(stage_dir)
    lines.append(f"mount -t tmpfs -o size=64k,mode=755 mlagent-stage {stage}")
    for source, name in binds:
        target = shlex.quote(f"{stage_dir}/{name}")
        kind = "-p" if os.path.isdir(source) else ""
        if kind:
            lines.append(f"mkdir {target}")
        else:
            lines.append(f": > {target}")
        lines.append(f"mount --bind {shlex.quote(source)} {target}")
    lines.append('exec "$@"')
    return "\n".join(lines)


def system_bind_args() -> list[str]:
    """Read-only /usr plus the merged-usr links (or directories on older layouts)."""
    args = ["--ro-bind", "/usr", "/usr"]
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for path in ETC_FILES:
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    return args


def bwrap_args(
    *,
    stage_dir: str,
    root_binds: list[tuple[str, str]],
    run_stage_name: str,
    tmpfs_bytes: int,
    gpu: GpuPlan,
    seccomp_fd: int | None,
    env: dict[str, str],
    argv: list[str],
) -> list[str]:
    """The bwrap command line (without the executable). ``root_binds`` are (stage name, sandbox path)."""
    args = [
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--clearenv",
        "--hostname",
        "sandbox",
        *system_bind_args(),
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--size",
        str(tmpfs_bytes),
        "--tmpfs",
        "/tmp",
        "--size",
        str(tmpfs_bytes),
        "--tmpfs",
        "/dev/shm",
    ]
    for name, inside in root_binds:
        args += ["--ro-bind", f"{stage_dir}/{name}", inside]
    args += ["--ro-bind", f"{stage_dir}/{run_stage_name}", IN_DIR]
    args += ["--ro-bind", f"{stage_dir}/{run_stage_name}/etc/passwd", "/etc/passwd"]
    args += ["--ro-bind", f"{stage_dir}/{run_stage_name}/etc/group", "/etc/group"]
    args += ["--size", str(tmpfs_bytes), "--perms", "0700", "--tmpfs", WORK_DIR]
    if gpu.uses_gpu:
        args += list(gpu.bwrap_args)
    elif os.path.isdir("/sys/devices/system/cpu"):
        # CPU topology only (PyTorch's cpuinfo reads it); the rest of /sys stays hidden.
        args += ["--ro-bind", "/sys/devices/system/cpu", "/sys/devices/system/cpu"]
    # bwrap's root and /dev are tmpfs the sandbox uid owns: make them read-only so the sized tmpfs mounts
    # (/tmp, /dev/shm, the workdir) are the only writable places. Device I/O on a read-only mount still works.
    args += ["--remount-ro", "/dev", "--remount-ro", "/", "--chdir", WORK_DIR]
    if seccomp_fd is not None:
        args += ["--seccomp", str(seccomp_fd)]
    for key, value in sorted(env.items()):
        args += ["--setenv", key, value]
    args += ["--", *argv]
    return args


def probe_bwrap(facts: HostFacts, timeout_s: float = 10.0) -> str:
    """Run ``true`` through the full chain minus cgroups; '' when it works, else bwrap's complaint."""
    bwrap = facts.tools.get("bwrap")
    setpriv = facts.tools.get("setpriv")
    if not bwrap or not setpriv:
        return "bubblewrap/setpriv not installed"
    cmd = [
        setpriv,
        "--reuid",
        str(facts.sandbox_uid),
        "--regid",
        str(facts.sandbox_gid),
        "--clear-groups",
        "--no-new-privs",
        "--",
        bwrap,
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--clearenv",
        *system_bind_args(),
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--",
        "/usr/bin/true",
    ]
    try:
        proc = subprocess.run(
            cmd, env=CHAIN_ENV, capture_output=True, text=True, timeout=timeout_s, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap probe failed: {exc}"
    if proc.returncode != 0:
        return f"bwrap cannot create namespaces here: {proc.stderr.strip()[:300] or proc.returncode}"
    return ""
