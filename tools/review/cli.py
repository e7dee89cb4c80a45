"""``mlagent review PATH...`` and ``mlagent explain CODE`` (wired into the lead's ``agent.cli``).

Exit codes: 0 clean, 1 findings, 2 usage errors or unreadable input (raised as ``UsageError``).
"""

from __future__ import annotations

import argparse
import gc
import sys
from pathlib import Path

from core.errors import UsageError

FORMATS = ("text", "json", "sarif", "github", "markdown")


def _ids(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Adds the ``review`` and ``explain`` subcommands."""
    review = subparsers.add_parser(
        "review",
        help="static review of PyTorch/Lightning code against the 14-item checklist",
        description="Review files or directories (a directory is one project: Python files plus YAML configs).",
    )
    review.add_argument("paths", nargs="+", metavar="PATH", help="files or directories to review")
    review.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    review.add_argument("--fix", action="store_true", help="apply safe fixes to the files in place")
    review.add_argument(
        "--diff", action="store_true", help="print the fixes as a unified diff, change nothing"
    )
    review.add_argument(
        "--select", type=_ids, default=None, help="comma-separated rule codes/prefixes/names/items"
    )
    review.add_argument(
        "--ignore", type=_ids, default=None, help="comma-separated rules to skip (same forms)"
    )
    review.set_defaults(func=run_review)

    explain = subparsers.add_parser("explain", help="print the documentation of a review rule (e.g. MLR006)")
    explain.add_argument("code", help="rule code (MLR006), rule name or checklist id")
    explain.set_defaults(func=run_explain)


def run_review(args: argparse.Namespace) -> int:
    """The ``review`` command, with the cyclic garbage collector paused while it runs.

    Why: parsing builds hundreds of thousands of LibCST nodes and none of them is cyclic garbage, yet each
    allocation burst triggers collections that re-scan the growing heap (~0.05-0.1 s of a cold 3,000-line
    review). The collector is restored afterwards for callers that run this in-process (tests).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _run_review(args)
    finally:
        if was_enabled:
            gc.enable()


def _run_review(args: argparse.Namespace) -> int:
    from tools.review.engine import review_files, validate_rule_tokens
    from tools.review.paths import UnreadableInput, collect, load_config
    from tools.review.render import render

    unknown = validate_rule_tokens([*(args.select or []), *(args.ignore or [])])
    if unknown:
        raise UsageError(f"unknown rule selector(s): {', '.join(unknown)} (see `mlagent explain`)")
    paths = [Path(p) for p in args.paths]
    try:
        collected = collect(paths)
        config = load_config(paths)
    except UnreadableInput as exc:
        raise UsageError(str(exc)) from None
    if not collected.files and not collected.problems:
        raise UsageError("no Python or YAML files to review in " + ", ".join(args.paths))
    want_fix = bool(args.fix or args.diff)
    report = review_files(
        collected.files, select=args.select, ignore=args.ignore, fix=want_fix, config=config
    )
    if collected.problems:
        report.findings = sorted(
            [*collected.problems, *report.findings], key=lambda f: (f.path, f.line, f.rule)
        )
        report.summary.errors += len(collected.problems)
    if args.diff:
        sys.stdout.write(report.diff or "")
    if args.fix and report.fixed_files:
        for rel, text in report.fixed_files.items():
            target = collected.absolute.get(rel)
            if target is not None:
                target.write_text(text, encoding="utf-8")
    if not args.diff or args.format != "text":
        sys.stdout.write(render(report, args.format))
    # After --fix, what counts is what is left in the files (ruff's convention); --diff changes nothing.
    return 1 if (report.current if args.fix else report).findings else 0


def explain_text(code: str) -> str:
    """A rule's documentation: summary, rationale, the checklist item, fix advice and its examples."""
    from tools.review.checklist import TITLES
    from tools.review.rules import all_rules

    token = code.strip()
    matches = [r for r in all_rules() if token.upper() == r.code or token.lower() in {r.name, r.checklist}]
    if not matches:
        raise UsageError(
            f"unknown rule {code!r}; rules are MLR001..MLR014 and MLR1xx/MLR3xx (see docs/review-rules.md)"
        )
    parts = []
    for rule in matches:
        doc = rule.doc()
        lines = [
            f"{rule.code} {rule.name}  [{rule.severity}{', fixable' if rule.fixable else ''}]",
            (
                f"Checklist item: {rule.checklist} — {TITLES.get(rule.checklist, '')}"
                if rule.checklist
                else "Checklist item: none (a finding outside the 14 items; it sets no checklist status)"
            ),
            "",
            doc,
            "",
            f"Fix: {rule.suggestion}",
        ]
        for title, examples in (("Flagged", rule.INVALID), ("Accepted", rule.VALID)):
            for ex in examples[:2]:
                text = ex if isinstance(ex, str) else "\n".join(f"# {p}\n{t}" for p, t in ex.items())
                lines += ["", f"{title}:", *("    " + line for line in text.rstrip().splitlines())]
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def run_explain(args: argparse.Namespace) -> int:
    sys.stdout.write(explain_text(args.code))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (``python -m tools.review``), mirroring how ``mlagent`` dispatches."""
    code = _dispatch(argv)
    if argv is None:
        gc.freeze()  # the process exits next: see agent.cli.main
    return code


def _dispatch(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="mlagent")
    subparsers = parser.add_subparsers(dest="command", required=True)
    add_parser(subparsers)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except UsageError as exc:
        print(f"mlagent: error: {exc}", file=sys.stderr)
        return 2
