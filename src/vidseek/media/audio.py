"""Audio as 16 kHz mono float32, in chunks that each know their start time.

Damaged audio (packets the decoder rejects: a bad sector, a broken download, a cut in a
recording) is read as silence of the same length, so that every later sample stays at its
time on the timeline, and each chunk says which of its stretches are such silence
(`AudioChunk.gaps`). Each damaged stretch is also logged once as a warning (logger
``vidseek.media.audio``). Audio of which not one packet decodes is a `MediaError`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np

from vidseek.errors import MediaError
from vidseek.media._open import StreamClock, ffmpeg_reason, open_input, timeline_origin

__all__ = ["AudioChunk", "Gap", "SAMPLE_RATE", "read_audio"]

SAMPLE_RATE = 16_000
"""What speech models expect."""

# A timestamp jump larger than this (seconds) is a gap in the audio: fill it with silence so
# that sample positions stay on the timeline. After damaged packets any jump is filled.
_GAP = 0.05

_log = logging.getLogger(__name__)

Gap = tuple[float, float]
"""``(start, end)`` timeline seconds."""


@dataclass(frozen=True, slots=True)
class AudioChunk:
    """Consecutive samples starting at ``start`` (timeline seconds)."""

    start: float
    samples: np.ndarray = field(repr=False)
    """1-D float32 in [-1, 1] at ``sample_rate``."""
    sample_rate: int = SAMPLE_RATE
    gaps: tuple[Gap, ...] = ()
    """Stretches of this chunk (timeline seconds, in order) whose audio could not be decoded
    and is silence here."""

    @property
    def end(self) -> float:
        return self.start + len(self.samples) / self.sample_rate


def read_audio(
    path: str | Path,
    *,
    chunk_seconds: float = 30.0,
    sample_rate: int = SAMPLE_RATE,
    stream_index: int | None = None,
) -> Iterator[AudioChunk]:
    """Decode the first (or the given) audio stream as mono float32 in chunks.

    Chunks follow each other without gaps: chunk ``k`` starts at the first sample's time plus
    ``k * chunk_seconds``; gaps in the stream's timestamps and packets that cannot be decoded
    are filled with silence (the latter listed in each chunk's ``gaps``, see the module
    docstring). A file without audio yields nothing.

    Args:
        path: the media file.
        chunk_seconds: length of each chunk (the last may be shorter).
        sample_rate: output rate in Hz.
        stream_index: which stream (container index); default the first audio stream.

    Raises:
        MediaError: the file cannot be opened, or not one packet of its audio decodes.
    """
    if chunk_seconds <= 0:
        raise ValueError(f"chunk_seconds must be positive, got {chunk_seconds}")
    chunk_len = max(1, int(round(chunk_seconds * sample_rate)))
    with open_input(path) as container:
        streams = [s for s in container.streams.audio
                   if stream_index is None or s.index == stream_index]
        if not streams:
            if stream_index is not None:
                raise MediaError(path, f"has no audio stream {stream_index}")
            return
        stream = streams[0]
        clock = StreamClock(stream, timeline_origin(container))
        out = _Samples(sample_rate)
        damage = _Damage(path, stream)
        pending: list[np.ndarray] = []
        pending_len = 0
        start: float | None = None  # timeline time of pending[0][0]
        emitted = 0  # samples already yielded
        gaps: list[Gap] = []  # damaged stretches not yet wholly yielded

        def position() -> float:
            return start + (emitted + pending_len) / sample_rate

        def add(samples: list[np.ndarray]) -> None:
            nonlocal pending_len
            pending.extend(samples)
            pending_len += sum(len(s) for s in samples)

        def fill(until: float, threshold: float) -> None:
            """Silence up to `until`, if more than `threshold` seconds are missing there. The
            resampler holds back a few samples (a millisecond): they come out first, and the
            audio after the silence starts afresh, exactly at `until`."""
            if until - position() <= threshold:
                return
            add(out.flush())
            missing = int(round((until - position()) * sample_rate))
            if missing > 0:
                add([np.zeros(missing, np.float32)])

        def repair(until: float | None) -> None:
            """Silence for the rejected packets, up to `until` (where the audio resumes; by
            default where they end)."""
            add(out.flush())
            began = position()
            fill(damage.end_time(clock, began) if until is None else until, 0.5 / sample_rate)
            gaps.append((began, position()))
            damage.report(began, position())

        def chunk(samples: np.ndarray) -> AudioChunk:
            begin = start + emitted / sample_rate
            end = begin + len(samples) / sample_rate
            inside = tuple((max(a, begin), min(b, end)) for a, b in gaps
                           if a < end and b > begin)
            gaps[:] = [g for g in gaps if g[1] > end]
            return AudioChunk(begin, samples, sample_rate, inside)

        try:
            for frame in _decoded(container, stream, damage):
                at = clock.seconds(frame.pts) if frame.pts is not None else None
                if start is None:
                    first = damage.first_time(clock) if damage.open else at
                    start = max(0.0, first) if first is not None else 0.0
                if damage.open:  # the audio decodes again
                    repair(at)
                elif at is not None:
                    fill(at, _GAP)
                add(out.convert(frame))
                while pending_len >= chunk_len:
                    joined = np.concatenate(pending)
                    yield chunk(joined[:chunk_len])
                    emitted += chunk_len
                    pending, pending_len = [joined[chunk_len:]], len(joined) - chunk_len
            add(out.flush())
        except av.FFmpegError as exc:
            raise MediaError(path, f"audio cannot be decoded ({exc})") from exc
        if damage.open:  # the audio ends damaged
            if start is None:
                raise MediaError(path, f"audio cannot be decoded: none of its {damage.count} "
                                       f"packets decode ({damage.why})")
            repair(None)
        if pending and start is not None:
            rest = np.concatenate(pending)
            for i in range(0, len(rest), chunk_len):
                piece = rest[i : i + chunk_len]
                if len(piece):
                    yield chunk(piece)
                    emitted += len(piece)


class _Samples:
    """Decoded frames to mono float32 at one rate; a new resampler when the input's format,
    layout or rate changes (channel counts do change mid-stream in broadcast recordings)."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._resampler: av.AudioResampler | None = None
        self._key: tuple | None = None

    def convert(self, frame: av.AudioFrame) -> list[np.ndarray]:
        key = (frame.format.name, frame.layout.name, frame.sample_rate)
        done = []
        if key != self._key:
            done = self.flush()
            self._resampler = av.AudioResampler(format="flt", layout="mono", rate=self.rate)
            self._key = key
        return done + [_mono(f) for f in self._resampler.resample(frame)]

    def flush(self) -> list[np.ndarray]:
        """What the resampler still holds; the next frame starts a new one."""
        if self._resampler is None:
            return []
        held = [_mono(f) for f in self._resampler.resample(None)]
        self._resampler = self._key = None
        return held


def _mono(frame: av.AudioFrame) -> np.ndarray:
    return frame.to_ndarray().reshape(-1).astype(np.float32, copy=False)


class _Damage:
    """The packets rejected since the last frame that decoded."""

    def __init__(self, path: str | Path, stream: av.audio.stream.AudioStream) -> None:
        self.path = path
        self.count = 0  # rejected packets since the last good frame
        self.first_pts: int | None = None
        self.end_pts: int | None = None  # end of the last rejected packet
        self.seconds = 0.0  # their length, as far as it is known
        self.why = ""
        codec = stream.codec_context
        # a packet without duration is taken to hold one frame of the codec (1024 for AAC)
        self._frame = (codec.frame_size / codec.sample_rate
                       if codec.frame_size and codec.sample_rate else 0.0)
        self._time_base = float(stream.time_base) if stream.time_base else 0.0

    @property
    def open(self) -> bool:
        return self.count > 0

    def add(self, packet: av.Packet, exc: av.FFmpegError) -> None:
        self.count += 1
        self.why = ffmpeg_reason(exc)
        self.seconds += (packet.duration * self._time_base
                         if packet.duration and self._time_base else self._frame)
        if packet.pts is not None:
            if self.first_pts is None:
                self.first_pts = packet.pts
            self.end_pts = packet.pts + (packet.duration or 0)

    def first_time(self, clock: StreamClock) -> float | None:
        return clock.seconds(self.first_pts) if self.first_pts is not None else None

    def end_time(self, clock: StreamClock, began: float) -> float:
        """Where the rejected packets end (timeline seconds); from their durations, after
        `began`, when they have no timestamps."""
        if self.end_pts is not None:
            return clock.seconds(self.end_pts)
        return began + self.seconds

    def report(self, start: float, end: float) -> None:
        """Log the stretch (timeline seconds) read as silence, and start afresh."""
        _log.warning("%s: %d audio packet%s cannot be decoded (%s): %.2f to %.2f s read as "
                     "silence", self.path, self.count, "" if self.count == 1 else "s",
                     self.why, start, end)
        self.count = 0
        self.seconds = 0.0
        self.first_pts = self.end_pts = None


def _decoded(container, stream, damage: _Damage) -> Iterator[av.AudioFrame]:
    """Decoded frames; packets the decoder rejects are noted in `damage` and skipped."""
    for packet in container.demux(stream):
        try:
            frames = packet.decode()
        except av.FFmpegError as exc:
            damage.add(packet, exc)
            continue
        yield from frames
