"""Opening a file with PyAV and the timeline clock, shared by every reader in media/.

Every time vidseek shows is float seconds on the *media timeline*: 0 is the file's start
(the container's start time, the earliest stream start), so audio and video keep their
sync and a stream that starts late keeps its offset. Integer pts and time bases stay here.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import sys
from fractions import Fraction
from pathlib import Path

import av

from vidseek.errors import MediaError

# pts in AV_TIME_BASE (microseconds), which is what container.start_time and .duration use.
_AV_TIME_BASE = Fraction(1, 1_000_000)


def open_input(path: str | Path) -> av.container.InputContainer:
    """Open ``path`` for reading or raise :class:`MediaError` saying why it cannot be."""
    path = Path(path)
    if not path.exists():
        try:
            path.stat()
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise MediaError(path, "is a symbolic link loop: it leads back to itself") \
                    from None
        raise MediaError(path, "no such file")
    if path.is_dir():
        raise MediaError(path, "is a folder, not a video file")
    if os.path.getsize(path) == 0:
        raise MediaError(path, "the file is empty (0 bytes)")
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except av.FFmpegError as exc:
        raise MediaError(
            path,
            f"FFmpeg cannot read it ({ffmpeg_reason(exc)}): not a media file, or damaged or "
            "truncated",
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise MediaError(path, f"cannot be opened ({exc})") from exc
    if sum(s.frames for s in container.streams) > _MANY_PACKETS:
        _return_freed_memory()
    return container


# MP4/MOV demuxing builds a table entry for every packet when the file opens (~50 bytes
# each) and leaves memory it freed on the way inside glibc's heaps: ~27 MB per open of a
# 10-hour video (2 million packets), measured. Indexing opens a file in several passes at
# once, so for long files that memory is handed back to the system.
_MANY_PACKETS = 200_000


def _return_freed_memory() -> None:
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):  # AttributeError: not glibc
            ctypes.CDLL(None).malloc_trim(0)


def ffmpeg_reason(exc: BaseException) -> str:
    """What an FFmpeg error says, without its error number and the function that failed."""
    text = getattr(exc, "strerror", None) or str(exc)
    return text.split(":")[0].strip() if text else type(exc).__name__


def timeline_origin(container: av.container.InputContainer) -> Fraction:
    """Seconds in the file that the timeline calls 0."""
    start = container.start_time
    return Fraction(start) * _AV_TIME_BASE if start is not None else Fraction(0)


class StreamClock:
    """Converts one stream's integer pts to timeline seconds and back, exactly."""

    def __init__(self, stream: av.stream.Stream, origin: Fraction) -> None:
        self.time_base = Fraction(stream.time_base)
        self.origin = origin
        # seconds = pts * time_base - origin as one integer fraction, so that converting a
        # pts is two integer operations and one correctly rounded division.
        self._scale = self.time_base.numerator * origin.denominator
        self._offset = origin.numerator * self.time_base.denominator
        self._denominator = self.time_base.denominator * origin.denominator

    def seconds(self, pts: int) -> float:
        return (pts * self._scale - self._offset) / self._denominator

    def pts(self, seconds: float) -> int:
        """The largest pts at or before ``seconds`` (floor, so that no frame is skipped)."""
        exact = (Fraction(seconds) + self.origin) / self.time_base
        # A float such as 0.1 is slightly off its decimal value; round within a micro-tick
        # so that asking for a frame's own time returns that frame.
        return int((exact + Fraction(1, 1000)) // 1)
