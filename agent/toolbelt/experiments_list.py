"""``list_experiments``: the recorded smoke runs of this host's data directory."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from agent.toolbelt.base import ToolContext, ToolOutput, ToolSpec

NAME = "list_experiments"


class ExperimentsArgs(BaseModel):
    """Arguments of the list_experiments tool."""

    limit: int = Field(default=10, ge=1, le=100)


def _bind(ctx: ToolContext) -> Any:
    def list_experiments(limit: int = 10) -> ToolOutput:
        from sandbox.experiments import ExperimentStore, render_experiment_list

        with ExperimentStore(ctx.settings.experiments_db) as store:
            records = store.list(limit=limit)
        return render_experiment_list(records), {"experiments": [r.model_dump(mode="json") for r in records]}

    return list_experiments


SPEC = ToolSpec(NAME, "List recorded smoke-run experiments.", ExperimentsArgs, _bind)
