"""A/B request and report models."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from sandbox.spec import DeviceRequest, Precision


class Variant(BaseModel):
    """One arm: the code as given plus an optional edit instruction and/or a Trainer precision."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=60)
    instruction: str | None = Field(default=None, max_length=300, description="A tools/edit instruction.")
    precision: Precision | None = None


class ABRequest(BaseModel):
    """Variants of one project to compare; the first is the baseline."""

    model_config = ConfigDict(extra="forbid")

    files: dict[str, str] = Field(min_length=1)
    variants: list[Variant] = Field(min_length=2, max_length=4)
    repeats: int = Field(default=3, ge=1, le=10)
    steps: int | None = Field(default=None, ge=3, le=10_000)
    timeout_s: float | None = Field(default=None, gt=0, le=3600)
    device: DeviceRequest = "auto"
    seed: int = Field(default=42, ge=0, le=2**32 - 1)


class RunFigures(BaseModel):
    """What one run measured."""

    status: str
    samples_per_s: float | None = None
    peak_memory_mb: float | None = None
    final_loss: float | None = None
    duration_s: float = 0.0
    experiment_id: str | None = None
    error: str | None = None


class VariantResult(BaseModel):
    """A variant's runs (in the order they ran) and what was changed to make it."""

    name: str
    change: str = Field(description="What makes this variant: the edit applied and/or the precision.")
    runs: list[RunFigures] = Field(default_factory=list)
    error: str | None = Field(default=None, description="Why the variant could not be built or run.")


class MetricComparison(BaseModel):
    """One metric of one variant against the baseline: medians, spreads and the verdict."""

    metric: str
    variant: str
    baseline_median: float | None = None
    variant_median: float | None = None
    baseline_range: list[float] = Field(default_factory=list)
    variant_range: list[float] = Field(default_factory=list)
    relative_change: float | None = None
    noise: float | None = Field(default=None, description="Largest relative half-range of the two arms.")
    verdict: str


class ABReport(BaseModel):
    """The interleaved runs, the per-metric comparisons and the recommendation that follows from them."""

    order: list[str]
    variants: list[VariantResult]
    comparisons: list[MetricComparison]
    recommendation: str
    device: str | None = None
