"""Shared records with a stable JSON form. Every layer reads and writes these."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, computed_field

__all__ = ["Evidence", "Moment", "Observation"]


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


class Evidence(BaseModel):
    """Why a moment was found: one observation that matched the query, and how."""

    channel: str
    """How it matched: ``words`` (full text), ``meaning`` (text vectors), ``image``
    (an image-embedding space), ``clip`` (an image-text space) or ``face``."""
    kind: str
    """The kind of the observation that matched (``speech``, ``text``, ``visual``...)."""
    start: float
    """Timeline seconds where the matching observation begins."""
    end: float
    """Timeline seconds where it ends."""
    text: str = ""
    """What was said, read or seen there."""
    score: float
    """Calibrated probability, 0..1, that this observation answers the query."""
    frame_times: list[float] = Field(default_factory=list)
    """Exact times of the frames it was seen on (empty for speech)."""


class Moment(BaseModel):
    """A stretch of one video that answers a query, with the evidence for it."""

    video_id: str
    path: str
    """The video file (the most recent path it was indexed from)."""
    start: float
    """Timeline seconds."""
    end: float
    """Timeline seconds (> start)."""
    score: float
    """Calibrated probability, 0..1, that the moment answers the query."""
    evidence: list[Evidence]
    """The matching observations, best first."""
    thumbnail: float | None = None
    """Time of the stored thumbnail nearest the moment (see ``Library.thumbnail``)."""

    @computed_field
    @property
    def link(self) -> str:
        """A media-fragment URI that players open at the moment: ``file.mp4#t=12.30,20.10``."""
        return f"{self.path}#t={self.start:.2f},{self.end:.2f}"
