"""Diagnosis accuracy on the broken-project corpus, from the recorded sandbox results (no runs: seconds).

    python bench/diagnose_bench.py [--recorded tests/diagnose/recorded]

Record (or refresh) the results first with ``bench/record_broken.py``. Target: >= 95% right.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox.spec import RunResult  # noqa: E402
from tools.diagnose import diagnose  # noqa: E402
from tools.fixrun.corpus import load_corpus  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--recorded", type=Path, default=ROOT / "tests" / "diagnose" / "recorded")
    args = parser.parse_args()
    right = total = 0
    for case in load_corpus():
        path = args.recorded / f"{case.name}.json"
        if not path.is_file():
            print(f"{case.name:32s} (not recorded)")
            continue
        result = RunResult.model_validate(json.loads(path.read_text())["result"])
        got = diagnose(result, case.files)
        ok = got.kind == case.kind
        right += ok
        total += 1
        mark = "ok " if ok else "BAD"
        print(f"{mark} {case.name:32s} expected {case.kind:28s} got {got.kind:28s} recipe {got.recipe}")
    if total:
        print(f"\ndiagnosis right on {right}/{total} = {100 * right / total:.1f}% (target >= 95%)")
    return 0 if total and right / total >= 0.95 else 1


if __name__ == "__main__":
    raise SystemExit(main())
