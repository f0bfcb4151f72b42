"""The kinds of analyzer, as small protocols (`vidseek.analyzers.registry` says which
analyzer is which kind).

Indexing decodes each video once: frame analyzers receive the frames of that one pass
(each says how often and how large it wants them), audio analyzers receive the audio as
chunks, the shot detection finds the shots, and shot analyzers receive the shots once they
are known, with a reader to take the few frames per shot they need (a keyframe embedding,
frames for a caption). All may keep state between calls and yield observations as soon as
they are sure of them, so memory stays flat however long the video is.

Analyzers that the registry marks ``chunked`` also work on a time range of a video alone:
a chunked frame analyzer says which two observations of neighbouring ranges are one
(``same``), a chunked audio analyzer takes the range to analyze.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from vidseek.media import AudioChunk, Frame, ShotBoundary, VideoReader
from vidseek.types import Observation

__all__ = ["AudioAnalyzer", "FrameAnalyzer", "ShotAnalyzer", "ShotDetection"]


@runtime_checkable
class FrameAnalyzer(Protocol):
    name: str
    """Short stable name, e.g. ``text``; the store keys results by (video, name, version)."""
    version: str
    """Bump to recompute this analyzer's results (and only these) on re-indexing."""
    interval: float
    """Seconds between the frames it wants (the pipeline samples at the smallest interval
    any analyzer asks for and hands each analyzer the frames it asked for)."""
    size: int
    """Longest side in pixels of the frames it wants."""

    def start(self, video_id: str, duration: float) -> None:
        """Forget any previous video and begin this one."""

    def add(self, frame: Frame) -> Iterable[Observation]:
        """Take the next frame (in time order); return observations now complete."""

    def finish(self) -> Iterable[Observation]:
        """The video ended: return what is still open."""

    # Chunked frame analyzers only:
    # def same(self, a: Observation, b: Observation) -> bool:
    #     """Whether an observation still open at a range's end and one starting at the next
    #     range's first frame are one (stitching joins them)."""


@runtime_checkable
class AudioAnalyzer(Protocol):
    name: str
    version: str

    def analyze(
        self, video_id: str, chunks: Iterable[AudioChunk], duration: float, *,
        since: float = 0.0, until: float = float("inf"),
    ) -> Iterator[Observation]:
        """Observations from the audio, lazily, in time order. A chunked analyzer reports
        only what begins in ``[since, until)`` and exactly what one pass over the whole
        audio would report there (the others are always given the whole audio)."""


@runtime_checkable
class ShotDetection(Protocol):
    name: str
    version: str

    def boundaries(self, path: str | Path, start: float, end: float,
                   progress: Callable[[float], None] | None = None) -> list[ShotBoundary]:
        """Boundaries in ``[start, end)``, as one pass over the whole video finds them."""

    def shots(self, found: Iterable[ShotBoundary],
              duration: float) -> list[tuple[float, float]]:
        """The shots covering ``[0, duration]``, from the boundaries of every range."""

    def observations(self, video_id: str,
                     shots: Sequence[tuple[float, float]]) -> list[Observation]:
        """One observation per shot."""


@runtime_checkable
class ShotAnalyzer(Protocol):
    name: str
    version: str

    def analyze(
        self, video_id: str, shots: Sequence[tuple[float, float]], reader: VideoReader
    ) -> Iterator[Observation]:
        """Observations for the shots (``(start, end)`` timeline seconds, in time order),
        lazily; frames come from ``reader`` (``reader.at(times, size=...)``)."""
