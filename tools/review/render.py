"""Renders one report in the five formats: text, json, sarif, github, markdown (all from the same findings)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from tools.review.models import ChecklistItem, Finding, OutputFormat, ReviewReport

STATUS_ICON = {"pass": "✅ pass", "fail": "❌ fail", "unknown": "❔ unknown", "not_applicable": "⚪ n/a"}
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL_URI = "https://github.com/ml-engineer-agent/ml-engineer-agent/blob/main/docs/review-rules.md"


def render(report: ReviewReport, format: OutputFormat | str = "json") -> str:
    """The report as text for people, CI or machines."""
    renderers: dict[str, Callable[[ReviewReport], str]] = {
        "json": render_json,
        "text": render_text,
        "sarif": render_sarif,
        "github": render_github,
        "markdown": render_markdown,
    }
    try:
        return renderers[format](report)
    except KeyError:
        raise ValueError(f"unknown format {format!r}; use one of {', '.join(renderers)}") from None


def no_score_reason(report: ReviewReport) -> str:
    """Why a report has no score (``summary.score`` is null): what kept every checklist item undecided."""
    parse = sorted({f.path for f in report.findings if f.rule == "MLR000"})
    if parse and len(parse) >= report.summary.files:
        return "no file could be parsed"
    if parse:
        return f"nothing could be judged ({', '.join(parse[:3])} could not be parsed)"
    if all(i.status == "not_applicable" for i in report.checklist):
        return "none of the checklist items applies to this code"
    return "every applicable checklist item depends on code or configs that were not given"


def score_text(report: ReviewReport, digits: int = 1) -> str:
    """``score 85.0/100``, or ``no score: <reason>`` when nothing could be judged."""
    value = report.summary.score
    if value is None:
        return f"no score: {no_score_reason(report)}"
    return f"score {value:.{digits}f}/100"


def render_json(report: ReviewReport) -> str:
    return json.dumps(report.contract(), indent=2, ensure_ascii=False)


# ------------------------------------------------------------------------------------------------ text ---
def render_text(report: ReviewReport) -> str:
    """``path:line:col: MLR006 [*] message`` lines (1-based, ruff style), then a one-line summary.

    After fixes the lines are what remains in the fixed code (what is on disk after ``--fix``), and the summary
    says how many of the original problems were fixed.
    """
    original = report
    report = report.current
    lines = []
    for f in report.findings:
        mark = " [*]" if f.fixable else ""
        lines.append(f"{f.path}:{f.line}:{f.column}: {f.rule}{mark} {f.message}")
    counts = {s: sum(1 for i in report.checklist if i.status == s) for s in STATUS_ICON}
    fixable = sum(1 for f in report.findings if f.fixable)
    total = len(report.findings)
    if original.after is not None:
        found = len(original.findings)
        n_fixed = sum(1 for f in original.findings if f.fixed)
        lines.append(
            f"Found {found} problem{'s' if found != 1 else ''} ({n_fixed} fixed, {total} remaining)."
        )
    elif total:
        lines.append(
            f"Found {total} problem{'s' if total != 1 else ''}"
            + (f" ({fixable} fixable with --fix)" if fixable else "")
            + "."
        )
    else:
        lines.append("No problems found.")
    before = f" (before fixes: {score_text(original)})" if original.after is not None else ""
    lines.append(
        f"Checklist: {counts['pass']} pass, {counts['fail']} fail, {counts['unknown']} unknown, "
        f"{counts['not_applicable']} n/a; {score_text(report)}{before}."
    )
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------- github ---
def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(report: ReviewReport) -> str:
    """GitHub Actions workflow commands (``::warning file=...,line=...::message``), one per finding.

    After fixes, the annotations are the findings left in the fixed code (the files CI now holds).
    """
    report = report.current
    level = {"error": "error", "warning": "warning", "info": "notice"}
    out = []
    for f in report.findings:
        props = (
            f"file={_gh_prop(f.path)},line={f.line},col={f.column},endLine={f.end_line},"
            f"endColumn={f.end_column},title={_gh_prop(f'{f.rule} {f.name}')}"
        )
        out.append(f"::{level[f.severity]} {props}::{_gh_data(f.message + '. ' + f.suggestion)}")
    if report.summary.score is None:
        out.append(
            f"::notice title=mlagent review::{_gh_data('Nothing could be judged; ' + score_text(report))}"
        )
    return "\n".join(out) + ("\n" if out else "")


# ----------------------------------------------------------------------------------------------- sarif ---
def _fingerprint(f: Finding) -> str:
    digest = hashlib.sha256(f"{f.rule}|{f.path}|{f.message}".encode()).hexdigest()
    return digest[:32]


def render_sarif(report: ReviewReport) -> str:
    """SARIF 2.1.0 as GitHub code scanning accepts it: rules with help, fingerprints, a region per result.

    After fixes, the results are the findings left in the fixed code; ``properties.fixed`` counts the others.
    """
    original = report
    report = report.current
    from tools.review.rules import all_rules

    rules = list(all_rules())
    rule_index = {r.code: i for i, r in enumerate(rules)}
    descriptors: list[dict[str, Any]] = []
    for r in rules:
        doc = r.doc()
        descriptors.append(
            {
                "id": r.code,
                "name": r.name,
                "shortDescription": {"text": r.message},
                "fullDescription": {
                    "text": doc.split("\n\n", 1)[-1].replace("\n", " ") if doc else r.message
                },
                "help": {
                    "text": f"{doc}\n\nFix: {r.suggestion}",
                    "markdown": f"{doc}\n\n**Fix:** {r.suggestion}",
                },
                "helpUri": f"{TOOL_URI}#{r.code.lower()}",
                "defaultConfiguration": {"level": _sarif_level(r.severity)},
                "properties": {"tags": ["ml", r.checklist or "parse"], "checklist": r.checklist},
            }
        )
    has_parse = any(f.rule == "MLR000" for f in report.findings)
    if has_parse:
        descriptors.append(
            {
                "id": "MLR000",
                "name": "parse-error",
                "shortDescription": {"text": "File cannot be parsed"},
                "fullDescription": {"text": "The file is not valid Python/YAML or not readable text."},
                "help": {"text": "Fix the syntax error.", "markdown": "Fix the syntax error."},
                "defaultConfiguration": {"level": "error"},
            }
        )
        rule_index["MLR000"] = len(descriptors) - 1
    results = []
    for f in report.findings:
        results.append(
            {
                "ruleId": f.rule,
                "ruleIndex": rule_index.get(f.rule, 0),
                "level": _sarif_level(f.severity),
                "message": {"text": f"{f.message}. {f.suggestion}"},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": f.path, "uriBaseId": "%SRCROOT%"},
                            "region": {
                                "startLine": f.line,
                                "startColumn": f.column,
                                "endLine": max(f.end_line, f.line),
                                "endColumn": f.end_column
                                if f.end_line > f.line
                                else max(f.end_column, f.column),
                            },
                        }
                    }
                ],
                "partialFingerprints": {"primaryLocationLineHash": _fingerprint(f)},
                "properties": {"checklist": f.checklist, "fixable": f.fixable},
            }
        )
    sarif = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "mlagent-review",
                        "informationUri": TOOL_URI,
                        "semanticVersion": "0.1.0",
                        "rules": descriptors,
                    }
                },
                "results": results,
                "originalUriBaseIds": {"%SRCROOT%": {"uri": "file:///"}},
                "properties": {
                    "checklist": [i.model_dump() for i in report.checklist],
                    "score": report.summary.score,
                    **(
                        {"fixed": sum(1 for f in original.findings if f.fixed)}
                        if original.after is not None
                        else {}
                    ),
                    **(
                        {"scoreNote": f"Nothing could be judged: {no_score_reason(report)}"}
                        if report.summary.score is None
                        else {}
                    ),
                },
            }
        ],
    }
    return json.dumps(sarif, indent=2)


def _sarif_level(severity: str) -> str:
    return {"error": "error", "warning": "warning", "info": "note"}.get(severity, "warning")


# -------------------------------------------------------------------------------------------- markdown ---
def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _item_findings(report: ReviewReport, item: ChecklistItem) -> list[Finding]:
    return [f for f in report.findings if f.checklist == item.id and f.severity != "info"]


def render_markdown(report: ReviewReport) -> str:
    """The report for people and the agent: failing items with lines and fixes first, then the checklist."""
    s = report.summary
    failing = [i for i in report.checklist if i.status == "fail"]
    n_pass = sum(1 for i in report.checklist if i.status == "pass")
    if s.score is not None:
        out = [f"## Code review — score {s.score:.0f}/100", ""]
    else:
        # No item could be decided (e.g. the only file does not parse): a score would claim too much.
        out = ["## Code review — nothing could be judged", "", f"No score: {no_score_reason(report)}.", ""]
    out.append(
        f"{n_pass} of 14 checklist items pass, {len(failing)} fail; "
        f"{s.errors} error{'s' if s.errors != 1 else ''}, {s.warnings} warning{'s' if s.warnings != 1 else ''} "
        f"in {s.files} file{'s' if s.files != 1 else ''}."
    )
    parse = [f for f in report.findings if f.rule == "MLR000"]
    if parse:
        out += ["", "### Files that could not be reviewed", ""]
        out += [f"- `{f.path}:{f.line}` — {f.message}" for f in parse]
    if failing:
        out += ["", "### What to fix", ""]
        for n, item in enumerate(failing, 1):
            out.append(f"{n}. **{item.title}** (`{item.id}`)")
            for f in _item_findings(report, item)[:6]:
                fixable = (
                    " _(fixed)_" if f.fixed else " _(autofixable)_" if f.fixable and f.fixed is None else ""
                )
                out.append(f"   - `{f.path}:{f.line}` {f.rule}: {f.message}.{fixable}")
                out.append(f"     **Fix:** {f.suggestion}")
    notes = [f for f in report.findings if f.severity == "info"]
    if notes:
        out += ["", "### Notes", ""]
        out += [f"- `{f.path}:{f.line}` {f.rule}: {f.message}. {f.suggestion}" for f in notes[:10]]
    out += ["", "### Checklist", "", "| # | Item | Status | Evidence |", "|---|---|---|---|"]
    for n, item in enumerate(report.checklist, 1):
        out.append(f"| {n} | {_md(item.title)} | {STATUS_ICON[item.status]} | {_md(item.evidence)} |")
    n_fixable = sum(1 for f in report.findings if f.fixable)
    if report.after is not None:
        out += _after_section(report, report.after)
    elif n_fixable:
        out += [
            "",
            f"{n_fixable} finding{'s' if n_fixable != 1 else ''} can be fixed automatically "
            '(`mlagent review --fix`, or `"fix": true` over HTTP).',
        ]
    if report.diff:
        out += ["", "### Applied fixes", "", "```diff", report.diff.rstrip("\n"), "```"]
    return "\n".join(out) + "\n"


def _after_section(report: ReviewReport, after: ReviewReport) -> list[str]:
    """What the fixes changed: fixed and remaining counts, the new score and each item whose status moved."""
    n_fixed = sum(1 for f in report.findings if f.fixed)
    left = len(after.findings)
    out = [
        "",
        "### After the fixes",
        "",
        f"{n_fixed} of {len(report.findings)} finding{'s' if len(report.findings) != 1 else ''} fixed, "
        f"{left} remaining; {score_text(after, 0)} (before the fixes: {score_text(report, 0)}).",
    ]
    before = {i.id: i.status for i in report.checklist}
    moved = [i for i in after.checklist if before.get(i.id) != i.status]
    if moved:
        out.append("")
        out += [f"- **{i.title}**: {STATUS_ICON[before[i.id]]} → {STATUS_ICON[i.status]}" for i in moved]
    remaining = [f for f in after.findings if f.severity != "info"][:6]
    if remaining:
        out += ["", "Still to fix by hand:", ""]
        out += [f"- `{f.path}:{f.line}` {f.rule}: {f.message}." for f in remaining]
    return out
