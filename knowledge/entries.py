"""ML-engineering practice entries (``knowledge/practices/*.yaml``): schema, loader, and retrieval documents.

Why data and not prose in code: an engineer corrects an answer or adds a pitfall by editing YAML, and the schema
below rejects what would break retrieval (duplicate ids, dangling ``related`` links, entries without phrasings).
Task knowledge (``task_*.yaml``) joins the same retrieval index through :func:`task_document`, so one search
covers "how do I use DDP?" and "what model for OCR?".
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from knowledge.models import TaskKnowledge

Area = Literal["training", "data", "evaluation", "export"]
TASK_PREFIX = "task:"
GLOSSARY_FILE = "glossary.yaml"  # query expansion for retrieval, not entries (read by knowledge.retrieval)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PracticeEntry(_Strict):
    """One question-shaped piece of ML-engineering practice with a short expert answer."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str = Field(min_length=3)
    area: Area
    tags: list[str] = Field(min_length=1)
    questions: list[str] = Field(min_length=3, description="How users ask it; used for retrieval.")
    answer: str = Field(min_length=80, description="Markdown, in our own words.")
    code: str = Field(default="", description="Minimal Python snippet (Lightning 2.6 APIs), or empty.")
    pitfalls: list[str] = Field(default_factory=list)
    related: list[str] = Field(
        default_factory=list, description="Practice ids, or 'task:<id>' for task knowledge."
    )


class ScopeNote(_Strict):
    """A domain users ask about that this knowledge base deliberately does not cover (speech, LLMs, ...).

    Retrieval matches these like entries; a hit on one makes the answer "outside what I know well" plus the
    transferable advice named in ``closest``, instead of a confident answer borrowed from a vision task.
    """

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str
    questions: list[str] = Field(min_length=3)
    note: str = Field(min_length=20, description="What to say: why it is outside, where to look instead.")
    closest: list[str] = Field(default_factory=list, description="Practice ids whose advice still transfers.")


class _PracticeFile(_Strict):
    area: Area
    entries: list[dict[str, object]] = Field(min_length=1)


class _ScopeFile(_Strict):
    scope: list[ScopeNote] = Field(min_length=1)


class PracticeBase(_Strict):
    """All practice entries and scope notes, with their cross references checked."""

    entries: dict[str, PracticeEntry]
    scope: dict[str, ScopeNote]

    @field_validator("entries")
    @classmethod
    def _non_empty(cls, entries: dict[str, PracticeEntry]) -> dict[str, PracticeEntry]:
        if not entries:
            raise ValueError("no practice entries")
        return entries

    def check_references(self, task_ids: set[str]) -> None:
        """Raise ValueError when a ``related``/``closest`` link names nothing that exists."""
        problems = []
        for entry in self.entries.values():
            for ref in entry.related:
                target_ok = (
                    ref[len(TASK_PREFIX) :] in task_ids
                    if ref.startswith(TASK_PREFIX)
                    else ref in self.entries
                )
                if not target_ok or ref == entry.id:
                    problems.append(f"{entry.id} -> {ref}")
        for note in self.scope.values():
            problems += [f"{note.id} -> {ref}" for ref in note.closest if ref not in self.entries]
        if problems:
            raise ValueError("dangling knowledge references: " + ", ".join(problems))

    @model_validator(mode="after")
    def _ids_disjoint(self) -> PracticeBase:
        clash = set(self.entries) & set(self.scope)
        if clash:
            raise ValueError(f"ids used by both an entry and a scope note: {sorted(clash)}")
        return self


def _practice_files() -> list[str]:
    folder = resources.files("knowledge").joinpath("practices")
    return sorted(
        entry.name
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml") and entry.name != GLOSSARY_FILE
    )


def parse_practices(files: dict[str, str]) -> PracticeBase:
    """Validate practice YAML texts (file name -> text); duplicate ids across files are errors."""
    entries: dict[str, PracticeEntry] = {}
    scope: dict[str, ScopeNote] = {}
    for name, text in sorted(files.items()):
        raw = yaml.safe_load(text)
        if isinstance(raw, dict) and "scope" in raw:
            for note in _ScopeFile.model_validate(raw).scope:
                if note.id in scope:
                    raise ValueError(f"duplicate scope id {note.id!r} in {name}")
                scope[note.id] = note
            continue
        parsed = _PracticeFile.model_validate(raw)
        for record in parsed.entries:
            try:
                entry = PracticeEntry.model_validate({"area": parsed.area, **record})
            except ValidationError as exc:
                raise ValueError(f"{name}: practice entry {record.get('id')!r} is invalid: {exc}") from exc
            if entry.id in entries:
                raise ValueError(f"duplicate practice id {entry.id!r} in {name}")
            entries[entry.id] = entry
    return PracticeBase(entries=entries, scope=scope)


@lru_cache(maxsize=1)
def load_practices() -> PracticeBase:
    """Load, validate and cross-check every practice file (cached: read once per process)."""
    from knowledge import load_knowledge  # deferred: the package imports this module

    folder = resources.files("knowledge").joinpath("practices")
    files = {name: folder.joinpath(name).read_text(encoding="utf-8") for name in _practice_files()}
    base = parse_practices(files)
    base.check_references(set(load_knowledge().tasks))
    return base


class Document(_Strict):
    """What the retrieval index stores per entry: searchable phrasings and the text answers are made from."""

    id: str = Field(description="Practice id, 'task:<id>' or 'scope:<id>'.")
    kind: Literal["practice", "task", "scope"]
    title: str
    phrasings: list[str] = Field(description="Titles and questions, embedded one by one.")
    keywords: list[str] = Field(description="Tags/aliases, for the lexical score.")
    body: str = Field(description="All searchable text of the entry, for the lexical score.")


def practice_document(entry: PracticeEntry) -> Document:
    return Document(
        id=entry.id,
        kind="practice",
        title=entry.title,
        phrasings=[entry.title, *entry.questions],
        keywords=list(entry.tags),
        body="\n".join([entry.title, *entry.questions, *entry.tags, entry.answer, *entry.pitfalls]),
    )


def task_document(task: TaskKnowledge) -> Document:
    """A task as a retrievable document: its own questions, name, description and the cues users type."""
    names = [a.replace("_", " ") for a in task.aliases]
    archs = [a.name for a in task.architectures]
    return Document(
        id=TASK_PREFIX + task.id,
        kind="task",
        title=task.name,
        phrasings=[task.name, task.description, *task.questions],
        keywords=[task.id.replace("_", " "), *names, *task.keywords],
        body="\n".join([task.name, task.description, *names, *task.keywords, *archs, *task.questions]),
    )


def scope_document(note: ScopeNote) -> Document:
    return Document(
        id="scope:" + note.id,
        kind="scope",
        title=note.title,
        phrasings=[note.title, *note.questions],
        keywords=[],
        body="\n".join([note.title, *note.questions]),
    )
