"""Hybrid retrieval over practice entries, task knowledge and scope notes.

Three signals, because each fails differently on real chat messages:

- **dense**: cosine similarity between the query and every phrasing of an entry (all-MiniLM-L6-v2, run on ONNX
  Runtime); it matches paraphrases ("my GPU sits idle" ~ "profiling a slow run") but is English-centred;
- **lexical**: BM25 over the entries' titles/questions/tags (strong field) and answers (weak field), normalised
  by the query's own weight so that a query made of unknown words scores zero; it anchors exact API names
  (``sync_dist``, ``ModelCheckpoint``) that embeddings blur;
- **fuzzy**: query words that are not in the vocabulary are mapped to the closest vocabulary word with
  rapidfuzz (``gradiant cliping`` -> ``gradient clipping``) before both other signals, and multilingual or
  colloquial words are expanded through ``practices/glossary.yaml`` (data, not code).

When the embedding model cannot load (package missing, broken file) the index logs it once and runs lexical +
fuzzy only, with its own threshold. Vectors of the entries are computed once and cached on disk, keyed by the
model and the exact texts.
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
import os
import re
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from rapidfuzz import fuzz, process

from knowledge.entries import (
    GLOSSARY_FILE,
    Document,
    PracticeEntry,
    ScopeNote,
    load_practices,
    practice_document,
    scope_document,
    task_document,
)
from knowledge.models import TaskKnowledge

log = logging.getLogger(__name__)

Mode = Literal["hybrid", "lexical"]

# Calibrated on the entries' own phrasings vs. the out-of-scope phrasings (see tests/knowledge and the report in
# knowledge/README.md): below FIT_THRESHOLD nothing fits; at or above CONFIDENT_THRESHOLD the top entry is used
# as a confident answer.
THRESHOLDS: dict[Mode, tuple[float, float]] = {"hybrid": (0.40, 0.50), "lexical": (0.40, 0.65)}
DENSE_WEIGHT = 0.65
STRONG_FIELD, WEAK_FIELD = 1.0, 0.3
BM25_K1, BM25_B = 1.2, 0.6
FUZZY_CUTOFF = 84.0
MAX_QUERY_CHARS = 2_000
QUANTIZED = True  # INT8 encoder: measured accuracy in knowledge/README.md, latency roughly halved

_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "with",
        "by",
        "from",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "i",
        "my",
        "me",
        "we",
        "our",
        "you",
        "your",
        "do",
        "does",
        "did",
        "how",
        "what",
        "which",
        "when",
        "where",
        "why",
        "who",
        "should",
        "can",
        "could",
        "would",
        "will",
        "shall",
        "must",
        "may",
        "not",
        "no",
        "yes",
        "if",
        "then",
        "than",
        "so",
        "as",
        "into",
        "about",
        "over",
        "under",
        "per",
        "vs",
        "via",
        "use",
        "using",
        "used",
        "get",
        "got",
        "have",
        "has",
        "had",
        "there",
        "their",
        "them",
        "they",
        "he",
        "she",
        "his",
        "her",
        "any",
        "some",
        "all",
        "one",
        "also",
        "just",
        "like",
        "want",
        "need",
        "way",
        "ok",
        "please",
        "help",
        "tell",
        "show",
        "give",
        "make",
        "makes",
        "made",
    ]
)
_TOKEN = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")


def _fold(text: str) -> str:
    """Lowercase and strip accents so 'précision' and 'precision' meet."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _stem(token: str) -> str:
    """A deliberately tiny stemmer: plural and -ing forms only (enough for short technical questions)."""
    if len(token) > 5 and token.endswith("ing"):
        base = token[:-3]
        return base[:-1] if len(base) > 2 and base[-1] == base[-2] and base[-1] not in "lsz" else base
    if len(token) > 4 and token.endswith("ies"):
        return token[:-3] + "y"
    if len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
        return token[:-1]
    return token


def tokenize(text: str) -> list[str]:
    """Lexical tokens: folded, split on non-alphanumerics (keeping ``val/loss`` parts), stopwords dropped."""
    tokens = []
    for raw in _TOKEN.findall(_fold(text)):
        for part in re.split(r"[._-]", raw) if len(raw) > 3 and not raw[0].isdigit() else [raw]:
            if part and part not in _STOPWORDS:
                tokens.append(_stem(part))
        if ("_" in raw or "-" in raw or "." in raw) and raw not in _STOPWORDS:
            tokens.append(raw)  # keep the compound too: 'sync_dist', 'bf16-mixed', 'torch.compile'
    return tokens


@dataclass(frozen=True)
class Hit:
    """One retrieved entry with its combined score (0..1) and the signals it came from."""

    doc: Document
    score: float
    dense: float
    lexical: float

    @property
    def id(self) -> str:
        return self.doc.id


@dataclass
class _Field:
    """One BM25 field: term frequencies per document, lengths and inverse document frequencies."""

    tfs: list[Counter[str]]
    lengths: np.ndarray
    idf: dict[str, float]
    avg_len: float

    @classmethod
    def build(cls, texts: Sequence[str]) -> _Field:
        tfs = [Counter(tokenize(text)) for text in texts]
        lengths = np.array([sum(tf.values()) for tf in tfs], dtype=np.float64)
        df: Counter[str] = Counter()
        for tf in tfs:
            df.update(tf.keys())
        n = len(tfs)
        idf = {term: math.log(1 + (n - count + 0.5) / (count + 0.5)) for term, count in df.items()}
        return cls(tfs=tfs, lengths=lengths, idf=idf, avg_len=float(lengths.mean() or 1.0))

    def scores(self, terms: Sequence[str]) -> np.ndarray:
        out = np.zeros(len(self.tfs))
        norm = BM25_K1 * (1 - BM25_B + BM25_B * self.lengths / self.avg_len)
        for term in terms:
            idf = self.idf.get(term)
            if idf is None:
                continue
            tf = np.array([doc_tf.get(term, 0) for doc_tf in self.tfs], dtype=np.float64)
            out += idf * tf * (BM25_K1 + 1) / (tf + norm)
        return out


def _mostly_english(text: str) -> bool:
    """Whether the message reads as English (its function words), so glossary hits are shared words, not a
    translation to embed."""
    words = re.findall(r"[a-z']+", _fold(text))
    english = [w for w in words if w in _ENGLISH_FUNCTION_WORDS]
    return len(english) >= 2 and len(english) * 6 >= len(words)


_ENGLISH_FUNCTION_WORDS = frozenset(
    [
        "the",
        "is",
        "are",
        "my",
        "how",
        "do",
        "does",
        "it",
        "to",
        "of",
        "and",
        "what",
        "for",
        "with",
        "on",
        "this",
        "that",
        "i",
        "you",
        "can",
        "should",
        "we",
        "our",
        "your",
        "which",
        "why",
        "when",
        "there",
        "have",
        "has",
        "be",
        "will",
        "would",
    ]
)


@dataclass
class _Glossary:
    """Foreign-language and colloquial words -> English terms the entries use (from practices/glossary.yaml)."""

    terms: dict[str, str] = field(default_factory=dict)
    foreign: frozenset[str] = frozenset()  # the phrases of the language groups (not "colloquial" English)

    @classmethod
    def load(cls) -> _Glossary:
        path = resources.files("knowledge").joinpath("practices", GLOSSARY_FILE)
        if not path.is_file():
            return cls()
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        groups = raw.get("glossary")
        if not isinstance(groups, dict) or not all(isinstance(g, dict) for g in groups.values()):
            raise ValueError(f"{GLOSSARY_FILE}: expected 'glossary: {{language: {{word: english terms}}}}'")
        terms = {_fold(str(k)): str(v) for group in groups.values() for k, v in group.items()}
        foreign = {_fold(str(k)) for name, group in groups.items() if name != "colloquial" for k in group}
        return cls(terms=terms, foreign=frozenset(foreign))

    def english_terms(self, text: str, *, foreign_only: bool = False) -> list[str]:
        """The English terms for the glossary words and phrases found in ``text`` (only other languages' words
        with ``foreign_only``)."""
        folded = _fold(text)
        return [
            english
            for phrase, english in self.terms.items()
            if (not foreign_only or phrase in self.foreign)
            and re.search(r"(?<![a-z0-9])" + re.escape(phrase) + r"(?![a-z0-9])", folded)
        ]

    def expand(self, text: str) -> str:
        extra = self.english_terms(text)
        return text if not extra else text + " " + " ".join(extra)


class _Embedder:
    """all-MiniLM-L6-v2 on ONNX Runtime (exported once from the torch port in knowledge.embedding)."""

    def __init__(self, cache_dir: Path | None, quantized: bool = QUANTIZED) -> None:
        import onnxruntime as ort  # deferred: only needed in hybrid mode

        from knowledge import model_files

        started = time.perf_counter()
        model_dir = model_files.bundled_model_dir()
        weights = model_dir / "model.safetensors"
        stat = weights.stat()
        key = f"{weights}:{stat.st_size}:{stat.st_mtime_ns}:int8={quantized}"
        self.fingerprint = hashlib.sha256(key.encode()).hexdigest()[:16]
        suffix = "-int8" if quantized else ""
        onnx_path = cache_dir / f"minilm-l6-v2{suffix}-{self.fingerprint}.onnx" if cache_dir else None
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # one query at a time; leaves the other cores to the server
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        if onnx_path is None or not onnx_path.is_file():
            from knowledge.embedding import SentenceEncoder  # torch is only needed to build the ONNX file

            model_bytes = _export_onnx(SentenceEncoder(model_dir))
            if quantized:
                model_bytes = _quantize(model_bytes)
            if onnx_path is not None:
                try:
                    onnx_path.parent.mkdir(parents=True, exist_ok=True)
                    # A name per process: several servers may build the same shared cache at once.
                    tmp = onnx_path.with_suffix(f".{os.getpid()}.tmp")
                    tmp.write_bytes(model_bytes)
                    tmp.replace(onnx_path)
                except OSError as exc:
                    log.warning("could not cache the ONNX encoder in %s: %s", cache_dir, exc)
            self.session = ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
        else:
            assert onnx_path is not None
            self.session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(model_files.MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self.load_seconds = time.perf_counter() - started

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        chunks = []
        for start in range(0, len(texts), batch_size):
            encodings = self.tokenizer.encode_batch(list(texts[start : start + batch_size]))
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            chunks.append(self.session.run(None, {"ids": ids, "mask": mask})[0])
        return np.concatenate(chunks).astype(np.float32) if chunks else np.zeros((0, 384), np.float32)


def _export_onnx(encoder: Any) -> bytes:
    """Trace the torch port to ONNX in memory (TorchScript exporter: one self-contained file, ~2 s)."""
    import warnings

    import torch

    ids = torch.ones((1, 8), dtype=torch.long)
    mask = torch.ones((1, 8), dtype=torch.long)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            encoder.model,
            (ids, mask),
            buffer,  # type: ignore[arg-type]  # the TorchScript exporter accepts a file-like object
            input_names=["ids", "mask"],
            output_names=["embedding"],
            dynamic_axes={"ids": {0: "batch", 1: "tokens"}, "mask": {0: "batch", 1: "tokens"}},
            opset_version=17,
            dynamo=False,
        )
    return buffer.getvalue()


def _quantize(model_bytes: bytes) -> bytes:
    """Dynamic INT8 weights for the Linear layers: ~2x faster on CPU, a quarter of the size on disk."""
    import tempfile

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "int8.onnx"
        quantize_dynamic(onnx.load_from_string(model_bytes), out, weight_type=QuantType.QInt8)
        return out.read_bytes()


class KnowledgeIndex:
    """Search over a fixed list of documents; build once (see :func:`get_index`) and reuse."""

    def __init__(
        self,
        documents: Sequence[Document],
        cache_dir: Path | None = None,
        use_embeddings: bool = True,
        quantized: bool = QUANTIZED,
    ) -> None:
        started = time.perf_counter()
        self.documents = list(documents)
        self.glossary = _Glossary.load()
        self.strong = _Field.build([" ".join([d.title, *d.phrasings, *d.keywords]) for d in self.documents])
        self.weak = _Field.build([d.body for d in self.documents])
        self.vocabulary = sorted(set(self.strong.idf) | set(self.weak.idf))
        self._max_idf = max(self.strong.idf.values())
        self.mode: Mode = "lexical"
        self.embedder: _Embedder | None = None
        self.vectors: np.ndarray | None = None
        self.owners: np.ndarray | None = None
        self.load_error: str | None = None
        if use_embeddings:
            try:
                self.embedder = _Embedder(cache_dir, quantized)
                self.vectors, self.owners = self._entry_vectors(cache_dir)
                self.mode = "hybrid"
            except Exception as exc:  # any failure to load the model: degrade, never break answers
                self.embedder = None
                self.load_error = f"{type(exc).__name__}: {exc}"
                log.warning("knowledge retrieval runs lexical-only: embedding model unavailable (%s)", exc)
        self.load_seconds = time.perf_counter() - started
        log.info(
            "knowledge index: %d documents, mode=%s, loaded in %.2f s",
            len(self.documents),
            self.mode,
            self.load_seconds,
        )

    # ------------------------------------------------------------------------------------------ embeddings

    def _entry_vectors(self, cache_dir: Path | None) -> tuple[np.ndarray, np.ndarray]:
        assert self.embedder is not None
        texts: list[str] = []
        owners: list[int] = []
        for position, doc in enumerate(self.documents):
            for phrasing in doc.phrasings:
                texts.append(phrasing)
                owners.append(position)
        digest = hashlib.sha256(("\x00".join(texts) + self.embedder.fingerprint).encode()).hexdigest()[:20]
        path = cache_dir / f"knowledge-vectors-{digest}.npy" if cache_dir else None
        if path is not None and path.is_file():
            vectors = np.load(path)
        else:
            vectors = self.embedder.encode(texts)
            if path is not None:
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    partial = path.with_suffix(f".{os.getpid()}.tmp")
                    with partial.open("wb") as handle:
                        np.save(handle, vectors)
                    partial.replace(path)
                except OSError as exc:
                    log.warning("could not cache knowledge vectors in %s: %s", cache_dir, exc)
        return vectors, np.array(owners)

    # ------------------------------------------------------------------------------------------- querying

    def correct(self, query: str) -> str:
        """Replace out-of-vocabulary words by their closest vocabulary word (typos), keep the rest."""
        words = re.findall(r"\S+", query)
        fixed = []
        for word in words:
            token = _fold(word).strip(".,;:!?()[]\"'`")
            stem = _stem(token)
            known = stem in self.strong.idf or stem in self.weak.idf or token in _STOPWORDS
            if len(token) >= 4 and token.isalpha() and not known:
                match = process.extractOne(
                    token, self.vocabulary, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF
                )
                if match is not None:
                    fixed.append(match[0])
                    continue
            fixed.append(word)
        return " ".join(fixed)

    def _lexical(self, query: str) -> np.ndarray:
        terms = tokenize(query)
        if not terms:
            return np.zeros(len(self.documents))
        raw = STRONG_FIELD * self.strong.scores(terms) + WEAK_FIELD * self.weak.scores(terms)
        # The best a document could score on these terms: each term's idf (unknown words count as the rarest
        # word), so a query of unknown words normalises to ~0 instead of to "the best of nothing".
        ceiling = sum(self.strong.idf.get(t, self._max_idf) for t in terms) * (BM25_K1 + 1) * 0.5
        return np.clip(raw / max(ceiling, 1e-9), 0.0, 1.0)

    def _dense(self, texts: Sequence[str]) -> np.ndarray:
        assert self.embedder is not None and self.vectors is not None and self.owners is not None
        query_vectors = self.embedder.encode(list(texts))
        sims = (self.vectors @ query_vectors.T).max(axis=1)
        best = np.full(len(self.documents), -1.0)
        np.maximum.at(best, self.owners, sims)
        return np.clip(best, 0.0, 1.0)

    def search(self, query: str, k: int = 5) -> list[Hit]:
        """The ``k`` best entries for ``query``, best first (empty list for an empty query)."""
        if not query.strip():
            return []
        query = query[:MAX_QUERY_CHARS]  # a pasted file is not a question; bound the fuzzy and BM25 work
        corrected = self.correct(query)
        expanded = self.glossary.expand(corrected)
        lexical = self._lexical(expanded)
        if self.mode == "hybrid":
            # The encoder is English-centred: a message in another language is also embedded as the English terms
            # its glossary words stand for (when at least two are found, so one shared word does not decide).
            texts = [query] if corrected == query else [query, corrected]
            english = self.glossary.english_terms(corrected, foreign_only=True)
            if len(english) >= 2 and not _mostly_english(corrected):
                texts.append(" ".join(dict.fromkeys(" ".join(english).split())))
            dense = self._dense(texts)
            combined = DENSE_WEIGHT * dense + (1 - DENSE_WEIGHT) * lexical
        else:
            dense = np.zeros(len(self.documents))
            combined = lexical
        order = np.argsort(-combined, kind="stable")[: max(k, 0)]
        return [
            Hit(
                doc=self.documents[i],
                score=round(float(combined[i]), 4),
                dense=round(float(dense[i]), 4),
                lexical=round(float(lexical[i]), 4),
            )
            for i in order
        ]

    def thresholds(self) -> tuple[float, float]:
        """(fit, confident) score thresholds for the current mode."""
        return THRESHOLDS[self.mode]

    def best_fit(self, query: str, k: int = 5) -> list[Hit]:
        """Hits that clear the 'something fits' threshold; an empty list means nothing fits."""
        fit, _ = self.thresholds()
        return [hit for hit in self.search(query, k) if hit.score >= fit]


# ------------------------------------------------------------------------------------------ module-level API

_lock = threading.Lock()
_cache_dir: Path | None = None


_index: KnowledgeIndex | None = None


def configure(cache_dir: Path | None) -> None:
    """Where to cache the ONNX encoder and entry vectors (e.g. ``settings.data_dir / 'cache'``); None = memory.

    Call before the first search; it drops an index already built so the next search rebuilds it.
    """
    global _cache_dir, _index
    with _lock:
        _cache_dir = cache_dir
        _index = None


def all_documents() -> list[Document]:
    """Every retrievable document: practice entries, task knowledge and scope notes."""
    from knowledge import load_knowledge

    practices = load_practices()
    docs = [practice_document(entry) for entry in practices.entries.values()]
    docs += [task_document(task) for task in load_knowledge().tasks.values()]
    docs += [scope_document(note) for note in practices.scope.values()]
    return docs


def get_index() -> KnowledgeIndex:
    """The process-wide index, built once on first use (thread-safe; concurrent callers wait for one build)."""
    global _index
    index = _index
    if index is None:
        with _lock:
            if _index is None:
                _index = KnowledgeIndex(all_documents(), cache_dir=_cache_dir)
            index = _index
    return index


def warm_up_in_background() -> threading.Thread:
    """Start building the index in a daemon thread, so the first question does not pay the load time."""
    thread = threading.Thread(target=get_index, name="knowledge-index", daemon=True)
    thread.start()
    return thread


def search(query: str, k: int = 5) -> list[Hit]:
    """Module-level shortcut: ``get_index().search(query, k)``."""
    return get_index().search(query, k)


def resolve(doc_id: str) -> PracticeEntry | TaskKnowledge | ScopeNote:
    """The knowledge object behind a document id ('ddp_multi_gpu', 'task:ocr', 'scope:speech_audio')."""
    from knowledge import load_knowledge

    if doc_id.startswith("task:"):
        return load_knowledge().tasks[doc_id[len("task:") :]]
    if doc_id.startswith("scope:"):
        return load_practices().scope[doc_id[len("scope:") :]]
    return load_practices().entries[doc_id]
