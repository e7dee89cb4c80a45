"""Run every project of bench/broken_projects once in the sandbox and store its structured result.

The stored results are what the diagnosis unit tests read (tests/diagnose/recorded/NAME.json), so those
tests stay fast and the classifier is judged on real sandbox output, not on hand-written errors.

    python bench/record_broken.py [--only NAME ...] [--out tests/diagnose/recorded]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.fixrun.corpus import load_corpus, run_spec_for  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "diagnose" / "recorded")
    args = parser.parse_args()
    from core.settings import Settings
    from sandbox.backends import execute, get_backend, new_run_id

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))  # type: ignore[call-arg]
        backend = get_backend(settings)
        try:
            for case in load_corpus():
                if args.only and case.name not in args.only:
                    continue
                started = time.monotonic()
                result = execute(backend, run_spec_for(case.files, case.expected), run_id=new_run_id())
                record = {"name": case.name, "result": result.model_dump(mode="json")}
                (args.out / f"{case.name}.json").write_text(json.dumps(record, indent=1) + "\n")
                first = (result.error or "").splitlines()[:1]
                print(
                    f"{case.name:32s} {result.status:9s} {time.monotonic() - started:5.1f}s {first}",
                    flush=True,
                )
        finally:
            backend.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
