"""``mlagent smoke`` and ``mlagent experiments``: sandboxed smoke runs and their records, from a terminal.

The smoke command runs in-process through the configured backend (no server needed) and shows live progress
on stderr: a progress bar on a terminal, one plain line per few steps otherwise (CI logs). Exit codes follow
the CLI contract: 0 succeeded, 1 the run ended any other way, 2 bad usage or unreadable input.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any, TextIO

from core.errors import UsageError

SKIP_DIRS = {
    "__pycache__",
    "node_modules",
    "venv",
    "lightning_logs",
    "outputs",
    "multirun",
    "wandb",
    "mlruns",
}
CODE_SUFFIXES = {".py", ".yaml", ".yml"}


def add_parser(subparsers: Any) -> None:
    """Register ``smoke`` and ``experiments`` on the ``mlagent`` argument parser."""
    smoke = subparsers.add_parser(
        "smoke",
        help="run a project's LightningModule for a few steps in the sandbox",
        description="Train the project in DIR for a few steps inside the sandbox and report whether it learns.",
    )
    smoke.add_argument(
        "dir", metavar="DIR", help="project folder (its .py and YAML files are sent) or one .py file"
    )
    smoke.add_argument(
        "--steps", type=_positive_int, default=None, help="training steps (default: service setting)"
    )
    smoke.add_argument("--timeout", type=float, default=None, help="wall-clock limit in seconds")
    smoke.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    smoke.add_argument("--seed", type=int, default=42)
    smoke.add_argument("--module-class", default=None, help="LightningModule class, when there are several")
    smoke.add_argument("--datamodule-class", default=None, help="LightningDataModule class")
    smoke.add_argument("--format", choices=["text", "json"], default="text")
    smoke.set_defaults(func=smoke_command)

    experiments = subparsers.add_parser(
        "experiments",
        help="recorded smoke runs: list, show, compare, reproduce",
        description="Recorded runs.",
    )
    actions = experiments.add_subparsers(dest="experiments_action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="recorded experiments, newest first")
    listing.add_argument("--limit", type=_positive_int, default=20)
    listing.add_argument("--offset", type=_non_negative_int, default=0)
    listing.add_argument("--format", choices=["text", "json"], default="text")
    listing.set_defaults(func=experiments_list_command)
    show = actions.add_parser("show", help="one experiment in full")
    show.add_argument("id", metavar="ID")
    show.add_argument("--format", choices=["text", "json"], default="text")
    show.add_argument("--files", action="store_true", help="include the recorded files (json format)")
    show.add_argument("--plot", metavar="FILE", help="write the loss curve to FILE (.svg or .png)")
    show.set_defaults(func=experiments_show_command)
    compare = actions.add_parser("compare", help="experiments side by side")
    compare.add_argument("ids", metavar="ID", nargs="+")
    compare.add_argument("--format", choices=["text", "json"], default="text")
    compare.add_argument("--plot", metavar="FILE", help="write the loss curves to FILE (.svg or .png)")
    compare.set_defaults(func=experiments_compare_command)
    again = actions.add_parser(
        "reproduce", help="re-run an experiment with its seed; compare the loss curves"
    )
    again.add_argument("id", metavar="ID")
    again.add_argument("--format", choices=["text", "json"], default="text")
    again.set_defaults(func=experiments_reproduce_command)


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None


def _positive_int(text: str) -> int:
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {value}")
    return value


# --- reading a project ---


def read_project(path: Path, *, max_files: int = 200) -> dict[str, str]:
    """The project's .py and YAML files (relative path -> text); UsageError when there is nothing to run."""
    if not path.exists():
        raise UsageError(f"no such file or directory: {path}")
    if path.is_file():
        if path.suffix != ".py":
            raise UsageError(f"not a Python file: {path}")
        return {path.name: _read_text(path)}
    if not path.is_dir():
        raise UsageError(f"not a file or directory: {path}")
    files: dict[str, str] = {}
    for file in sorted(path.rglob("*")):
        relative = file.relative_to(path)
        if any(part.startswith(".") or part in SKIP_DIRS for part in relative.parts[:-1]):
            continue
        if file.is_file() and file.suffix in CODE_SUFFIXES and not file.name.startswith("."):
            files[relative.as_posix()] = _read_text(file)
            if len(files) > max_files:
                raise UsageError(
                    f"{path} has more than {max_files} .py/YAML files; point at the project folder"
                )
    if not any(name.endswith(".py") for name in files):
        raise UsageError(f"no .py files in {path}")
    return files


def _read_text(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {file}: {exc}") from exc


# --- progress ---


class Progress:
    """Live progress on stderr: a redrawn bar on a terminal, sparse plain lines elsewhere."""

    def __init__(self, total_steps: int, stream: TextIO | None = None) -> None:
        self.total = max(1, total_steps)
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.started = time.monotonic()
        self._last_line = 0.0
        self._lock = threading.Lock()

    def __call__(self, event: dict[str, Any]) -> None:
        with self._lock:
            kind = event.get("type")
            if kind == "status":
                self._line(f"status: {event.get('status')}")
            elif kind == "step":
                self._step(event)

    def _step(self, event: dict[str, Any]) -> None:
        step = int(event.get("step", 0))  # the harness counts steps from 1
        loss = event.get("loss")
        speed = event.get("samples_per_s")
        text = f"step {step}/{self.total}"
        if isinstance(loss, int | float):
            text += f"  loss {loss:.4f}"
        if isinstance(speed, int | float):
            text += f"  {speed:.1f} samples/s"
        if self.tty:
            width = 24
            filled = min(width, round(width * step / self.total))
            self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {text}\x1b[K")
            self.stream.flush()
        elif step == 1 or step == self.total or time.monotonic() - self._last_line >= 2.0:
            self._last_line = time.monotonic()
            self.stream.write(text + "\n")
            self.stream.flush()

    def _line(self, text: str) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K")
        self.stream.write(text + "\n")
        self.stream.flush()

    def finish(self) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


# --- commands ---


def smoke_command(args: argparse.Namespace) -> int:
    """``mlagent smoke DIR``: exit 0 when the run succeeded, 1 otherwise, 2 for bad input."""
    from pydantic import ValidationError

    from core.settings import get_settings
    from tools.smoke import SmokeRunRequest, SubmissionTooLarge, run_smoke, smoke_policy

    settings = get_settings()
    files = read_project(Path(args.dir))
    try:
        request = SmokeRunRequest(
            files=files,
            steps=args.steps,
            timeout_s=args.timeout,
            device=args.device,
            seed=args.seed,
            module_class=args.module_class,
            datamodule_class=args.datamodule_class,
        )
        request.to_run_spec(settings)  # size limits, before anything starts
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise UsageError(f"invalid smoke run: {where}: {first['msg']}") from None
    except SubmissionTooLarge as exc:
        raise UsageError(str(exc)) from None
    default_steps, default_timeout_s, source = smoke_policy(files, settings)
    steps = request.steps or default_steps
    timeout_s = request.timeout_s or default_timeout_s
    chosen = "as given" if request.steps and request.timeout_s else f"from {source}"
    sys.stderr.write(f"smoke run: {steps} steps, time limit {timeout_s:.0f} s ({chosen})\n")
    progress = Progress(steps)
    cancel = threading.Event()
    finished = threading.Event()
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["result"] = run_smoke(request, settings, on_event=progress, cancel=cancel)
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            finished.set()

    from sandbox.backends.ray import restore_default_sigint

    restore_default_sigint()  # Ctrl-C must cancel even if the parent shell left SIGINT ignored
    threading.Thread(target=work, name="smoke-run", daemon=True).start()
    # Wait on an Event, not Thread.join: a Ctrl-C that interrupts join() can leave the thread looking dead.
    try:
        while not finished.wait(0.2):
            pass
    except KeyboardInterrupt:
        cancel.set()  # the sandbox kills the run and cleans up; a second Ctrl-C exits at once
        sys.stderr.write("\ncancelling (Ctrl-C again to quit at once)...\n")
        while not finished.wait(0.2):
            pass
    progress.finish()
    if "error" in outcome:
        raise outcome["error"]
    result = outcome["result"]
    if args.format == "json":
        print(result.model_dump_json(indent=2))
    else:
        print(format_result_text(result))
    return 0 if result.status == "succeeded" else 1


def format_result_text(result: Any) -> str:
    """A short human summary of a RunResult."""
    lines = [f"smoke run {result.id}: {result.status}" + (f" on {result.device}" if result.device else "")]
    if result.losses:
        trend = {True: "decreased", False: "did not decrease", None: "trend unknown"}[result.loss_decreased]
        lines.append(
            f"loss: {result.losses[0]:.4f} -> {result.losses[-1]:.4f} over {result.steps} steps ({trend})"
        )
    facts = []
    if result.samples_per_s is not None:
        facts.append(f"{result.samples_per_s:.1f} samples/s")
    if result.peak_memory_mb is not None:
        facts.append(f"peak memory {result.peak_memory_mb:.0f} MB")
    facts.append(f"duration {result.duration_s:.1f} s")
    lines.append(", ".join(facts))
    if result.error:
        lines.append(f"error: {result.error}")
    if result.status != "succeeded" and result.stdout_tail:
        tail = result.stdout_tail.rstrip().splitlines()[-15:]
        lines.append("output (last lines):")
        lines.extend("  " + line for line in tail)
    if result.experiment_id:
        lines.append(f"experiment: {result.experiment_id}")
    return "\n".join(lines)


def _open_store() -> Any:
    from core.settings import get_settings
    from sandbox.experiments import ExperimentStore

    try:
        return ExperimentStore(get_settings().experiments_db)
    except Exception as exc:
        raise UsageError(f"cannot open the experiment store: {exc}") from None


def _write_plot(file: str, curves: dict[str, list[float]], title: str) -> None:
    from sandbox.plots import plot_format_for, render_loss_plot

    try:
        fmt = plot_format_for(file)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    image = render_loss_plot(curves, fmt=fmt, title=title)
    try:
        Path(file).write_bytes(image)
    except OSError as exc:
        raise UsageError(f"cannot write {file}: {exc}") from None
    print(f"plot written to {file}", file=sys.stderr)


def experiments_list_command(args: argparse.Namespace) -> int:
    with _open_store() as store:
        summaries = store.list(limit=args.limit, offset=args.offset)
    if args.format == "json":
        print(json.dumps([s.model_dump(mode="json") for s in summaries], indent=2))
        return 0
    if not summaries:
        print("no experiments recorded yet (run `mlagent smoke DIR`)")
        return 0
    header = ("id", "created (UTC)", "status", "steps", "final loss", "decreased", "code", "reproduces")
    rows = [header] + [
        (
            s.id,
            s.created_at[:19].replace("T", " "),
            s.status,
            str(s.steps),
            "-" if s.final_loss is None else f"{s.final_loss:.4f}",
            {True: "yes", False: "no", None: "-"}[s.loss_decreased],
            s.code_hash[:12],
            s.reproduces or "",
        )
        for s in summaries
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
    return 0


def experiments_show_command(args: argparse.Namespace) -> int:
    from sandbox.experiments import ExperimentNotFound

    with _open_store() as store:
        try:
            experiment = store.get(args.id, files=args.files)
        except ExperimentNotFound as exc:
            raise UsageError(str(exc)) from None
    if args.format == "json":
        print(experiment.model_dump_json(indent=2, exclude_none=not args.files))
    else:
        env = experiment.environment
        print(f"experiment {experiment.id} (run {experiment.run_id}), recorded {experiment.created_at}")
        if experiment.reproduces:
            print(f"reproduces: {experiment.reproduces}")
        print(f"code: {experiment.code_hash[:16]}  files: {', '.join(experiment.file_names)}")
        spec = experiment.spec
        print(f"spec: steps={spec.get('steps')} seed={spec.get('seed')} device={spec.get('device')}")
        print(
            f"environment: python {env.python}, torch {env.torch}, lightning {env.lightning}, "
            f"device {env.device}, isolation {env.isolation}, backend {env.backend}"
        )
        print(format_result_text(experiment.result))
        if experiment.metrics.losses:
            print("losses: " + " ".join(f"{v:.4f}" for v in experiment.metrics.losses))
    if args.plot:
        _write_plot(args.plot, {experiment.id: experiment.metrics.losses}, f"Loss curve of {experiment.id}")
    return 0


def experiments_compare_command(args: argparse.Namespace) -> int:
    from sandbox.experiments import MAX_COMPARE, ExperimentNotFound, format_comparison_text

    if not 2 <= len(args.ids) <= MAX_COMPARE:
        raise UsageError(f"compare needs 2 to {MAX_COMPARE} experiment ids")
    with _open_store() as store:
        try:
            comparison = store.compare(args.ids)
        except ExperimentNotFound as exc:
            raise UsageError(str(exc)) from None
    if args.format == "json":
        print(comparison.model_dump_json(indent=2))
    else:
        print(format_comparison_text(comparison))
    if args.plot:
        _write_plot(args.plot, comparison.loss_curves, "Loss curves")
    return 0


def experiments_reproduce_command(args: argparse.Namespace) -> int:
    """Exit 0 when the re-run's loss curve matches the recorded one, 1 when it does not."""
    from sandbox.experiments import ExperimentNotFound, reproduce

    try:
        report = reproduce(args.id)
    except ExperimentNotFound as exc:
        raise UsageError(str(exc)) from None
    if args.format == "json":
        print(report.model_dump_json(indent=2))
    else:
        verdict = "reproduced" if report.matches else "NOT reproduced"
        print(f"experiment {report.experiment_id}: {verdict} by {report.reproduction_id}")
        print(f"status: {report.original_status} -> {report.status}")
        print(report.curve.message + f" (rtol {report.curve.rtol:g}, atol {report.curve.atol:g})")
    return 0 if report.matches else 1
