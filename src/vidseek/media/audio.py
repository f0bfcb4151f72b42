"""Audio as 16 kHz mono float32, in chunks that each know their start time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np

from vidseek.errors import MediaError
from vidseek.media._open import StreamClock, open_input, timeline_origin

__all__ = ["AudioChunk", "SAMPLE_RATE", "read_audio"]

SAMPLE_RATE = 16_000
"""What speech models expect."""

# A timestamp jump larger than this (seconds) is a gap in the audio: fill it with silence so
# that sample positions stay on the timeline.
_GAP = 0.05


@dataclass(frozen=True, slots=True)
class AudioChunk:
    """Consecutive samples starting at ``start`` (timeline seconds)."""

    start: float
    samples: np.ndarray = field(repr=False)
    """1-D float32 in [-1, 1] at ``sample_rate``."""
    sample_rate: int = SAMPLE_RATE

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
    ``k * chunk_seconds``; gaps in the stream's timestamps are filled with silence. A file
    without audio yields nothing.

    Args:
        path: the media file.
        chunk_seconds: length of each chunk (the last may be shorter).
        sample_rate: output rate in Hz.
        stream_index: which stream (container index); default the first audio stream.

    Raises:
        MediaError: the file cannot be opened or its audio cannot be decoded.
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
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
        pending: list[np.ndarray] = []
        pending_len = 0
        start: float | None = None  # timeline time of pending[0][0]
        emitted = 0  # samples already yielded
        try:
            for frame in _decoded(path, container, stream):
                if start is None:
                    start = max(0.0, clock.seconds(frame.pts)) if frame.pts is not None else 0.0
                if frame.pts is not None:
                    expected = start + (emitted + pending_len) / sample_rate
                    gap = clock.seconds(frame.pts) - expected
                    if gap > _GAP:
                        silence = np.zeros(int(round(gap * sample_rate)), np.float32)
                        pending.append(silence)
                        pending_len += len(silence)
                for out in resampler.resample(frame):
                    samples = out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
                    pending.append(samples)
                    pending_len += len(samples)
                while pending_len >= chunk_len:
                    joined = np.concatenate(pending)
                    yield AudioChunk(start + emitted / sample_rate, joined[:chunk_len], sample_rate)
                    emitted += chunk_len
                    pending, pending_len = [joined[chunk_len:]], len(joined) - chunk_len
            for out in resampler.resample(None):
                pending.append(out.to_ndarray().reshape(-1).astype(np.float32, copy=False))
        except av.FFmpegError as exc:
            raise MediaError(path, f"audio cannot be decoded ({exc})") from exc
        if pending and start is not None:
            rest = np.concatenate(pending)
            for i in range(0, len(rest), chunk_len):
                piece = rest[i : i + chunk_len]
                if len(piece):
                    yield AudioChunk(start + (emitted + i) / sample_rate, piece, sample_rate)


def _decoded(path, container, stream) -> Iterator[av.AudioFrame]:
    """Decoded frames; a few damaged packets are skipped rather than fatal."""
    bad = 0
    for packet in container.demux(stream):
        try:
            frames = packet.decode()
            bad = 0
        except av.InvalidDataError as exc:
            bad += 1
            if bad > 32:
                raise MediaError(path, f"audio data cannot be decoded ({exc})") from exc
            continue
        yield from frames
