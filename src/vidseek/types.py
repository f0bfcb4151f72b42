"""Shared records with a stable JSON form. Every layer reads and writes these."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, computed_field

__all__ = ["Answer", "Cost", "Evidence", "Moment", "Observation", "Step"]


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
    """What it is: one of :data:`vidseek.kinds.KINDS` (``shot``, ``speech``, ``text`` on
    screen, ``face``, ``person``, ``visual``, ``image``, ``caption``, ``sound``)."""
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
    (an image-embedding space), ``clip`` (an image-text space), ``face``, or ``check``
    (the answering language model judged that the observation answers the question)."""
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


class Cost(BaseModel):
    """What an answer cost: the work done on the media and the model traffic."""

    frames_decoded: int = 0
    """Frames decoded from the video (for overviews, inspections and pictures sent)."""
    frames_sent: int = 0
    """Pictures sent to a model."""
    prompt_tokens: int = 0
    """Tokens sent to models, as the servers counted them (0 where none was reported)."""
    completion_tokens: int = 0
    """Tokens the models wrote."""
    model_calls: int = 0
    """Chat-model calls, retries of malformed replies included."""
    seconds: float = 0.0
    """Wall-clock time of the whole answer."""


class Step(BaseModel):
    """One step of an answer's trace: a model call, a tool call with what it returned, or an
    error that was recovered from (or that ended the answer)."""

    index: int
    """0, 1, 2, ... in the order the steps happened."""
    kind: Literal["model", "tool", "error", "answer"]
    tool: str | None = None
    """The tool called (kind "tool")."""
    arguments: dict[str, Any] = Field(default_factory=dict)
    """The tool's arguments, as the model gave them."""
    observation: str = ""
    """What the step produced: the tool's text result, the model's reply, the error."""
    frame_times: list[float] = Field(default_factory=list)
    """Times of the frames the step decoded or sent."""
    seconds: float = 0.0


class Answer(BaseModel):
    """An answer to a question about one video, with the moments that support it."""

    question: str
    video_id: str
    path: str
    text: str
    """The answer in words. "Not found in this video." when the evidence does not answer."""
    options: list[str] | None = None
    """The multiple-choice options that were offered, if any."""
    choice: int | None = None
    """Index into `options` of the chosen option (None for open questions or no answer)."""
    found: bool = True
    """False when the answer is that the video does not show or say it."""
    confidence: float = 0.0
    """0..1: how sure the answerer is (calibrated for the embedded answerer's scores)."""
    evidence: list[Moment] = Field(default_factory=list)
    """The moments the answer rests on, best first."""
    trace: list[Step] = Field(default_factory=list)
    cost: Cost = Field(default_factory=Cost)
    model: str = ""
    """Which answerer: "embedded" or the chat model's spec."""
    route: Literal["embedded", "fast", "agent"] = "embedded"
    """The path that produced the answer: the embedded answerer, the fast path (retrieve,
    look, answer) or the agentic loop."""
    notes: list[str] = Field(default_factory=list)
    """Plain statements of what limited the answer (e.g. no vision model configured)."""
