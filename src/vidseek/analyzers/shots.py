"""Shots: where the picture cuts or fades to another, as ``shot`` observations.

The detector reads its own cheap pass (reference frames at 64 x 36, cuts then moved to their
exact frames; `vidseek.media.shots`). A time range can be read on its own: the detector
reads context on either side, so the boundaries of consecutive ranges together are those of
one pass, and :meth:`ShotsAnalyzer.shots` joins them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from vidseek.media import MediaInfo, ShotBoundary, ShotDetector, boundaries_in, join_boundaries
from vidseek.types import Observation

__all__ = ["ShotsAnalyzer"]


class ShotsAnalyzer:
    """The `ShotDetection` analyzer. Each observation has ``kind="shot"``, the shot's times
    and ``data={"index": i}`` (0 for the first shot)."""

    name = "shots"
    version = "1"

    def __init__(self, detector: ShotDetector | None = None) -> None:
        self.settings = (detector or ShotDetector()).settings

    def boundaries(self, path: str | Path, start: float, end: float,
                   progress: Callable[[float], None] | None = None,
                   info: MediaInfo | None = None) -> list[ShotBoundary]:
        """Boundaries whose time lies in ``[start, end)``; ``progress`` gets the seconds done
        past ``start``; ``info`` is the video's probe result, when known."""
        return boundaries_in(path, start, end, self.settings, progress, info)

    def shots(self, found: Iterable[ShotBoundary], duration: float) -> list[tuple[float, float]]:
        """The shots ``(start, end)`` covering ``[0, duration]``, from the boundaries of
        every range."""
        return [(s.start, s.end) for s in join_boundaries(found, duration, self.settings)]

    def observations(self, video_id: str,
                     shots: Sequence[tuple[float, float]]) -> list[Observation]:
        source = f"vidseek-shots:{self.version}"
        return [Observation(video_id=video_id, start=a, end=b, kind="shot", data={"index": i},
                            source=source) for i, (a, b) in enumerate(shots)]
