"""The agent's tool belt: LangChain tools over the plain tool functions in ``tools/`` and ``sandbox/``.

Each tool answers with Markdown content (what an LLM reads, and what the offline planner shows) and a
structured artifact (the tool's Pydantic result as JSON, returned to HTTP clients in ``tool_calls``). Tools
that act on "the code" fall back to the latest code of the conversation (injected graph state), so "smoke-test
it" works the same with the offline planner and with a real LLM that leaves the arguments empty.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from langchain_core.messages import BaseMessage
from langchain_core.tools import BaseTool, StructuredTool
from langgraph.prebuilt import InjectedState
from pydantic import BaseModel, Field, ValidationError

from agent.code_context import latest_code
from agent.user_errors import TOOL_NAMES, friendly_validation
from core.settings import Settings
from tools.workers import WorkerPool

ToolOutput = tuple[str, dict[str, Any]]
NO_CODE = (
    "There is no code in this conversation yet. Paste your training code (a fenced ```python block is best) "
    "and ask again."
)


@dataclass
class ToolContext:
    """What the tools need from their host: the settings and, inside the server, the smoke queue and workers."""

    settings: Settings
    smoke_manager: Any | None = None
    review_pool: WorkerPool | None = None
    """Worker processes for reviews in the server; None reviews in this process (the command line)."""


def _failure(tool: str, message: str) -> ToolOutput:
    """A tool-level failure reported as data, so the agent explains it instead of the run crashing."""
    what = TOOL_NAMES.get(tool, tool)
    return f"**I could not run {what}:** {message}", {"error": message}


def _validation_message(error: ValidationError, tool: str | None = None) -> str:
    return friendly_validation(error, tool)


def _resolve_files(
    code: str | None, files: dict[str, str] | None, state: dict[str, Any] | None
) -> tuple[dict[str, str], str] | None:
    """The files a tool should act on: explicit arguments first, else the latest code of the thread."""
    if files:
        return files, "the files given"
    if code and code.strip():
        from agent.code_context import extract_code_files

        extracted = extract_code_files(code)
        return (extracted or {"submitted.py": code}), "the code given"
    messages: Sequence[BaseMessage] = (state or {}).get("messages", [])
    return latest_code(messages)


# --- review -------------------------------------------------------------------------------------------------


class ReviewArgs(BaseModel):
    """Arguments of the review_code tool."""

    code: str | None = Field(default=None, description="One Python file to review. Empty: latest code.")
    files: dict[str, str] | None = Field(default=None, description="Several files: path -> text.")
    fix: bool = Field(default=False, description="Apply the safe automatic fixes and return the fixed files.")
    state: Annotated[dict[str, Any] | None, InjectedState] = None


def review_code(
    code: str | None = None,
    files: dict[str, str] | None = None,
    fix: bool = False,
    state: dict[str, Any] | None = None,
    pool: WorkerPool | None = None,
) -> ToolOutput:
    """Review PyTorch/Lightning code against the 14-item checklist (and fix it when asked)."""
    from tools.review import ReviewRequest, render
    from tools.review.bounded import ReviewRefused, review_bounded

    resolved = _resolve_files(code, files, state)
    if resolved is None:
        return _failure("review_code", NO_CODE)
    target, origin = resolved
    try:
        report = review_bounded(ReviewRequest(files=target, fix=fix), pool)
    except ValidationError as error:
        return _failure("review_code", _validation_message(error))
    except ReviewRefused as refused:
        return _failure("review_code", refused.message)
    artifact = report.model_dump(mode="json")
    artifact["reviewed"] = origin
    content = render(report, "markdown")
    fixed = getattr(report, "fixed_files", None)
    if fix and fixed:
        changed = {path: text for path, text in fixed.items() if target.get(path) != text}
        if changed:
            blocks = "\n\n".join(
                f"**{path}**\n```python\n{text.rstrip()}\n```" for path, text in changed.items()
            )
            content += f"\n\n### Fixed code\n\n{blocks}"
        else:
            content += "\n\nNo automatic fix applied: the remaining findings need a human decision."
    return content, artifact


# --- recommend ----------------------------------------------------------------------------------------------


class RecommendArgs(BaseModel):
    """Arguments of the recommend_architecture tool."""

    question: str | None = Field(default=None, description="The user's question in their own words.")
    task: str | None = Field(default=None, description="classification, segmentation, detection, ...")
    constraints: dict[str, Any] | None = Field(
        default=None, description="dataset_size, latency_ms, device, ..."
    )
    alternative: str | None = Field(
        default=None,
        description='An architecture the user asks about ("why not YOLO?"): compared with the top pick for task.',
    )


def recommend_architecture(
    question: str | None = None,
    task: str | None = None,
    constraints: dict[str, Any] | None = None,
    alternative: str | None = None,
) -> ToolOutput:
    """Ranked architecture/backbone/loss/augmentation/metric advice computed from the knowledge base."""
    from tools.alternatives import explain_alternative
    from tools.recommend import Constraints, RecommendRequest, recommend, render_recommendation

    try:
        if alternative and task:
            answer = explain_alternative(task, alternative, Constraints.model_validate(constraints or {}))
            return answer.markdown, {
                "alternative": alternative,
                "found": answer.found,
                "task": answer.task,
                "architecture": answer.architecture,
            }
        if task and question:
            # The planner knows the task (from the thread or its slot parser); the question adds constraints.
            from knowledge import load_knowledge
            from tools.recommend import parse_question

            _, parsed, _ = parse_question(question, load_knowledge())
            merged = {**parsed.model_dump(exclude_none=True), **(constraints or {})}
            request = RecommendRequest(task=task, constraints=Constraints.model_validate(merged))
        elif task:
            request = RecommendRequest(task=task, constraints=Constraints.model_validate(constraints or {}))
        else:
            request = RecommendRequest(question=question or "")
        result = recommend(request)
    except (ValidationError, ValueError) as error:
        message = _validation_message(error) if isinstance(error, ValidationError) else str(error)
        return _failure("recommend_architecture", message)
    return render_recommendation(result), result.model_dump(mode="json")


# --- generate -----------------------------------------------------------------------------------------------


DEFAULT_BACKBONE = "resnet18"


class GenerateArgs(BaseModel):
    """Arguments of the generate_project tool."""

    task: str = Field(description="classification, segmentation or detection")
    backbone: str | None = Field(default=None, description="torchvision backbone, e.g. resnet18")
    num_classes: int | None = Field(default=None, ge=1)
    image_size: int | None = Field(default=None, ge=16)
    package: Literal["lightning", "pytorch_lightning"] = "lightning"


def _render_generated(result: Any) -> str:
    files: dict[str, str] = result.files
    lines = [f"### Generated project ({len(files)} files)", ""]
    lines += [f"- `{path}` ({text.count(chr(10))} lines)" for path, text in sorted(files.items())]
    for key in ("model.py", "data.py", "train.py"):
        path = next((p for p in files if p.endswith(key)), None)
        if path:
            lines += ["", f"**{path}**", "```python", files[path].rstrip(), "```"]
    review = getattr(result, "review", None)
    if review is not None:
        checklist = review.checklist if hasattr(review, "checklist") else review.get("checklist", [])
        statuses = [item.status if hasattr(item, "status") else item["status"] for item in checklist]
        lines += [
            "",
            f"Review of the generated code: {statuses.count('pass')}/{len(statuses)} checklist items pass.",
        ]
    for note in getattr(result, "notes", []) or []:
        lines.append(f"- {note}")
    lines += ["", 'Say "smoke-test it" to train it for a few steps in the sandbox.']
    return "\n".join(lines)


def generate_project(
    task: str,
    backbone: str | None = None,
    num_classes: int | None = None,
    image_size: int | None = None,
    package: str = "lightning",
) -> ToolOutput:
    """Write a complete Lightning project (config, model, data, train, export) for a task."""
    from tools.codegen import GenerateSpec, allowed_backbones, generate

    if num_classes is None:
        return _failure(
            "generate_project",
            f'how many classes should the {task} model predict? Say, for example, "with 10 classes".',
        )
    chosen_notes: list[str] = []
    if backbone is None and task in {"classification", "segmentation", "detection"}:
        # A small, well-understood default that trains quickly; the user can ask for another one.
        backbone = (
            DEFAULT_BACKBONE if DEFAULT_BACKBONE in allowed_backbones(task) else allowed_backbones(task)[0]
        )
        chosen_notes.append(f"No backbone was named, so I used `{backbone}`; ask for another one any time.")
    values: dict[str, Any] = {"task": task, "package": package, "num_classes": num_classes}
    for key, value in (("backbone", backbone), ("image_size", image_size)):
        if value is not None:
            values[key] = value
    try:
        result = generate(GenerateSpec(**values))
    except (ValidationError, ValueError) as error:
        message = _validation_message(error) if isinstance(error, ValidationError) else str(error)
        return _failure("generate_project", message)
    result.notes[:0] = chosen_notes
    return _render_generated(result), result.model_dump(mode="json")


# --- smoke run ----------------------------------------------------------------------------------------------


class SmokeArgs(BaseModel):
    """Arguments of the smoke_run tool."""

    code: str | None = Field(default=None, description="Code to train. Empty: the latest code in the thread.")
    files: dict[str, str] | None = Field(default=None, description="Project files: path -> text.")
    steps: int | None = Field(default=None, ge=1, le=1000, description="Optimisation steps (default 20).")
    device: Literal["auto", "cpu", "cuda"] = "auto"
    state: Annotated[dict[str, Any] | None, InjectedState] = None


def render_smoke_result(result: Any) -> str:
    """Markdown verdict and metrics table of a smoke run, shared by the agent and the CLI."""
    verdict = {
        "succeeded": "✅ **It trains.**",
        "failed": "❌ **The run failed.**",
        "timeout": "⏱️ **The run hit its time limit.**",
        "oom": "💥 **The run ran out of memory.**",
        "cancelled": "⏹️ **The run was cancelled.**",
        "rejected": "🚫 **The run was refused.**",
    }.get(result.status, f"Status: **{result.status}**")
    rows = [
        ("status", result.status),
        ("device", result.device or "-"),
        ("steps", str(result.steps)),
        ("first → last loss", f"{result.losses[0]:.4f} → {result.losses[-1]:.4f}" if result.losses else "-"),
        ("loss decreased", {True: "yes", False: "no", None: "-"}[result.loss_decreased]),
        ("samples/s", f"{result.samples_per_s:.1f}" if result.samples_per_s else "-"),
        ("peak RAM (MB)", f"{result.peak_memory_mb:.0f}" if result.peak_memory_mb else "-"),
        ("duration (s)", f"{result.duration_s:.1f}"),
        ("experiment", result.experiment_id or "-"),
    ]
    table = "\n".join(["| metric | value |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows])
    parts = [verdict, "", table]
    if result.error:
        parts += ["", "**Error:**", "```text", result.error.strip(), "```"]
    if result.status == "succeeded" and result.loss_decreased is False:
        parts += [
            "",
            "The loss did not go down over these steps: check the learning rate and the loss/target pairing.",
        ]
    return "\n".join(parts)


DeviceChoice = Literal["auto", "cpu", "cuda"]


# Generated projects train a real backbone at their configured image size and batch (ResNet-18 at 224 px takes
# ~8 s a step on 2 CPU cores), so a chat-triggered smoke run of one uses fewer steps and a longer deadline.
GENERATED_SMOKE_STEPS = 6
GENERATED_SMOKE_TIMEOUT_S = 420.0


async def _smoke_run(
    ctx: ToolContext,
    files: dict[str, str],
    steps: int | None,
    device: DeviceChoice,
    *,
    generated: bool = False,
) -> Any:
    from tools.smoke import SmokeRunRequest, run_smoke

    settings = ctx.settings
    request = SmokeRunRequest(
        files=files,
        steps=steps or (GENERATED_SMOKE_STEPS if generated else settings.smoke_default_steps),
        timeout_s=max(settings.smoke_default_timeout_s, GENERATED_SMOKE_TIMEOUT_S if generated else 0.0),
        device=device,
    )
    if ctx.smoke_manager is not None:
        from tools.smoke import run_smoke_async

        return await run_smoke_async(request, ctx.smoke_manager)
    return await asyncio.to_thread(run_smoke, request, settings)


# --- export -------------------------------------------------------------------------------------------------


class ExportArgs(BaseModel):
    """Arguments of the export_onnx tool."""

    code: str | None = Field(
        default=None, description="Code to export. Empty: the latest code in the thread."
    )
    files: dict[str, str] | None = Field(default=None, description="Project files: path -> text.")
    module_class: str | None = Field(default=None, description="The model class, when there are several.")
    input_shape: list[int] | None = Field(
        default=None, description="Example input shape, e.g. [1, 3, 224, 224]."
    )
    state: Annotated[dict[str, Any] | None, InjectedState] = None


def render_export_result(result: Any) -> str:
    """Markdown verdict of an ONNX export check."""
    verdict = {
        "succeeded": "✅ **The model exports to ONNX.**",
        "failed": "❌ **The ONNX export failed.**",
    }.get(result.status, f"Export status: **{result.status}**")
    lines = [verdict, "", result.message]
    if result.inputs or result.outputs:
        lines += ["", "| tensor | name | shape |", "|---|---|---|"]
        lines += [f"| input | {t.get('name')} | {t.get('shape')} |" for t in result.inputs]
        lines += [f"| output | {t.get('name')} | {t.get('shape')} |" for t in result.outputs]
    if result.max_abs_diff is not None:
        lines += [
            "",
            f"Largest difference between ONNX Runtime and PyTorch outputs: {result.max_abs_diff:.2e}.",
        ]
    if result.status != "succeeded" and result.log_tail:
        lines += ["", "```text", result.log_tail.strip()[-2000:], "```"]
    return "\n".join(lines)


# --- experiments --------------------------------------------------------------------------------------------


class ExperimentsArgs(BaseModel):
    """Arguments of the list_experiments tool."""

    limit: int = Field(default=10, ge=1, le=100)


class CompareArgs(BaseModel):
    """Arguments of the compare_experiments tool."""

    ids: list[str] = Field(
        default_factory=list,
        max_length=10,
        description="Experiment ids (exp-...) to compare; fewer than two: the most recent runs fill up.",
    )


# --- edit -------------------------------------------------------------------------------------------------


class EditArgs(BaseModel):
    """Arguments of the edit_code tool."""

    instruction: str = Field(
        min_length=1,
        max_length=2000,
        description='What to change, in words: "make it use bf16", "add early stopping".',
    )
    code: str | None = Field(default=None, description="Code to edit. Empty: the latest code in the thread.")
    files: dict[str, str] | None = Field(default=None, description="Project files: path -> text.")
    state: Annotated[dict[str, Any] | None, InjectedState] = None


def render_edit_result(result: Any) -> str:
    """Markdown of an edit: what changed where, what could not be done, the diff and the review delta."""
    lines = ["### Edits"]
    lines += [f"- {sentence}" for sentence in result.applied] or ["- Nothing changed."]
    if result.skipped:
        lines += ["", "**Not done:**", *[f"- {sentence}" for sentence in result.skipped]]
    if result.diff:
        lines += ["", "```diff", result.diff.rstrip(), "```"]
    if result.score_before is not None and result.score_after is not None:
        lines += ["", f"Review score {result.score_before:g} -> {result.score_after:g}."]
    changed = [c for c in result.checklist if c.before != c.after]
    if changed:
        lines += [f"- `{c.id}`: {c.before} -> {c.after}" for c in changed]
    if result.diff:
        lines += [
            "",
            'The edited code is now the code of this conversation: say "smoke-test it" to train it.',
        ]
    return "\n".join(lines)


def edit_code(
    instruction: str,
    code: str | None = None,
    files: dict[str, str] | None = None,
    state: dict[str, Any] | None = None,
    pool: WorkerPool | None = None,
) -> ToolOutput:
    """Apply LibCST edits the instruction asks for to the code, show the diff and re-review the result."""
    from tools.edit import EditRequest, describe_supported, parse_instruction
    from tools.edit import edit_code as run_edit
    from tools.workers import WorkerError

    resolved = _resolve_files(code, files, state)
    if resolved is None:
        return _failure("edit_code", NO_CODE)
    target, origin = resolved
    if not parse_instruction(instruction):
        return _failure(
            "edit_code",
            f"I did not recognise an edit in that request. I can do these:\n\n{describe_supported()}",
        )
    try:
        request = EditRequest(files=target, instruction=instruction)
        # Editing parses the user's code with LibCST: in the server that happens in a bounded worker.
        result = pool.call("tools.edit:edit_code", request) if pool else run_edit(request)
    except ValidationError as error:
        return _failure("edit_code", _validation_message(error, "edit_code"))
    except WorkerError as error:
        return _failure("edit_code", f"the edit was stopped: {error}")
    artifact = result.model_dump(mode="json")
    artifact["edited"] = origin
    return render_edit_result(result), artifact


# --- general questions --------------------------------------------------------------------------------------


class AnswerArgs(BaseModel):
    """Arguments of the answer_question tool."""

    question: str = Field(
        min_length=1, max_length=4000, description="The user's question in their own words."
    )


def answer_question(question: str) -> ToolOutput:
    """A general ML-engineering answer composed from the knowledge base, naming its entries (or saying that
    nothing fits)."""
    from knowledge.answer import answer_question as answer

    result = answer(question)
    return result.markdown, result.model_dump(mode="json")


# --- explain ------------------------------------------------------------------------------------------------


class ExplainArgs(BaseModel):
    """Arguments of the explain_checklist_item tool."""

    item: str = Field(description="A checklist id (e.g. gradient-clipping) or a rule id (e.g. MLR006).")


def explain_checklist_item(item: str) -> ToolOutput:
    """What a checklist item (or review rule) means, why it matters, and how it is judged."""
    from agent.checklist_guide import explain

    try:
        return explain(item)
    except KeyError as error:
        return _failure("explain_checklist_item", str(error.args[0]))


def build_tools(ctx: ToolContext) -> list[BaseTool]:
    """The tool belt bound to one host (CLI process or server)."""

    def edit_with_host_pool(
        instruction: str,
        code: str | None = None,
        files: dict[str, str] | None = None,
        state: dict[str, Any] | None = None,
    ) -> ToolOutput:
        return edit_code(instruction, code, files, state, pool=ctx.review_pool)

    def review_with_host_pool(
        code: str | None = None,
        files: dict[str, str] | None = None,
        fix: bool = False,
        state: dict[str, Any] | None = None,
    ) -> ToolOutput:
        return review_code(code, files, fix, state, pool=ctx.review_pool)

    async def smoke_run(
        code: str | None = None,
        files: dict[str, str] | None = None,
        steps: int | None = None,
        device: DeviceChoice = "auto",
        state: dict[str, Any] | None = None,
    ) -> ToolOutput:
        resolved = _resolve_files(code, files, state)
        if resolved is None:
            return _failure("smoke_run", NO_CODE)
        target, origin = resolved
        try:
            result = await _smoke_run(ctx, target, steps, device, generated=origin == "the generated project")
        except ValidationError as error:
            return _failure("smoke_run", _validation_message(error))
        artifact = result.model_dump(mode="json")
        artifact["trained"] = origin
        return f"Smoke run of {origin}:\n\n{render_smoke_result(result)}", artifact

    async def export_onnx(
        code: str | None = None,
        files: dict[str, str] | None = None,
        module_class: str | None = None,
        input_shape: list[int] | None = None,
        state: dict[str, Any] | None = None,
    ) -> ToolOutput:
        from tools.export import ExportRequest
        from tools.export import export_onnx as run_export

        resolved = _resolve_files(code, files, state)
        if resolved is None:
            return _failure("export_onnx", NO_CODE)
        target, origin = resolved
        try:
            request = ExportRequest(files=target, module_class=module_class, input_shape=input_shape)
        except ValidationError as error:
            return _failure("export_onnx", _validation_message(error))
        # Exporting executes the submitted code, so it runs as a sandbox job (never in this process).
        result = await asyncio.to_thread(run_export, request, ctx.settings)
        artifact = result.model_dump(mode="json")
        artifact["exported"] = origin
        return (
            f"ONNX export check of {origin} (run in the sandbox):\n\n{render_export_result(result)}",
            artifact,
        )

    def list_experiments(limit: int = 10) -> ToolOutput:
        from sandbox.experiments import ExperimentStore, render_experiment_list

        with ExperimentStore(ctx.settings.experiments_db) as store:
            records = store.list(limit=limit)
        return render_experiment_list(records), {"experiments": [r.model_dump(mode="json") for r in records]}

    def compare_experiments(ids: list[str] | None = None) -> ToolOutput:
        from sandbox.experiments import ExperimentStore, render_comparison

        try:
            with ExperimentStore(ctx.settings.experiments_db) as store:
                chosen = list(dict.fromkeys(ids or []))
                if len(chosen) < 2:
                    # "compare the last two runs": the most recent runs fill up what was not named.
                    recent = [record.id for record in store.list(limit=4) if record.id not in chosen]
                    chosen = (chosen + recent)[:2]
                if len(chosen) < 2:
                    return _failure(
                        "compare_experiments",
                        "there is nothing to compare yet: it takes two recorded runs, and "
                        f"{'only one exists' if chosen else 'none exists'}. Say **smoke-test it** to record one.",
                    )
                comparison = store.compare(chosen)
        except KeyError as error:  # ExperimentNotFound: its str() names the unknown ids
            return _failure("compare_experiments", str(error).strip("'\""))
        except ValueError as error:
            return _failure("compare_experiments", str(error))
        return render_comparison(comparison), comparison.model_dump(mode="json")

    def make(
        func: Any, schema: type[BaseModel], name: str, description: str, coroutine: Any = None
    ) -> BaseTool:
        return StructuredTool.from_function(
            func=None if coroutine else func,
            coroutine=coroutine,
            name=name,
            description=description,
            args_schema=schema,
            response_format="content_and_artifact",
        )

    return [
        make(
            review_with_host_pool,
            ReviewArgs,
            "review_code",
            "Static review of PyTorch/Lightning code (14-item checklist).",
        ),
        make(
            recommend_architecture,
            RecommendArgs,
            "recommend_architecture",
            "Architecture, backbone, loss, augmentation and metric advice for a CV task.",
        ),
        make(generate_project, GenerateArgs, "generate_project", "Generate a complete Lightning project."),
        make(
            None,
            SmokeArgs,
            "smoke_run",
            "Train code for a few steps in the sandbox; reports losses, speed, memory.",
            coroutine=smoke_run,
        ),
        make(
            edit_with_host_pool,
            EditArgs,
            "edit_code",
            "Edit the thread's code on request (precision/bf16, early stopping, cosine warm-up schedule, focal "
            "loss, MLflow logger, freeze backbone, clipping, seed, optimizer/lr, batch size, devices); shows the "
            "diff and re-reviews.",
        ),
        make(
            answer_question,
            AnswerArgs,
            "answer_question",
            "Answer a general ML-engineering question (Lightning training, data, evaluation, export, CV tasks) "
            "from the curated knowledge base; says when the question is outside it.",
        ),
        make(
            explain_checklist_item,
            ExplainArgs,
            "explain_checklist_item",
            "Explain a review checklist item or rule: meaning, why it matters, how it is checked.",
        ),
        make(
            None,
            ExportArgs,
            "export_onnx",
            "Export the model to ONNX in the sandbox and check it against PyTorch with ONNX Runtime.",
            coroutine=export_onnx,
        ),
        make(list_experiments, ExperimentsArgs, "list_experiments", "List recorded smoke-run experiments."),
        make(
            compare_experiments,
            CompareArgs,
            "compare_experiments",
            "Compare recorded experiments side by side.",
        ),
    ]


def artifact_summary(artifact: Any) -> str:
    """Compact JSON of an artifact for logs."""
    return json.dumps(artifact, default=str)[:500]
