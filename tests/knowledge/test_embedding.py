"""The hand-written MiniLM port and its ONNX INT8 export behave like a sentence encoder should."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge.embedding import SentenceEncoder
from knowledge.retrieval import KnowledgeIndex

SENTENCES = [
    "how do I train on several GPUs with distributed data parallel?",
    "multi-GPU training with DDP in Lightning",
    "a recipe for lasagna with bechamel sauce",
]


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    return SentenceEncoder()


def test_vectors_are_unit_length_and_paraphrases_are_closer(encoder: SentenceEncoder) -> None:
    vectors = encoder.encode(SENTENCES).numpy()
    assert vectors.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    sims = vectors @ vectors.T
    assert sims[0, 1] > 0.5 > sims[0, 2] + 0.3


def test_padding_does_not_change_a_sentence_vector(encoder: SentenceEncoder) -> None:
    alone = encoder.encode(SENTENCES[:1]).numpy()[0]
    batched = encoder.encode(SENTENCES).numpy()[0]  # padded to the longest sentence in the batch
    np.testing.assert_allclose(alone, batched, atol=1e-5)


def test_onnx_int8_encoder_agrees_with_torch(encoder: SentenceEncoder, index: KnowledgeIndex) -> None:
    assert index.embedder is not None
    onnx_vectors = index.embedder.encode(SENTENCES)
    torch_vectors = encoder.encode(SENTENCES).numpy()
    cosines = (onnx_vectors * torch_vectors).sum(axis=1)
    assert cosines.min() > 0.95, cosines
