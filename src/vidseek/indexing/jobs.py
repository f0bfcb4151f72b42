"""The work of one job, the same body on every executor.

A job hands what its analyzers find to ``emit(analyzer, observations)`` as soon as they are
sure of it: locally that streams into the analyzer's store run, on a Ray worker into the
lists the task returns. An analyzer that fails is noted in the outcome's ``errors`` and the
others go on; a video that cannot be decoded fails every analyzer of the job.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from vidseek.analyzers.registry import LoadedModels
from vidseek.indexing.fanout import fan_out
from vidseek.indexing.plan import Job, frame_grid
from vidseek.media import AudioChunk, Thumbnail, VideoReader, fit, read_audio, thumbnails
from vidseek.types import Observation

__all__ = ["THUMBNAILS", "THUMBNAIL_SIZE", "Emit", "Outcome", "error_text", "run_job"]

THUMBNAIL_SIZE = 320
"""Longer side of the stored shot thumbnails, pixels."""
THUMBNAILS = "<thumbnails>"
"""The error key of a per-shot job whose thumbnails failed (the shots it commits fail)."""

Emit = Callable[[str, list[Observation]], None]
"""Takes an analyzer's name and observations it found."""
Position = Callable[[float], None]
"""Called with the timeline second a job has reached."""


@dataclass
class Outcome:
    """What a job did besides emitting observations."""

    job: Job
    errors: dict[str, str] = field(default_factory=dict)
    """Why an analyzer of the job failed."""
    warnings: dict[str, list[str]] = field(default_factory=dict)
    """What an analyzer of the job could not do, though it did the rest."""
    boundaries: list = field(default_factory=list)
    """Shot boundaries (``shots``)."""
    thumbnails: list[Thumbnail] = field(default_factory=list)
    """One per shot (``per_shot`` with ``thumbnails``)."""
    observations: dict[str, list[Observation]] | None = None
    """What it emitted, where the executor collected it (None: streamed)."""
    seconds: float = 0.0


def error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def run_job(job: Job, models: LoadedModels, emit: Emit,
            position: Position | None = None) -> Outcome:
    """Run one job. Exceptions of the analyzers and the media are caught into the
    outcome's errors; the caller's own (``emit`` failing to write) are too."""
    started = time.perf_counter()
    outcome = Outcome(job)
    position = position or (lambda _: None)
    {"frames": _frames, "audio": _audio, "shots": _shots, "per_shot": _per_shot}[job.kind](
        job, models, emit, position, outcome)
    outcome.seconds = time.perf_counter() - started
    return outcome


def _frames(job: Job, models: LoadedModels, emit: Emit, position: Position,
            outcome: Outcome) -> None:
    """One decoding pass over the chunk for every frame analyzer of the job, each handed the
    frames due at its own interval, scaled to its own size."""
    live: dict[str, Any] = {}
    for name in job.names:
        try:
            analyzer = models.analyzer(name)
            analyzer.start(job.video_id, job.info.duration)
            live[name] = analyzer
        except Exception as exc:  # noqa: BLE001 - one analyzer's failure is reported
            outcome.errors[name] = error_text(exc)
    step, start = job.step, job.chunk.start
    # the first time on each analyzer's own grid that one pass from 0 would hand it
    due = {name: math.ceil((start - step / 2) / a.interval - 1e-9) * a.interval
           for name, a in live.items()}
    times = frame_grid(start, job.chunk.end, step, job.info.duration)
    try:
        with VideoReader(job.path, info=job.info) as reader:
            for frame in reader.near(times, step / 2, size=job.size):
                at = frame.requested if frame.requested is not None else frame.time
                position(at)
                for name, analyzer in list(live.items()):
                    if at < due[name] - step / 2:
                        continue
                    while due[name] <= at + step / 2:
                        due[name] += analyzer.interval
                    try:
                        emit(name, list(analyzer.add(fit(frame, analyzer.size))))
                    except Exception as exc:  # noqa: BLE001
                        outcome.errors[name] = error_text(exc)
                        del live[name]
    except Exception as exc:  # noqa: BLE001 - the video itself failed: every analyzer did
        for name in live:
            outcome.errors[name] = error_text(exc)
        return
    for name, analyzer in live.items():
        try:
            emit(name, list(analyzer.finish()))
        except Exception as exc:  # noqa: BLE001
            outcome.errors[name] = error_text(exc)


def _audio(job: Job, models: LoadedModels, emit: Emit, position: Position,
           outcome: Outcome) -> None:
    """Every audio analyzer of the job over one decode of the audio track, each on its own
    thread (`fan_out`). The job's position is the furthest any of them has reported (the
    sound tagger may report nothing for minutes, and runs at most a few chunks ahead)."""
    if not job.info.has_audio:
        for name in job.names:
            emit(name, [])
        return
    furthest = 0.0
    lock = threading.Lock()

    def analyze(name: str, chunks: Iterable[AudioChunk]) -> None:
        nonlocal furthest
        try:
            found = models.analyzer(name).analyze(job.video_id, chunks, job.info.duration,
                                                  since=job.chunk.since, until=job.chunk.until)
            for obs in found:
                with lock:
                    furthest = max(furthest, obs.end)
                    position(furthest)
                emit(name, [obs])
            notes = list(getattr(found, "warnings", ()))  # e.g. a transcript's audio gaps
            if notes:
                outcome.warnings.setdefault(name, []).extend(notes)
        except Exception as exc:  # noqa: BLE001 - one analyzer's failure is reported
            outcome.errors[name] = error_text(exc)

    if len(job.names) == 1:
        analyze(job.names[0], read_audio(job.path))
    else:
        fan_out(read_audio(job.path), [partial(analyze, name) for name in job.names])


def _shots(job: Job, models: LoadedModels, emit: Emit, position: Position,
           outcome: Outcome) -> None:
    start = job.chunk.start
    for name in job.names:
        try:
            outcome.boundaries = models.analyzer(name).boundaries(
                job.path, start, job.chunk.end, lambda seconds: position(start + seconds),
                job.info)
        except Exception as exc:  # noqa: BLE001
            outcome.errors[name] = error_text(exc)


def _per_shot(job: Job, models: LoadedModels, emit: Emit, position: Position,
              outcome: Outcome) -> None:
    spans = list(job.spans)
    if job.thumbnails:
        try:
            with VideoReader(job.path, info=job.info) as reader:
                outcome.thumbnails = thumbnails(job.path, [(a + b) / 2 for a, b in spans],
                                                size=THUMBNAIL_SIZE, reader=reader)
        except Exception as exc:  # noqa: BLE001 - the shots commit with their thumbnails
            outcome.errors[THUMBNAILS] = error_text(exc)
    for name in job.names:
        try:
            with VideoReader(job.path, info=job.info) as reader:
                for obs in models.analyzer(name).analyze(job.video_id, spans, reader):
                    position(obs.end)
                    emit(name, [obs])
        except Exception as exc:  # noqa: BLE001
            outcome.errors[name] = error_text(exc)
