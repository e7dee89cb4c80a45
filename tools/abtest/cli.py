"""``mlagent ab PATH --variant bf16 --variant "lr=set the learning rate to 3e-4"``: measure, don't guess.

The baseline is the code as given; each ``--variant`` is ``bf16``/``fp16``/``fp32``/``fp64`` (Trainer
precision) or ``NAME=INSTRUCTION`` (a tools/edit instruction applied to a copy). Exit 0 when every run
succeeded, 1 otherwise, 2 for bad usage.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from core.errors import UsageError

PRECISIONS = {"bf16": "bf16-mixed", "fp16": "16-mixed", "fp32": "32-true", "fp64": "64-true"}


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "ab",
        help="compare variants of a project as interleaved A/B smoke runs with repeats",
        description="Run the code as given and each variant in turn, REPEATS times, same seed; report "
        "throughput, memory and final loss with their spread, and say when a difference is within noise.",
    )
    parser.add_argument("path", metavar="PATH")
    parser.add_argument("--variant", action="append", required=True, metavar="SPEC",
                        help="bf16|fp16|fp32|fp64 or NAME=INSTRUCTION (e.g. 'lr3e-4=set the learning rate to 3e-4')")  # fmt: skip
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--timeout", type=float, default=None)
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--format", choices=["text", "json"], default="text")
    parser.set_defaults(func=ab_command)


def parse_variant(text: str) -> dict[str, Any]:
    """``bf16`` -> a precision arm; ``NAME=INSTRUCTION`` -> an edit arm."""
    if text.lower() in PRECISIONS:
        return {"name": text.lower(), "precision": PRECISIONS[text.lower()]}
    name, sep, instruction = text.partition("=")
    if not sep or not name.strip() or not instruction.strip():
        raise UsageError(f"--variant {text!r}: use bf16|fp16|fp32|fp64 or NAME=INSTRUCTION")
    return {"name": name.strip(), "instruction": instruction.strip()}


def ab_command(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from core.settings import get_settings
    from sandbox.cli import read_project
    from sandbox.experiments import ExperimentStore
    from tools.abtest import ABRequest, run_ab
    from tools.abtest.render import render_text
    from tools.fixrun.loop import store_runner

    files = read_project(Path(args.path))
    variants = [{"name": "baseline"}] + [parse_variant(v) for v in args.variant]
    try:
        request = ABRequest(
            files=files,
            variants=variants,  # type: ignore[arg-type]
            repeats=args.repeats,
            steps=args.steps,
            timeout_s=args.timeout,
            device=args.device,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise UsageError(
            f"invalid A/B run: {'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
        ) from None
    settings = get_settings()
    sys.stderr.write(f"{len(variants)} arms x {request.repeats} repeats, interleaved\n")
    with ExperimentStore(settings.experiments_db) as store:
        report = run_ab(request, settings, store_runner(settings, store))
    print(report.model_dump_json(indent=2) if args.format == "json" else render_text(report))
    ok = all(r.status == "succeeded" for v in report.variants for r in v.runs) and not any(
        v.error for v in report.variants
    )
    return 0 if ok else 1
