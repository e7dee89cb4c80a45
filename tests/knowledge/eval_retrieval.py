"""Retrieval accuracy on the held-out questions and the entries' own phrasings (also used by the tests).

Run: ``PYTHONPATH=. python -m tests.knowledge.eval_retrieval [--lexical]`` to print the numbers in the report.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

import yaml

from knowledge.retrieval import KnowledgeIndex, all_documents

HELDOUT = Path(__file__).with_name("heldout_questions.yaml")


def load_heldout() -> dict[str, Any]:
    return yaml.safe_load(HELDOUT.read_text(encoding="utf-8"))


def accuracy(index: KnowledgeIndex, cases: list[dict[str, Any]]) -> tuple[float, float, list[str]]:
    """(top-1, top-3, misses) where a case is right when an expected id is ranked first / in the top 3."""
    top1 = top3 = 0
    misses = []
    for case in cases:
        ids = [hit.id for hit in index.search(case["q"], 3)]
        expected = set(case["expect"])
        top1 += bool(ids and ids[0] in expected)
        top3 += bool(expected & set(ids))
        if not expected & set(ids):
            misses.append(f"{case['q']!r}: expected {sorted(expected)}, got {ids}")
    return top1 / len(cases), top3 / len(cases), misses


def own_phrasings(index: KnowledgeIndex) -> list[dict[str, Any]]:
    return [
        {"q": phrasing, "expect": [doc.id]}
        for doc in index.documents
        if doc.kind != "task"
        for phrasing in doc.phrasings[1:]
    ] + [
        {"q": q, "expect": [doc.id]}
        for doc in index.documents
        if doc.kind == "task"
        for q in doc.phrasings[2:]
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lexical", action="store_true", help="evaluate without the embedding model")
    parser.add_argument("--fp32", action="store_true", help="full-precision encoder instead of INT8")
    parser.add_argument("--cache", type=Path, default=None, help="cache directory for encoder and vectors")
    args = parser.parse_args()
    started = time.perf_counter()
    index = KnowledgeIndex(
        all_documents(), cache_dir=args.cache, use_embeddings=not args.lexical, quantized=not args.fp32
    )
    print(f"mode={index.mode} load={time.perf_counter() - started:.2f}s documents={len(index.documents)}")
    data = load_heldout()
    t1, t3, misses = accuracy(index, data["in_scope"])
    print(f"held-out ({len(data['in_scope'])}): top-1 {t1:.1%}  top-3 {t3:.1%}")
    for miss in misses:
        print("  MISS", miss)
    own = own_phrasings(index)
    o1, o3, own_misses = accuracy(index, own)
    print(f"own phrasings ({len(own)}): top-1 {o1:.1%}  top-3 {o3:.1%}")
    for miss in own_misses:
        print("  OWN MISS", miss)
    fit, confident = index.thresholds()
    in_scores = [index.search(c["q"], 1)[0].score for c in data["in_scope"]]
    print(f"thresholds fit={fit} confident={confident}")
    print(f"in-scope top scores: min {min(in_scores):.3f} p10 {sorted(in_scores)[len(in_scores) // 10]:.3f}")
    for q in data["out_of_scope"]:
        hit = index.search(q, 1)[0]
        print(f"  OOS {hit.score:.3f} (d={hit.dense:.2f} l={hit.lexical:.2f}) {hit.id:32s} <- {q}")
    latencies = []
    for case in data["in_scope"]:
        t = time.perf_counter()
        index.search(case["q"], 5)
        latencies.append((time.perf_counter() - t) * 1000)
    latencies.sort()
    print(
        f"latency ms: p50 {statistics.median(latencies):.1f}  p95 {latencies[int(0.95 * len(latencies))]:.1f}"
    )


if __name__ == "__main__":
    main()
