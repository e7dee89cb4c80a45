"""The supervisor's own logic: refusing submissions, the GPU and rlimit arguments (no GPU here, so the argument
building is what can be checked), the unsafe fallback, cancellation before start and the leftover reaper."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.settings import Settings
from sandbox import cleanup, isolation, local, submission
from sandbox.cgroups import RunCgroup
from sandbox.harness import loss_decreased
from sandbox.local import LocalSandbox, SandboxCheck
from sandbox.spec import RunLimits, RunSpec
from sandbox.submission import validate_submission

from .conftest import script_spec

# ------------------------------------------------------------------------------------------ submissions


@pytest.mark.parametrize(
    ("files", "entrypoint", "reason"),
    [
        ({"/etc/passwd": "x"}, None, "absolute paths"),
        ({"../escape.py": "x"}, None, "'..'"),
        ({"a/../../b.py": "x"}, None, "'..'"),
        ({"./a.py": "x"}, None, "'..' and '.'"),
        ({"a\\b.py": "x"}, None, "backslash"),
        ({"a.py": "x", "a.py/b.py": "y"}, None, "both a file and a directory"),
        ({f"f{i}.py": "" for i in range(submission.MAX_SUBMISSION_FILES + 1)}, None, "too many files"),
        ({"big.py": "x" * (submission.MAX_SUBMISSION_BYTES + 1)}, None, "too large"),
        ({"a.py": "x"}, "main.py", "not one of the submitted files"),
        ({}, None, "no files"),
    ],
)
def test_bad_submissions_are_rejected(files: dict[str, str], entrypoint: str | None, reason: str) -> None:
    spec = RunSpec(files=files, entrypoint=entrypoint)
    problem = validate_submission(spec)
    assert problem is not None and reason in problem
    result = LocalSandbox(Settings()).run(spec, run_id="bad")
    assert result.status == "rejected"
    assert reason in (result.error or "")


def test_nested_relative_paths_are_accepted() -> None:
    assert (
        validate_submission(RunSpec(files={"pkg/__init__.py": "", "pkg/model.py": "x", "cfg/a.yaml": ""}))
        is None
    )


# ------------------------------------------------------------------------------------------ GPU arguments


@pytest.fixture
def fake_dev(tmp_path: Path) -> Path:
    for name in (
        "nvidia0",
        "nvidia1",
        "nvidiactl",
        "nvidia-uvm",
        "nvidia-uvm-tools",
        "nvidia-modeset",
        "null",
    ):
        (tmp_path / name).touch()
    return tmp_path


def test_gpu_plan_binds_only_the_assigned_gpu(fake_dev: Path) -> None:
    plan = isolation.gpu_plan("cuda", dev_dir=fake_dev, visible="1")
    args = list(plan.bwrap_args)
    bound = [args[i + 2] for i, a in enumerate(args) if a == "--dev-bind"]
    assert bound == [
        "/dev/nvidia1",
        "/dev/nvidiactl",
        "/dev/nvidia-uvm",
        "/dev/nvidia-uvm-tools",
        "/dev/nvidia-modeset",
    ]
    assert "/dev/nvidia0" not in bound
    assert args[-3:] == ["--ro-bind", "/sys", "/sys"]
    assert plan.env == {"CUDA_DEVICE_ORDER": "PCI_BUS_ID", "CUDA_VISIBLE_DEVICES": "1"}


def test_gpu_plan_defaults_to_first_gpu_for_auto(fake_dev: Path) -> None:
    plan = isolation.gpu_plan("auto", dev_dir=fake_dev, visible=None)
    assert plan.index == 0 and "/dev/nvidia0" in plan.bwrap_args


@pytest.mark.parametrize(
    ("device", "visible", "make_nodes"),
    [
        ("cpu", None, True),
        ("auto", None, False),
        ("cuda", None, False),
        ("auto", "", True),
        ("cuda", "-1", True),
    ],
)
def test_no_gpu_means_cpu_fallback(
    tmp_path: Path, device: str, visible: str | None, make_nodes: bool
) -> None:
    if make_nodes:
        (tmp_path / "nvidia0").touch()
        (tmp_path / "nvidiactl").touch()
    plan = isolation.gpu_plan(device, dev_dir=tmp_path, visible=visible)
    assert not plan.uses_gpu
    assert plan.bwrap_args == ()
    assert plan.env == {"CUDA_VISIBLE_DEVICES": ""}


def test_bwrap_arguments_for_a_gpu_run(fake_dev: Path) -> None:
    plan = isolation.gpu_plan("cuda", dev_dir=fake_dev, visible="0")
    args = isolation.bwrap_args(
        stage_dir="/run/stage",
        root_binds=[("p0", "/opt/venv")],
        run_stage_name="run",
        tmpfs_bytes=64 << 20,
        gpu=plan,
        seccomp_fd=7,
        env={"A": "1", **plan.env},
        argv=["/opt/venv/bin/python", "harness.py"],
    )
    joined = " ".join(args)
    assert "--dev-bind " + str(fake_dev / "nvidia0") + " /dev/nvidia0" in joined
    assert "--ro-bind /sys /sys" in joined
    assert "--ro-bind /sys/devices/system/cpu" not in joined
    assert "--setenv CUDA_VISIBLE_DEVICES 0" in joined
    assert "--ro-bind /run/stage/p0 /opt/venv" in joined
    assert "--seccomp 7" in joined
    for flag in ("--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--new-session",
                 "--clearenv"):  # fmt: skip
        assert flag in args
    assert args[args.index("--cap-drop") + 1] == "ALL"
    assert args[-3:] == ["--", "/opt/venv/bin/python", "harness.py"]
    # the GPU nodes are bound after --dev (else the fresh /dev would hide them) and before / goes read-only
    assert args.index("--dev") < args.index("--dev-bind") < args.index("--remount-ro")


def test_cpu_runs_get_an_address_space_limit_cuda_runs_do_not() -> None:
    assert isolation.address_space_limit(1 << 30, uses_gpu=True) is None
    assert isolation.address_space_limit(1 << 30, uses_gpu=False) == 3 << 30
    limits = isolation.ChainLimits(cpu_seconds=10, file_bytes=1 << 20, open_files=64,
                                   address_space_bytes=None, tmpfs_bytes=1 << 20)  # fmt: skip
    assert isolation.prlimit_args(limits) == ["--cpu=10:15", f"--fsize={1 << 20}", "--nofile=64", "--core=0"]


def test_join_script_quotes_paths() -> None:
    script = isolation.join_script(["/sys/fs/cgroup/memory/mlagent/1-a/cgroup.procs"], "/run/st",
                                   [("/srv/my data; rm -rf /", "run")])  # fmt: skip
    assert "echo $$ > /sys/fs/cgroup/memory/mlagent/1-a/cgroup.procs" in script
    assert "mount --bind '/srv/my data; rm -rf /' /run/st/run" in script
    assert script.rstrip().endswith('exec "$@"')


# ------------------------------------------------------------------------------------------ availability


@pytest.fixture
def unusable_host() -> Iterator[None]:
    """Pretend the probe found no isolation (the real probe is re-run afterwards)."""
    facts = isolation.probe_host()
    local.reset_probe_cache()
    local._probe = (facts, SandboxCheck(False, "bubblewrap is not installed", "none"))
    yield
    local.reset_probe_cache()


@pytest.mark.usefixtures("unusable_host")
def test_no_isolation_means_rejected_with_the_fix(tmp_path: Path) -> None:
    box = LocalSandbox(Settings(data_dir=tmp_path))
    assert box.check().usable is False
    result = box.run(script_spec("print('hi')"), run_id="refused")
    assert result.status == "rejected"
    assert "bubblewrap is not installed" in (result.error or "")
    assert "MLAGENT_SANDBOX_UNSAFE" in (result.error or "")
    with pytest.raises(local.SandboxUnavailable):
        box.require()


@pytest.mark.usefixtures("unusable_host")
def test_unsafe_mode_runs_unconfined_when_the_operator_allows_it(tmp_path: Path) -> None:
    box = LocalSandbox(Settings(data_dir=tmp_path, sandbox_unsafe=True))
    check = box.check()
    assert check.usable and check.isolation == "unsafe" and "UNSAFE" in check.reason
    result = box.run(script_spec("import os\nprint('uid', os.getuid())\n"), run_id="unsafe")
    assert result.status == "succeeded", result.error
    assert result.limits["isolation"] == "unsafe"
    assert f"uid {os.getuid()}" in result.stdout_tail
    assert not any(box.runs_root.iterdir())


# ------------------------------------------------------------------------------------------ lifecycle


def test_cancelled_before_start(tmp_path: Path) -> None:
    cancel = threading.Event()
    cancel.set()
    result = LocalSandbox(Settings(data_dir=tmp_path)).run(
        script_spec("print(1)"), run_id="early", cancel=cancel
    )
    assert result.status == "cancelled"


@pytest.mark.usefixtures("no_leftovers")
def test_a_failing_event_listener_does_not_break_the_run(sandbox: LocalSandbox) -> None:
    def explode(event: dict[str, object]) -> None:
        raise RuntimeError("listener bug")

    result = sandbox.run(script_spec("print('still fine')"), run_id="listener", on_event=explode)
    assert result.status == "succeeded"
    assert "still fine" in result.stdout_tail


def test_reaper_removes_what_a_killed_supervisor_left(sandbox: LocalSandbox, settings: Settings) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    name = f"{dead.pid}-stale-run"
    facts, _ = local._host()
    assert facts.cgroups is not None
    group = RunCgroup(facts.cgroups, name)
    group.create(memory_bytes=64 << 20, max_pids=8)
    sleeper = subprocess.Popen(["sh", "-c", f"echo $$ > {group.procs_files[0]}; "
                                f"echo $$ > {group.procs_files[-1]}; exec sleep 60"])  # fmt: skip
    workdir = sandbox.runs_root / name
    workdir.mkdir(parents=True)
    for _ in range(100):
        if group.pids():
            break
        threading.Event().wait(0.01)
    assert group.pids() == {sleeper.pid}

    reaped = cleanup.reap_leftovers(settings)

    assert name in reaped["cgroups"] and name in reaped["workdirs"]
    assert sleeper.wait(timeout=5) == -9
    assert not group.memory_dir.exists() and not workdir.exists()


def test_loss_decreased_is_robust_to_noise() -> None:
    assert loss_decreased([1.0, 1.2, 0.9, 1.1, 0.8, 0.7, 0.75, 0.6, 0.5]) is True
    assert loss_decreased([1.0, 1.0, 1.0, 1.0, 1.0, 1.001]) is False
    assert loss_decreased([0.5, 0.9]) is None


def test_harness_runs_without_service_code() -> None:
    """The harness is copied into the sandbox alone: it may import only stdlib, torch and Lightning."""
    import ast

    tree = ast.parse(Path(local.HARNESS_SOURCE).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & {"agent", "sandbox", "tools", "knowledge", "pydantic"}


def test_default_limits_are_reported(sandbox: LocalSandbox) -> None:
    spec = RunSpec(files={"main.py": "pass\n"}, entrypoint="main.py", limits=RunLimits(timeout_s=5))
    result = sandbox.run(spec, run_id="limits")
    assert result.status == "succeeded"
    assert result.limits["timeout_s"] == 5 and result.limits["isolation"].startswith("bwrap+cgroup")


SUPERVISOR = """
import sys, threading
from core.settings import Settings
from sandbox.local import LocalSandbox
from sandbox.spec import RunLimits, RunSpec
code = "import os, time\\nif os.fork() == 0:\\n    time.sleep(120)\\nprint('started', flush=True)\\ntime.sleep(120)\\n"
spec = RunSpec(files={"main.py": code}, entrypoint="main.py", limits=RunLimits(timeout_s=120, memory_mb=256))
box = LocalSandbox(Settings(data_dir=sys.argv[1]))
box.run(spec, run_id="orphaned", on_event=lambda e: print(e, flush=True))
"""


def test_supervisor_killed_hard_leaves_nothing_after_reaping(
    sandbox: LocalSandbox, settings: Settings
) -> None:
    """Pitfall: SIGKILL skips ``finally``. bwrap must die with its parent; the reaper removes the rest."""
    supervisor = subprocess.Popen(
        [sys.executable, "-c", SUPERVISOR, str(settings.data_dir)],
        stdout=subprocess.PIPE, text=True, cwd=str(Path(local.__file__).resolve().parent.parent),
    )  # fmt: skip
    assert supervisor.stdout is not None
    for line in supervisor.stdout:
        if "started" in line:
            break
    run_dirs = [p for p in sandbox.runs_root.iterdir() if p.name.startswith(f"{supervisor.pid}-")]
    assert len(run_dirs) == 1
    supervisor.kill()
    supervisor.wait()
    facts, _ = local._host()
    assert facts.cgroups is not None
    group = RunCgroup(facts.cgroups, run_dirs[0].name)
    assert group.memory_dir.exists()  # the killed supervisor could not remove it...
    for _ in range(100):  # ...but bwrap died with it and the pid namespace took the forked child along
        if not group.pids():
            break
        time.sleep(0.05)
    assert group.pids() == set()

    reaped = cleanup.reap_leftovers(settings)

    name = run_dirs[0].name
    assert name in reaped["workdirs"] and name in reaped["cgroups"]
    assert not run_dirs[0].exists()
    assert not group.memory_dir.exists() and not group.pids_dir.exists()


def test_concurrent_runs_from_threads(sandbox: LocalSandbox) -> None:
    """Staggered starts, so runs finish while others start: each run owns its descriptors, cgroup and dir
    (regression: closing a handed-over fd twice hit the number a concurrent run had just been given)."""
    results: dict[int, str] = {}

    def one(index: int) -> None:
        time.sleep(0.12 * index)
        spec = script_spec(f"import time\ntime.sleep(0.3)\nprint('run {index}')\n")
        result = sandbox.run(spec, run_id=f"concurrent-{index}")
        results[index] = result.status if f"run {index}" in result.stdout_tail else f"wrong: {result.error}"

    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == dict.fromkeys(range(8), "succeeded")


SETUP_SCRIPT = Path(local.__file__).resolve().parent.parent / "scripts" / "setup-system.sh"


def test_setup_script_is_idempotent_as_root(sandbox: LocalSandbox) -> None:
    for _ in range(2):
        proc = subprocess.run(["bash", str(SETUP_SCRIPT)], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "setup-system: ok: bubblewrap" in proc.stdout


def test_setup_script_explains_and_continues_when_not_root(sandbox: LocalSandbox) -> None:
    # The script is fed on stdin: the clone may live where nobody cannot read it.
    proc = subprocess.run(
        ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", "bash", "-s"],
        input=SETUP_SCRIPT.read_text(), capture_output=True, text=True, timeout=60, cwd="/",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "not root" in proc.stdout and "MLAGENT_SANDBOX_UNSAFE" in proc.stdout


def test_reaper_kills_sandbox_uid_processes_outside_live_runs(
    sandbox: LocalSandbox, settings: Settings
) -> None:
    uid, gid = isolation._sandbox_ids()
    if uid == isolation.NOBODY:
        pytest.skip("the orphan sweep only runs for a dedicated sandbox uid")
    stray = subprocess.Popen(
        ["setpriv", "--reuid", str(uid), "--regid", str(gid), "--clear-groups", "sleep", "60"]
    )
    time.sleep(0.2)
    reaped = cleanup.reap_leftovers(settings)
    assert str(stray.pid) in reaped["processes"]
    assert stray.wait(timeout=5) == -9
