"""A hybrid knowledge index shared by the knowledge tests (built once per session)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from knowledge.retrieval import KnowledgeIndex, all_documents

# Encoder export and entry vectors are cached across runs; the file names carry fingerprints of the model and
# the exact entry texts, so an edited entry or a different model never reuses stale vectors.
CACHE = Path(tempfile.gettempdir()) / "mlagent-knowledge-test-cache"


@pytest.fixture(scope="session")
def index() -> KnowledgeIndex:
    built = KnowledgeIndex(all_documents(), cache_dir=CACHE)
    assert built.mode == "hybrid", f"embedding model did not load: {built.load_error}"
    return built
