"""Leave-one-out calibration of the retrieval thresholds on the entries' own phrasings (not the held-out set).

Each phrasing is removed from the index (its vector, and its text from the lexical fields) and used as a query:
the score its own entry then gets is what an unseen user phrasing of a known topic scores. Scope-note
phrasings calibrate the other side. Run: ``PYTHONPATH=. python -m tests.knowledge.calibrate``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from knowledge.retrieval import KnowledgeIndex, all_documents


def leave_one_out(index: KnowledgeIndex) -> list[tuple[str, str, str, float, bool]]:
    """(kind, entry id, phrasing, top score, top hit is the entry) for every non-title phrasing."""
    rows = []
    position = 0
    for doc_index, doc in enumerate(index.documents):
        for j, phrasing in enumerate(doc.phrasings):
            row = position + j
            if j == 0 or (doc.kind == "task" and j == 1):
                continue  # titles and task descriptions are not user questions
            kept = [p for p in doc.phrasings if p != phrasing]
            reduced = doc.model_copy(update={"phrasings": kept, "body": doc.body.replace(phrasing, "")})
            docs = [*index.documents[:doc_index], reduced, *index.documents[doc_index + 1 :]]
            probe = KnowledgeIndex(docs, use_embeddings=False)
            if index.mode == "hybrid":
                assert index.vectors is not None and index.owners is not None
                probe.embedder = index.embedder
                probe.vectors = np.delete(index.vectors, row, axis=0)
                probe.owners = np.delete(index.owners, row)
                probe.mode = "hybrid"
            top = probe.search(phrasing, 1)[0]
            rows.append((doc.kind, doc.id, phrasing, top.score, top.id == doc.id))
        position += len(doc.phrasings)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lexical", action="store_true")
    parser.add_argument("--cache", type=Path, default=None)
    args = parser.parse_args()
    index = KnowledgeIndex(all_documents(), cache_dir=args.cache, use_embeddings=not args.lexical)
    rows = leave_one_out(index)
    known = [r for r in rows if r[0] != "scope"]
    right = np.array([r[3] for r in known if r[4]])
    wrong = np.array([r[3] for r in known if not r[4]])
    print(
        f"mode={index.mode} LOO top-1 on known topics: {len(right)}/{len(known)} = {len(right) / len(known):.1%}"
    )
    for q in (0.02, 0.05, 0.1, 0.25, 0.5):
        print(f"  right-hit score quantile {q:.2f}: {np.quantile(right, q):.3f}")
    if len(wrong):
        print(f"  wrong-hit scores: median {np.median(wrong):.3f} max {wrong.max():.3f}")
    for threshold in np.arange(0.30, 0.66, 0.02):
        above = [r for r in known if r[3] >= threshold]
        precision = sum(r[4] for r in above) / max(len(above), 1)
        print(f"  t={threshold:.2f}: kept {len(above) / len(known):.1%}, top-1 precision {precision:.1%}")
    for kind, doc_id, phrasing, score, ok in rows:
        if kind == "scope" or not ok:
            print(f"  {'ok ' if ok else 'BAD'} {score:.3f} {doc_id:28s} {phrasing}")


if __name__ == "__main__":
    main()
