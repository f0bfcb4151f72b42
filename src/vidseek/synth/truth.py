"""Ground truth of a synthetic video, written as ``<video stem>.truth.json`` beside it.

All times are timeline seconds: 0 is the file's first frame, i.e. a decoded frame's
``pts * time_base - container.start_time``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

__all__ = [
    "BoundaryTruth",
    "GroundTruth",
    "PictureTruth",
    "ShotTruth",
    "SpeechTruth",
    "TextTruth",
    "load_truth",
    "save_truth",
    "truth_path",
]


class _Record(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)


class ShotTruth(_Record):
    """One shot, from its boundary's time to the next boundary's time (or the end)."""

    start: float
    """Timeline seconds of the shot's boundary (0 for the first shot)."""
    end: float
    """Timeline seconds of the next boundary, or the video's duration."""
    content: str
    """The shot's content kind (``color``, ``shapes``, ``photo``, ``gradient``, ``noise``)."""
    label: str | None = None
    """The script's label."""
    photo: str | None = None
    """The photo shown, for photo shots."""
    color: str | None = None
    """The main colour used, for the other kinds."""


class BoundaryTruth(_Record):
    """Where one shot gives way to the next."""

    time: float
    """A cut: the first frame of the new shot. A fade or dissolve: the midpoint of
    `start` and `end`."""
    start: float
    """First frame of the transition (equal to `time` for a cut)."""
    end: float
    """Last frame of the transition (equal to `time` for a cut)."""
    kind: Literal["cut", "fade", "dissolve"]
    """How the new shot is entered."""


class TextTruth(_Record):
    """Burned-in text, on every frame with start <= t < end."""

    text: str
    start: float
    end: float


class SpeechTruth(_Record):
    """Voiced audio of one sentence, measured on the synthesized waveform."""

    text: str
    start: float
    """First sample above the silence threshold."""
    end: float
    """Just after the last sample above the silence threshold."""


class PictureTruth(_Record):
    """A pasted photo, on every frame with start <= t < end."""

    photo: str
    start: float
    end: float


class GroundTruth(_Record):
    """What a synthetic video contains, exactly."""

    video: str
    """The video's file name (the truth file sits beside it)."""
    duration: float
    """Timeline seconds of content (the script's duration)."""
    width: int
    height: int
    fps: float
    """Nominal frame rate (the average for VFR)."""
    vfr: bool
    rotation: int
    """Display rotation, degrees clockwise (see `Script.rotation`)."""
    start_time: float
    """The container's start time in file seconds, as PyAV reads it back: a decoded time
    minus this is a timeline time."""
    has_audio: bool
    frame_count: int
    """Number of video frames."""
    shots: list[ShotTruth]
    boundaries: list[BoundaryTruth]
    texts: list[TextTruth] = []
    speech: list[SpeechTruth] = []
    pictures: list[PictureTruth] = []
    frame_times: list[float] | None = None
    """Timeline time of every frame; None when frame k is at exactly k / fps."""

    def frame_time(self, index: int) -> float:
        """Timeline seconds of frame `index`.

        Args:
            index: frame number, 0-based.

        Returns:
            The frame's timeline time.
        """
        if self.frame_times is not None:
            return self.frame_times[index]
        return index / self.fps


def truth_path(video_path: str | Path) -> Path:
    """Where the ground truth of a video lives.

    Args:
        video_path: the video file.

    Returns:
        ``<dir>/<stem>.truth.json``.
    """
    return Path(video_path).with_suffix(".truth.json")


def save_truth(truth: GroundTruth, path: str | Path) -> None:
    """Write the truth as JSON, atomically (no reader sees half a file).

    Args:
        truth: what to write.
        path: the JSON file.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(truth.model_dump_json(indent=1))
    os.replace(tmp, path)


def load_truth(path: str | Path) -> GroundTruth:
    """Read the ground truth of a synthetic video.

    Args:
        path: the ``.truth.json`` file, or the video itself.

    Returns:
        The parsed truth.
    """
    path = Path(path)
    if not path.name.endswith(".truth.json"):
        path = truth_path(path)
    return GroundTruth.model_validate_json(path.read_text())
