"""Retrieval quality on held-out questions, typos, other languages, out-of-scope questions, and degradation."""

from __future__ import annotations

import logging
import statistics
import time
from pathlib import Path

import pytest
from rapidfuzz import fuzz

import knowledge.embedding
from knowledge.retrieval import KnowledgeIndex, all_documents, tokenize
from tests.knowledge.eval_retrieval import accuracy, load_heldout, own_phrasings

HELDOUT = load_heldout()


def test_heldout_set_is_large_and_really_held_out() -> None:
    cases = HELDOUT["in_scope"]
    assert len(cases) >= 60
    phrasings = [p.lower() for doc in all_documents() for p in doc.phrasings]
    for case in cases:
        closest = max(fuzz.ratio(case["q"].lower(), p) for p in phrasings)
        assert closest < 80, f"held-out question copies an entry phrasing: {case['q']!r}"


def test_every_entry_is_found_by_its_own_phrasings(index: KnowledgeIndex) -> None:
    top1, top3, misses = accuracy(index, own_phrasings(index))
    assert top3 == 1.0, misses
    assert top1 >= 0.97


def test_heldout_top3_accuracy(index: KnowledgeIndex) -> None:
    top1, top3, misses = accuracy(index, HELDOUT["in_scope"])
    assert top3 >= 0.85, misses
    assert top1 >= 0.80, misses


def test_heldout_top3_accuracy_without_the_model() -> None:
    lexical = KnowledgeIndex(all_documents(), use_embeddings=False)
    assert lexical.mode == "lexical"
    _, top3, misses = accuracy(lexical, HELDOUT["in_scope"])
    assert top3 >= 0.85, misses


def test_typos_are_corrected_against_the_vocabulary(index: KnowledgeIndex) -> None:
    assert index.correct("gradiant clipping") == "gradient clipping"
    assert index.correct("ModelChekpoint mode") == "modelcheckpoint mode"
    assert tokenize("cliping") == tokenize("clipping")  # the stemmer absorbs a dropped double consonant
    assert index.correct("ModelCheckpoint lasagna") == "ModelCheckpoint lasagna"
    assert index.search("erly stoping with warmpu", 1)[0].id == "early_stopping_warmup"


def test_tokenizer_keeps_api_names_and_folds_accents() -> None:
    tokens = tokenize("self.log(..., sync_dist=True) précision bf16-mixed")
    assert "sync_dist" in tokens and "sync" in tokens and "dist" in tokens
    assert "precision" in tokens and "bf16-mixed" in tokens


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Wie verwende ich DDP auf vier GPUs?", "ddp_multi_gpu"),
        ("Comment choisir le mode de ModelCheckpoint pour la précision ?", "checkpoint_monitor_mode"),
        ("¿Cómo manejo el desequilibrio de clases?", "class_imbalance_sampler"),
    ],
)
def test_other_languages_reach_the_right_entry(index: KnowledgeIndex, question: str, expected: str) -> None:
    assert expected in [hit.id for hit in index.search(question, 3)]


def test_out_of_scope_questions_do_not_fit_or_hit_a_scope_note(index: KnowledgeIndex) -> None:
    fit, _ = index.thresholds()
    for question in HELDOUT["out_of_scope"]:
        top = index.search(question, 1)[0]
        assert top.score < fit or top.doc.kind == "scope", (question, top)


def test_empty_query_returns_nothing(index: KnowledgeIndex) -> None:
    assert index.search("   ", 5) == []
    assert index.best_fit("lasagna recipe with bechamel", 5) == []


def test_missing_model_degrades_to_lexical_and_logs(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    monkeypatch.setattr(knowledge.embedding, "bundled_model_dir", lambda: tmp_path / "no-model-here")
    with caplog.at_level(logging.WARNING, logger="knowledge.retrieval"):
        degraded = KnowledgeIndex(all_documents(), cache_dir=tmp_path)
    assert degraded.mode == "lexical" and degraded.load_error
    assert "lexical-only" in caplog.text
    assert degraded.search("how do I use DDP on 4 GPUs?", 1)[0].id == "ddp_multi_gpu"


def test_vectors_are_cached_on_disk(index: KnowledgeIndex, tmp_path: Path) -> None:
    first = KnowledgeIndex(all_documents(), cache_dir=tmp_path)
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".npy", ".onnx"]
    started = time.perf_counter()
    second = KnowledgeIndex(all_documents(), cache_dir=tmp_path)
    warm = time.perf_counter() - started
    assert second.mode == first.mode == "hybrid"
    assert warm < first.load_seconds
    assert [h.id for h in second.search("bf16 or fp16?", 3)] == [
        h.id for h in first.search("bf16 or fp16?", 3)
    ]


def test_query_latency(index: KnowledgeIndex) -> None:
    """Target: < 30 ms p50 on this 2-core machine; asserted loosely because the CPU is shared."""
    questions = [case["q"] for case in HELDOUT["in_scope"]]
    index.search(questions[0], 5)
    timings = []
    for question in questions:
        started = time.perf_counter()
        index.search(question, 5)
        timings.append(time.perf_counter() - started)
    assert statistics.median(timings) < 0.15
