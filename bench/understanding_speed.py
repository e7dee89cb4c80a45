"""How fast the deterministic understanding layer reads a message (parse_slots, normalise, language, hints).

Every phrasing of the test tables is parsed once, in a fresh process after warming the vocabulary, so the
per-word caches help no more than they do on a real stream of distinct messages. Prints p50/p95/max per call.

    PYTHONPATH=. python bench/understanding_speed.py
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent.understanding import core_intent_hints, detect_language, normalise, parse_slots
from tests.agent.understanding_cases import CASES
from tests.agent.understanding_heldout import HELD_OUT, HELD_OUT_2, HELD_OUT_3

LONGER = [
    "Genrate a clasifier for 5 classs, 224 px, resnet18, and smoke-test it for 20 steps.",
    "I have ~800 labelled 1024x1024 images of steel sheets with 3 defect classes; objects of 8-15 px.",
    "Which detector for 30 fps on a Jetson Orin? Tiny objects in 4k frames, 2x A100 for training in bf16.",
    "compare exp-1a2b3c4d5e6f7a8b and exp-0f9e8d7c6b5a4938, the second used lr 3e-4 and batch size 64",
]


def _summary(timings: list[float]) -> str:
    timings = sorted(timings)
    p95 = timings[int(0.95 * (len(timings) - 1))]
    return f"p50={statistics.median(timings):.3f} p95={p95:.3f} max={timings[-1]:.3f} ms"


def measure(name: str, function: Callable[[str], object], messages: list[str]) -> None:
    """Wall time and this thread's CPU time per call (CPU time stays honest on a machine shared by many)."""
    wall, cpu = [], []
    for message in messages:
        start_wall, start_cpu = time.perf_counter(), time.thread_time()
        function(message)
        cpu.append((time.thread_time() - start_cpu) * 1000)
        wall.append((time.perf_counter() - start_wall) * 1000)
    print(f"{name:<18} n={len(messages):<4} wall {_summary(wall)} | cpu {_summary(cpu)}")


def main() -> None:
    start = time.perf_counter()
    parse_slots("warm up: resnet50, 5 classes")
    print(f"first call (loads the knowledge-base vocabulary): {(time.perf_counter() - start) * 1000:.1f} ms")
    messages = [text for text, _ in HELD_OUT + HELD_OUT_2 + HELD_OUT_3 + CASES]
    measure("parse_slots", parse_slots, messages)
    measure("parse_slots 1-3 s", parse_slots, [f"{m} (variant {i})" for i, m in enumerate(LONGER * 25)])
    measure("normalise", normalise, [m + " x" for m in messages])
    measure("detect_language", detect_language, [m + " y" for m in messages])
    measure("core_intent_hints", core_intent_hints, [m + " z" for m in messages])


if __name__ == "__main__":
    main()
