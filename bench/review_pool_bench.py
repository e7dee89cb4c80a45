"""What the bounded review workers cost: the same reviews in-process and through the pool, side by side.

Usage: ``python bench/review_pool_bench.py [--repeat N]``. Prints p50/p95 per input and path and the ratio of
medians (pool / in-process), measured in one run so machine load affects both alike.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.review_bench import generate_big_file
from tools.review import ReviewRequest, review
from tools.review.bounded import review_bounded, start_review_pool
from tools.workers import PoolLimits

CORPUS = Path(__file__).resolve().parent / "review_corpus"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    inputs = {
        "19-line loop": "for x, y in loader:\n    loss = model(x)\n    loss.backward()\n    opt.step()\n" * 4,
        "143-line module": (CORPUS / "good_cpu_bf16" / "train.py").read_text(),
        "3,000-line file": generate_big_file(),
    }
    started = time.perf_counter()
    pool = start_review_pool(PoolLimits(workers=2))
    start_up = time.perf_counter() - started
    rows = []
    try:
        for name, code in inputs.items():
            request = ReviewRequest(code=code)
            repeat = max(3, args.repeat // 5) if len(code) > 50_000 else args.repeat
            review_bounded(request, pool)  # warm both paths once
            review(request)
            local: list[float] = []
            pooled: list[float] = []
            for _ in range(repeat):  # interleaved, so load drifts hit both paths alike
                t0 = time.perf_counter()
                review(request)
                local.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                review_bounded(request, pool)
                pooled.append(time.perf_counter() - t0)
            rows.append((name, repeat, local, pooled))
    finally:
        pool.close()
    print(f"review worker pool: 2 workers started in {start_up * 1000:.0f} ms\n")
    print("| input | runs | in-process p50 / p95 ms | pool p50 / p95 ms | overhead p50 ms | ratio |")
    print("|---|---|---|---|---|---|")
    for name, repeat, local, pooled in rows:
        l50, p50 = statistics.median(local), statistics.median(pooled)
        print(
            f"| {name} | {repeat} | {l50 * 1000:.1f} / {_percentile(local, 0.95) * 1000:.1f} | "
            f"{p50 * 1000:.1f} / {_percentile(pooled, 0.95) * 1000:.1f} | {(p50 - l50) * 1000:.1f} | "
            f"{p50 / l50:.2f} |"
        )


if __name__ == "__main__":
    main()
