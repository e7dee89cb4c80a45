"""Answers to general ML-engineering questions, composed from retrieved knowledge entries.

The offline planner calls :func:`answer_question`; with a real LLM the same hits become prompt context through
:func:`context_for`. Rules that keep answers honest:

- every answer names the entries it was composed from (``entry_ids`` and a "Sources" line);
- below the calibrated "fit" threshold, or when the best match is a scope note (speech, LLMs, recipes...),
  the answer is ``out_of_scope``: it says "outside what I know well" and offers only the closest advice that
  transfers, never a confident answer borrowed from another task;
- between the "fit" and "confident" thresholds the answer is given but marked not confident.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from knowledge.entries import PracticeEntry, ScopeNote
from knowledge.models import TaskKnowledge
from knowledge.retrieval import Hit, KnowledgeIndex, get_index, resolve

MAX_RELATED = 2
RELATED_MARGIN = 0.08  # a second entry is worth naming when it scores within this of the best one
SCOPE_MARGIN = 0.01  # within score noise of the best real entry, a scope note does not declare "out of scope"


class SourceHit(BaseModel):
    """A retrieved entry as reported to callers (and shown in debug views)."""

    id: str
    title: str
    score: float


class KnowledgeAnswer(BaseModel):
    """A composed answer; ``entry_ids`` are the entries whose text it contains, best first."""

    markdown: str
    entry_ids: list[str] = Field(default_factory=list)
    confident: bool
    out_of_scope: bool
    retrieval_mode: str = Field(
        description="'hybrid' (embeddings + lexical) or 'lexical' (model unavailable)."
    )
    hits: list[SourceHit] = Field(default_factory=list, description="Top retrieved entries with scores.")


# ------------------------------------------------------------------------------------------------ rendering


def render_practice(entry: PracticeEntry, with_code: bool = True) -> str:
    parts = [f"### {entry.title}", entry.answer.strip()]
    if with_code and entry.code.strip():
        parts.append("```python\n" + entry.code.strip() + "\n```")
    if entry.pitfalls:
        parts.append("**Pitfalls**\n" + "\n".join(f"- {p}" for p in entry.pitfalls))
    return "\n\n".join(parts)


def render_task(task: TaskKnowledge) -> str:
    """A task's knowledge as a short brief: approaches with licences, loss, metric, tips and pitfalls."""
    support = (
        "`mlagent generate` can write a project for it."
        if task.generate_supported
        else "Knowledge only: I can recommend and advise, but the code generator has no template for it yet."
    )
    lines = [f"### {task.name}", task.description, "", support, "", "**Approaches**"]
    for arch in task.architectures:
        pick = arch.when_to_pick[0] if arch.when_to_pick else ""
        lines.append(f"- **{arch.name}** ({arch.license}): {arch.summary} Pick it for: {pick}.")
    default_loss = next(loss for loss in task.losses if loss.use_when in ("default", "always"))
    primary = next(m for m in task.metrics if m.primary)
    lines += [
        "",
        f"**Loss:** {default_loss.name} (`{default_loss.code}`): {default_loss.why}",
        f"**Primary metric:** `{primary.cls}`" + (f": {primary.note}" if primary.note else ""),
    ]
    if task.tips:
        lines += ["", "**Tips**", *(f"- {tip}" for tip in task.tips[:3])]
    if task.pitfalls:
        lines += ["", "**Pitfalls**", *(f"- {p}" for p in task.pitfalls)]
    return "\n".join(lines)


def _render(doc_id: str, with_code: bool = True) -> str:
    obj = resolve(doc_id)
    if isinstance(obj, PracticeEntry):
        return render_practice(obj, with_code)
    if isinstance(obj, TaskKnowledge):
        return render_task(obj)
    return obj.note


def _summary_line(doc_id: str) -> str:
    """First sentence of an entry, for 'closest advice' lists."""
    obj = resolve(doc_id)
    if isinstance(obj, PracticeEntry):
        text = obj.answer.strip().split("\n\n")[0].replace("\n", " ")
        first = text.split(". ")[0].rstrip(".")
        return f"**{obj.title}** (`{obj.id}`): {first}."
    if isinstance(obj, TaskKnowledge):
        return f"**{obj.name}** (`task:{obj.id}`): {obj.description}"
    return f"**{obj.title}**"


def _sources(ids: list[str]) -> str:
    return "_Sources: knowledge entries " + ", ".join(f"`{i}`" for i in ids) + "._"


# -------------------------------------------------------------------------------------------------- answers


def _out_of_scope(hits: list[Hit], index: KnowledgeIndex, scope: ScopeNote | None) -> KnowledgeAnswer:
    fit, _ = index.thresholds()
    if scope is not None:
        closest = list(scope.closest)
        head = scope.note
    else:
        closest = [h.id for h in hits if h.doc.kind != "scope" and h.score >= 0.75 * fit][:2]
        head = (
            "This is outside what I know well: nothing in my knowledge base fits the question. "
            "I cover computer-vision ML engineering: Lightning training, data, evaluation and export, and "
            "tasks from classification and detection to OCR, anomaly detection and 3D medical segmentation."
        )
    parts = [head]
    if closest:
        parts.append(
            "The closest advice I have, in case it helps:\n"
            + "\n".join(f"- {_summary_line(i)}" for i in closest)
        )
    ids = ([f"scope:{scope.id}"] if scope else []) + closest
    if ids:
        parts.append(_sources(ids))
    return KnowledgeAnswer(
        markdown="\n\n".join(parts),
        entry_ids=ids,
        confident=False,
        out_of_scope=True,
        retrieval_mode=index.mode,
        hits=[SourceHit(id=h.id, title=h.doc.title, score=h.score) for h in hits],
    )


def answer_question(text: str, index: KnowledgeIndex | None = None) -> KnowledgeAnswer:
    """Answer a general ML-engineering question from the knowledge base (offline, deterministic)."""
    index = index or get_index()
    hits = index.search(text, 5)
    fit, confident_at = index.thresholds()
    if not hits or hits[0].score < fit:
        return _out_of_scope(hits, index, None)
    top = hits[0]
    if top.doc.kind == "scope":
        runner_up = next((h for h in hits if h.doc.kind != "scope"), None)
        if runner_up is None or runner_up.score < max(fit, top.score - SCOPE_MARGIN):
            note = resolve(top.id)
            assert isinstance(note, ScopeNote)
            return _out_of_scope(hits, index, note)
        # A scope note and a real entry tie: answer from the entry, but do not claim confidence.
        hits = [runner_up, *(h for h in hits if h is not runner_up)]
        top = runner_up
        confident_at = float("inf")

    elif any(h.doc.kind == "scope" and h.score >= top.score - SCOPE_MARGIN for h in hits[1:]):
        confident_at = float("inf")  # the same near tie the other way round: answer, but not confidently
    confident = top.score >= confident_at
    related = [
        h for h in hits[1:] if h.doc.kind != "scope" and h.score >= max(fit, top.score - RELATED_MARGIN)
    ][:MAX_RELATED]
    parts = []
    if not confident:
        parts.append(
            "I'm not sure this is exactly what you are asking; this is the closest entry in my knowledge base:"
        )
    parts.append(_render(top.id))
    if related:
        parts.append("**Related**\n" + "\n".join(f"- {_summary_line(h.id)}" for h in related))
    ids = [top.id, *(h.id for h in related)]
    parts.append(_sources(ids))
    return KnowledgeAnswer(
        markdown="\n\n".join(parts),
        entry_ids=ids,
        confident=confident,
        out_of_scope=False,
        retrieval_mode=index.mode,
        hits=[SourceHit(id=h.id, title=h.doc.title, score=h.score) for h in hits],
    )


def context_for(text: str, k: int = 4, index: KnowledgeIndex | None = None) -> str:
    """Retrieved entries as plain-text context for an LLM prompt (each block tagged with its entry id).

    Only entries above the "fit" threshold are included; a scope-note hit is passed on as an explicit
    "outside the knowledge base" block so the model can say so instead of improvising.
    """
    index = index or get_index()
    fit, _ = index.thresholds()
    hits = [h for h in index.search(text, k) if h.score >= fit]
    if not hits:
        return "No knowledge-base entry fits this question; say so if you cannot answer it reliably."
    blocks = []
    for hit in hits:
        if hit.doc.kind == "scope":
            blocks.append(f"[{hit.id}] OUTSIDE THE KNOWLEDGE BASE: {_render(hit.id)}")
        else:
            blocks.append(f"[{hit.id}] (relevance {hit.score:.2f})\n{_render(hit.id)}")
    return "\n\n---\n\n".join(blocks)
