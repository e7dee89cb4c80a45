"""The review pipeline: files -> parse/index (one batched traversal each) -> rules -> findings -> checklist.

Entry points: :func:`review` (the tool function the agent, CLI and HTTP call) and :func:`review_files`.
Nothing here imports torch or Lightning: reviewing must start in well under a second.
"""

from __future__ import annotations

import ast
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import libcst as cst

from tools.review.checklist import CHECKLIST
from tools.review.config import ReviewConfig, config_from_files
from tools.review.fix import apply_fixes, unified_diff
from tools.review.guard import check_source
from tools.review.index import FileIndex, build_index
from tools.review.models import ChecklistItem, Finding, ReviewReport, ReviewRequest, Status, Summary
from tools.review.project import Project, YamlDoc, load_yaml
from tools.review.rules import all_rules
from tools.review.rules.base import Fix, Hit, PrimaryRule, Rule

log = logging.getLogger(__name__)

SNIPPET_PATH = "snippet.py"
PARSE_ERROR = ("MLR000", "parse-error")
# Files that mention none of these cannot contribute to any checklist item; they are not parsed at all.
_PREFILTER = re.compile(
    r"torch|lightning|Lightning|nn\.|sklearn|DataLoader|Dataset|transforms|optim|Trainer|pydantic|BaseModel|"
    r"dataclass|hydra|omegaconf|OmegaConf|\.fit|backward|albumentations|timm|seed|onnx|wandb|mlflow|softmax|"
    r"loss|config|cfg|import|params",
    re.IGNORECASE,
)
_SUPPRESS = re.compile(r"#\s*mlagent:\s*ignore(-file)?(?:\[([^\]]*)\])?", re.IGNORECASE)


@dataclass
class _Parsed:
    path: str
    source: str
    index: FileIndex | None
    error: Finding | None = None


@dataclass
class Analysis:
    """Everything one review pass produced (before rendering)."""

    project: Project
    findings: list[Finding]
    fixes: dict[str, list[Fix]]
    parsed: dict[str, _Parsed]
    rules: list[Rule]
    yaml_errors: list[Finding] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds per phase: 'parse+index' (one batched traversal per file), 'yaml', then one entry per rule."""
    hidden: dict[str, set[str]] = field(default_factory=dict)
    """Checklist id -> codes of rules whose findings were suppressed inline or ignored by configuration."""


def _strict() -> bool:
    from core.settings import get_settings

    return get_settings().review_strict


# ------------------------------------------------------------------------------------------ parsing ---
def parse_error_finding(
    path: str, source: str, exc: Exception | None = None, message: str | None = None
) -> Finding:
    """A finding for a file that cannot be parsed; the position comes from CPython's parser when possible."""
    line, col = 1, 1
    text = message
    try:
        ast.parse(source, filename=path)
    except SyntaxError as err:
        line, col = err.lineno or 1, err.offset or 1
        text = text or f"syntax error: {err.msg}"
    except (ValueError, RecursionError, MemoryError) as err:
        text = text or f"cannot parse: {err}"
    else:
        if isinstance(exc, cst.ParserSyntaxError):
            line, col = exc.raw_line, exc.raw_column + 1
            text = text or f"syntax error: {exc.message}"
    return Finding(
        rule=PARSE_ERROR[0],
        name=PARSE_ERROR[1],
        checklist=None,
        severity="error",
        path=path,
        line=max(1, line),
        column=max(1, col),
        end_line=max(1, line),
        end_column=max(1, col),
        message=text or "cannot parse this file",
        suggestion="Fix the syntax error; the rest of the project was reviewed without this file.",
        fixable=False,
    )


def _parse(path: str, source: str, rules: Sequence[Rule]) -> _Parsed:
    if "\x00" in source:
        return _Parsed(
            path, source, None, parse_error_finding(path, "", message="binary file, not Python source")
        )
    # CPython parses first (bounded, milliseconds): LibCST never sees a text that could overflow its stack.
    checked = check_source(source, path)
    if checked.refusal is not None:
        return _Parsed(path, source, None, parse_error_finding(path, "", message=checked.refusal))
    if not _PREFILTER.search(source):
        # Nothing for any rule here: skip LibCST, but still report a syntax error.
        if checked.tree is None:
            return _Parsed(path, source, None, parse_error_finding(path, source))
        return _Parsed(path, source, None)
    try:
        module = cst.parse_module(source)
    except (cst.ParserSyntaxError, RecursionError, ValueError) as exc:
        return _Parsed(path, source, None, parse_error_finding(path, source, exc))
    index = FileIndex(path, source, module)
    visitors = [v for r in rules if (v := r.visitor(index)) is not None]
    try:
        index = build_index(path, source, module, visitors, checked.tree)
    except RecursionError:
        return _Parsed(path, source, None, parse_error_finding(path, source, message="file nests too deeply"))
    return _Parsed(path, source, index)


# --------------------------------------------------------------------------------------- selection ---
def _matches(rule: Rule, token: str) -> bool:
    token = token.strip()
    if not token:
        return False
    upper = token.upper()
    return (
        upper == "ALL"
        or rule.code == upper
        or (upper.startswith("MLR") and rule.code.startswith(upper))
        or token.lower() in {rule.name, rule.checklist}
    )


def select_rules(select: Sequence[str] | None, ignore: Sequence[str] | None) -> list[Rule]:
    """Rules chosen by ``select`` (default: all) minus ``ignore``: codes, code prefixes, names, checklist ids."""
    rules = list(all_rules())
    if select:
        rules = [r for r in rules if any(_matches(r, t) for t in select)]
    if ignore:
        rules = [r for r in rules if not any(_matches(r, t) for t in ignore)]
    return rules


def validate_rule_tokens(tokens: Sequence[str]) -> list[str]:
    """Tokens that match no rule at all (for clear usage errors)."""
    return [t for t in tokens if t.strip() and not any(_matches(r, t) for r in all_rules())]


# ------------------------------------------------------------------------------------------ running ---
ALL_CODES = frozenset({"*"})


@dataclass
class _Suppressions:
    """``# mlagent: ignore[...]`` comments of one file, read once: file-wide codes and codes per line."""

    file_codes: frozenset[str] = frozenset()
    line_codes: dict[int, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, source: str) -> _Suppressions:
        if "mlagent" not in source:
            return cls()
        file_codes: set[str] = set()
        line_codes: dict[int, frozenset[str]] = {}
        for number, line in enumerate(source.splitlines(), 1):
            m = _SUPPRESS.search(line)
            if m is None:
                continue
            codes = (
                ALL_CODES
                if m.group(2) is None
                else frozenset(c.strip().upper() for c in m.group(2).split(","))
            )
            if m.group(1):
                file_codes |= codes
            else:
                line_codes[number] = codes
        return cls(frozenset(file_codes), line_codes)

    def hides(self, finding: Finding) -> bool:
        if "*" in self.file_codes or finding.rule in self.file_codes:
            return True
        for number in (finding.line, finding.end_line):
            codes = self.line_codes.get(number)
            if codes is not None and ("*" in codes or finding.rule in codes):
                return True
        return False


def _finding(rule: Rule, hit: Hit) -> Finding:
    return Finding(
        rule=rule.code,
        name=rule.name,
        checklist=rule.checklist or None,
        severity=hit.severity or rule.severity,
        path=hit.path,
        line=max(1, hit.line),
        column=max(1, hit.column),
        end_line=max(1, hit.end_line or hit.line),
        end_column=max(1, hit.end_column or hit.column),
        message=hit.message or rule.message,
        suggestion=hit.suggestion or rule.suggestion,
        fixable=hit.fix is not None,
    )


def analyze(
    files: dict[str, str], rules: Sequence[Rule], config: ReviewConfig, snippet: bool = False
) -> Analysis:
    """Parse, index and run ``rules`` over one project."""
    parsed: dict[str, _Parsed] = {}
    yamls: list[YamlDoc] = []
    yaml_errors: list[Finding] = []
    timings = {"parse+index": 0.0, "yaml": 0.0}
    for path, text in files.items():
        suffix = PurePosixPath(path).suffix.lower()
        start = time.perf_counter()
        if suffix in {".py", ".pyi"} or (snippet and suffix == ""):
            parsed[path] = _parse(path, text, rules)
            timings["parse+index"] += time.perf_counter() - start
        elif suffix in {".yaml", ".yml"}:
            doc = load_yaml(path, text)
            if doc.error:
                yaml_errors.append(parse_error_finding(path, "", message=f"invalid YAML: {doc.error}"))
            yamls.append(doc)
            timings["yaml"] += time.perf_counter() - start
    indexes = [p.index for p in parsed.values() if p.index is not None]
    project = Project(indexes, yamls, snippet=snippet)
    findings = [p.error for p in parsed.values() if p.error is not None] + yaml_errors
    fixes: dict[str, list[Fix]] = {}
    hidden_rules: dict[str, set[str]] = {}
    suppressions: dict[str, _Suppressions] = {}
    for rule in rules:
        start = time.perf_counter()
        try:
            hits = list(rule.check(project))
        except Exception:
            log.exception("review rule %s crashed; its findings are skipped", rule.code)
            if _strict():
                raise
            continue
        finally:
            timings[rule.code] = time.perf_counter() - start
        seen: set[tuple[str, int, int, str]] = set()
        for hit in hits:
            finding = _finding(rule, hit)
            key = (finding.path, finding.line, finding.column, finding.message)
            if key in seen:
                continue
            seen.add(key)
            file = parsed.get(finding.path)
            if file is not None and file.path not in suppressions:
                suppressions[file.path] = _Suppressions.of(file.source)
            hidden = file is not None and suppressions[file.path].hides(finding)
            if hidden or config.ignored(finding.path, rule):
                hidden_rules.setdefault(str(finding.checklist), set()).add(rule.code)
                continue
            findings.append(finding)
            if hit.fix is not None:
                fixes.setdefault(hit.fix.path, []).append(hit.fix)
    findings.sort(key=lambda f: (f.path, f.line, f.column, f.rule))
    return Analysis(project, findings, fixes, parsed, list(rules), yaml_errors, timings, hidden_rules)


# ---------------------------------------------------------------------------------------- checklist ---
def _fmt_finding(f: Finding) -> str:
    return f"{f.rule} at {f.path}:{f.line}: {f.message}"


def build_checklist(analysis: Analysis) -> list[ChecklistItem]:
    items: list[ChecklistItem] = []
    active = {r.code for r in analysis.rules}
    primaries = {r.checklist: r for r in all_rules() if isinstance(r, PrimaryRule)}
    for item_id, title in CHECKLIST:
        failing = [f for f in analysis.findings if f.checklist == item_id and f.severity != "info"]
        item_rules = [r for r in all_rules() if r.checklist == item_id]
        if failing:
            codes = sorted({f.rule for f in failing})
            shown = "; ".join(_fmt_finding(f) for f in failing[:3])
            more = f" (+{len(failing) - 3} more)" if len(failing) > 3 else ""
            items.append(
                ChecklistItem(id=item_id, title=title, status="fail", evidence=shown + more, findings=codes)
            )
            continue
        if not any(r.code in active for r in item_rules):
            items.append(
                ChecklistItem(
                    id=item_id,
                    title=title,
                    status="unknown",
                    evidence="not checked: all rules of this item were deselected",
                )
            )
            continue
        primary = primaries.get(item_id)
        status: Status
        evidence: str
        if not analysis.project.files and not analysis.project.yamls:
            status, evidence = "not_applicable", "no reviewable Python files"
        elif primary is None:
            status, evidence = "unknown", "no rule judges this item"  # pragma: no cover - every item has one
        else:
            try:
                status, evidence = primary.judge(analysis.project)
            except Exception:
                log.exception("judging %s crashed", item_id)
                if _strict():
                    raise
                status, evidence = "unknown", "the reviewer could not judge this item"
        if status == "fail":  # a fail must point at a finding; without one left, say why it is not shown
            status, evidence = "unknown", _downgraded(item_id, evidence, analysis, item_rules, active)
        unparsed = [f.path for f in analysis.findings if f.rule == PARSE_ERROR[0]]
        if status == "not_applicable" and unparsed:
            status, evidence = "unknown", f"{', '.join(unparsed[:3])} could not be parsed"
        items.append(ChecklistItem(id=item_id, title=title, status=status, evidence=evidence))
    return items


def _downgraded(
    item_id: str, evidence: str, analysis: Analysis, item_rules: Sequence[Rule], active: set[str]
) -> str:
    """Evidence for a judge's ``fail`` that no warning or error finding of the item backs (logged too).

    The usual causes are the user's own choices: findings suppressed inline or ignored by configuration,
    some of the item's rules deselected, or only info-level findings left. Anything else means a rule and its
    judge disagree (an engine bug), which strict mode (``MLAGENT_REVIEW_STRICT=1``, the tests) turns into an
    error.
    """
    reasons = []
    if hidden := sorted(analysis.hidden.get(item_id, ())):
        reasons.append(f"its findings ({', '.join(hidden)}) are suppressed or ignored by configuration")
    if off := sorted(r.code for r in item_rules if r.code not in active):
        reasons.append(f"rules {', '.join(off)} were deselected")
    info = sorted({f.rule for f in analysis.findings if f.checklist == item_id and f.severity == "info"})
    if info:
        reasons.append(f"only info-level findings ({', '.join(info)}) remain")
    why = "; ".join(reasons)
    if why:
        log.warning("checklist item %s: judged fail (%s) but %s; reported as unknown", item_id, evidence, why)
    else:
        log.error(
            "checklist item %s: judged fail without a finding (rule and judge disagree): %s",
            item_id,
            evidence,
        )
        if _strict():
            raise AssertionError(f"checklist item {item_id}: judged fail without a finding: {evidence}")
        why = "no finding of this item points at it (the reviewer's rule and judge disagree)"
    return f"downgraded from fail: the judge found {evidence!r}, but {why}"


def score(items: Sequence[ChecklistItem]) -> float | None:
    """Share of decided items (pass or fail) that pass, in percent; None when nothing could be decided.

    None, not 100: an unparseable file or a file with nothing the checklist is about has earned no score.
    """
    passed = sum(1 for i in items if i.status == "pass")
    failed = sum(1 for i in items if i.status == "fail")
    return round(100.0 * passed / (passed + failed), 1) if passed + failed else None


def _report(analysis: Analysis, n_files: int) -> ReviewReport:
    items = build_checklist(analysis)
    findings = analysis.findings
    return ReviewReport(
        checklist=items,
        findings=findings,
        summary=Summary(
            files=n_files,
            errors=sum(1 for f in findings if f.severity == "error"),
            warnings=sum(1 for f in findings if f.severity == "warning"),
            infos=sum(1 for f in findings if f.severity == "info"),
            score=score(items),
        ),
    )


def fix_files(
    files: dict[str, str],
    rules: Sequence[Rule],
    config: ReviewConfig,
    snippet: bool,
    rounds: int = 3,
    first: Analysis | None = None,
) -> dict[str, str]:
    """Apply safe fixes until nothing fixable remains (fixes can enable others, e.g. prefixes then monitors).

    ``first`` is the analysis of ``files`` when the caller has it already (it is not computed twice).
    """
    current = dict(files)
    for round_ in range(rounds):
        analysis = first if round_ == 0 and first is not None else analyze(current, rules, config, snippet)
        changed = False
        for path, fixes in analysis.fixes.items():
            parsed = analysis.parsed.get(path)
            if parsed is None or parsed.index is None:
                continue
            new = apply_fixes(parsed.source, parsed.index.module, fixes)
            if new != current[path]:
                current[path] = new
                changed = True
        if not changed:
            break
    return current


def review_files(
    files: dict[str, str],
    *,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
    fix: bool = False,
    snippet: bool = False,
    config: ReviewConfig | None = None,
) -> ReviewReport:
    """Review a project given as path -> text (Python, YAML configs and an optional pyproject.toml)."""
    config = config or config_from_files(files)
    rules = select_rules(select if select is not None else config.select, [*(ignore or []), *config.ignore])
    reviewed = {p: t for p, t in files.items() if not p.endswith("pyproject.toml")}
    n_files = sum(1 for p in reviewed if p.endswith((".py", ".pyi", ".yaml", ".yml")) or snippet)
    first = analyze(reviewed, rules, config, snippet)
    report = _report(first, n_files)
    if not fix:
        return report
    fixed = fix_files(reviewed, rules, config, snippet, first=first)
    changed = {p: t for p, t in fixed.items() if t != reviewed[p]}
    after = (
        _report(analyze(fixed, rules, config, snippet), n_files) if changed else report.model_copy(deep=True)
    )
    mark_fixed(report.findings, after.findings)
    report.fixed_files = changed
    report.diff = "".join(unified_diff(p, reviewed[p], t) for p, t in sorted(changed.items()))
    report.after = after
    return report


def mark_fixed(before: list[Finding], after: Sequence[Finding]) -> None:
    """Set ``fixed`` on each original finding: False when the fixed code still has it, True when it is gone.

    Fixes move lines and may rewrite the code a message quotes, so a finding is matched by rule and file: the
    exact message first, then any leftover of the same rule and file (unfixable findings are kept first).
    """
    left: dict[tuple[str, str], list[str]] = {}
    for f in after:
        left.setdefault((f.rule, f.path), []).append(f.message)
    unmatched: list[Finding] = []
    for f in before:
        messages = left.get((f.rule, f.path), [])
        if f.message in messages:
            messages.remove(f.message)
            f.fixed = False
        else:
            unmatched.append(f)
    for f in sorted(unmatched, key=lambda f: f.fixable):
        messages = left.get((f.rule, f.path), [])
        f.fixed = not messages
        if messages:
            messages.pop()


def review(request: ReviewRequest) -> ReviewReport:
    """The review tool: the same function behind the agent, the CLI and ``POST /v1/review``.

    ``{"code": text}`` is exactly ``{"files": {"snippet.py": text}}``: one code path, so a snippet gets the
    same findings as the same text reviewed from a file by the CLI or pasted in chat (issue 11 saw 16 vs 17
    when snippets skipped a rule).
    """
    files = {SNIPPET_PATH: request.code} if request.code is not None else dict(request.files or {})
    return review_files(files, select=request.select, ignore=request.ignore, fix=request.fix)
