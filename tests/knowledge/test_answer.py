"""Composed answers: named sources, confidence, honest scope, and LLM context."""

from __future__ import annotations

import pytest

from knowledge.answer import answer_question, context_for
from knowledge.retrieval import KnowledgeIndex


@pytest.mark.parametrize(
    ("question", "entry"),
    [
        ("how do I use DDP on 4 GPUs?", "ddp_multi_gpu"),
        ("is EarlyStopping during LR warm-up ok?", "early_stopping_warmup"),
        ("what LR for fine-tuning ResNet-50 with Adam?", "lr_finetuning_resnet"),
        ("min vs max mode in ModelCheckpoint?", "checkpoint_monitor_mode"),
    ],
)
def test_issue_questions_get_confident_sourced_answers(
    index: KnowledgeIndex, question: str, entry: str
) -> None:
    answer = answer_question(question, index)
    assert answer.confident and not answer.out_of_scope
    assert answer.entry_ids[0] == entry
    assert f"`{entry}`" in answer.markdown and "Sources" in answer.markdown


def test_answer_contains_the_entry_text_and_code(index: KnowledgeIndex) -> None:
    answer = answer_question("min vs max mode in ModelCheckpoint?", index)
    assert 'mode="max"' in answer.markdown and "```python" in answer.markdown


@pytest.mark.parametrize(
    "question",
    ["recommend a recipe for lasagna", "best LLM for code completion", "speech recognition model"],
)
def test_out_of_scope_is_said_plainly(index: KnowledgeIndex, question: str) -> None:
    answer = answer_question(question, index)
    assert answer.out_of_scope and not answer.confident
    assert "outside what I know well" in answer.markdown or "not a machine-learning" in answer.markdown


def test_scope_note_offers_transferable_advice_with_sources(index: KnowledgeIndex) -> None:
    answer = answer_question("which speech recognition model should I train for call centre audio?", index)
    assert answer.out_of_scope
    assert answer.entry_ids[0] == "scope:speech_audio" and len(answer.entry_ids) > 1
    assert "closest advice" in answer.markdown


@pytest.mark.parametrize(
    ("question", "task"),
    [
        ("I only have photos of good parts, how do I find defects?", "task:anomaly_detection"),
        ("segment tumours in 3D MRI volumes", "task:medical_3d_segmentation"),
        ("read serial numbers printed on metal parts", "task:ocr"),
        ("detect changes between satellite images from 2019 and 2023", "task:change_detection"),
    ],
)
def test_wider_tasks_answer_from_their_own_knowledge(index: KnowledgeIndex, question: str, task: str) -> None:
    answer = answer_question(question, index)
    assert not answer.out_of_scope and answer.entry_ids[0] == task
    assert "Knowledge only" in answer.markdown and "Approaches" in answer.markdown


def test_multi_label_is_not_answered_as_single_label(index: KnowledgeIndex) -> None:
    answer = answer_question("each image can carry several tags at once, which loss?", index)
    assert answer.entry_ids[0] in {"task:multi_label", "metrics_multilabel"}
    assert "BCEWithLogitsLoss" in answer.markdown or "Multilabel" in answer.markdown


def test_context_for_llm_tags_entries_and_flags_scope(index: KnowledgeIndex) -> None:
    context = context_for("how many dataloader workers should I use", 3, index)
    assert context.startswith("[dataloader_workers]")
    assert "OUTSIDE THE KNOWLEDGE BASE" in context_for("transcribe audio to text", 2, index)
    assert context_for("best hiking trail near Zurich in autumn", 3, index).startswith(
        "No knowledge-base entry"
    )
