"""The conversation benchmark (bench/conversations): its corpus, its checker, and the agent's score on it.

The fast tests keep the corpus and the scorer honest (a checker that passed everything would make the score
meaningless). The slow test runs all conversations through the real service and holds the agent to the pass
mark in ``score.MIN_TURN_ACCURACY``, the single place the lead raises as the agent improves.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bench.conversations import score
from bench.conversations.score import CallRecord, Expect, check_turn


def test_corpus_is_big_varied_and_within_its_sandbox_budget() -> None:
    corpus = score.load_corpus()
    turns = [(conversation, turn) for conversation in corpus for turn in conversation.turns]
    assert len(corpus) >= 50 and len(turns) >= 200
    foreign = [t for c, t in turns if {"de", "fr", "es"} & (set(c.tags) | set(t.tags))]
    assert len(foreign) >= 10
    assert sum(c.uses_sandbox(t) for c, t in turns) <= score.MAX_SANDBOX_TURNS
    expected_tools = {name for _, t in turns for option in t.expect.tool_options() or [] for name in option}
    assert expected_tools == score.TOOL_NAMES  # every tool of the contract is exercised somewhere
    tags = {tag for c in corpus for tag in c.tags}
    wanted = {"typo", "follow-up", "multilingual", "out-of-scope", "general-question", "code-edit", "vague"}
    assert wanted <= tags
    no_tool_allowed = [t for _, t in turns if [] in (t.expect.tool_options() or [[]])]
    assert len(no_tool_allowed) >= 20  # greetings, questions the agent must ask, honest limits


def test_heldout_batch_loads_validates_and_is_new() -> None:
    """The held-out batch (scored at first sight with ``--cases``) must be valid and really held out."""
    heldout = score.load_corpus(score.HELDOUT_DIR)
    turns = [(conversation, turn) for conversation in heldout for turn in conversation.turns]
    assert len(heldout) >= 30 and len(turns) >= 80
    assert sum(c.uses_sandbox(t) for c, t in turns) <= 2
    languages = {"de", "fr", "es", "it", "pt"}
    foreign = [t for c, t in turns if languages & (set(c.tags) | set(t.tags))]
    assert len(foreign) >= 8
    assert languages <= {tag for c in heldout for tag in c.tags}
    tags = {tag for c in heldout for tag in c.tags}
    assert {"follow-up", "slot-answer", "code-edit", "review", "out-of-scope", "vague", "recommend"} <= tags
    # New conversations, not copies: no id and no user message is shared with cases/.
    cases = score.load_corpus()
    assert not {c.id for c in heldout} & {c.id for c in cases}

    def normalised(text: str) -> str:
        return " ".join(text.lower().split())

    case_messages = {normalised(t.user) for c in cases for t in c.turns}
    assert not [t.user for _, t in turns if normalised(t.user) in case_messages]


def test_second_heldout_batch_is_valid_varied_and_new() -> None:
    """heldout2/ (written before the second round of tuning) must be valid and share nothing with the others."""
    batch = score.load_corpus(score.HELDOUT2_DIR)
    turns = [(conversation, turn) for conversation in batch for turn in conversation.turns]
    assert len(batch) >= 25 and len(turns) >= 70
    tags = {tag for c in batch for tag in c.tags}
    assert {"de", "fr", "es", "pt", "zh", "correction", "follow-up", "general-question", "code-edit"} <= tags
    assert {"multilabel", "regression", "out-of-scope", "typo", "vague", "over-specific"} <= tags
    others = score.load_corpus() + score.load_corpus(score.HELDOUT_DIR)
    assert not {c.id for c in batch} & {c.id for c in others}

    def normalised(text: str) -> str:
        return " ".join(text.lower().split())

    # Short generic follow-ups ("why not a ViT?", "tell me more about the second one") are what users say
    # everywhere; every longer message must be new.
    seen = {normalised(t.user) for c in others for t in c.turns}
    assert not [t.user for _, t in turns if normalised(t.user) in seen and len(t.user.split()) > 7]


def test_cases_option_lists_the_chosen_folder(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert score.main(["--cases", str(score.HELDOUT_DIR), "--list"]) == 0
    heldout = score.load_corpus(score.HELDOUT_DIR)
    turns = sum(len(c.turns) for c in heldout)
    assert capsys.readouterr().out.startswith(f"{len(heldout)} conversations, {turns} turns")
    assert score.main(["--list"]) == 0  # the default is still cases/
    cases = score.load_corpus()
    assert capsys.readouterr().out.startswith(f"{len(cases)} conversations,")
    assert score.main(["--cases", str(tmp_path / "missing"), "--list"]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_checker_accepts_a_right_turn_with_normalised_arguments() -> None:
    expect = Expect.model_validate(
        {
            "tools": ["generate_project"],
            "args": {
                "generate_project": {"task": "Classification", "backbone": "ResNet-50", "num_classes": 20}
            },
            "reply_has": ["generated", ["BCEWithLogits", "cross_entropy"]],
            "reply_lacks": ["What I can do"],
        }
    )
    call = CallRecord(
        "generate_project", {"task": "classification", "backbone": "resnet50", "num_classes": "20"}, {}
    )
    assert check_turn(expect, [call], "I generated it: F.cross_entropy(logits, y)") == []


@pytest.mark.parametrize(
    ("calls", "reply", "kinds"),
    [
        ([CallRecord("recommend_architecture", {}, {})], "I generated it with cross_entropy", {"tools"}),
        (
            [CallRecord("generate_project", {"task": "detection", "num_classes": 20}, {})],
            "generated cross_entropy",
            {"args"},
        ),
        (
            [CallRecord("generate_project", {"task": "classification", "num_classes": 20}, {})],
            "done",
            {"reply_has"},
        ),
        (
            [CallRecord("generate_project", {"task": "classification", "num_classes": 20}, {})],
            "generated cross_entropy. What I can do: ...",
            {"reply_lacks"},
        ),
        (
            [CallRecord("generate_project", {"task": "classification", "num_classes": 20}, {})],
            "generated cross_entropy; num_classes: Input should be a valid integer [type=int_parsing]",
            {"internal"},
        ),
    ],
)
def test_checker_names_each_kind_of_miss(calls: list[CallRecord], reply: str, kinds: set[str]) -> None:
    expect = Expect.model_validate(
        {
            "tools": ["generate_project"],
            "args": {"generate_project": {"task": "classification", "num_classes": 20}},
            "reply_has": ["generated", ["cross_entropy", "CrossEntropy"]],
            "reply_lacks": ["What I can do"],
        }
    )
    assert {failure.kind for failure in check_turn(expect, calls, reply)} == kinds


def test_checker_alternatives_results_questions_and_experiment_placeholders() -> None:
    expect = Expect.model_validate(
        {
            "tools": [["compare_experiments"], ["list_experiments", "compare_experiments"]],
            "args": {"compare_experiments": {"ids": ["$exp2", "$exp1"]}},
            "reply_has": ["$exp1"],
        }
    )
    call = CallRecord("compare_experiments", {"ids": ["exp-aa", "exp-bb"]}, {})
    assert check_turn(expect, [call], "exp-aa vs exp-bb", ["exp-aa", "exp-bb"]) == []
    assert {f.kind for f in check_turn(expect, [call], "exp-aa vs exp-bb", ["exp-aa"])} == {"args"}

    recommend = Expect.model_validate(
        {
            "tools": ["recommend_architecture"],
            "result": {
                "recommend_architecture": {
                    "task": "detection",
                    "constraints.device": {"any_of": ["edge", "jetson"]},
                }
            },
        }
    )
    result = {"task": "detection", "constraints": {"device": "jetson", "dataset_size": 1024}}
    assert check_turn(recommend, [CallRecord("recommend_architecture", {}, result)], "") == []
    result["constraints"] = {"device": "server"}
    assert [
        f.kind for f in check_turn(recommend, [CallRecord("recommend_architecture", {}, result)], "")
    ] == ["result"]

    asks = Expect.model_validate({"tools": [], "asks": "num_classes"})
    assert check_turn(asks, [], "Sure. How many classes should it predict?") == []
    assert [f.kind for f in check_turn(asks, [], "Here is the help page. Classes are great.")] == ["asks"]


def test_corpus_validation_rejects_broken_cases(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="unknown tool"):
        Expect.model_validate({"tools": ["train_model"]})
    with pytest.raises(ValidationError, match="mixes names and lists"):
        Expect.model_validate({"tools": ["answer_question", []]})
    with pytest.raises(ValidationError, match="unknown slot"):
        Expect.model_validate({"tools": [], "asks": "favourite_colour"})
    (tmp_path / "a.yaml").write_text(
        "conversations:\n  - id: same\n    turns: [{user: hi, expect: {tools: []}}]\n"
    )
    (tmp_path / "b.yaml").write_text(
        "conversations:\n  - id: same\n    turns: [{user: yo, expect: {tools: []}}]\n"
    )
    with pytest.raises(ValueError, match="duplicate conversation ids"):
        score.load_corpus(tmp_path)
    (tmp_path / "b.yaml").unlink()
    smoke = "{user: run it, expect: {tools: [smoke_run]}}"
    (tmp_path / "a.yaml").write_text(f"conversations:\n  - id: many\n    turns: [{', '.join([smoke] * 6)}]\n")
    with pytest.raises(ValueError, match="run the sandbox"):
        score.load_corpus(tmp_path)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> score.Report:
    """One full benchmark run (real service, offline planner), shared by the slow tests below."""
    return score.score(score.load_corpus(), tmp_path_factory.mktemp("convbench") / "data")


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_agent_reaches_the_pass_mark_on_the_conversations(report: score.Report) -> None:
    print(score.render_table(report, failing_limit=0))
    assert len(report.turns) == sum(len(c.turns) for c in score.load_corpus())
    assert report.turn_accuracy >= score.MIN_TURN_ACCURACY
    assert report.internal_error_turns <= score.MAX_INTERNAL_ERROR_TURNS


@pytest.mark.slow
@pytest.mark.timeout(1200)
@pytest.mark.xfail(
    score.MAX_INTERNAL_ERROR_TURNS > 0,
    reason="main still leaks internal error text (issue 7 point 6); set MAX_INTERNAL_ERROR_TURNS to 0 when fixed",
    strict=True,
)
def test_no_reply_leaks_internal_error_text(report: score.Report) -> None:
    leaks = [(t.conversation, t.index) for t in report.turns if t.internal_error]
    assert leaks == []
