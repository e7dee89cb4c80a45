"""Measure instead of guessing: variants of a project as interleaved A/B smoke runs with repeats.

``run_ab(request, settings, runner)`` runs the baseline and each variant (a precision, or a code edit through
tools/edit such as "set the learning rate to 3e-4") in turn, ``repeats`` times, same seed and data, and
reports throughput, peak memory and final loss with their spread, saying when a difference is within noise.
"""

from __future__ import annotations

from tools.abtest.models import ABReport, ABRequest, MetricComparison, Variant, VariantResult
from tools.abtest.run import run_ab

__all__ = ["ABReport", "ABRequest", "MetricComparison", "Variant", "VariantResult", "run_ab"]
