"""Dialogue state over real multi-turn threads: answers to questions, follow-ups, and state across restarts."""

from __future__ import annotations

import asyncio
from pathlib import Path

from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from agent.chat import ChatService, ChatTurn
from agent.dialogue.reading import parse_answer
from agent.graph import build_graph
from agent.llm.offline import OfflinePlannerChatModel
from agent.toolbelt import ToolContext, build_tools
from core.settings import Settings


def _conversation(tmp_path: Path, messages: list[str], thread: str = "t") -> list[ChatTurn]:
    """Run the messages as one thread; a fresh service (and checkpointer connection) for every turn, so the
    state must come back from the database, as after a server restart."""

    async def one(message: str) -> ChatTurn:
        async with AsyncSqliteSaver.from_conn_string(str(tmp_path / "threads.sqlite")) as saver:
            tools = build_tools(ToolContext(Settings(data_dir=tmp_path)))
            service = ChatService(build_graph(OfflinePlannerChatModel(), tools, saver), recursion_limit=20)
            return await service.turn(message, thread)

    return [asyncio.run(one(message)) for message in messages]


def _tools(turn: ChatTurn) -> list[str]:
    return [call.name for call in turn.tool_calls]


def test_a_question_is_answered_by_the_next_message_in_any_form(tmp_path: Path) -> None:
    for answer, expected in (("20", 20), ("twenty", 20), ("with 20 classes", 20), ("ok, 7 then", 7)):
        asked, answered = _conversation(tmp_path, ["write me an image classifier", answer], thread=answer)
        assert _tools(asked) == [] and "how many classes" in asked.reply.lower()
        assert _tools(answered) == ["generate_project"], answered.reply[:300]
        assert answered.tool_calls[0].args["num_classes"] == expected
        assert answered.tool_calls[0].args["task"] == "classification"


def test_an_unrelated_message_drops_the_pending_question(tmp_path: Path) -> None:
    _, moved_on = _conversation(tmp_path, ["write me an image classifier", "explain MLR006"])
    assert _tools(moved_on) == ["explain_checklist_item"]


def test_why_not_compares_with_the_agents_own_pick(tmp_path: Path) -> None:
    first, why, unknown = _conversation(
        tmp_path,
        [
            "scratch detection on steel sheets for a closed-source product, 3 defect types",
            "why not yolo?",
            "why not foonet?",
        ],
    )
    assert _tools(first) == ["recommend_architecture"]
    assert _tools(why) == ["recommend_architecture"]
    assert why.tool_calls[0].args["alternative"].lower() == "yolo"
    assert why.tool_calls[0].args["task"] == "detection"
    assert "AGPL" in why.reply and "vs" in why.reply
    assert "not in my knowledge base" in unknown.reply


def test_generate_that_uses_the_recommendation(tmp_path: Path) -> None:
    _, generated = _conversation(
        tmp_path,
        ["which backbone for classifying 12 kinds of leaves, 3000 photos, on a phone?", "generate that"],
    )
    assert _tools(generated) == ["generate_project"]
    args = generated.tool_calls[0].args
    assert args["task"] == "classification" and args["num_classes"] == 12 and args.get("backbone")


def test_generate_without_a_task_asks_for_it(tmp_path: Path) -> None:
    asked, answered, generated = _conversation(
        tmp_path, ["generate a lightning project for me", "semantic segmentation", "3"]
    )
    assert _tools(asked) == [] and "which kind of model" in asked.reply.lower()
    assert _tools(answered) == [] and "how many" in answered.reply.lower()
    assert _tools(generated) == ["generate_project"]
    assert generated.tool_calls[0].args == {"task": "segmentation", "num_classes": 3}


def test_multi_label_is_never_turned_into_single_label(tmp_path: Path) -> None:
    [turn] = _conversation(
        tmp_path, ["generate a multi-label classifier, an image can have several of 20 tags"]
    )
    assert _tools(turn) == ["generate_project"], turn.reply[:300]
    assert turn.tool_calls[0].args["task"] == "multi_label"
    assert "multi-label" in turn.reply and "BCEWithLogitsLoss" in turn.reply
    assert "CrossEntropyLoss" not in turn.reply


def test_multi_label_without_a_count_asks_for_labels_then_generates(tmp_path: Path) -> None:
    asked, generated = _conversation(
        tmp_path, ["write a classifier where each photo can have several tags", "12"], thread="ml"
    )
    assert _tools(asked) == [] and "how many labels" in asked.reply.lower(), asked.reply[:300]
    assert _tools(generated) == ["generate_project"]
    assert generated.tool_calls[0].args["task"] == "multi_label"
    assert generated.tool_calls[0].args["num_classes"] == 12


def test_instance_segmentation_is_generated_with_mask_rcnn(tmp_path: Path) -> None:
    [turn] = _conversation(tmp_path, ["generate an instance segmentation project, 4 classes, 512 px"])
    assert _tools(turn) == ["generate_project"], turn.reply[:300]
    args = turn.tool_calls[0].args
    assert args["task"] == "instance_segmentation" and args["num_classes"] == 4
    assert "MaskRCNN" in turn.reply and "num_classes + 1" in turn.reply


def test_regression_is_generated_without_asking_for_classes(tmp_path: Path) -> None:
    [turn] = _conversation(tmp_path, ["generate a regression model to estimate age from a face crop"])
    assert _tools(turn) == ["generate_project"], turn.reply[:300]
    assert turn.tool_calls[0].args["task"] == "regression"
    assert "HuberLoss" in turn.reply and "num_outputs" in turn.reply


def test_compare_the_last_two_runs_without_runs_says_so(tmp_path: Path) -> None:
    [turn] = _conversation(tmp_path, ["compare my last two runs"])
    assert _tools(turn) == ["compare_experiments"]
    assert "nothing to compare yet" in turn.reply
    assert "Field required" not in turn.reply and "Input should" not in turn.reply


def test_answers_are_read_per_slot() -> None:
    assert parse_answer("twelve", "num_classes") == 12
    assert parse_answer("let's say 5", "num_classes") == 5
    assert parse_answer("no idea", "num_classes") is None
    assert parse_answer("object detection please", "task") == "detection"


def test_questions_about_the_threads_code_are_answered_from_its_files(tmp_path: Path) -> None:
    _, loss, size, general = _conversation(
        tmp_path,
        [
            "write a classifier with 5 classes",
            "what loss did you put in there?",
            "what image size is it using?",
            "what loss should I use for imbalanced segmentation?",
        ],
    )
    assert _tools(loss) == [] and "nn.CrossEntropyLoss" in loss.reply and "model.py:" in loss.reply
    assert _tools(size) == [] and "default=224" in size.reply and "if self" not in size.reply
    assert _tools(general) != []  # a general question still goes to a tool, not to the code
