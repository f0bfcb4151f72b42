"""The three kinds of analyzer, as small protocols.

Indexing decodes each video once: frame analyzers receive the frames of that one pass
(each says how often and how large it wants them), audio analyzers receive the audio as
chunks, and shot analyzers receive the shots once they are known, with a reader to take the
few frames per shot they need (a keyframe embedding, frames for a caption). All may keep
state between calls and yield observations as soon as they are sure of them, so memory
stays flat however long the video is.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol, runtime_checkable

from vidseek.media import AudioChunk, Frame, VideoReader
from vidseek.types import Observation

__all__ = ["AudioAnalyzer", "FrameAnalyzer", "ShotAnalyzer"]


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


@runtime_checkable
class AudioAnalyzer(Protocol):
    name: str
    version: str

    def analyze(
        self, video_id: str, chunks: Iterable[AudioChunk], duration: float
    ) -> Iterator[Observation]:
        """Observations from the audio, lazily, in time order."""


@runtime_checkable
class ShotAnalyzer(Protocol):
    name: str
    version: str

    def analyze(
        self, video_id: str, shots: Sequence[tuple[float, float]], reader: VideoReader
    ) -> Iterator[Observation]:
        """Observations for the shots (``(start, end)`` timeline seconds, in time order),
        lazily; frames come from ``reader`` (``reader.at(times, size=...)``)."""
