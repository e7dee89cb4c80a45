"""``compare_experiments``: recorded runs side by side ("compare the last two runs" fills in recent ids)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from agent.toolbelt.base import ToolContext, ToolOutput, ToolSpec, failure

NAME = "compare_experiments"


class CompareArgs(BaseModel):
    """Arguments of the compare_experiments tool."""

    ids: list[str] = Field(
        default_factory=list,
        max_length=10,
        description="Experiment ids (exp-...) to compare; fewer than two: the most recent runs fill up.",
    )


def _bind(ctx: ToolContext) -> Any:
    def compare_experiments(ids: list[str] | None = None) -> ToolOutput:
        from sandbox.experiments import ExperimentStore, render_comparison

        try:
            with ExperimentStore(ctx.settings.experiments_db) as store:
                chosen = list(dict.fromkeys(ids or []))
                if len(chosen) < 2:
                    # "compare the last two runs": the most recent runs fill up what was not named.
                    recent = [record.id for record in store.list(limit=4) if record.id not in chosen]
                    chosen = (chosen + recent)[:2]
                if len(chosen) < 2:
                    return failure(
                        NAME,
                        "there is nothing to compare yet: it takes two recorded runs, and "
                        f"{'only one exists' if chosen else 'none exists'}. Say **smoke-test it** to record one.",
                    )
                comparison = store.compare(chosen)
        except KeyError as error:  # ExperimentNotFound: its str() names the unknown ids
            return failure(NAME, str(error).strip("'\""))
        except ValueError as error:
            return failure(NAME, str(error))
        return render_comparison(comparison), comparison.model_dump(mode="json")

    return compare_experiments


SPEC = ToolSpec(NAME, "Compare recorded experiments side by side.", CompareArgs, _bind)
