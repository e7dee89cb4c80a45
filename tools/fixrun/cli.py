"""``mlagent fix-run PATH``: run the project in the sandbox, diagnose, repair, re-run, until it trains.

The project's files are read once and never written unless ``--in-place`` is given (then only the changed
files, after the loop ends with a run that trains). Exit codes: 0 it trains, 1 it does not, 2 bad usage.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from core.errors import UsageError


def add_parser(subparsers: Any) -> None:
    """Register ``fix-run`` on the ``mlagent`` argument parser."""
    parser = subparsers.add_parser(
        "fix-run",
        help="run a project in the sandbox and repair it until it trains (bounded)",
        description="Run PATH in the sandbox; diagnose a failure from the run's structured result, repair it "
        "with a code edit on a copy, run again; stop when it trains, no recipe applies, or a bound is hit.",
    )
    parser.add_argument("path", metavar="PATH", help="project folder or one .py file")
    parser.add_argument("--attempts", type=int, default=3, help="repairs to try after the first run (0-10)")
    parser.add_argument("--budget", type=float, default=600.0, help="wall-clock budget in seconds")
    parser.add_argument("--steps", type=int, default=None, help="steps per run (default: service setting)")
    parser.add_argument("--timeout", type=float, default=None, help="per-run time limit in seconds")
    parser.add_argument("--memory-mb", type=int, default=None, help="per-run memory limit")
    parser.add_argument(
        "--entrypoint", default=None, help="script of a plain-PyTorch project (default: detected)"
    )
    parser.add_argument("--format", choices=["text", "json"], default="text")
    parser.add_argument("--show-code", action="store_true", help="print the final files (text format)")
    parser.add_argument(
        "--plot", metavar="FILE", help="write every attempt's loss curve to FILE (.png or .svg)"
    )
    parser.add_argument(
        "--in-place",
        action="store_true",
        help="write the repaired files back (only when the final run trains)",
    )
    parser.set_defaults(func=fix_run_command)


def fix_run_command(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from core.settings import get_settings
    from sandbox.cli import read_project
    from sandbox.experiments import ExperimentStore
    from tools.fixrun.loop import fix_run, store_runner
    from tools.fixrun.models import FixRunRequest
    from tools.fixrun.render import render_text

    root = Path(args.path)
    files = read_project(root)
    try:
        request = FixRunRequest(
            files=files,
            attempts=args.attempts,
            budget_s=args.budget,
            steps=args.steps,
            timeout_s=args.timeout,
            memory_mb=args.memory_mb,
            entrypoint=args.entrypoint,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise UsageError(f"invalid fix-run: {where}: {first['msg']}") from None
    settings = get_settings()

    def progress(event: dict[str, Any]) -> None:
        if event.get("type") == "attempt_started":
            what = event.get("repair") or "your code as given"
            sys.stderr.write(f"run #{event['index']}: {what}\n")
        elif event.get("type") == "attempt_finished":
            attempt = event["attempt"]
            sys.stderr.write(f"  -> {attempt['status']}: {attempt['diagnosis']['title']}\n")

    with ExperimentStore(settings.experiments_db) as store:
        report = fix_run(request, settings, store_runner(settings, store), on_progress=progress)
    if args.plot:
        from sandbox.cli import _write_plot

        _write_plot(
            args.plot, {f"#{a.index}": a.losses for a in report.attempts if a.losses}, "fix-run attempts"
        )
    if args.in_place and report.trained and report.diff:
        base = root if root.is_dir() else root.parent
        for path, text in report.final_files.items():
            if text != files.get(path):
                (base / path).write_text(text, encoding="utf-8")
        sys.stderr.write(f"wrote the repaired files back to {base}\n")
    if args.format == "json":
        print(report.model_dump_json(indent=2))
    else:
        print(render_text(report, show_code=args.show_code))
    return 0 if report.trained else 1
