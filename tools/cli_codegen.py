"""``mlagent recommend`` and ``mlagent generate``: the CLI faces of tools.recommend and tools.codegen.

Heavy imports stay inside the command functions so ``mlagent --help`` and other subcommands start fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from core.errors import UsageError

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
    from tools.recommend import Constraints, RecommendRequest, recommend, render_recommendation

    if (args.question is None) == (args.task is None):
        raise UsageError("give either a QUESTION or --task T (with optional --constraint k=v)")
    if args.question is not None and args.constraint:
        raise UsageError("--constraint goes with --task; a QUESTION is parsed for its own constraints")
    constraints = dict(_parse_constraint(item) for item in args.constraint or [])
    try:
        request = RecommendRequest(
            question=args.question,
            task=args.task,
            constraints=Constraints.model_validate(constraints) if args.task is not None else None,
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


def _load_spec_file(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"cannot read spec file {path}: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise UsageError(f"spec file {path} is not valid YAML/JSON: {str(error).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise UsageError(f"spec file {path} must hold a mapping of GenerateSpec fields")
    return data


def cmd_generate(args: argparse.Namespace) -> int:
    """Write a generated project to --out; exit 1 when its own review reports failures."""
    from pydantic import ValidationError

    from tools.codegen import GenerateSpec, generate, write_project

    if args.list:
        return _print_listing(args.task, args.format)
    if args.out is None:
        raise UsageError("--out DIR is required (or use --list to see what can be generated)")
    fields: dict[str, Any] = _load_spec_file(args.spec) if args.spec else {}
    flags = {
        "task": args.task,
        "architecture": args.architecture,
        "backbone": args.backbone,
        "num_classes": args.num_classes,
        "image_size": args.image_size,
        "package": args.package,
        "project_name": args.name,
        "max_epochs": args.max_epochs,
    }
    fields.update({key: value for key, value in flags.items() if value is not None})
    if args.pretrained:
        fields["pretrained"] = True
    if args.coco_pretrained:
        fields["coco_pretrained"] = True
    if args.no_review:
        fields["review"] = False
    required = ("task",) if fields.get("task") == "regression" else ("task", "num_classes")
    missing = [name for name in required if name not in fields]
    if "backbone" not in fields and "architecture" not in fields:
        missing.insert(1, "backbone")  # one of the two says what to build
    if missing:
        raise UsageError(
            f"missing {', '.join('--' + m.replace('_', '-') for m in missing)} (or give --spec FILE; "
            "`mlagent generate --list` shows the architectures and backbones)"
        )
    try:
        spec = GenerateSpec.model_validate(fields)
    except ValidationError as error:
        raise UsageError(f"invalid spec: {_first_error(error)}") from None
    try:
        result = generate(spec)
        written = write_project(result.files, args.out, force=args.force)
    except (FileExistsError, ValueError) as error:
        raise UsageError(str(error)) from None
    failed = [
        item["id"] for item in (result.review or {}).get("checklist", []) if item.get("status") == "fail"
    ]
    if args.format == "json":
        payload = {
            "out": str(args.out),
            "files": sorted(result.files),
            "review": result.review,
            "notes": result.notes,
        }
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    else:
        sys.stdout.write(f"wrote {len(written)} files to {args.out}\n")
        for note in result.notes:
            sys.stdout.write(f"- {note}\n")
        if result.review is not None:
            summary = result.review.get("summary", {})
            sys.stdout.write(
                f"review: score {summary.get('score')}, failed items: {', '.join(failed) or 'none'}\n"
            )
    return 1 if failed else 0


def _print_listing(task: str | None, output: str) -> int:
    """``generate --list``: every task x architecture x backbone with what it needs (from the registry)."""
    from knowledge import load_knowledge
    from tools.codegen.architectures import listing

    if task is not None:
        resolved = load_knowledge().task(task)
        task = resolved.id if resolved is not None else task
    rows = [row for row in listing() if task is None or row["task"] == task]
    if not rows:
        raise UsageError(f"no generatable architectures for task {task!r}")
    if output == "json":
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return 0
    columns = ("task", "architecture", "backbone", "image_size", "weights", "dependency")
    widths = {c: max(len(c), *(len(row[c]) for row in rows)) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns).rstrip()]
    lines += ["  ".join(row[c].ljust(widths[c]) for c in columns).rstrip() for row in rows]
    aliases = {(row["task"], row["architecture"]): row["aliases"] for row in rows if row["aliases"]}
    lines += ["", "aliases (also accepted as --architecture, or as --backbone for the torchvision builders):"]
    lines += [f"  {task_}/{arch}: {names}" for (task_, arch), names in aliases.items()]
    lines += [
        "",
        "image_size: what --image-size accepts (xN: a multiple of N). weights: what model.pretrained (imagenet) "
        "and --coco-pretrained (coco) can load; the generator never downloads anything.",
    ]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


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

    gen = subparsers.add_parser(
        "generate",
        help="write a PyTorch Lightning project for a CV task",
        description="Generate config/model/data/train/export modules, README and smoke tests. Flags override "
        "the fields of --spec (YAML or JSON with GenerateSpec fields).",
    )
    gen.add_argument("--spec", type=Path, help="YAML/JSON file with GenerateSpec fields")
    gen.add_argument("--list", action="store_true", help="show task x architecture x backbone and exit")
    gen.add_argument(
        "--task",
        help="classification | segmentation | detection | multi_label | regression | instance_segmentation",
    )
    gen.add_argument(
        "--architecture",
        help="e.g. faster-rcnn, retinanet, fcos, ssdlite, deeplabv3, lraspp, fcn, unet, mask-rcnn",
    )
    gen.add_argument("--backbone", help="torchvision backbone, e.g. resnet18 (default: the architecture's)")
    gen.add_argument(
        "--num-classes",
        type=int,
        help="detection/instance_segmentation: object classes without background; multi_label: labels; "
        "regression: outputs (default 1)",
    )
    gen.add_argument("--image-size", type=int)
    gen.add_argument("--package", choices=("lightning", "pytorch_lightning"))
    gen.add_argument("--name", help="project name (a-z, 0-9, '-', '_')")
    gen.add_argument("--max-epochs", type=int)
    gen.add_argument("--pretrained", action="store_true", help="default the config to ImageNet weights")
    gen.add_argument(
        "--coco-pretrained",
        action="store_true",
        help="default the config to torchvision's COCO weights of the whole model (where they exist)",
    )
    gen.add_argument("--no-review", action="store_true", help="skip the static review of the generated files")
    gen.add_argument(
        "--out", type=Path, help="directory to write (must be empty unless --force); required unless --list"
    )
    gen.add_argument("--force", action="store_true", help="overwrite files in a non-empty --out")
    gen.add_argument("--format", choices=("text", "json"), default="text")
    gen.set_defaults(func=cmd_generate)
