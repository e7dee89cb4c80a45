"""The local sandbox backend: runs one smoke run under bubblewrap + cgroups + rlimits + seccomp + its own uid.

``LocalSandbox.run`` is synchronous and thread-safe: the run manager calls it from worker threads. It never
raises for problems of the submitted code; every outcome is a ``RunResult`` whose ``status`` says what
happened (succeeded, failed, timeout, oom, cancelled, rejected) and whose ``error`` says why in plain words.

The supervisor trusts nothing the sandbox says about limits: the deadline, cancellation, the memory limit and
the process sweep are enforced and observed from outside (see ``isolation.py`` for the exec chain). What the
harness reports (losses, throughput) is the run's own account of itself and only describes that run.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import ValidationError

from core.settings import Settings
from sandbox import isolation
from sandbox.cgroups import RunCgroup
from sandbox.cleanup import _active_lock, _active_runs
from sandbox.seccomp_policy import bpf_fd
from sandbox.spec import RunLimits, RunResult, RunSpec, RunStatus
from sandbox.streams import OutputCapture, pump_channel, pump_output, signal_exit
from sandbox.submission import validate_submission
from sandbox.warm import WARM_LIMITS, WarmPool, WarmSlot, fits, release

log = logging.getLogger(__name__)

EventCallback = Callable[[dict[str, Any]], None]

POLL_INTERVAL_S = 0.25
KILL_GRACE_S = 5.0
HARNESS_SOURCE = Path(__file__).with_name("harness.py")
_RUN_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


class SandboxUnavailable(Exception):
    """Isolation cannot be had on this host; the message says why and how to fix it."""


@dataclass
class SandboxCheck:
    """Whether runs can be isolated here (``usable``), why not (``reason``) and how (``isolation``)."""

    usable: bool
    reason: str
    isolation: str


# ----------------------------------------------------------------------------------------- host probe (cached)

_probe_lock = threading.Lock()
_probe: tuple[isolation.HostFacts, SandboxCheck] | None = None


def _host() -> tuple[isolation.HostFacts, SandboxCheck]:
    """Probe once per process: tools, root, cgroups, the sandbox uid and a real bwrap start."""
    global _probe
    with _probe_lock:
        if _probe is None:
            facts = isolation.probe_host()
            problems = list(facts.problems)
            if not problems:
                complaint = isolation.probe_bwrap(facts)
                if complaint:
                    problems.append(complaint)
            if problems:
                check = SandboxCheck(False, "; ".join(problems), "none")
            else:
                assert facts.cgroups is not None
                uid = facts.sandbox_uid
                note = (
                    " (fallback uid nobody; run scripts/setup-system.sh)" if uid == isolation.NOBODY else ""
                )
                check = SandboxCheck(
                    True, f"isolated as uid {uid}{note}", f"bwrap+{facts.cgroups.description}+seccomp+rlimits"
                )
            _probe = (facts, check)
        return _probe


def reset_probe_cache() -> None:
    """Forget the cached probe (after installing bubblewrap in a running process, and for tests)."""
    global _probe
    with _probe_lock:
        _probe = None


# ----------------------------------------------------------------------------------------- the sandbox


@dataclass
class _Launch:
    argv: list[str]
    pass_fds: tuple[int, ...]
    cgroup: RunCgroup | None
    # For the first program of the chain (bwrap's own environment, seen inside as /proc/1/environ).
    env: dict[str, str]


class LocalSandbox:
    """Runs smoke runs on this machine, isolated (or, only when the operator allows it, unconfined)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.runs_root = (Path(settings.data_dir) / "sandbox" / "runs").resolve()
        self._warm: WarmPool | None = None

    def start_warm_pool(self, size: int) -> None:
        """Keep ``size`` sandboxes waiting with torch and Lightning imported (sandbox/warm.py); 0: none.

        For a long-lived service (the run manager calls it); a one-run process (the CLI) gains nothing.
        """
        if size <= 0 or self._warm is not None or not self.check().usable:
            return
        self._warm = WarmPool(size, self._prestart, self._discard)
        self._warm.fill_in_background()

    def warm_ready(self) -> int:
        """How many warm sandboxes wait for a run right now (0 without a pool or while it refills)."""
        return self._warm.ready() if self._warm is not None else 0

    def close(self) -> None:
        """Destroy the waiting warm sandboxes."""
        if self._warm is not None:
            self._warm.close()
            self._warm = None

    def _prestart(self) -> WarmSlot:
        """Launch a sandbox as a run's would be, for a run not yet known: it imports, then waits on stdin."""
        facts, _ = _host()
        unsafe = self.check().isolation == "unsafe"
        name = f"{os.getpid()}-warm-{secrets.token_hex(4)}"
        with _active_lock:
            _active_runs.add(name)
        template = RunSpec(files={"waiting.py": ""}, steps=1, device="cpu", limits=WARM_LIMITS)
        run_dir = self.runs_root / name
        launch: _Launch | None = None
        result_r, result_w = os.pipe()
        os.set_inheritable(result_w, True)
        try:
            self._stage(template, run_dir, None if unsafe else facts, unsafe, wait=True)
            launch = (
                self._launch_unsafe(template, run_dir, result_w)
                if unsafe
                else self._launch_isolated(template, facts, run_dir, name, result_w)
            )
            proc = self._popen(launch, stdin=subprocess.PIPE)
        except BaseException:
            for fd in {*(launch.pass_fds if launch else ()), result_w, result_r}:
                with contextlib.suppress(OSError):
                    os.close(fd)
            if launch is not None and launch.cgroup is not None:
                launch.cgroup.remove()
            shutil.rmtree(run_dir, ignore_errors=True)
            with _active_lock:
                _active_runs.discard(name)
            raise
        return WarmSlot(name, run_dir, launch, proc, result_r, time.monotonic())

    def _discard(self, slot: WarmSlot) -> None:
        """Destroy a slot that will serve no run."""
        self._stop(slot.proc, slot.launch.cgroup)
        for stream in (slot.proc.stdin, slot.proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        with contextlib.suppress(OSError):
            os.close(slot.result_r)
        if slot.launch.cgroup is not None:
            slot.launch.cgroup.remove()
        shutil.rmtree(slot.run_dir, ignore_errors=True)
        with _active_lock:
            _active_runs.discard(slot.name)

    def _popen(self, launch: _Launch, stdin: int) -> subprocess.Popen[bytes]:
        """Start the launch's chain; the child gets its descriptors and ours are closed exactly once (a
        second close could hit a number that a concurrent run has been handed since)."""
        proc = subprocess.Popen(
            launch.argv,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=launch.env,
            cwd="/",
            pass_fds=launch.pass_fds,
            start_new_session=True,
        )
        child_fds, launch.pass_fds = launch.pass_fds, ()
        for fd in child_fds:
            os.close(fd)
        return proc

    def _claim_warm(self, spec: RunSpec) -> WarmSlot | None:
        if self._warm is None:
            return None
        gpu = isolation.gpu_plan(spec.device, visible=os.environ.get("CUDA_VISIBLE_DEVICES"))
        if not fits(spec, gpu.uses_gpu):
            return None
        return self._warm.claim()

    def check(self) -> SandboxCheck:
        """Cheap after the first call (the probe is cached per process)."""
        _, check = _host()
        if not check.usable and self.settings.sandbox_unsafe:
            return SandboxCheck(True, f"UNSAFE: running without isolation ({check.reason})", "unsafe")
        return check

    def require(self) -> SandboxCheck:
        """``check()`` or raise ``SandboxUnavailable`` with the reason and the fix."""
        check = self.check()
        if not check.usable:
            raise SandboxUnavailable(
                f"smoke runs cannot be isolated here: {check.reason}. Fix: run scripts/setup-system.sh as root "
                "(installs bubblewrap, creates the sandbox user) and run the service as root, or set "
                "MLAGENT_SANDBOX_UNSAFE=1 to run without isolation (trusted code only)."
            )
        return check

    # -- public entry point -------------------------------------------------------------------------------

    def run(
        self,
        spec: RunSpec,
        *,
        run_id: str,
        on_event: EventCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> RunResult:
        limits_info = spec.limits.model_dump()
        rejected = validate_submission(spec)
        if rejected:
            return RunResult(id=run_id, status="rejected", error=rejected, limits=limits_info)
        try:
            check = self.require()
        except SandboxUnavailable as exc:
            return RunResult(id=run_id, status="rejected", error=str(exc), limits=limits_info)
        if cancel is not None and cancel.is_set():
            return RunResult(
                id=run_id, status="cancelled", error="cancelled before it started", limits=limits_info
            )
        limits_info["isolation"] = check.isolation
        slot = self._claim_warm(spec)
        limits_info["warm_start"] = slot is not None
        # <supervisor pid>-<run id>-<random>: the reaper reads the pid; the suffix keeps two ids that sanitise
        # alike (or a reused id) from colliding on the cgroup and directory names.
        name = (
            slot.name
            if slot
            else f"{os.getpid()}-{_RUN_ID_UNSAFE.sub('_', run_id)[:64]}-{secrets.token_hex(3)}"
        )
        with _active_lock:
            _active_runs.add(name)
        try:
            return self._run(spec, run_id, name, check, limits_info, on_event, cancel, slot)
        except Exception as exc:  # an infrastructure fault, not the user's: report it, never raise
            log.exception("sandbox run %s failed to start", run_id)
            return RunResult(
                id=run_id, status="failed", error=f"the sandbox failed: {exc}", limits=limits_info
            )
        finally:
            with _active_lock:
                _active_runs.discard(name)
            if self._warm is not None:
                self._warm.fill_in_background()  # after the run: the refill's imports never slow a run

    # -- internals ----------------------------------------------------------------------------------------

    def _stage(
        self,
        spec: RunSpec,
        run_dir: Path,
        facts: isolation.HostFacts | None,
        unsafe: bool,
        *,
        wait: bool = False,
    ) -> None:
        """Write the submitted files, the harness and the run config into a fresh directory.

        ``wait``: the harness pre-imports torch and Lightning, then waits on stdin for its run (a warm slot).
        """
        run_dir.mkdir(parents=True, mode=0o755)
        os.chmod(run_dir, 0o755)
        shutil.copyfile(HARNESS_SOURCE, run_dir / "harness.py")
        if facts is not None:
            etc = run_dir / "etc"
            etc.mkdir(mode=0o755)
            uid, gid = facts.sandbox_uid, facts.sandbox_gid
            (etc / "passwd").write_text(
                f"root:x:0:0:root:/root:/usr/sbin/nologin\nsandbox:x:{uid}:{gid}:sandbox:/tmp:/usr/sbin/nologin\n"
            )
            (etc / "group").write_text(f"root:x:0:\nsandbox:x:{gid}:\n")
        self._write_job(spec, run_dir, unsafe, wait=wait)

    def _write_job(self, spec: RunSpec, run_dir: Path, unsafe: bool, *, wait: bool = False) -> None:
        """The run's own part of the directory: its source files and ``run.json`` (replaced for a warm slot,
        whose harness has read neither yet)."""
        src = run_dir / "src"
        shutil.rmtree(src, ignore_errors=True)
        src.mkdir(mode=0o755)
        for rel, text in spec.files.items():
            target = src / PurePosixPath(rel)
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
            target.write_text(text, encoding="utf-8")
        inside = run_dir if unsafe else Path(isolation.IN_DIR)
        work_dir = str(run_dir / "work") if unsafe else isolation.WORK_DIR
        config = {
            "input_dir": str(inside / "src"),
            "work_dir": work_dir,
            "steps": spec.steps,
            "device": spec.device,
            "seed": spec.seed,
            "module_class": spec.module_class,
            "datamodule_class": spec.datamodule_class,
            "synthetic": spec.synthetic.model_dump() if spec.synthetic else None,
            "entrypoint": str(PurePosixPath(work_dir) / spec.entrypoint) if spec.entrypoint else None,
            "wait_for_go": wait,
        }
        # Written whole under another name, then renamed: a waiting harness never reads half a config.
        partial = run_dir / "run.json.partial"
        partial.write_text(json.dumps(config))
        os.chmod(partial, 0o644)
        partial.replace(run_dir / "run.json")
        for path in run_dir.rglob("*"):
            os.chmod(path, 0o755 if path.is_dir() else 0o644)

    def _sandbox_env(self, result_fd: int, gpu_env: dict[str, str], home: str) -> dict[str, str]:
        venv_bin = os.path.dirname(sys.executable)
        env = {
            "PATH": f"{venv_bin}:/usr/bin:/bin",
            "HOME": home,
            "TMPDIR": "/tmp",
            "USER": "sandbox",
            "LOGNAME": "sandbox",
            "LANG": "C.UTF-8",
            "MPLCONFIGDIR": "/tmp/matplotlib",
            "PYTHONHASHSEED": "0",
            "MLAGENT_RESULT_FD": str(result_fd),
        }
        env.update(gpu_env)
        return env

    def _launch_isolated(
        self, spec: RunSpec, facts: isolation.HostFacts, run_dir: Path, name: str, result_w: int
    ) -> _Launch:
        limits = spec.limits
        gpu = isolation.gpu_plan(spec.device, visible=os.environ.get("CUDA_VISIBLE_DEVICES"))
        memory = limits.memory_mb << 20
        assert facts.cgroups is not None
        cgroup = RunCgroup(facts.cgroups, name)
        cgroup.create(memory_bytes=memory, max_pids=limits.max_pids)
        chain_limits = isolation.ChainLimits(
            cpu_seconds=limits.cpu_seconds,
            file_bytes=limits.max_file_mb << 20,
            open_files=limits.max_open_files,
            address_space_bytes=isolation.address_space_limit(memory, gpu.uses_gpu),
            tmpfs_bytes=limits.tmpfs_mb << 20,
        )
        try:
            seccomp_fd = bpf_fd()
        except BaseException:
            cgroup.remove()
            raise
        root_binds = [(f"p{i}", root) for i, root in enumerate(facts.python_roots)]
        stage = str(facts.stage_dir)
        script = isolation.join_script(
            cgroup.procs_files,
            stage,
            [(src, stage_name) for stage_name, src in root_binds] + [(str(run_dir), "run")],
        )
        env = self._sandbox_env(result_w, gpu.env, home="/tmp")
        argv = [facts.python, "-I", "-u", f"{isolation.IN_DIR}/harness.py", f"{isolation.IN_DIR}/run.json"]
        tools = facts.tools
        command = [
            str(tools["unshare"]), "--mount", "--propagation", "private", "--",
            str(tools["sh"]), "-c", script, "mlagent-sandbox",
            str(tools["prlimit"]), *isolation.prlimit_args(chain_limits), "--",
            str(tools["setpriv"]), "--reuid", str(facts.sandbox_uid), "--regid", str(facts.sandbox_gid),
            "--clear-groups", "--no-new-privs", "--",
            str(tools["bwrap"]),
            *isolation.bwrap_args(
                stage_dir=stage, root_binds=root_binds, run_stage_name="run",
                tmpfs_bytes=chain_limits.tmpfs_bytes, gpu=gpu, seccomp_fd=seccomp_fd, env=env, argv=argv,
            ),
        ]  # fmt: skip
        return _Launch(command, (seccomp_fd, result_w), cgroup, dict(isolation.CHAIN_ENV))

    def _launch_unsafe(self, spec: RunSpec, run_dir: Path, result_w: int) -> _Launch:
        limits = spec.limits
        chain_limits = isolation.ChainLimits(
            cpu_seconds=limits.cpu_seconds,
            file_bytes=limits.max_file_mb << 20,
            open_files=limits.max_open_files,
            address_space_bytes=None,
            tmpfs_bytes=limits.tmpfs_mb << 20,
        )
        prlimit = shutil.which("prlimit")
        argv = [sys.executable, "-I", "-u", str(run_dir / "harness.py"), str(run_dir / "run.json")]
        command = [prlimit, *isolation.prlimit_args(chain_limits), "--", *argv] if prlimit else argv
        gpu_env = {} if spec.device != "cpu" else {"CUDA_VISIBLE_DEVICES": ""}
        env = self._sandbox_env(result_w, gpu_env, home=str(run_dir / "work"))
        return _Launch(command, (result_w,), None, env)

    def _run(
        self,
        spec: RunSpec,
        run_id: str,
        name: str,
        check: SandboxCheck,
        limits_info: dict[str, Any],
        on_event: EventCallback | None,
        cancel: threading.Event | None,
        slot: WarmSlot | None = None,
    ) -> RunResult:
        facts, _ = _host()
        unsafe = check.isolation == "unsafe"
        run_dir = self.runs_root / name
        launch: _Launch | None = None
        proc: subprocess.Popen[bytes] | None = None
        if slot is None:
            result_r, result_w = os.pipe()
            os.set_inheritable(result_w, True)
        else:
            launch, proc, result_r, result_w = slot.launch, slot.proc, slot.result_r, -1
        events: queue.Queue[tuple[str, Any]] = queue.Queue()
        capture = OutputCapture(spec.limits.output_cap_bytes, events)
        threads: list[threading.Thread] = []
        readers_done = False
        try:
            if slot is None:
                self._stage(spec, run_dir, None if unsafe else facts, unsafe)
                if unsafe:
                    launch = self._launch_unsafe(spec, run_dir, result_w)
                else:
                    launch = self._launch_isolated(spec, facts, run_dir, name, result_w)
                started = time.monotonic()
                proc = self._popen(launch, stdin=subprocess.DEVNULL)
                result_w = -1
            else:
                self._write_job(spec, run_dir, unsafe)
                started = time.monotonic()
                release(slot)
            assert proc is not None and launch is not None and proc.stdout is not None
            threads = [
                threading.Thread(target=pump_output, args=(proc.stdout.fileno(), capture), daemon=True),
                threading.Thread(target=pump_channel, args=(result_r, events), daemon=True),
            ]
            for thread in threads:
                thread.start()
            # Wakes the supervisor the moment the process ends (the queue is otherwise polled every 0.25 s).
            threading.Thread(target=signal_exit, args=(proc, events), daemon=True).start()
            outcome = self._supervise(proc, spec.limits, started, events, on_event, cancel)
            self._stop(proc, launch.cgroup)
            for thread in threads:
                thread.join(timeout=2.0)
            readers_done = not any(thread.is_alive() for thread in threads)
            self._drain(events, on_event, outcome)
            return self._result(
                run_id, spec.limits, limits_info, outcome, proc, launch.cgroup, capture, started
            )
        finally:
            if proc is not None:
                self._stop(proc, launch.cgroup if launch else None)
            for thread in threads:
                thread.join(timeout=0 if readers_done else 2.0)
            readers_done = not any(thread.is_alive() for thread in threads)
            # A reader still blocked on a pipe (only possible unconfined, where a daemon can escape the kill)
            # keeps its descriptor: closing it under the reader could hand the number to another file.
            if readers_done:
                if proc is not None and proc.stdout is not None:
                    proc.stdout.close()
                with contextlib.suppress(OSError):
                    os.close(result_r)
            else:
                log.warning(
                    "run %s: output readers still busy after the run; leaving their pipes open", run_id
                )
            # Only descriptors never handed over are still ours here (launch failed or Popen raised).
            for fd in {*(launch.pass_fds if launch else ()), result_w} - {-1}:
                with contextlib.suppress(OSError):
                    os.close(fd)
            if launch is not None and launch.cgroup is not None:
                launch.cgroup.remove()
            shutil.rmtree(run_dir, ignore_errors=True)

    def _supervise(
        self,
        proc: subprocess.Popen[bytes],
        limits: RunLimits,
        started: float,
        events: queue.Queue[tuple[str, Any]],
        on_event: EventCallback | None,
        cancel: threading.Event | None,
    ) -> dict[str, Any]:
        """Forward events until the process ends, the deadline passes or the run is cancelled (polled)."""
        outcome: dict[str, Any] = {"result": None, "stopped": None, "first_step_at": None}
        deadline = started + limits.timeout_s
        self._dispatch("status", {"type": "running"}, on_event, outcome)
        while True:
            try:
                kind, payload = events.get(timeout=POLL_INTERVAL_S)
                self._dispatch(kind, payload, on_event, outcome)
            except queue.Empty:
                pass
            if proc.poll() is not None:
                return outcome
            if cancel is not None and cancel.is_set():
                outcome["stopped"] = "cancelled"
                return outcome
            if time.monotonic() >= deadline:
                outcome["stopped"] = "timeout"
                return outcome

    def _dispatch(
        self, kind: str, payload: Any, on_event: EventCallback | None, outcome: dict[str, Any]
    ) -> None:
        if kind == "exit":
            return
        if kind == "log":
            event: dict[str, Any] = {"type": "log", "line": payload}
        elif kind == "status":
            event = {"type": "status", "status": "running"}
        else:
            message_type = payload.get("type")
            if message_type == "result":
                outcome["result"] = payload
                return
            if message_type == "step":
                if outcome["first_step_at"] is None:
                    outcome["first_step_at"] = time.monotonic()
                event = {
                    "type": "step",
                    "step": payload.get("step"),
                    "loss": payload.get("loss"),
                    "samples_per_s": payload.get("samples_per_s"),
                }
            else:
                return
        if on_event is not None:
            try:
                on_event(event)
            except Exception:  # a faulty listener must not break the run
                log.exception("smoke-run event listener failed")

    def _drain(
        self, events: queue.Queue[tuple[str, Any]], on_event: EventCallback | None, outcome: dict[str, Any]
    ) -> None:
        while True:
            try:
                kind, payload = events.get_nowait()
            except queue.Empty:
                return
            self._dispatch(kind, payload, on_event, outcome)

    def _stop(self, proc: subprocess.Popen[bytes], cgroup: RunCgroup | None) -> None:
        """Kill everything of the run: the chain's session, then every member of its cgroup."""
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
        if cgroup is not None:
            cgroup.kill_all()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=KILL_GRACE_S)

    def _result(
        self,
        run_id: str,
        limits: RunLimits,
        limits_info: dict[str, Any],
        outcome: dict[str, Any],
        proc: subprocess.Popen[bytes],
        cgroup: RunCgroup | None,
        capture: OutputCapture,
        started: float,
    ) -> RunResult:
        reported: dict[str, Any] = dict(outcome["result"] or {})
        duration = round(time.monotonic() - started, 3)
        fields: dict[str, Any] = {
            key: reported.get(key)
            for key in (
                "device",
                "losses",
                "loss_decreased",
                "samples_per_s",
                "peak_memory_mb",
                "peak_gpu_memory_mb",
            )
            if reported.get(key) is not None
        }
        if isinstance(fields.get("losses"), list):
            fields["losses"] = fields["losses"][:10_000]
        steps = reported.get("steps")
        if isinstance(steps, int) and steps >= 0:
            fields["steps"] = steps
        if outcome["first_step_at"] is not None:
            fields["time_to_first_step_s"] = round(outcome["first_step_at"] - started, 3)
        oom_killed = cgroup is not None and cgroup.oom_killed()
        code = proc.returncode
        if not oom_killed and cgroup is not None and code in (-signal.SIGKILL, 128 + signal.SIGKILL):
            # Killed without an OOM record (older kernels): at the memory limit, that is what it was.
            peak, limit = cgroup.peak_memory_bytes(), cgroup.memory_limit_bytes()
            oom_killed = bool(peak and limit and peak >= 0.95 * limit)
        if "peak_memory_mb" not in fields and cgroup is not None:
            # No report from inside (killed): the cgroup's high-water mark is the best account there is.
            peak = cgroup.peak_memory_bytes()
            if peak:
                fields["peak_memory_mb"] = round(peak / 2**20, 1)
        status, error = self._classify(limits, outcome, reported, oom_killed, code, capture)
        refused = cgroup.pids_limit_hits() if cgroup is not None else 0
        if refused and status != "succeeded":
            # A run starved of processes fails in odd ways (DataLoader workers, a stuck fork bomb): say so.
            note = f"its process limit of {limits.max_pids} refused {refused} fork(s)"
            error = f"{error}; {note}" if error else note
        try:
            return RunResult(
                id=run_id, status=status, error=error, duration_s=duration, stdout_tail=capture.text(),
                limits=limits_info, **fields,
            )  # fmt: skip
        except ValidationError:
            return RunResult(
                id=run_id, status="failed", error="the run reported a malformed result", duration_s=duration,
                stdout_tail=capture.text(), limits=limits_info,
            )  # fmt: skip

    @staticmethod
    def _classify(
        limits: RunLimits,
        outcome: dict[str, Any],
        reported: dict[str, Any],
        oom_killed: bool,
        code: int | None,
        capture: OutputCapture,
    ) -> tuple[RunStatus, str | None]:
        if outcome["stopped"] == "cancelled":
            return "cancelled", "cancelled while running"
        if outcome["stopped"] == "timeout":
            return "timeout", f"did not finish within the {limits.timeout_s:g} s time limit and was stopped"
        memory_error = f"ran out of memory: the run exceeded its {limits.memory_mb} MB limit and was killed"
        if oom_killed:
            return "oom", memory_error
        reported_status = reported.get("status")
        if reported_status == "succeeded" or reported_status == "failed" or reported_status == "oom":
            status: RunStatus = reported_status
            error = reported.get("error")
            if status == "oom" and error:
                error = f"ran out of memory ({limits.memory_mb} MB limit): {error}"
            return status, (str(error) if error is not None else None)
        if code in (128 + signal.SIGXCPU, -signal.SIGXCPU):
            return "timeout", f"exceeded its CPU time limit of {limits.cpu_seconds} s and was stopped"
        last = capture.text().strip().splitlines()[-1:] or [""]
        if last[0].startswith("bwrap:"):
            return "failed", f"the sandbox failed to start: {last[0]}"
        return "failed", f"the run ended (exit status {code}) without reporting a result; see stdout_tail"


# ----------------------------------------------------------------------------------------- reaper
