"""The searcher: a query (words, a picture, or both) to ranked moments across a library."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vidseek.errors import QueryError
from vidseek.kinds import checked_kinds
from vidseek.models.protocols import Reranker, TextEmbedder
from vidseek.search.background import Background
from vidseek.search.calibration import Calibration, load_calibration, rerank_features
from vidseek.search.channels import TEXT_KINDS, TEXT_MODELS, Hit, space_hits, text_hits
from vidseek.search.fusion import fuse
from vidseek.store import Store
from vidseek.types import Moment

__all__ = [
    "IMAGE_TEXT_FAMILIES",
    "MAX_K",
    "MAX_QUERY_CHARS",
    "SpaceEncoder",
    "Searcher",
    "check_query",
    "load_picture",
]

IMAGE_TEXT_FAMILIES = ("clip:", "siglip:")
"""Vector spaces whose names start so hold image-text vectors: text queries search them."""
RERANK_CANDIDATES = 10
"""How many of the best text hits a cross-encoder re-scores (``k`` when more moments are
asked for); the others are dropped."""
MAX_QUERY_CHARS = 2000
"""Characters one query may hold. Embedding costs about 0.5 ms per character, so this bounds
a search's work (about a second); it leaves room for a question and one option, which the
answerers search together (see :data:`vidseek.library.MAX_QUESTION_CHARS`)."""
MAX_K = 1000
"""Moments one search may return."""
QUERY_VECTORS_KEPT = 256
"""Query embeddings a searcher keeps, newest used first: a query searched again (another
page, other videos or kinds, an agent's repeated search) skips its embedding, which is about
a third of a search's time."""


@dataclass(frozen=True)
class SpaceEncoder:
    """How to put a query into one vector space of the library."""

    space: str
    model: str
    """Its calibration model: ``image``, ``clip`` or ``face``."""
    image: Callable[[np.ndarray], np.ndarray | None] | None = None
    """RGB picture -> vector (None when there is nothing to encode, e.g. no face)."""
    text: Callable[[str], np.ndarray] | None = None
    """Words -> vector (image-text spaces only)."""


class Searcher:
    """Finds moments in one library's store.

    Args:
        store: the library's store.
        text_embedder: returns the library's text embedder (called on first use).
        encoders: returns the encoders of the library's other vector spaces (called on
            first use of a picture query, or of a text query when the library has an
            image-text space).
        calibration: channel models and threshold; default the one shipped with vidseek.
        reranker: returns the cross-encoder that re-scores the best text hits (called on
            first use); None: no second stage.
    """

    def __init__(self, store: Store, *, text_embedder: Callable[[], TextEmbedder],
                 encoders: Callable[[], list[SpaceEncoder]] = list,
                 calibration: Calibration | None = None,
                 reranker: Callable[[], Reranker] | None = None) -> None:
        self.store = store
        self._text_embedder = text_embedder
        self._encoders = encoders
        self._reranker = reranker
        self.calibration = calibration or load_calibration()
        self._background_vectors: Background | None = None
        self._query_vector = functools.lru_cache(maxsize=QUERY_VECTORS_KEPT)(self._embed_query)

    def search(self, query: str | None = None, *, videos: Iterable[str] | None = None,
               kinds: Iterable[str] | None = None, k: int = 10,
               image: str | Path | np.ndarray | None = None,
               threshold: float | None = None) -> list[Moment]:
        """Moments that answer ``query`` and/or look like ``image``, best first.

        Args:
            query: words: what is said, written, shown or happening.
            videos: ids, id prefixes or paths of the videos to search (default all).
            kinds: observation kinds to search (``speech``, ``text``, ``visual``,
                ``caption``, ``image``, ``face``...; default all).
            k: at most this many moments.
            image: a picture (file or RGB array) to find: similar keyframes, and the same
                face when it shows one.
            threshold: the calibrated score a moment needs; default the calibrated default
                (``calibration.threshold``); 0 returns every candidate.

        Raises:
            QueryError: neither a query nor a picture, a query longer than
                :data:`MAX_QUERY_CHARS`, k outside 1..:data:`MAX_K`, or an unreadable picture.
            UnknownVideoError: a video that is not in the library.
        """
        hits = self.hits(query, videos=videos, kinds=kinds, k=k, image=image)
        threshold = self.calibration.threshold if threshold is None else threshold
        paths = self.store.video_paths()
        return fuse(hits, threshold=threshold, k=k, path_of=paths.__getitem__)

    def hits(self, query: str | None = None, *, videos: Iterable[str] | None = None,
             kinds: Iterable[str] | None = None, k: int = 10,
             image: str | Path | np.ndarray | None = None) -> list[Hit]:
        """Every candidate hit with its calibrated score, before fusion (for calibration)."""
        query = check_query(query, k, image=image is not None)
        chosen = checked_kinds(kinds)
        wanted = None if chosen is None else set(chosen)
        video_ids: list[str | None] = ([self.store.video(v).id for v in videos]
                                       if videos is not None else [None])
        limit = max(50, 5 * k)
        picture = load_picture(image) if image is not None else None
        spaces = self.store.spaces()
        # encoders may load models: only when a picture or an image-text space needs them
        text_spaces = any(space.startswith(IMAGE_TEXT_FAMILIES) for space in spaces)
        encoders = self._encoders() if picture is not None or text_spaces else []
        text_kinds = [kind for kind in TEXT_KINDS if wanted is None or kind in wanted]
        background = self._background() if query and text_kinds else None
        space_vectors: list[tuple[SpaceEncoder, np.ndarray]] = []
        for encoder in encoders:
            if encoder.space not in spaces:
                continue
            if query and encoder.text is not None:
                space_vectors.append((encoder, encoder.text(query)))
            if picture is not None and encoder.image is not None:
                vector = encoder.image(picture)
                if vector is not None:
                    space_vectors.append((encoder, vector))
        hits: list[Hit] = []
        for vid in video_ids:
            if background is not None:
                hits += text_hits(self.store, query,
                                  functools.partial(self._query_vector, query), background,
                                  video_id=vid, kinds=text_kinds, limit=limit)
            for encoder, vector in space_vectors:
                hits += space_hits(self.store, encoder.space, vector, model=encoder.model,
                                   video_id=vid, kinds=wanted, limit=limit)
        for hit in hits:
            hit.score = self.calibration.probability(hit.model, hit.features)
        if query and self._reranker is not None:
            hits = self._rerank(query, hits, max(RERANK_CANDIDATES, k))
        return hits

    def _rerank(self, query: str, hits: list[Hit], count: int) -> list[Hit]:
        """The ``count`` best text hits (models ``text`` and ``label``) re-scored by the
        reranker (model ``rerank``, features ``logit``, the reranker's, and ``text_logit``,
        the log-odds of the text channel's score, with the text features kept); the text
        hits below them are dropped, the other channels' kept."""
        text = sorted((h for h in hits if h.model in TEXT_MODELS), key=lambda h: -h.score)
        best, rest = text[:count], {id(h) for h in text[count:]}
        logits = self._reranker().scores(query, [h.observation.text for h in best])
        for hit, logit in zip(best, logits):
            hit.model = "rerank"
            hit.features.update(rerank_features(logit, hit.score))
            hit.score = self.calibration.probability("rerank", hit.features)
        return [h for h in hits if id(h) not in rest]

    def _embed_query(self, query: str) -> np.ndarray:
        vector = self._text_embedder().queries([query])[0]
        vector.setflags(write=False)  # shared by every search of the same words
        return vector

    def _background(self) -> Background:
        """The embedded background texts, cached in the library per embedder."""
        if self._background_vectors is None:
            embedder = self._text_embedder()
            self._background_vectors = Background.load_or_make(
                embedder, self.store.path / "cache")
        return self._background_vectors


def check_query(query: str | None, k: int = 10, *, image: bool = False) -> str:
    """The query, stripped, once it is within the limits every search keeps.

    Args:
        query: the words to search for, or None.
        k: how many moments are asked for.
        image: whether a picture is searched for too (then the words may be empty).

    Returns:
        The stripped query ("" when there is none).

    Raises:
        QueryError: no words and no picture, more than :data:`MAX_QUERY_CHARS` characters,
            or k outside 1..:data:`MAX_K`.
    """
    query = (query or "").strip()
    if not query and not image:
        raise QueryError("give words to search for, a picture (--image), or both")
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is {len(query)} characters long; at most "
                         f"{MAX_QUERY_CHARS} are searched: give the few words that are said, "
                         "written or shown")
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= MAX_K:
        raise QueryError(f"k must be a whole number from 1 to {MAX_K}, got {k!r}")
    return query


def load_picture(image: str | Path | np.ndarray) -> np.ndarray:
    """An RGB uint8 array from a picture file (or the array itself)."""
    if isinstance(image, np.ndarray):
        if image.ndim != 3 or image.shape[2] != 3:
            raise QueryError(f"a picture must be H x W x 3 RGB, got shape {image.shape}")
        return image.astype(np.uint8, copy=False)
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(image) as picture:
            return np.asarray(picture.convert("RGB"))
    except FileNotFoundError:
        raise QueryError(f"picture {image} does not exist") from None
    except (UnidentifiedImageError, OSError) as e:
        raise QueryError(f"cannot read picture {image} ({e}); give a JPEG, PNG or WebP file") \
            from None
