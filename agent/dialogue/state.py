"""The dialogue state model, stored in the graph state as plain JSON (checkpoints are strict msgpack)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

DIALOGUE_KEY = "mlagent_dialogue"
"""``additional_kwargs`` key carrying the state to the model on its system message."""

PENDING_KEY = "mlagent_pending"
"""``additional_kwargs`` key of an assistant message that asked the user for a missing value."""


class RankedChoice(BaseModel):
    """One entry of the last recommendation's ranking."""

    architecture: str
    name: str
    backbone: str | None = None
    generatable: bool = False
    # What the generator builds for this choice (registry architecture and backbone), or for a choice it cannot
    # write, the closest architecture it can (``closest_reason`` says why).
    generate_architecture: str | None = None
    generate_backbone: str | None = None
    closest_architecture: str | None = None
    closest_reason: str | None = None
    # The recommender's estimates for this choice (None where it had no figure for the model).
    estimated_latency_ms: float | None = None
    estimated_gflops: float | None = None
    device: str | None = None


class Recommendation(BaseModel):
    """The agent's last recommendation: the task and the ranking it gave."""

    task: str
    ranked: list[RankedChoice] = Field(default_factory=list)

    def top_generatable(self) -> RankedChoice | None:
        """The best-ranked choice the code generator can write."""
        return next((choice for choice in self.ranked if choice.generatable), None)


class Pending(BaseModel):
    """A question the agent asked: which tool waits for which value, and the arguments it already has."""

    tool: str
    slot: str
    args: dict[str, Any] = Field(default_factory=dict)
    question: str = ""


class DialogueState(BaseModel):
    """What the thread has established: the task spec, the last recommendation, runs, a pending question."""

    spec: dict[str, Any] = Field(
        default_factory=dict,
        description="task, num_classes, image_size, backbone, package, multi_label and constraints so far",
    )
    recommendation: Recommendation | None = None
    pending: Pending | None = None
    resume: dict[str, Any] | None = Field(
        default=None, description="A tool call completed by this message's answer to the pending question."
    )
    runs: list[str] = Field(
        default_factory=list, description="Experiment ids of this thread's runs, oldest first"
    )
    has_project: bool = False
    topic: str | None = Field(
        default=None,
        description="The last general question answered from the knowledge base; a short follow-up "
        "('how would I measure it?', 'and on a V100?') is read in its context",
    )
    turns: int = 0

    @classmethod
    def load(cls, value: Any) -> DialogueState:
        """The state from the graph's stored dict (an empty state for threads older than this feature)."""
        if isinstance(value, DialogueState):
            return value
        if not isinstance(value, dict) or not value:
            return cls()
        try:
            return cls.model_validate(value)
        except ValueError:
            return cls()

    def dump(self) -> dict[str, Any]:
        """Plain JSON for the checkpoint."""
        return self.model_dump(mode="json", exclude_none=True)

    def summary(self) -> str:
        """A few lines for a language model's system prompt: the facts follow-ups refer to."""
        lines = []
        if self.spec:
            facts = ", ".join(f"{key}={value}" for key, value in self.spec.items())
            lines.append(f"- Task spec so far: {facts}")
        if self.recommendation:
            ranked = ", ".join(choice.name for choice in self.recommendation.ranked[:5])
            lines.append(f"- Your last recommendation for {self.recommendation.task}: {ranked}")
        if self.runs:
            lines.append(f"- Smoke runs of this thread (oldest first): {', '.join(self.runs[-5:])}")
        if self.has_project:
            lines.append("- A project was generated in this thread; 'it' may refer to it")
        if self.pending:
            lines.append(f"- You asked the user for {self.pending.slot} (for {self.pending.tool})")
        return "\n".join(lines)
