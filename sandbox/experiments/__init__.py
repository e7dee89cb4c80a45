"""The experiment record: every finished smoke run, kept in SQLite so it can be listed, compared and re-run.

A smoke run only proves something if it can be looked at again later, next to another run, and repeated. So
each run is stored with everything needed to reproduce it (the submitted files and the full spec, seed
included), the environment it ran in, and its metrics (the loss curve above all). One SQLite file in the data
dir is enough for a single service; the store is thread-safe because runs finish on worker threads.

Modules: ``models`` (the records), ``store`` (SQLite, with the run-tree columns ``parent_id``/``diff``/
``diagnosis`` of the repair loop), ``compare`` (spec differences, curve agreement), ``render`` (text and
Markdown), ``mirror`` (optional MLflow), ``reproduce`` (run-and-record, re-run a recorded experiment).
"""

from __future__ import annotations

from sandbox.experiments.compare import compare_curves, differences, flatten
from sandbox.experiments.mirror import log_to_mlflow
from sandbox.experiments.models import (
    MAX_COMPARE,
    RESTARTED_ERROR,
    Comparison,
    ComparisonRow,
    CurveMatch,
    Experiment,
    ExperimentEnvironment,
    ExperimentMetrics,
    ExperimentNotFound,
    ExperimentSummary,
    Lineage,
    ReproduceReport,
    capture_environment,
    code_hash,
    metrics_of,
    new_experiment_id,
)
from sandbox.experiments.render import (
    COMPARED_METRICS,
    format_comparison_text,
    render_comparison,
    render_experiment_list,
)
from sandbox.experiments.reproduce import (
    CPU_ATOL,
    CPU_RTOL,
    CUDA_ATOL,
    CUDA_RTOL,
    reproduce,
    reproduction_report,
    run_and_record,
)
from sandbox.experiments.store import ExperimentStore

__all__ = [
    "COMPARED_METRICS",
    "CPU_ATOL",
    "CPU_RTOL",
    "CUDA_ATOL",
    "CUDA_RTOL",
    "MAX_COMPARE",
    "RESTARTED_ERROR",
    "Comparison",
    "ComparisonRow",
    "CurveMatch",
    "Experiment",
    "ExperimentEnvironment",
    "ExperimentMetrics",
    "ExperimentNotFound",
    "ExperimentStore",
    "ExperimentSummary",
    "Lineage",
    "ReproduceReport",
    "capture_environment",
    "code_hash",
    "compare_curves",
    "differences",
    "flatten",
    "format_comparison_text",
    "log_to_mlflow",
    "metrics_of",
    "new_experiment_id",
    "render_comparison",
    "render_experiment_list",
    "reproduce",
    "reproduction_report",
    "run_and_record",
]
