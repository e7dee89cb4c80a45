"""Reviews of untrusted code with a deadline, a memory cap and no way to take the caller's process down.

The HTTP service and the agent's review tool go through :func:`review_bounded` with the service's
:class:`~tools.workers.WorkerPool`; the command line passes no pool and reviews in its own process (the user's own
files, and the cold single-file speed matters there). Both paths share the engine's parse guard
(:mod:`tools.review.guard`), so even in-process a deeply nested text is refused instead of crashing LibCST.
"""

from __future__ import annotations

from tools.review.engine import review
from tools.review.models import ReviewReport, ReviewRequest
from tools.workers import (
    JobOutOfMemory,
    JobTimeout,
    PoolBusy,
    PoolClosed,
    PoolLimits,
    WorkerCrashed,
    WorkerPool,
)

JOB = "tools.review.bounded:review_job"
PRELOAD = ("tools.review.bounded", "tools.edit")


class ReviewRefused(Exception):
    """The review could not be done within its limits; ``status``/``code``/``message`` are the API's error."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def review_job(request: ReviewRequest) -> ReviewReport:
    """What a worker runs: the plain review (the request was validated by the caller)."""
    return review(request)


def review_pool(limits: PoolLimits) -> WorkerPool:
    """A pool whose workers will have the review engine imported already (call ``start()`` to spawn them)."""
    return WorkerPool(limits, preload=PRELOAD)


def start_review_pool(limits: PoolLimits) -> WorkerPool:
    """A started pool whose workers have the review engine imported already."""
    return review_pool(limits).start()


def review_bounded(request: ReviewRequest, pool: WorkerPool | None) -> ReviewReport:
    """Review in a worker of ``pool`` (in this process when None); limits end as :class:`ReviewRefused`."""
    if pool is None:
        return review(request)
    try:
        report: ReviewReport = pool.call(JOB, request)
    except JobTimeout as error:
        raise ReviewRefused(
            422,
            "review_too_slow",
            f"the review was stopped because {error}; review fewer or smaller files at once",
        ) from None
    except JobOutOfMemory as error:
        raise ReviewRefused(
            413, "review_too_large", f"the review was stopped because {error}; review smaller files"
        ) from None
    except WorkerCrashed as error:
        raise ReviewRefused(
            422,
            "unreviewable_code",
            f"the code could not be parsed safely ({error}); the service is unaffected",
        ) from None
    except (PoolBusy, PoolClosed) as error:
        raise ReviewRefused(
            503, "review_busy", f"no review worker is free ({error}); try again shortly"
        ) from None
    return report
