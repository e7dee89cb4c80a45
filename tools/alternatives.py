""" "Why not X?": the agent's own pick compared with the architecture the user names, from the knowledge base.

A follow-up to a recommendation deserves an answer about *that* recommendation, not a fresh ranking: where X
stands in the same ranking under the same constraints, which scoring terms separate the two, their licences,
and when X would be the better choice. Names are matched loosely ("yolo", "YOLOv8", "segformer-b2", "mask rcnn").
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from knowledge import load_knowledge
from knowledge.models import Architecture, KnowledgeBase
from tools.recommend import Constraints, Recommendation, RecommendRequest, recommend


@dataclass(frozen=True)
class Alternative:
    """The answer: Markdown, and whether the name was found in the knowledge base at all."""

    markdown: str
    found: bool
    task: str | None = None
    architecture: str | None = None


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _keys(arch: Architecture) -> set[str]:
    """Every way a user may write this architecture: id, name, each word of the name, variant names."""
    keys = {_key(arch.id), _key(arch.name), _key(arch.name.split("(")[0])}
    keys |= {_key(variant.name) for variant in arch.variants}
    keys |= {_key(word) for word in re.findall(r"[A-Za-z][\w-]*", arch.name) if len(_key(word)) >= 3}
    return keys - {
        "",
        "and",
        "the",
        "later",
        "still",
        "common",
        "family",
        "own",
        "fine",
        "tuned",
        "real",
        "time",
    }


def find_architecture(
    name: str, kb: KnowledgeBase, prefer_task: str | None = None
) -> tuple[str, Architecture] | None:
    """The (task id, architecture) a loosely written name refers to (the preferred task first), or None."""
    wanted = _key(name)
    if len(wanted) < 2:
        return None
    order = sorted(kb.tasks.items(), key=lambda item: item[0] != prefer_task)
    candidates = [(task_id, arch, _keys(arch)) for task_id, task in order for arch in task.architectures]
    tests = (
        lambda key: key == wanted,
        lambda key: len(key) >= 3 and wanted.startswith(key),  # "yolov8" -> "yolo"
        lambda key: len(wanted) >= 3 and key.startswith(wanted),  # "segform" -> "segformer"
    )
    for test in tests:
        for task_id, arch, keys in candidates:
            if any(test(key) for key in keys):
                return task_id, arch
    every = {key: (task_id, arch) for task_id, arch, keys in reversed(candidates) for key in keys}
    close = difflib.get_close_matches(wanted, list(every), n=1, cutoff=0.8)
    return every[close[0]] if close else None


def _row(rec: Recommendation | None, arch: Architecture) -> list[str]:
    latency = f"{rec.estimated_latency_ms:g} ms" if rec and rec.estimated_latency_ms is not None else "n/a"
    return [
        arch.name,
        f"#{rec.rank} ({rec.score:g})" if rec else "not ranked",
        latency,
        arch.license,
    ]


def explain_alternative(
    task: str, name: str, constraints: Constraints | None = None, kb: KnowledgeBase | None = None
) -> Alternative:
    """Compare the top pick for ``task`` under ``constraints`` with the architecture called ``name``."""
    kb = kb or load_knowledge()
    task_knowledge = kb.task(task)
    if task_knowledge is None:
        return Alternative(
            f"I have no recommendation for a task called {task!r} to compare {name} with.", False
        )
    found = find_architecture(name, kb, task_knowledge.id)
    if found is None:
        options = ", ".join(arch.name for arch in task_knowledge.architectures)
        return Alternative(
            f"**{name}** is not in my knowledge base, so I can't compare it fairly with my pick. For "
            f"{task_knowledge.name.lower()} I know: {options}. If you have measured {name} on your data, its "
            "validation metric at your latency budget is the fair comparison.",
            False,
            task_knowledge.id,
        )
    alt_task, alt = found
    if alt_task != task_knowledge.id:
        other = kb.task(alt_task)
        other_name = other.name.lower() if other else alt_task
        return Alternative(
            f"**{alt.name}** is a model for {other_name}, not for {task_knowledge.name.lower()}: it predicts a "
            "different kind of output, so it was not a candidate here. Ask for a recommendation for "
            f"{other_name} if that is what you need.",
            True,
            alt_task,
            alt.id,
        )
    result = recommend(
        RecommendRequest(task=task_knowledge.id, constraints=constraints or Constraints(), top_k=10), kb
    )
    ranked = {rec.architecture: rec for rec in result.recommendations}
    top = result.recommendations[0] if result.recommendations else None
    if top is None:
        return Alternative("I could not rank anything for this task under these constraints.", True)
    alt_rec = ranked.get(alt.id)
    top_arch = next(a for a in task_knowledge.architectures if a.id == top.architecture)
    if top.architecture == alt.id:
        text = [f"**{alt.name}** is my top pick here already (score {top.score:g})."]
    else:
        text = [f"### {top_arch.name} vs {alt.name} for {task_knowledge.name.lower()}", ""]
        text += ["| | rank (score) | est. latency | licence |", "|---|---|---|---|"]
        text.append("| " + " | ".join(_row(top, top_arch)) + " |")
        text.append("| " + " | ".join(_row(alt_rec, alt)) + " |")
        text.append("")
        if alt_rec is not None:
            mine = {term.factor: term for term in top.score_breakdown}
            theirs = {term.factor: term for term in alt_rec.score_breakdown}
            diffs = []
            for factor in dict.fromkeys([*mine, *theirs]):
                a, b = mine.get(factor), theirs.get(factor)
                delta = (a.points if a else 0.0) - (b.points if b else 0.0)
                if abs(delta) >= 0.25:
                    diffs.append((delta, factor, a.reason if a else "", b.reason if b else ""))
            diffs.sort(key=lambda item: -abs(item[0]))
            if diffs:
                text.append(f"Where the scores differ (points for {top_arch.name} minus {alt.name}):")
                for delta, factor, reason, alt_reason in diffs[:5]:
                    detail = reason if reason == alt_reason or not alt_reason else f"{reason} / {alt_reason}"
                    text.append(f"- **{factor}** {delta:+g}: {detail.strip(' /')}")
        if alt.license_note:
            text += ["", f"Licence: {alt.license_note}"]
        if alt.when_to_pick:
            text += ["", f"**Pick {alt.name} instead when:** " + "; ".join(alt.when_to_pick) + "."]
        if alt.avoid_when:
            text += ["", "**Avoid it when:** " + "; ".join(alt.avoid_when) + "."]
    return Alternative("\n".join(text), True, task_knowledge.id, alt.id)
