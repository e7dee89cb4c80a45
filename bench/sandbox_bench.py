"""What the sandbox costs: the same tiny Lightning smoke run bare vs sandboxed, side by side, several times.

Bare = the harness started directly with this interpreter (no bwrap, no cgroup, no uid switch, no seccomp);
sandboxed = ``LocalSandbox.run``. Both are timed the same way, from just before the files are staged to the
end (wall) and to the first optimisation step arriving at the supervisor (time to first step). (CPU seconds are
not compared: bwrap's pid-namespace init is reaped by the host's init, so RUSAGE_CHILDREN misses the sandboxed
tree.) Runs alternate (bare, sandboxed, sandboxed, bare, ...) so that a noisy
neighbour hurts both alike. The verdict is on the median of the per-repetition ratios (each pair ran back to
back, so the load they shared cancels), printed with the spread of those ratios and the load average before
and after; the ratio of medians and of minima are shown too. A third mode, ``warm``, takes a sandbox that
already imported torch and Lightning (sandbox/warm.py), as the server's runs do. Target: ratio <= 1.10.

    .venv/bin/python bench/sandbox_bench.py [--reps 5] [--steps 20] [--project DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from core.settings import Settings  # noqa: E402
from sandbox.local import HARNESS_SOURCE, LocalSandbox  # noqa: E402
from sandbox.spec import RunLimits, RunSpec  # noqa: E402

DEFAULT_PROJECT = REPO / "tests" / "sandbox" / "projects" / "good_lightning"


def load_project(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*.py"))}


def run_bare(files: dict[str, str], steps: int) -> dict[str, Any]:
    """The harness alone: stage, spawn, read its channel; nothing confines it."""
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mlagent-bare-") as tmp:
        root = Path(tmp)
        for rel, text in files.items():
            (root / "src" / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / "src" / rel).write_text(text)
        shutil.copyfile(HARNESS_SOURCE, root / "harness.py")
        config = {"input_dir": str(root / "src"), "work_dir": str(root / "work"), "steps": steps, "device": "cpu",
                  "seed": 42}  # fmt: skip
        (root / "run.json").write_text(json.dumps(config))
        read_fd, write_fd = os.pipe()
        env = {"PATH": "/usr/bin:/bin", "HOME": str(root), "MLAGENT_RESULT_FD": str(write_fd),
               "CUDA_VISIBLE_DEVICES": ""}  # fmt: skip
        proc = subprocess.Popen(
            [sys.executable, "-I", "-u", str(root / "harness.py"), str(root / "run.json")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, pass_fds=(write_fd,),
        )  # fmt: skip
        os.close(write_fd)
        first_step: float | None = None
        result: dict[str, Any] = {}
        with os.fdopen(read_fd, "rb") as channel:
            for line in channel:
                message = json.loads(line)
                if message.get("type") == "step" and first_step is None:
                    first_step = time.monotonic() - start
                elif message.get("type") == "result":
                    result = message
        proc.wait()
    return {"wall": time.monotonic() - start, "ttfs": first_step, "status": result.get("status"),
            "samples_per_s": result.get("samples_per_s")}  # fmt: skip


def run_sandboxed(box: LocalSandbox, files: dict[str, str], steps: int, index: int) -> dict[str, Any]:
    start = time.monotonic()
    first_step: list[float] = []

    def on_event(event: dict[str, Any]) -> None:
        if event["type"] == "step" and not first_step:
            first_step.append(time.monotonic() - start)

    spec = RunSpec(files=files, steps=steps, device="cpu", limits=RunLimits(timeout_s=120))
    result = box.run(spec, run_id=f"bench-{index}", on_event=on_event)
    return {"wall": time.monotonic() - start, "ttfs": first_step[0] if first_step else None,
            "status": result.status, "samples_per_s": result.samples_per_s}  # fmt: skip


def median(values: list[float | None]) -> float:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--project", type=Path, default=DEFAULT_PROJECT)
    args = parser.parse_args()

    files = load_project(args.project)
    with tempfile.TemporaryDirectory(prefix="mlagent-bench-") as data_dir:
        box = LocalSandbox(Settings(data_dir=Path(data_dir)))
        check = box.check()
        if not check.usable:
            print(f"sandbox unusable: {check.reason}", file=sys.stderr)
            return 2
        run_bare(files, 2)  # warm the page cache for torch/Lightning so the first measured run is not special
        warm_box = LocalSandbox(Settings(data_dir=Path(data_dir)))
        warm_box.start_warm_pool(1)
        load_before = os.getloadavg()[0]
        rows: dict[str, list[dict[str, Any]]] = {"bare": [], "sandboxed": [], "warm": []}
        for rep in range(args.reps):
            order = ["bare", "sandboxed", "warm"] if rep % 2 == 0 else ["warm", "sandboxed", "bare"]
            for mode in order:
                if mode == "bare":
                    row = run_bare(files, args.steps)
                elif mode == "sandboxed":
                    row = run_sandboxed(box, files, args.steps, rep)
                else:
                    wait_for_warm_slot(warm_box)
                    row = run_sandboxed(warm_box, files, args.steps, 1000 + rep)
                if row["status"] != "succeeded":
                    print(f"{mode} run {rep} did not succeed: {row['status']}", file=sys.stderr)
                    return 1
                rows[mode].append(row)

        warm_box.close()
    load = os.getloadavg()[0]
    print(f"sandbox bench: {args.steps}-step CPU smoke run of {args.project.name}, {args.reps} reps each, "
          f"isolation={check.isolation}, {os.cpu_count()} CPUs, load average {load_before:.1f} before, "
          f"{load:.1f} after")  # fmt: skip
    header = (f"{'mode':<10} {'wall median s':>14} {'wall min s':>11} {'first step median s':>20} "
              f"{'first step min s':>17} {'samples/s':>10}")  # fmt: skip
    print(header)
    print("-" * len(header))
    for mode, runs in rows.items():
        wall, ttfs = ([r[k] for r in runs] for k in ("wall", "ttfs"))
        print(f"{mode:<10} {median(wall):>14.3f} {min(wall):>11.3f} {median(ttfs):>20.3f} {min(ttfs):>17.3f} "
              f"{median([r['samples_per_s'] for r in runs]):>10.1f}")  # fmt: skip
    print("ratio to bare                   of medians   of minima   median per rep (spread)")
    verdict_ratio, verdict_spread = 0.0, (0.0, 0.0)
    for mode in ("sandboxed", "warm"):
        for key, label in (("wall", "wall"), ("ttfs", "time to first step")):
            bare = [r[key] for r in rows["bare"]]
            boxed = [r[key] for r in rows[mode]]
            of_medians = median(boxed) / median(bare)
            of_minima = min(boxed) / min(bare)
            ratios = sorted(b / a for a, b in zip(bare, boxed, strict=True) if a and b)
            per_rep = statistics.median(ratios)
            spread = f"({ratios[0]:.2f}-{ratios[-1]:.2f})"
            print(
                f"  {mode + ' ' + label:<30} {of_medians:>10.3f} {of_minima:>11.3f} {per_rep:>10.3f} {spread}"
            )
            if (mode, key) == ("sandboxed", "wall"):
                verdict_ratio, verdict_spread = per_rep, (ratios[0], ratios[-1])
    if verdict_ratio <= 1.10:
        verdict = "OK"
    elif verdict_spread[0] <= 1.10:
        verdict = "NOT SHOWN: above target, but within this run's noise (the spread reaches below it)"
    else:
        verdict = "ABOVE TARGET"
    print(
        f"target: sandboxed wall <= 1.10 x bare, judged on the median per-repetition ratio {verdict_ratio:.3f} "
        f"(spread {verdict_spread[0]:.2f}-{verdict_spread[1]:.2f}, load average {load_before:.1f}->{load:.1f}): "
        f"{verdict}"
    )
    return 0


def wait_for_warm_slot(box: LocalSandbox, timeout_s: float = 300.0) -> None:
    """Wait until the pool holds a waiting sandbox again (it refills after each run)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if box.warm_ready():
            return
        time.sleep(0.1)


if __name__ == "__main__":
    sys.exit(main())
