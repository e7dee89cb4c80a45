"""Hostile submissions run through the real LocalSandbox: each is contained, gets the right status and leaves
no process, cgroup or file behind (the ``no_leftovers`` fixture checks that after every test)."""

from __future__ import annotations

import hashlib
import os
import re
import socket
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.settings import Settings
from sandbox import isolation
from sandbox.local import LocalSandbox
from sandbox.spec import RunLimits, RunSpec
from sandbox.streams import MAX_LOG_EVENTS

from .conftest import run_cgroups, run_script, sandbox_processes

pytestmark = pytest.mark.usefixtures("no_leftovers")


def test_cannot_read_host_files(sandbox: LocalSandbox, settings: Settings) -> None:
    secret_dir = Path(settings.data_dir)
    (secret_dir / "threads.sqlite").write_text("SECRET-DATA-DIR-CONTENT")
    code = f"""
    import os
    targets = ["/etc/shadow", "/etc/hostname", "/root/.bashrc", "/root/.cache", "/root/.gitconfig", {str(secret_dir)!r},
               {str(secret_dir / "threads.sqlite")!r}, "/home", "/var/log", "/proc/1/root/etc/shadow",
               {os.getcwd()!r} + "/core/settings.py", "/sys/fs/cgroup", "/sys/class/net"]
    for path in targets:
        try:
            if os.path.isdir(path):
                print("LEAK dir", path, os.listdir(path)[:5])
            else:
                with open(path) as handle:
                    print("LEAK file", path, handle.read(40))
        except OSError as exc:
            print("blocked", path, type(exc).__name__)
    print("root listing", sorted(os.listdir("/")))
    print("ROOTDIR", sorted(os.listdir("/root")) if os.path.isdir("/root") else [])
    """
    result = run_script(sandbox, code, "read-host")
    assert result.status == "succeeded", result.error
    assert "LEAK" not in result.stdout_tail
    assert "SECRET-DATA-DIR-CONTENT" not in result.stdout_tail
    # /root exists inside only when the interpreter lives under it (pyenv): then it holds that path alone.
    rootdir_line = next(line for line in result.stdout_tail.splitlines() if line.startswith("ROOTDIR"))
    allowed = {
        Path(r).relative_to("/root").parts[0] for r in isolation.python_roots() if r.startswith("/root/")
    }
    assert set(eval(rootdir_line.removeprefix("ROOTDIR "))) <= allowed


def test_cannot_write_outside_workdir_and_submission_is_untouched(
    sandbox: LocalSandbox, tmp_path: Path
) -> None:
    submitted = tmp_path / "project"
    submitted.mkdir()
    code = f"""
    import os, sys
    ok = []
    for path in ["/usr/pwned", "/etc/pwned", "/dev/pwned", "/sbx/pwned", "/root/pwned", "/sbx/in/pwned", "/sbx/in/src/main.py", "/pwned",
                 {os.path.dirname(os.path.dirname(__import__("sys").executable))!r} + "/pwned",
                 {str(submitted)!r} + "/main.py", "/proc/sys/kernel/hostname"]:
        try:
            with open(path, "w") as handle:
                handle.write("x")
            print("WROTE", path)
        except OSError as exc:
            print("blocked", path, exc.errno)
    with open("main.py", "a") as handle:  # the workdir copy is the run's own to change
        handle.write("# changed inside\\n")
    for scratch in ("/tmp/scratch", "/dev/shm/scratch", "/dev/null"):
        with open(scratch, "w") as handle:
            handle.write("fine")
    print("cwd", os.getcwd())
    """
    (submitted / "main.py").write_text(textwrap.dedent(code))
    before = hashlib.sha256((submitted / "main.py").read_bytes()).hexdigest()
    files = {"main.py": (submitted / "main.py").read_text()}
    result = sandbox.run(
        RunSpec(files=files, entrypoint="main.py", limits=RunLimits(timeout_s=10)), run_id="write"
    )
    assert result.status == "succeeded", result.error
    assert "WROTE" not in result.stdout_tail
    assert "cwd /sbx/work" in result.stdout_tail
    assert hashlib.sha256((submitted / "main.py").read_bytes()).hexdigest() == before
    assert sorted(p.name for p in submitted.iterdir()) == ["main.py"]
    assert not Path("/usr/pwned").exists() and not Path("/pwned").exists()


@pytest.fixture
def loopback_server(settings: Settings) -> Iterator[tuple[int, list[str]]]:
    """A TCP server on 127.0.0.1 (standing in for the service's own port) that records every connection."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    accepted: list[str] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, addr = server.accept()
            except OSError:
                continue
            accepted.append(str(addr))
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], accepted
    stop.set()
    thread.join()
    server.close()


def test_no_network(sandbox: LocalSandbox, loopback_server: tuple[int, list[str]]) -> None:
    port, accepted = loopback_server
    code = f"""
    import socket
    attempts = {{
        "loopback service": lambda: socket.create_connection(("127.0.0.1", {port}), timeout=2),
        "public ip": lambda: socket.create_connection(("1.1.1.1", 443), timeout=2),
        "dns": lambda: socket.getaddrinfo("pypi.org", 443),
        "udp": lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("8.8.8.8", 53)),
        "ipv6": lambda: socket.socket(socket.AF_INET6, socket.SOCK_STREAM),
        "raw": lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW),
        "netlink": lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0),
    }}
    for name, attempt in attempts.items():
        try:
            attempt()
            print("CONNECTED", name)
        except OSError as exc:
            print("blocked", name, exc.errno)
    socket.socketpair()  # AF_UNIX stays allowed (DataLoader workers use it)
    print("unix ok")
    """
    result = run_script(sandbox, code, "network")
    assert result.status == "succeeded", result.error
    assert "CONNECTED" not in result.stdout_tail
    assert "unix ok" in result.stdout_tail
    assert accepted == []


def test_fork_bomb_is_contained(sandbox: LocalSandbox) -> None:
    # Every process reports its first refused fork once; without a working pids limit none is refused (the
    # run would only time out, which proves nothing), so the test asserts the limit itself was hit.
    code = """
    import errno, os
    refused = False
    while True:
        try:
            os.fork()
        except OSError as exc:
            if exc.errno == errno.EAGAIN and not refused:
                refused = True
                os.write(1, b"fork refused: EAGAIN\\n")
    """
    result = run_script(sandbox, code, "forkbomb", timeout_s=3, max_pids=32)
    assert result.status == "timeout", result.error
    assert "fork refused: EAGAIN" in result.stdout_tail  # seen from inside
    match = re.search(r"process limit of 32 refused (\d+) fork", result.error or "")
    assert match and int(match.group(1)) > 0, result.error  # counted by the pids cgroup (pids.events max)
    # Nothing outlives the run: no process, no per-run cgroup, no run directory.
    assert sandbox_processes() == [] and run_cgroups() == []
    assert not sandbox.runs_root.is_dir() or list(sandbox.runs_root.iterdir()) == []


def test_memory_bomb_is_oom(sandbox: LocalSandbox) -> None:
    code = """
    chunks = []
    while True:
        chunks.append(bytearray(16 * 1024 * 1024))
    """
    result = run_script(sandbox, code, "membomb", memory_mb=256)
    assert result.status == "oom", (result.error, result.stdout_tail)
    assert "256 MB" in (result.error or "")
    assert result.peak_memory_mb is not None and result.peak_memory_mb > 200  # the cgroup's high-water mark


def test_infinite_loop_times_out(sandbox: LocalSandbox) -> None:
    result = run_script(sandbox, "while True:\n    pass\n", "loop", timeout_s=2)
    assert result.status == "timeout"
    assert 2.0 <= result.duration_s < 6.0
    assert "2 s" in (result.error or "")


def test_cpu_time_limit_stops_a_busy_run(sandbox: LocalSandbox) -> None:
    result = run_script(sandbox, "while True:\n    pass\n", "cpulimit", timeout_s=20, cpu_seconds=1)
    assert result.status == "timeout"
    assert "CPU time limit of 1 s" in (result.error or "")
    assert result.duration_s < 10


def test_cancel_stops_a_running_run(sandbox: LocalSandbox) -> None:
    cancel = threading.Event()
    timer = threading.Timer(1.0, cancel.set)
    timer.start()
    spec = RunSpec(files={"main.py": "import time\ntime.sleep(60)\n"}, entrypoint="main.py")
    result = sandbox.run(spec, run_id="cancel", cancel=cancel)
    timer.cancel()
    assert result.status == "cancelled"
    assert result.duration_s < 5.0


def test_double_forked_daemon_does_not_survive(sandbox: LocalSandbox) -> None:
    code = """
    import os, time
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.close(1); os.close(2)
            time.sleep(600)
        os._exit(0)
    time.sleep(0.3)
    print("parent done")
    """
    result = run_script(sandbox, code, "daemon")
    assert result.status == "succeeded", result.error
    assert "parent done" in result.stdout_tail
    assert result.duration_s < 5.0  # the daemon must not keep the run alive


def test_environment_does_not_leak(sandbox: LocalSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "sk-test-0123456789-THIS-MUST-NOT-LEAK"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    monkeypatch.setenv("MLAGENT_API_KEY", secret)
    code = """
    import os
    print(dict(os.environ))
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                print(pid, open(f"/proc/{pid}/environ", "rb").read())
            except OSError as exc:
                print(pid, "unreadable", exc.errno)
    print("pid1", open("/proc/1/environ", "rb").read())
    """
    result = run_script(sandbox, code, "environ")
    assert result.status == "succeeded", result.error
    assert "pid1" in result.stdout_tail
    assert secret not in result.stdout_tail
    assert "API_KEY" not in result.stdout_tail


def test_killing_its_parent_harms_nothing_outside(sandbox: LocalSandbox) -> None:
    code = f"""
    import os, signal
    for target in (os.getppid(), 1, {os.getpid()}):
        try:
            os.kill(target, signal.SIGKILL)
            print("signalled", target)
        except OSError as exc:
            print("refused", target, exc.errno)
    try:
        os.kill(-1, signal.SIGKILL)  # everything it can see but pid 1 and itself: nothing
    except OSError as exc:
        print("kill -1 refused", exc.errno)
    os.kill(os.getpid(), signal.SIGKILL)
    """
    result = run_script(sandbox, code, "killparent")
    # pid 1 of the sandbox ignores it, this test process is invisible (ESRCH = 3), the run then kills itself:
    # the supervisor (this process) is alive and reports the run as failed.
    assert f"refused {os.getpid()} 3" in result.stdout_tail
    assert result.status == "failed"
    assert "without reporting a result" in (result.error or "")


def test_filling_the_disk_hits_the_tmpfs_limit(sandbox: LocalSandbox, settings: Settings) -> None:
    code = """
    import os
    block = b"\\0" * (1 << 20)
    index = 0
    while True:
        with open(f"fill-{index}.bin", "wb") as handle:
            for _ in range(4):
                handle.write(block)
        index += 1
    """
    result = run_script(sandbox, code, "diskfill", tmpfs_mb=24, memory_mb=256)
    assert result.status == "failed", result.error
    assert "No space left on device" in (result.error or "")
    # The writes went to the run's sized tmpfs, not to the host disk under the data dir (other processes share
    # this host's disk, so its free space is no measure; the data dir's own size is).
    written = sum(p.stat().st_size for p in Path(settings.data_dir).rglob("*") if p.is_file())
    assert written < (1 << 20)


def test_single_huge_file_hits_the_file_size_limit(sandbox: LocalSandbox) -> None:
    code = """
    with open("/tmp/big.bin", "wb") as handle:
        handle.write(b"\\0" * (3 << 20))
    """
    result = run_script(sandbox, code, "fsize", max_file_mb=1, tmpfs_mb=16)
    assert result.status == "failed"
    assert "File too large" in (result.error or "")


def test_stdout_flood_is_capped(sandbox: LocalSandbox) -> None:
    events: list[dict[str, object]] = []
    code = """
    import sys
    line = "flood " * 100 + "\\n"
    while True:
        sys.stdout.write(line)
    """
    spec = RunSpec(
        files={"main.py": textwrap.dedent(code)},
        entrypoint="main.py",
        limits=RunLimits(timeout_s=3, output_cap_bytes=4096),
    )
    result = sandbox.run(spec, run_id="flood", on_event=events.append)
    assert result.status == "timeout"
    assert len(result.stdout_tail) < 4096 + 200
    assert "earlier bytes of output omitted" in result.stdout_tail
    assert sum(1 for e in events if e["type"] == "log") <= MAX_LOG_EVENTS


def test_privileged_operations_are_denied(sandbox: LocalSandbox) -> None:
    code = """
    import ctypes, ctypes.util, os
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    CLONE_NEWUSER, CLONE_NEWNS = 0x10000000, 0x00020000
    checks = {
        "unshare-user": lambda: libc.unshare(CLONE_NEWUSER),
        "unshare-mount": lambda: libc.unshare(CLONE_NEWNS),
        "mount": lambda: libc.mount(b"none", b"/tmp", b"tmpfs", 0, None),
        "ptrace": lambda: libc.ptrace(16, 1, None, None),
        "setuid0": lambda: libc.setuid(0),
    }
    for name, call in checks.items():
        rc = call()
        print("ALLOWED" if rc == 0 else "denied", name, ctypes.get_errno())
    print("uid", os.getuid(), "caps", open("/proc/self/status").read().split("CapEff:")[1].split()[0])
    """
    result = run_script(sandbox, code, "privileged")
    assert result.status == "succeeded", result.error
    assert "ALLOWED" not in result.stdout_tail
    assert "caps 0000000000000000" in result.stdout_tail
    assert "uid 0" not in result.stdout_tail
