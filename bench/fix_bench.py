"""The repair loop on the broken-project corpus: how many repairable projects train within N repairs.

    python bench/fix_bench.py [--attempts 3] [--budget 300] [--only NAME ...] [--replay-first]

Every run is a real sandboxed run recorded in a throw-away experiment store. ``--replay-first`` starts each
loop from the recorded first run of the same code and spec (tests/diagnose/recorded, made by
bench/record_broken.py) instead of running it again, which saves one run per project on a busy machine; its
recorded duration is added to the time to a training run. Also checks that no project file was modified.
Targets: >= 85% of the repairable projects train within 3 repairs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox.experiments import Experiment, ExperimentStore, Lineage, capture_environment  # noqa: E402
from sandbox.spec import RunResult, RunSpec  # noqa: E402
from tools.fixrun.corpus import DEFAULT_STEPS, DEFAULT_TIMEOUT_S, load_corpus  # noqa: E402
from tools.fixrun.loop import fix_run, store_runner  # noqa: E402
from tools.fixrun.models import FixRunRequest  # noqa: E402

RECORDED = ROOT / "tests" / "diagnose" / "recorded"


def tree_digest(path: Path) -> str:
    digest = hashlib.sha256()
    for file in sorted(path.rglob("*")):
        if file.is_file():
            digest.update(file.relative_to(path).as_posix().encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--attempts", type=int, default=3)
    parser.add_argument("--budget", type=float, default=300.0)
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--all", action="store_true", help="also the projects not expected to be repairable")
    parser.add_argument("--replay-first", action="store_true")
    parser.add_argument("--json", type=Path, default=None, help="write per-project outcomes here")
    args = parser.parse_args()
    from core.settings import Settings

    cases = [
        c for c in load_corpus() if (c.repairable or args.all) and (not args.only or c.name in args.only)
    ]
    digests = {c.name: tree_digest(c.path) for c in cases}
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))  # type: ignore[call-arg]
        with ExperimentStore(settings.experiments_db) as store:
            live = store_runner(settings, store)
            for case in cases:
                replayed: dict[str, float] = {}
                recorded = RECORDED / f"{case.name}.json"

                def runner(
                    spec: RunSpec,
                    lineage: Lineage,
                    case_files: dict[str, str] = case.files,
                    recorded: Path = recorded,
                    replayed: dict[str, float] = replayed,
                ) -> Experiment:
                    if (
                        args.replay_first
                        and lineage.parent_id is None
                        and spec.files == case_files
                        and recorded.is_file()
                    ):
                        result = RunResult.model_validate(json.loads(recorded.read_text())["result"])
                        same_limits = all(
                            result.limits.get(key) == getattr(spec.limits, key)
                            for key in ("timeout_s", "memory_mb")
                        )
                        if not same_limits:  # recorded under other limits: not the same run, so run it
                            return live(spec, lineage)
                        replayed["duration_s"] = result.duration_s
                        return store.record(
                            spec, result, environment=capture_environment(result), lineage=lineage
                        )
                    return live(spec, lineage)

                extra = case.expected.get("spec") or {}
                request = FixRunRequest(
                    files=case.files,
                    attempts=args.attempts,
                    budget_s=args.budget,
                    steps=int(extra.get("steps", DEFAULT_STEPS)),
                    timeout_s=float(extra.get("timeout_s", DEFAULT_TIMEOUT_S)),
                    memory_mb=extra.get("memory_mb"),
                )
                started = time.monotonic()
                report = fix_run(request, settings, runner)
                elapsed = time.monotonic() - started
                to_train = None
                if report.time_to_training_s is not None:
                    to_train = report.time_to_training_s + replayed.get("duration_s", 0.0)
                repairs = len(report.attempts) - 1
                kinds = " > ".join(a.diagnosis.kind for a in report.attempts)
                rows.append(
                    {
                        "name": case.name,
                        "expected": case.kind,
                        "repairable": case.repairable,
                        "outcome": report.outcome,
                        "trained": report.trained,
                        "repairs": repairs,
                        "kinds": kinds,
                        "time_to_training_s": to_train,
                        "loop_s": round(elapsed, 1),
                    }
                )
                print(
                    f"{case.name:32s} {report.outcome:18s} repairs={repairs} "
                    f"t={to_train if to_train is None else round(to_train, 1)}  {kinds}",
                    flush=True,
                )
    modified = [c.name for c in cases if tree_digest(c.path) != digests[c.name]]
    repairable = [r for r in rows if r["repairable"]]
    trained = [r for r in repairable if r["trained"] and r["repairs"] <= args.attempts]
    times = [r["time_to_training_s"] for r in trained if r["time_to_training_s"] is not None]
    print()
    if repairable:
        print(
            f"repairable projects that train within {args.attempts} repairs: {len(trained)}/{len(repairable)} = "
            f"{100 * len(trained) / len(repairable):.1f}% (target >= 85%)"
        )
    if times:
        print(
            f"median time to a training run: {statistics.median(times):.1f} s (min {min(times):.1f}, max {max(times):.1f})"
        )
    print(f"modified project files: {len(modified)} {modified if modified else ''}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
