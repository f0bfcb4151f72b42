"""Shared records with a stable JSON form. Every layer reads and writes these."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

__all__ = ["Observation"]


class Observation(BaseModel):
    """One thing an analyzer learned about a stretch of a video: the one record of vidseek.

    Search, the agent, the web page and the evaluation all read observations.
    """

    video_id: str
    """Content-derived id of the video."""
    start: float
    """Timeline seconds where it begins."""
    end: float
    """Timeline seconds where it ends (>= start)."""
    kind: str
    """What it is: ``shot``, ``speech``, ``text`` (on screen), ``face``, ``person``,
    ``visual``, ``caption``, ``audio``..."""
    text: str = ""
    """What was said, read or seen, in words (empty for a shot)."""
    vector: list[float] | None = None
    """An embedding of ``text`` by the library's text embedder (the text-search space)."""
    vectors: dict[str, list[float]] = Field(default_factory=dict)
    """Other embeddings, by vector space: a picture's image embedding
    (``{"mobilenet_v2": [...]}``) or its image-text embedding (``{"clip:ViT-B-32": [...]}``).
    Each space is searched on its own; vectors of one space all have the same width."""
    data: dict[str, Any] = Field(default_factory=dict)
    """Kind-specific details: word timings, boxes, confidences."""
    source: str
    """The model and version that produced it, e.g. ``faster-whisper:tiny.en``."""
