"""The optional MLflow mirror of the experiment record."""

from __future__ import annotations

import logging
import os

from sandbox.experiments.compare import flatten
from sandbox.experiments.models import Experiment

log = logging.getLogger(__name__)

_mlflow_warned = False


def log_to_mlflow(experiment: Experiment) -> bool:
    """Mirror one experiment to MLflow when ``MLFLOW_TRACKING_URI`` is set. Never fails the run.

    mlflow is an optional dependency (it is heavy); without it a single warning says how to get it.
    Returns True when the experiment was logged.
    """
    global _mlflow_warned
    if not os.environ.get("MLFLOW_TRACKING_URI"):
        return False
    try:
        import mlflow  # type: ignore[import-not-found]
    except ImportError:
        if not _mlflow_warned:
            log.warning(
                "MLFLOW_TRACKING_URI is set but mlflow is not installed; runs are recorded only in SQLite."
                " Install it with `pip install mlflow` to mirror them to MLflow."
            )
            _mlflow_warned = True
        return False
    try:
        with mlflow.start_run(run_name=experiment.id):
            mlflow.set_tags(
                {
                    "mlagent.experiment_id": experiment.id,
                    "mlagent.run_id": experiment.run_id,
                    "mlagent.status": experiment.metrics.status,
                    "mlagent.code_hash": experiment.code_hash,
                }
            )
            mlflow.log_params(
                {k: v for k, v in flatten(experiment.spec).items() if not isinstance(v, list | dict)}
            )
            for step, loss in enumerate(experiment.metrics.losses):
                mlflow.log_metric("loss", loss, step=step)
            for name in ("samples_per_s", "peak_memory_mb", "duration_s"):
                value = getattr(experiment.metrics, name)
                if value is not None:
                    mlflow.log_metric(name, float(value))
            mlflow.log_dict(experiment.environment.model_dump(), "environment.json")
            for path, text in (experiment.files or {}).items():
                mlflow.log_text(text, f"code/{path}")
        return True
    except Exception as exc:  # mlflow server down, bad URI, ...: the SQLite record is what counts
        log.warning("could not log experiment %s to MLflow: %s", experiment.id, exc)
        return False
