"""Channels: each turns a query into scored hits, observations with the features that say
how well they match.

- text: full-text (BM25) and text-vector candidates over what was said, read, tagged or
  captioned, each described by its cosine similarity to the query and the share of the
  query's words it contains;
- image: a query picture against an image-embedding space (keyframes);
- clip: a query text (or picture) against an image-text space;
- face: the largest face of a query picture against the face descriptors.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vidseek.search.background import Background
from vidseek.search.words import content_words, coverage
from vidseek.store import Store
from vidseek.types import Observation

__all__ = ["LABEL_KINDS", "TEXT_KINDS", "TEXT_MODELS", "Hit", "space_hits", "text_hits"]

TEXT_KINDS = ("speech", "text", "visual", "caption", "person", "sound")
"""Observation kinds whose text the text channel searches."""
LABEL_KINDS = frozenset({"visual", "person", "sound"})
"""Text kinds that are a few label words (a tag), not a sentence: their hits are scored by
the calibration model ``label`` (a tag sharing one word with the query is weaker evidence
than a sentence that does, unless the query is about one thing)."""
TEXT_MODELS = ("text", "label")
"""The calibration models of the text channel's hits (what a reranker re-scores)."""
_FTS_WORD = re.compile(r"[^\W_]+")
_DISTINCT_AMONG = 10  # "distinct": relative less the median of the best 10 candidates


@dataclass
class Hit:
    """One observation that may answer the query."""

    observation: Observation
    channel: str
    """``words`` (found by full text), ``meaning`` (by text vectors), ``image``, ``clip``
    or ``face``."""
    model: str
    """The calibration model that scores it: ``text`` (what was said, read or captioned),
    ``label`` (a tag: kinds in :data:`LABEL_KINDS`), ``image``, ``clip``, ``face``, or
    ``rerank`` once a reranker has re-scored it."""
    features: dict[str, float]
    score: float = 0.0
    """Calibrated probability, set by the searcher."""
    start: float = field(init=False)
    end: float = field(init=False)

    def __post_init__(self) -> None:
        self.start, self.end = self.observation.start, self.observation.end

    @property
    def video_id(self) -> str:
        return self.observation.video_id

    @property
    def key(self) -> tuple:
        o = self.observation
        return (o.video_id, o.kind, o.start, o.end, o.text, self.model)


def text_hits(store: Store, query: str, query_vector: Callable[[], np.ndarray],
              background: Background, *, video_id: str | None, kinds: Iterable[str],
              limit: int) -> list[Hit]:
    """Full-text and text-vector candidates for ``query``, merged (one hit per observation).

    ``query_vector()`` gives the query's embedding. It is called in another thread, which
    then searches the text vectors while this one runs the full-text search (the embedder
    and LanceDB leave the GIL): the query's words are searched while its vector is made.

    Features: ``cosine`` (query and passage vectors), ``relative`` (the cosine less the
    mean of how similar the query and the passage usually are to unrelated texts: CSLS,
    which corrects for texts that are close to everything), ``distinct`` (``relative`` less
    the median ``relative`` of the query's 10 best candidates of every text kind, so that a
    hit scores the same whichever kinds are searched), ``coverage`` (share of the query's
    words present), ``label`` (1 for a few label words rather than a sentence) and
    ``words`` (how many content words the query has: a tag can answer "a kitten", hardly
    "a cat playing the piano").
    """
    kinds = list(kinds)
    if not kinds:
        return []
    hits = _candidates(store, query, query_vector, background, video_id=video_id, kinds=kinds,
                       limit=limit)
    every = hits if set(kinds) >= set(TEXT_KINDS) else _candidates(
        store, query, query_vector, background, video_id=video_id, kinds=TEXT_KINDS,
        limit=limit)
    if every:
        # an answer stands out from the other candidates; the best of nothing does not
        usual = float(np.median(sorted((h.features["relative"] for h in every),
                                       reverse=True)[:_DISTINCT_AMONG]))
        for hit in hits:
            hit.features["distinct"] = hit.features["relative"] - usual
    return hits


def _candidates(store: Store, query: str, query_vector: Callable[[], np.ndarray],
                background: Background, *, video_id: str | None, kinds: Iterable[str],
                limit: int) -> list[Hit]:
    """The full-text and vector candidates of some kinds, with every feature but
    ``distinct``."""
    kinds = list(kinds)
    words = content_words(query)
    found: dict[tuple, Hit] = {}
    fts_query = " ".join(_FTS_WORD.findall(query))  # punctuation would be query syntax
    # a thread per search, not a pool: a pool's idle thread would not survive a fork
    with ThreadPoolExecutor(1, thread_name_prefix="vidseek-search") as beside:
        by_meaning = beside.submit(_nearest, store, query_vector, video_id=video_id,
                                   kinds=kinds, limit=limit)
        # A missing full-text index is rebuilt by the store, or is a StoreError: a search
        # never quietly runs on vectors alone.
        by_words = store.text_search(fts_query, video_id=video_id, kinds=kinds,
                                     limit=limit) if fts_query else []
        vector, nearest = by_meaning.result()

    def add(obs: Observation, channel: str, cosine: float) -> None:
        if not _FTS_WORD.search(obs.text):  # "." and the like: nothing said or shown
            return
        label = obs.kind in LABEL_KINDS
        hit = Hit(obs, channel, "label" if label else "text", {
            "cosine": cosine,
            "coverage": coverage(words, obs.text),
            "label": 1.0 if label else 0.0,
            "words": float(len(words)),
        })
        found.setdefault(hit.key, hit)

    for obs, _ in by_words:
        add(obs, "words", float(np.dot(vector, obs.vector)) if obs.vector is not None else 0.0)
    for obs, similarity in nearest:
        add(obs, "meaning", similarity)
    hits = list(found.values())
    passages = np.asarray([h.observation.vector or np.zeros(len(vector)) for h in hits],
                          dtype=np.float32).reshape(len(hits), len(vector))
    query_level = background.query_level(vector)
    for hit, passage_level in zip(hits, background.passage_levels(passages)):
        hit.features["relative"] = hit.features["cosine"] - (query_level + passage_level) / 2
    return hits


def _nearest(store: Store, query_vector: Callable[[], np.ndarray], **where: Any
             ) -> tuple[np.ndarray, list[tuple[Observation, float]]]:
    """The query's vector and the observations nearest to it."""
    vector = np.asarray(query_vector(), dtype=np.float32)
    return vector, store.nearest(vector, **where)


def space_hits(store: Store, space: str, vector: np.ndarray, *, model: str,
               video_id: str | None, kinds: Iterable[str] | None, limit: int) -> list[Hit]:
    """Nearest observations of one vector space."""
    hits = []
    for obs, similarity in store.nearest(vector, space=space, video_id=video_id, kinds=kinds,
                                         limit=limit):
        features = {"cosine": similarity}
        if model == "face":  # unit descriptors: the Euclidean distance dlib's rule is set in
            features["distance"] = math.sqrt(max(0.0, 2.0 - 2.0 * similarity))
        hits.append(Hit(obs, model, model, features))
    return hits
