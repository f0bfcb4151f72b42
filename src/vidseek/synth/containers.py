"""What each output container can carry, chosen from the file suffix.

Findings from writing and reading back with PyAV 18 (FFmpeg 8 muxers):

| suffix      | muxer    | time base          | late start_time | rotation | AAC priming |
|-------------|----------|--------------------|-----------------|----------|-------------|
| .mp4 .mov   | mov/mp4  | ours (exact)       | yes             | yes      | see below   |
| .mkv        | matroska | 1/1000 (ms)        | yes             | yes      | hidden      |
| .ts         | mpegts   | 1/90000            | yes             | no       | visible     |

- Late start: all three keep a first frame at pts 5.0 s; PyAV reports
  ``container.start_time`` and ``stream.start_time`` of 5.0 s (mp4 writes an empty edit).
- MPEG-TS shifts every stream by the B-frame delay when the first dts would be negative,
  so a start_time of 0 reads back as about 2 frames; timeline = pts - container start
  still holds because all streams move together.
- AAC priming (1024 samples): the encoder stamps its first packet 1024 samples before the
  first input sample. mp4 hides that with an edit list only when the stream starts at 0;
  with a late start, and always in TS, the audio would begin before the video and move
  the container's start. So for mp4 and TS the first audio input sample is stamped 1024
  samples after the video start: the first packet then starts with the video, and the
  decoded priming is silence. Matroska stores the codec delay and needs no shift.
- Matroska timestamps are whole milliseconds, so frame k sits at round(k / fps, 3) s.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["AAC_PRIMING", "CONTAINERS", "ContainerProfile", "container_for"]

AAC_PRIMING = 1024
"""Samples of encoder delay of FFmpeg's native AAC encoder."""


@dataclass(frozen=True)
class ContainerProfile:
    """How one container is written.

    Attributes:
        format: FFmpeg muxer name.
        time_base_den: fixed timestamp resolution (ticks per second), or None when the
            muxer keeps the resolution we choose.
        rotation: whether a display matrix survives.
        audio_lead: samples the first audio input sample is stamped after the video start.
    """

    format: str
    time_base_den: int | None
    rotation: bool
    audio_lead: int


CONTAINERS: dict[str, ContainerProfile] = {
    ".mp4": ContainerProfile("mp4", None, True, AAC_PRIMING),
    ".m4v": ContainerProfile("mp4", None, True, AAC_PRIMING),
    ".mov": ContainerProfile("mov", None, True, AAC_PRIMING),
    ".mkv": ContainerProfile("matroska", 1000, True, 0),
    ".ts": ContainerProfile("mpegts", 90000, False, AAC_PRIMING),
}


def container_for(path: str | Path) -> ContainerProfile:
    """Pick the container from a file name.

    Args:
        path: the output file.

    Returns:
        Its profile.

    Raises:
        ValueError: the suffix is not one of `CONTAINERS`.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in CONTAINERS:
        raise ValueError(f"{path}: unsupported suffix {suffix!r}; use one of "
                         f"{', '.join(CONTAINERS)}")
    return CONTAINERS[suffix]
