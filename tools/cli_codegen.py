"""``mlagent recommend`` and ``mlagent generate``: the CLI faces of tools.recommend and tools.codegen.

Heavy imports stay inside the command functions so ``mlagent --help`` and other subcommands start fast.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from agent.errors import UsageError

_CONSTRAINT_KEYS = (
    "dataset_size",
    "num_classes",
    "latency_ms",
    "device",
    "image_size",
    "imbalanced",
    "pretrained_available",
    "commercial",
)


def _parse_constraint(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    key = key.strip().replace("-", "_")
    if not sep or not value.strip():
        raise UsageError(f"--constraint expects KEY=VALUE, got {text!r}")
    if key not in _CONSTRAINT_KEYS:
        raise UsageError(f"unknown constraint {key!r}; allowed: {', '.join(_CONSTRAINT_KEYS)}")
    return key, value.strip()


def _first_error(error: Any) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ())) or "request"
    return f"{where}: {str(first.get('msg', 'invalid')).removeprefix('Value error, ')}"


def cmd_recommend(args: argparse.Namespace) -> int:
    """Print recommendations as Markdown text or JSON; exit 1 when no task could be recognised."""
    from pydantic import ValidationError

    from knowledge import load_knowledge
    from tools.recommend import RecommendRequest, recommend, render_recommendation

    if (args.question is None) == (args.task is None):
        raise UsageError("give either a QUESTION or --task T (with optional --constraint k=v)")
    if args.question is not None and args.constraint:
        raise UsageError("--constraint goes with --task; a QUESTION is parsed for its own constraints")
    constraints = dict(_parse_constraint(item) for item in args.constraint or [])
    try:
        request = RecommendRequest(
            question=args.question,
            task=args.task,
            constraints=constraints if args.task is not None else None,
            top_k=args.top,
        )
    except ValidationError as error:
        raise UsageError(f"invalid recommendation request: {_first_error(error)}") from None
    if request.task is not None and load_knowledge().task(request.task) is None:
        raise UsageError(
            f"unknown task {request.task!r}; supported tasks: {', '.join(load_knowledge().task_names())}"
        )
    result = recommend(request)
    if args.format == "json":
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
    else:
        sys.stdout.write(render_recommendation(result))
    return 1 if result.unknown_task else 0


def add_parser(subparsers: Any) -> None:
    """Register ``recommend`` (and ``generate``) on the main ``mlagent`` parser."""
    rec = subparsers.add_parser(
        "recommend",
        help="architecture recommendations for a CV task",
        description="Rank architectures for a free-text QUESTION or for --task with --constraint KEY=VALUE "
        f"(keys: {', '.join(_CONSTRAINT_KEYS)}).",
    )
    rec.add_argument("question", nargs="?", help='e.g. "detect 5 defect types on a Jetson in real time"')
    rec.add_argument("--task", help="classification, detection, segmentation, instance_segmentation, ...")
    rec.add_argument(
        "--constraint", action="append", metavar="KEY=VALUE", help="repeatable, e.g. device=edge"
    )
    rec.add_argument("--top", type=int, default=3, help="number of recommendations (1-10)")
    rec.add_argument("--format", choices=("text", "json"), default="text")
    rec.set_defaults(func=cmd_recommend)
