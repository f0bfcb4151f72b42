"""Planning: which analyzers a video is due, its time chunks, and the jobs that do the work.

A job is some analyzers over one time range of one video:

- ``frames``: one decoding pass for every frame analyzer it names, on the grid ``k * step``
  that one pass from 0 would sample (so chunks sample exactly what one pass would);
- ``audio``: the audio analyzers over the audio windows that start in the range, all
  reading one decode of the track;
- ``shots``: the shot detection over the range (it reads context on either side);
- ``per_shot``: once the shots are known, their thumbnails and the per-shot analyzers.

A video shorter than one and a half chunks is one chunk; analyzers that are not ``chunked``
(they keep state across the whole video: face identities, object tracks, per-shot lists)
always get the whole video.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from vidseek.analyzers.registry import REGISTRY
from vidseek.media import MediaInfo

__all__ = ["AUDIO_PART_SECONDS", "Chunk", "Job", "JobKind", "first_jobs", "frame_grid",
           "plan_chunks", "plan_parts"]

JobKind = Literal["frames", "audio", "shots", "per_shot"]
AUDIO_PART_SECONDS = 60.0
"""Shortest part of a video's audio analysed apart (:func:`plan_parts`): a short video gains
little, and each part decodes the audio from the start up to its end."""


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

    @property
    def since(self) -> float:
        """Where its work starts: 0 for the first chunk (nothing lies before it)."""
        return 0.0 if self.first else self.start

    @property
    def until(self) -> float:
        """Where its work ends: infinity for the last chunk (nothing is cut off after it)."""
        return math.inf if self.last else self.end


def plan_chunks(duration: float, chunk_seconds: float) -> list[Chunk]:
    """Equal chunks of about ``chunk_seconds`` covering ``[0, duration]``.

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


def plan_parts(duration: float, parts: int) -> list[Chunk]:
    """At most ``parts`` equal chunks of at least :data:`AUDIO_PART_SECONDS` covering
    ``[0, duration]`` (one when the video is shorter than two such parts)."""
    count = min(parts, int(duration // AUDIO_PART_SECONDS))
    if count <= 1:
        return [Chunk(0, 1, 0.0, duration)]
    return plan_chunks(duration, duration / count)


def frame_grid(start: float, end: float, step: float, duration: float) -> list[float]:
    """Times ``k * step`` in ``[start, end)``: the grid of one pass from 0, cut to a range."""
    first = math.ceil(start / step - 1e-9)
    stop = math.ceil(min(end, duration) / step - 1e-9)
    return [k * step for k in range(first, stop)]


@dataclass(frozen=True)
class Job:
    """Some analyzers over one chunk of one video (picklable: scale-out ships it)."""

    kind: JobKind
    path: str
    video_id: str
    info: MediaInfo
    names: tuple[str, ...]
    """The analyzers it runs (may be empty for ``per_shot``: thumbnails only)."""
    chunk: Chunk
    step: float = 1.0
    """Seconds between sampled frames (``frames``)."""
    size: int = 640
    """Longest side of decoded frames (``frames``)."""
    spans: tuple[tuple[float, float], ...] = ()
    """The shots (``per_shot``)."""
    thumbnails: bool = False
    """Make one thumbnail per shot (``per_shot``, when the shots are being committed)."""

    def describe(self) -> str:
        what = ",".join(self.names) or "thumbnails"
        return (f"{self.kind}[{what}] of {Path(self.path).name} chunk "
                f"{self.chunk.index + 1}/{self.chunk.count}")


def first_jobs(path: Path, video_id: str, info: MediaInfo, due: list[str],
               chunks: list[Chunk], frame_sizes: dict[str, tuple[float, int]],
               audio_chunks: list[Chunk] | None = None) -> list[Job]:
    """The jobs that can start at once (all but ``per_shot``, which waits for the shots).

    Args:
        path: the video.
        video_id: its id.
        info: its probe result.
        due: the analyzers to run.
        chunks: its chunks (see :func:`plan_chunks`).
        frame_sizes: ``(interval, size)`` of each due frame analyzer.
        audio_chunks: the chunks of the chunked audio analyzers, when not ``chunks`` (see
            :func:`plan_parts`).
    """
    whole = Chunk(0, 1, 0.0, info.duration)

    def job(kind: JobKind, names: list[str], chunk: Chunk, **more) -> Job:
        return Job(kind, str(path), video_id, info, tuple(names), chunk, **more)

    def spread(names: list[str], over: list[Chunk] = chunks) -> list[Chunk]:
        return over if all(REGISTRY[n].chunked for n in names) else [whole]

    jobs: list[Job] = []
    frames = [n for n in due if REGISTRY[n].kind == "frame"]
    if frames:
        step = min(interval for interval, _ in (frame_sizes[n] for n in frames))
        size = max(side for _, side in (frame_sizes[n] for n in frames))
        split = [n for n in frames if REGISTRY[n].chunked] if len(chunks) > 1 else []
        jobs += [job("frames", split, c, step=step, size=size) for c in chunks if split]
        rest = [n for n in frames if n not in split]
        if rest:
            jobs.append(job("frames", rest, whole, step=step, size=size))
    audio: dict[tuple[Chunk, ...], list[str]] = {}
    for name in due:  # analyzers over the same ranges share one decode (indexing/fanout.py)
        if REGISTRY[name].kind == "audio":
            audio.setdefault(tuple(spread([name], audio_chunks or chunks)), []).append(name)
    for ranges, names in audio.items():
        jobs += [job("audio", names, c) for c in ranges]
    for name in due:
        if REGISTRY[name].kind == "shot":
            jobs += [job("shots", [name], c) for c in spread([name])]
    return jobs
