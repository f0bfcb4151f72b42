"""The one indexing pipeline: plan each video's due runs, hand the jobs to an executor,
stitch and commit what comes back.

Each ``(video, analyzer, version)`` run commits as soon as every piece of it is in, with
the store's atomic commit: an interrupted index leaves committed runs (skipped when it
indexes again) and invisible leftovers (deleted when the next index starts), never half a
run. One analyzer failing (a model server down) is reported and the others still commit; one
bad file is reported and the batch goes on, and so is a file that changes while it is read
(nothing read after the change is committed). The search indexes are built once, at the
end, and rebuilt by the next index when they went missing.

A batch holds the library's writer lock from start to end (see `vidseek.store.lock`): a
second process that indexes the same library waits for it (and says so), readers never do.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path

from vidseek.analyzers.registry import REGISTRY, LoadedModels
from vidseek.errors import VidseekError
from vidseek.indexing.commit import RunWriter
from vidseek.indexing.executors import Executor
from vidseek.indexing.jobs import THUMBNAILS, Outcome, Position, error_text
from vidseek.indexing.paths import expand_paths
from vidseek.indexing.plan import Chunk, Job, first_jobs, plan_chunks, plan_parts
from vidseek.indexing.results import IndexReport, IndexResult
from vidseek.indexing.stitch import stitch_audio, stitch_frames
from vidseek.media import probe
from vidseek.store import Store, video_id
from vidseek.types import Observation

__all__ = ["Progress", "ResultCallback", "index"]

Progress = Callable[[Path, float], None]
"""Called with a video and the fraction of it indexed so far (0..1)."""
ResultCallback = Callable[[IndexResult], None]
"""Called with each file's result as soon as it is done."""

_TICK = 0.5  # seconds between progress reports while jobs run
_NO_SHOTS = "no shots to work on (shot detection failed)"

log = logging.getLogger("vidseek.indexing")


def index(paths: Iterable[str | Path], *, store: Store, lock: threading.Lock,
          models: LoadedModels, analyzers: list[str], executor: Executor,
          progress: Progress | None = None, on_result: ResultCallback | None = None,
          ) -> IndexReport:
    """Index files, folders and globs with ``analyzers`` into ``store``.

    Args:
        paths: video files, folders (searched recursively) and globs.
        store: the library's store.
        lock: serialises this process's writes to the store.
        models: the library's models.
        analyzers: names from the analyzer registry, in registry order.
        executor: where the jobs run (`vidseek.indexing.executors`); closed at the end.
        progress: called on this thread with a video and the fraction of it done.
        on_result: called on this thread with each file's result when it is done.

    Returns:
        One result per file: ``indexed``, ``unchanged`` (every analyzer already has a
        committed run of its version) or ``failed`` (with the reason).

    Raises:
        StoreError: another process still wrote the library after
            :data:`~vidseek.store.lock.WRITE_WAIT` seconds (`Library.index` takes the lock
            first, with its own wait).
    """
    holding = False
    try:
        with store.writing():
            holding = True
            return _batch(paths, store, lock, models, analyzers, executor, progress, on_result)
    except BaseException:
        if not holding:
            executor.close(cancel=True)
        raise


def _batch(paths: Iterable[str | Path], store: Store, lock: threading.Lock,
           models: LoadedModels, analyzers: list[str], executor: Executor,
           progress: Progress | None, on_result: ResultCallback | None) -> IndexReport:
    """One batch, under the writer lock."""
    started = time.perf_counter()
    # What an earlier process left: rows of runs killed before their commit, of runs
    # replaced by a commit whose cleanup was killed. No other writer can have runs open now.
    try:
        store.cleanup()
    except Exception as exc:  # noqa: BLE001 - leftovers are invisible; they can wait
        log.warning("%s: what earlier runs left was not cleaned up (%s); the next index tries "
                    "again", store.path, error_text(exc))
    waiting = deque(expand_paths(paths))
    videos: list[_Video] = []
    active: dict[str, _Video] = {}

    def finished(video: _Video) -> None:
        video.finish()
        active.pop(video.key, None)
        if progress is not None and video.todo:
            progress(video.path, 1.0)
        if on_result is not None:
            on_result(video.result)

    try:
        while waiting or active:
            while waiting and (executor.videos_at_once is None
                               or len(active) < executor.videos_at_once):
                video = _Video(waiting.popleft(), store, lock, models, analyzers, executor)
                videos.append(video)
                active[video.key] = video
                for job in video.plan():
                    executor.submit(job, video.emit, video.position(job))
                if video.done:
                    finished(video)
            if not active:
                continue
            outcome = executor.next(_TICK)
            if outcome is None:
                if progress is not None:
                    for video in active.values():
                        progress(video.path, video.fraction())
                continue
            video = active[outcome.job.path]
            for job in video.take(outcome):
                executor.submit(job, video.emit, video.position(job))
            if video.done:
                finished(video)
            elif progress is not None:
                progress(video.path, video.fraction())
    except BaseException:
        executor.close(cancel=True)
        for video in videos:
            video.abandon()
        raise
    executor.close()
    try:
        with lock:
            if any(video.result.analyzers for video in videos):
                store.build_indexes()
            else:  # nothing new, but an index a killed build never finished is still due
                store.ensure_indexes()
    except Exception as exc:  # noqa: BLE001 - the runs are committed; the index can wait
        log.warning("%s: the search indexes were not rebuilt (%s); the next `vidseek index` "
                    "or search rebuilds the missing ones", store.path, error_text(exc))
    return IndexReport(results=[v.result for v in videos], seconds=time.perf_counter() - started)


def _stamp(path: Path) -> tuple[int, int, int]:
    """What tells that a file changed: its size, modification time and inode."""
    stat = os.stat(path)
    return stat.st_size, stat.st_mtime_ns, stat.st_ino


class _Video:
    """One video's due analyzers, its jobs and pieces so far, and its result."""

    def __init__(self, path: Path, store: Store, lock: threading.Lock, models: LoadedModels,
                 analyzers: list[str], executor: Executor) -> None:
        self.path, self.key = path, str(path)
        self.store, self.lock, self.models = store, lock, models
        self.analyzers, self.executor = analyzers, executor
        self.result = IndexResult(path=str(path), status="indexed")
        self.started = time.perf_counter()
        self.todo: list[str] = []
        self.chunks: list[Chunk] = []
        self.step = 1.0
        self.spans: list[tuple[float, float]] = []
        self.waiting: dict[str, int] = {}  # analyzer -> jobs still out
        self.pieces: dict[str, dict[int, list]] = {}  # analyzer -> chunk index -> piece
        self.writers: dict[str, RunWriter] = {}  # analyzer -> its streaming run
        self.progress: dict[int, float] = {}  # job -> fraction done
        self.total = 0  # jobs it will take
        self.out = 0  # jobs handed out and not yet back
        self.stamp: tuple[int, int, int] | None = None  # the file as planned (see _changed)

    # -- planning --------------------------------------------------------------------------

    def plan(self) -> list[Job]:
        result = self.result
        try:
            try:
                self.stamp = _stamp(self.path)  # first: a change while probing shows too
            except OSError:
                probe(self.path)  # raises, saying why in words (no such file, a link loop)
                raise
            self.info = probe(self.path)
            self.vid = video_id(self.path)
        except (VidseekError, OSError) as exc:
            result.status, result.errors["file"] = "failed", str(exc)
            return []
        result.video_id, result.duration = self.vid, self.info.duration
        with self.lock:
            self.store.add_video(self.vid, self.path, self.info)
        frame_sizes = {}
        for name in self.analyzers:
            try:
                if self.store.is_complete(self.vid, name, self.models.version(name)):
                    continue
                if REGISTRY[name].kind == "frame":
                    analyzer = self.models.analyzer(name)
                    frame_sizes[name] = (analyzer.interval, analyzer.size)
                self.todo.append(name)
            except (VidseekError, ImportError) as exc:  # its model cannot load
                result.errors[name] = error_text(exc)
        if not self.todo:
            return []
        self.chunks = plan_chunks(self.info.duration, self.executor.chunk_seconds)
        audio_chunks = (plan_parts(self.info.duration, self.executor.audio_parts)
                        if len(self.chunks) == 1 else None)
        jobs = first_jobs(self.path, self.vid, self.info, self.todo, self.chunks, frame_sizes,
                          audio_chunks)
        self.step = next((j.step for j in jobs if j.kind == "frames"), 1.0)
        for job in jobs:
            for name in job.names:
                self.waiting[name] = self.waiting.get(name, 0) + 1
        if self.executor.streams:
            for name in self.todo:
                if REGISTRY[name].kind != "shot":
                    self.writers[name] = self._writer(name)
        shots_due = any(REGISTRY[n].kind == "shot" for n in self.todo)
        per_shot = [n for n in self.todo if REGISTRY[n].kind == "per_shot"]
        self.total = len(jobs) + (shots_due or bool(per_shot))
        if per_shot and not shots_due:
            spans = [(o.start, o.end) for o in self.store.observations(self.vid, ["shot"])]
            jobs += self._per_shot(spans, thumbnails=False)
        self.out = len(jobs)
        return jobs

    def _per_shot(self, spans: list[tuple[float, float]], *, thumbnails: bool) -> list[Job]:
        names = [n for n in self.todo if REGISTRY[n].kind == "per_shot"]
        if not spans:
            for name in names:
                self._fail(name, _NO_SHOTS)
            self.total -= 1  # the per-shot job will not run
            return []
        self.spans = spans
        return [Job("per_shot", str(self.path), self.vid, self.info, tuple(names),
                    Chunk(0, 1, 0.0, self.info.duration), spans=tuple(spans),
                    thumbnails=thumbnails)]

    # -- running ---------------------------------------------------------------------------

    def emit(self, name: str, observations: list[Observation]) -> None:
        self.writers[name].add(observations)

    def position(self, job: Job) -> Position:
        key, chunk = id(job), job.chunk
        length = max(chunk.end - chunk.start, 1e-9)

        def at(seconds: float) -> None:
            self.progress[key] = min(max((seconds - chunk.start) / length, 0.0), 1.0)

        return at

    @property
    def done(self) -> bool:
        return self.out == 0

    def fraction(self) -> float:
        return min(sum(self.progress.values()) / self.total, 1.0) if self.total else 1.0

    def take(self, outcome: Outcome) -> list[Job]:
        """Record a finished job; commit what is complete; return the jobs it unlocks."""
        job = outcome.job
        self.progress[id(job)] = 1.0
        for name, why in outcome.errors.items():
            self.result.errors.setdefault(self._shots_name() if name == THUMBNAILS else name,
                                          why)
        for name, notes in outcome.warnings.items():
            self.result.warnings.setdefault(name, []).extend(notes)
        for name in job.names:
            seconds = self.result.analyzer_seconds
            seconds[name] = seconds.get(name, 0.0) + outcome.seconds
        follow: list[Job] = []
        if job.kind == "per_shot":
            self._take_per_shot(outcome)
        else:
            for name in job.names:
                piece = (outcome.boundaries if job.kind == "shots"
                         else (outcome.observations or {}).get(name, []))
                self.pieces.setdefault(name, {})[job.chunk.index] = piece
                self.waiting[name] -= 1
                if self.waiting[name] == 0:
                    follow += self._complete(name)
        self.out += len(follow) - 1
        return follow

    def _complete(self, name: str) -> list[Job]:
        info = REGISTRY[name]
        if name in self.result.errors:
            self._fail(name, self.result.errors[name])
            if info.kind == "shot":
                return self._per_shot([], thumbnails=False)
            return []
        pieces = [self.pieces[name][k] for k in sorted(self.pieces[name])]
        if info.kind == "shot":
            spans = self.models.analyzer(name).shots(
                [b for piece in pieces for b in piece], self.info.duration)
            return self._per_shot(spans, thumbnails=True) or self._commit_shots(spans)
        if name in self.writers:
            self._commit(name)
        elif info.kind == "frame" and len(pieces) > 1:
            self._write(name, stitch_frames(self.models.analyzer(name), pieces, self.chunks,
                                            step=self.step))
        else:
            self._write(name, stitch_audio(pieces))
        return []

    def _take_per_shot(self, outcome: Outcome) -> None:
        if outcome.job.thumbnails:
            shots = self._shots_name()
            if shots not in self.result.errors and not self._file_changed(shots):
                with self.lock:  # thumbnails first: a committed shots run always has them
                    self.store.put_thumbnails(self.vid, outcome.thumbnails)
                self._commit_shots(self.spans)
        for name in outcome.job.names:
            if name in self.result.errors:
                self._fail(name, self.result.errors[name])
            elif name in self.writers:
                self._commit(name)
            else:
                self._write(name, (outcome.observations or {}).get(name, []))

    def _commit_shots(self, spans: list[tuple[float, float]]) -> list[Job]:
        name = self._shots_name()
        self._write(name, self.models.analyzer(name).observations(self.vid, spans))
        return []

    # -- committing ------------------------------------------------------------------------

    def _writer(self, name: str) -> RunWriter:
        return RunWriter(self.store, self.lock, self.vid, name, self.models.version(name),
                         self.models.text_embedder())

    def _commit(self, name: str) -> None:
        writer = self.writers.pop(name)
        if self._file_changed(name):
            writer.abort()
            return
        try:
            self.result.analyzers[name] = writer.commit()
        except Exception as exc:  # noqa: BLE001 - one analyzer's failure is reported
            writer.abort()
            self.result.errors[name] = error_text(exc)

    def _write(self, name: str, found: list[Observation]) -> None:
        self.writers[name] = self._writer(name)
        self.writers[name].add(found)
        self._commit(name)

    def _fail(self, name: str, why: str) -> None:
        self.result.errors.setdefault(name, why)
        writer = self.writers.pop(name, None)
        if writer is not None:
            writer.abort()

    def _file_changed(self, name: str) -> bool:
        """True (and the file and ``name`` failed, with the reason) when the file is no
        longer the one planned: what was read of it may be cut short or mixed."""
        why = self._changed()
        if why is None:
            return False
        self.result.errors.setdefault("file", why)
        self.result.errors.setdefault(name, why)
        return True

    def _changed(self) -> str | None:
        if self.stamp is None:
            return None
        try:
            now = _stamp(self.path)
        except OSError as exc:
            return (f"the file went away while it was being indexed ({exc}); nothing read "
                    "after that was kept: index it again once it is back")
        if now == self.stamp:
            return None
        return (f"the file changed while it was being indexed ({self.stamp[0]} bytes when "
                f"indexing began, {now[0]} now): nothing read after the change was kept; "
                "index it again once the file is complete")

    def _shots_name(self) -> str:
        return next(n for n in self.todo if REGISTRY[n].kind == "shot")

    def abandon(self) -> None:
        """The run was interrupted: drop the runs still open (nothing half-written stays)."""
        for name in list(self.writers):
            self._fail(name, "interrupted")

    def finish(self) -> None:
        result = self.result
        if result.errors and "file" not in result.errors and self.todo:
            # analyzers that failed on a file cut short while they read it: say why
            why = self._changed()
            if why is not None:
                result.errors["file"] = why
        if result.errors:
            result.status = "failed"
        elif not self.todo:
            result.status = "unchanged"
        result.seconds = time.perf_counter() - self.started
