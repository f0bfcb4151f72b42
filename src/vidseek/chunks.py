"""Time chunks of one video: plan them, analyze one, and stitch the results back together.

Scale-out indexing (`vidseek.distributed`) splits a long video into chunks that different
workers analyze; what they find must match one pass over the whole video. Per analyzer:

- shots: each chunk finds the boundaries in ``[start, end)`` while reading a few seconds of
  context on either side (the detector's own seam handling, as ``detect_shots`` does for its
  processes), so the boundaries are those of one pass; stitching sorts and thins them.
- speech: one pass transcribes the audio in windows cut at pauses. Each chunk finds the
  same windows and transcribes those that start in it, so every sentence is heard by exactly
  one chunk, with the same words and times as in one pass; the pieces concatenate.
- on-screen text: frames are sampled on the same grid as a single pass (``k * step`` from 0).
  A line still on screen at a border is closed by the left chunk and re-read by the right
  one; stitching joins two such pieces (same line: alike text, overlapping box) into one.
- the other analyzers (faces, objects, and those that work per shot) keep state across the
  whole video (face identities, per-shot lists), so they run on whole videos only.

Nothing here opens the library: workers return observations and the driver commits them.
"""

from __future__ import annotations

import difflib
import math
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vidseek.media import AudioChunk, MediaInfo, VideoReader, read_audio
from vidseek.types import Observation

__all__ = [
    "CHUNKED",
    "Chunk",
    "frames_in_range",
    "plan_chunks",
    "shot_boundaries_in_range",
    "speech_in_range",
    "stitch_shots",
    "stitch_speech",
    "stitch_text",
]

CHUNKED = ("shots", "speech", "text")
"""Analyzers whose work is split by time; the others run on whole videos."""

_TEXT_SIMILARITY = 0.8  # how alike two readings of one line are (as the text analyzer)
_TEXT_MIN_IOU = 0.3  # how much the boxes of one line overlap (as the text analyzer)


@dataclass(frozen=True, slots=True)
class Chunk:
    """One time range of a video, ``[start, end)`` timeline seconds."""

    index: int
    count: int
    """How many chunks the video has."""
    start: float
    end: float

    @property
    def first(self) -> bool:
        return self.index == 0

    @property
    def last(self) -> bool:
        return self.index == self.count - 1


def plan_chunks(duration: float, chunk_seconds: float) -> list[Chunk]:
    """Equal chunks of about ``chunk_seconds`` covering ``[0, duration]``.

    A video shorter than one and a half chunks is one chunk: splitting it would only add the
    overhead of another task.

    Args:
        duration: length of the video, seconds.
        chunk_seconds: wanted chunk length; ``0`` or less (or ``inf``) means never split.

    Returns:
        Chunks in time order; the last ends at ``duration``.
    """
    if chunk_seconds <= 0 or not math.isfinite(chunk_seconds) or duration < 1.5 * chunk_seconds:
        return [Chunk(0, 1, 0.0, duration)]
    count = max(1, round(duration / chunk_seconds))
    edges = [duration * k / count for k in range(count + 1)]
    return [Chunk(k, count, a, b) for k, (a, b) in enumerate(zip(edges, edges[1:]))]


# ------------------------------------------------------------------------------ frames


def frame_grid(start: float, end: float, step: float, duration: float) -> list[float]:
    """Times ``k * step`` in ``[start, end)``: the grid of one pass from 0, cut to a chunk."""
    first = math.ceil(start / step - 1e-9)
    stop = math.ceil(min(end, duration) / step - 1e-9)
    return [k * step for k in range(first, stop)]


def frames_in_range(path: str | Path, video_id: str, info: MediaInfo,
                    analyzers: dict[str, Any], *, step: float, size: int,
                    start: float, end: float) -> dict[str, list[Observation]]:
    """Run frame analyzers over the frames of ``[start, end)`` in one decoding pass.

    The same pass as local indexing (frames every ``step`` seconds within ``step / 2``, at
    ``size`` pixels, each analyzer handed the frames due at its own interval), started at a
    chunk instead of 0. Each analyzer is started fresh and finished at ``end``.

    Args:
        path: the video.
        video_id: its id.
        info: its probe result.
        analyzers: frame analyzers by name (see `vidseek.analyzers.base.FrameAnalyzer`).
        step: seconds between sampled frames (the smallest interval of all frame analyzers
            that index the video, so that chunks sample exactly what one pass would).
        size: longest side of the decoded frames (the largest any of them wants).
        start: first time, seconds.
        end: end time (exclusive), seconds.

    Returns:
        Observations by analyzer name.

    Raises:
        MediaError: the video cannot be decoded.
    """
    from vidseek.library import _scaled

    found: dict[str, list[Observation]] = {name: [] for name in analyzers}
    due = {}
    for name, analyzer in analyzers.items():
        analyzer.start(video_id, info.duration)
        # the first time on this analyzer's own grid that one pass would hand it
        due[name] = math.ceil((start - step / 2) / analyzer.interval - 1e-9) * analyzer.interval
    times = frame_grid(start, end, step, info.duration)
    with VideoReader(path, info=info) as reader:
        for frame in reader.near(times, step / 2, size=size):
            at = frame.requested if frame.requested is not None else frame.time
            for name, analyzer in analyzers.items():
                if at < due[name] - step / 2:
                    continue
                while due[name] <= at + step / 2:
                    due[name] += analyzer.interval
                found[name].extend(analyzer.add(_scaled(frame, analyzer.size)))
    for name, analyzer in analyzers.items():
        found[name].extend(analyzer.finish())
    return found


def stitch_text(pieces: Sequence[list[Observation]], chunks: Sequence[Chunk], *,
                step: float) -> list[Observation]:
    """Join the text observations of consecutive chunks into those of one pass.

    A line on screen across a border comes out of the left chunk ending at the border (it
    was seen on its last frame) and out of the right chunk starting on its first frame; the
    two are one observation from the left start to the right end, with the reading of the
    longer piece (the one with more readings, as the analyzer would choose).

    Args:
        pieces: each chunk's text observations, in chunk order.
        chunks: the chunks.
        step: seconds between sampled frames.

    Returns:
        The observations, sorted by start.
    """
    merged: list[Observation] = list(pieces[0]) if pieces else []
    for chunk, piece in zip(chunks[1:], pieces[1:]):
        border = chunk.start
        first_frame = math.ceil(border / step - 1e-9) * step
        open_left = [o for o in merged if o.data.get("last_seen", -1.0) >= first_frame - step - 1e-6
                     and o.end >= first_frame - 1e-6]
        for obs in sorted(piece, key=lambda o: o.start):
            twin = None
            if obs.start <= first_frame + 1e-6:
                twin = max((o for o in open_left if _same_line(o, obs)),
                           key=lambda o: _similarity(o.text, obs.text), default=None)
            if twin is None:
                merged.append(obs)
                continue
            open_left.remove(twin)
            merged[merged.index(twin)] = _joined(twin, obs)
    return sorted(merged, key=lambda o: (o.start, o.end))


def _same_line(a: Observation, b: Observation) -> bool:
    return (_similarity(a.text, b.text) >= _TEXT_SIMILARITY
            and _iou(a.data.get("box"), b.data.get("box")) >= _TEXT_MIN_IOU)


def _joined(left: Observation, right: Observation) -> Observation:
    def weight(o: Observation) -> float:
        return (o.data.get("last_seen", o.start) - o.start + 1.0) * o.data.get("confidence", 0.0)

    best = left if weight(left) >= weight(right) else right
    data = dict(best.data)
    data["last_seen"] = right.data.get("last_seen", right.end)
    return best.model_copy(update={"start": left.start, "end": right.end, "data": data})


def _normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, _normalise(a), _normalise(b)).ratio()


def _iou(a: Sequence[float] | None, b: Sequence[float] | None) -> float:
    if not a or not b:
        return 1.0  # no boxes to compare: the text decides
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


# ------------------------------------------------------------------------------ shots


def shot_boundaries_in_range(path: str | Path, start: float, end: float,
                             settings: dict | None = None) -> list:
    """Shot boundaries whose time lies in ``[start, end)`` (`vidseek.media.ShotBoundary`),
    read with the detector's context on either side, so they equal one pass's."""
    from vidseek.media.shots import ShotDetector, _boundaries_in

    return _boundaries_in(path, start, end, settings or ShotDetector().settings)


def stitch_shots(pieces: Iterable[list], duration: float,
                 settings: dict | None = None) -> list[tuple[float, float]]:
    """Shots ``(start, end)`` covering ``[0, duration]`` from the boundaries of every chunk."""
    from vidseek.media.shots import ShotDetector, _thin, shots_between

    settings = settings or ShotDetector().settings
    found = sorted((b for piece in pieces for b in piece), key=lambda b: b.time)
    return [(s.start, s.end) for s in shots_between(_thin(found, settings["min_shot"]), duration)]


# ------------------------------------------------------------------------------ speech


def speech_in_range(path: str | Path, video_id: str, info: MediaInfo, analyzer: Any,
                    chunk: Chunk) -> list[Observation]:
    """Transcribe the speech windows that start in one chunk.

    One pass over a whole video cuts its audio into windows at pauses
    (`vidseek.models.whisper.quiet_windows`) and transcribes each on its own. A chunk finds
    the same windows (the cuts need only the audio's energy: cheap next to transcription,
    and audio decodes at hundreds of times real time) and transcribes those that start in
    it, so the chunks together transcribe exactly the windows of one pass, and every
    sentence once.

    Args:
        path: the video.
        video_id: its id.
        info: its probe result.
        analyzer: the speech analyzer (`vidseek.analyzers.speech.SpeechAnalyzer`).
        chunk: which part.

    Returns:
        Speech observations in time order.
    """
    if not info.has_audio:
        return []
    if chunk.count == 1:
        return list(analyzer.analyze(video_id, read_audio(path), info.duration))
    from vidseek.models.whisper import quiet_windows

    recognizer = analyzer.recognizer
    windows = quiet_windows(read_audio(path), length=getattr(recognizer, "window", 60.0),
                            search=getattr(recognizer, "search", 20.0))
    found: list[Observation] = []
    for window in windows:
        if window.start >= chunk.end and not chunk.last:
            break
        if window.start >= chunk.start or chunk.first:
            found.extend(_transcribed(analyzer, video_id, window, info.duration))
    return found


def _transcribed(analyzer: Any, video_id: str, window: AudioChunk,
                 duration: float) -> Iterator[Observation]:
    """Speech observations of one window, exactly as the analyzer makes them in one pass."""
    recognizer = analyzer.recognizer
    if not hasattr(recognizer, "_transcribe_window"):  # another recognizer: its own windows
        yield from analyzer.analyze(video_id, [window], duration)
        return
    from vidseek.analyzers.speech import _observation

    end = duration if duration > 0 else math.inf
    for segment in recognizer._transcribe_window(window):
        if analyzer._keep(segment):
            obs = _observation(video_id, segment, end, recognizer.name)
            if obs is not None:
                yield obs


def stitch_speech(pieces: Iterable[list[Observation]]) -> list[Observation]:
    """Speech of consecutive chunks: each window was transcribed once, so they concatenate."""
    return sorted((o for piece in pieces for o in piece), key=lambda o: (o.start, o.end))

