"""Scale-out indexing: the same analyzers as `Library.index`, scheduled as Ray tasks.

Work is split per video and, for long videos, per time chunk (`vidseek.chunks`): shots,
speech and on-screen text of each chunk, faces and objects per whole video, then one task per
video for what works per shot (thumbnails, image and CLIP vectors, captions). Tasks return
observations, already embedded; only the driver opens the library. It commits each
``(video, analyzer, version)`` run as soon as every piece of it is back, with the store's
usual atomic commit, so a driver that stops leaves committed runs (skipped when it indexes
again) and invisible leftovers (deleted by the next ``begin``), never half a run.

Failures: a task that raises is retried by Ray (``max_retries``, application errors
included); a video that cannot be decoded is not retried but reported, and the other videos
go on. For tests, ``VIDSEEK_RAY_FAULTS`` names a folder: a file ``frames``, ``speech``,
``shots`` or ``per_shot`` there makes the next task of that kind fail once (the file is
replaced by ``<kind>.failed``, saying which task it was).

Example::

    from vidseek import Library
    with Library("/shared/library") as library:
        report = library.index(["/shared/videos"], executor="ray", ray_address="auto")
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from vidseek.chunks import (
    CHUNKED,
    Chunk,
    frames_in_range,
    plan_chunks,
    shot_boundaries_in_range,
    speech_in_range,
    stitch_shots,
    stitch_speech,
    stitch_text,
)
from vidseek.errors import MediaError, VidseekError
from vidseek.media import MediaInfo
from vidseek.types import Observation

__all__ = [
    "CHUNK_SECONDS",
    "FAULTS_ENV",
    "MAX_RETRIES",
    "InjectedFault",
    "Job",
    "Piece",
    "connect",
    "index_on_ray",
    "run_job",
]

CHUNK_SECONDS = 600.0
"""Default chunk length: long enough that a chunk's fixed costs (a worker decoding audio up
to its start, re-reading shot context) stay small, short enough to spread an hour over
cores."""
MAX_RETRIES = 2
"""Retries of a failed task before its analyzers are reported as failed."""
FAULTS_ENV = "VIDSEEK_RAY_FAULTS"

_FRAME_ANALYZERS = ("text", "faces", "objects")
_SHOT_ANALYZERS = ("image", "clip", "captions")
_EMBED_BATCH = 64
_THUMBNAIL_SIZE = 320

JobKind = Literal["frames", "speech", "shots", "per_shot"]


class InjectedFault(RuntimeError):
    """A failure injected through ``VIDSEEK_RAY_FAULTS`` (tests only)."""


@dataclass(frozen=True)
class Job:
    """One task: some analyzers over one chunk of one video (or its shots, for ``per_shot``)."""

    kind: JobKind
    path: str
    video_id: str
    info: MediaInfo
    names: tuple[str, ...]
    """Analyzers it runs (``shots`` for a shots job; may be empty for ``per_shot``)."""
    chunk: Chunk
    specs: str
    """The library's model specs as JSON: the worker makes the same analyzers."""
    step: float = 1.0
    """Seconds between sampled frames (``frames``)."""
    size: int = 640
    """Longest side of decoded frames (``frames``)."""
    spans: tuple[tuple[float, float], ...] = ()
    """The shots (``per_shot``)."""
    thumbnails: bool = False
    """Make one thumbnail per shot (``per_shot``)."""

    def describe(self) -> str:
        what = ",".join(self.names) or "thumbnails"
        return (f"{self.kind}[{what}] of {Path(self.path).name} chunk "
                f"{self.chunk.index + 1}/{self.chunk.count}")


@dataclass
class Piece:
    """What a task returns."""

    job: Job
    observations: dict[str, list[Observation]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    boundaries: list = field(default_factory=list)
    """Shot boundaries (``shots``)."""
    thumbnails: list = field(default_factory=list)
    """`vidseek.media.Thumbnail` per shot (``per_shot``)."""
    seconds: float = 0.0


# ---------------------------------------------------------------------------- workers

_analyzers: dict[tuple[str, str], Any] = {}  # per worker process: models load once
_shared: dict[Path, Any] = {}


def _analyzer(name: str, specs: str) -> Any:
    key = (name, specs)
    if key not in _analyzers:
        from vidseek.library import _make_analyzer
        from vidseek.models.registry import ModelSpecs

        _analyzers[key] = _make_analyzer(name, ModelSpecs.model_validate_json(specs), _shared)
    return _analyzers[key]


def run_job(job: Job) -> Piece:
    """Run one job (the body of every Ray task; callable without Ray too).

    Returns:
        The piece. A video that cannot be decoded is reported in ``errors`` (retrying would
        not help); any other exception is raised, so that Ray retries the task.
    """
    _inject_fault(job)
    started = time.perf_counter()
    piece = Piece(job)
    try:
        if job.kind == "frames":
            analyzers = {name: _analyzer(name, job.specs) for name in job.names}
            piece.observations = frames_in_range(
                job.path, job.video_id, job.info, analyzers, step=job.step, size=job.size,
                start=job.chunk.start, end=job.chunk.end)
        elif job.kind == "speech":
            piece.observations["speech"] = speech_in_range(
                job.path, job.video_id, job.info, _analyzer("speech", job.specs), job.chunk)
        elif job.kind == "shots":
            piece.boundaries = shot_boundaries_in_range(job.path, job.chunk.start, job.chunk.end)
        else:
            _per_shot(job, piece)
    except MediaError as exc:
        piece.errors = {name: f"MediaError: {exc}" for name in job.names or ("shots",)}
        piece.observations = {}
    for name, found in piece.observations.items():
        piece.observations[name] = _embedded(found, job.specs)
    piece.seconds = time.perf_counter() - started
    return piece


def _per_shot(job: Job, piece: Piece) -> None:
    """Thumbnails and the analyzers that work per shot, as local indexing does them."""
    from vidseek.media import VideoReader, thumbnails

    spans = list(job.spans)
    with VideoReader(job.path, info=job.info) as reader:
        if job.thumbnails:
            piece.thumbnails = thumbnails(job.path, [(a + b) / 2 for a, b in spans],
                                          size=_THUMBNAIL_SIZE, reader=reader)
    for name in job.names:
        with VideoReader(job.path, info=job.info) as reader:
            piece.observations[name] = list(
                _analyzer(name, job.specs).analyze(job.video_id, spans, reader))


def _embedded(found: list[Observation], specs: str) -> list[Observation]:
    """Text vectors from the library's text embedder, in the batches local indexing uses."""
    for i in range(0, len(found), _EMBED_BATCH):
        texts = [o for o in found[i:i + _EMBED_BATCH] if o.text.strip()]
        if texts:
            vectors = _analyzer("embed", specs).passages([o.text for o in texts])
            for obs, vector in zip(texts, vectors):
                obs.vector = vector.tolist()
    return found


def _inject_fault(job: Job) -> None:
    folder = os.environ.get(FAULTS_ENV)
    if not folder:
        return
    marker = Path(folder) / job.kind
    try:
        marker.unlink()  # atomic: only one task takes the fault
    except FileNotFoundError:
        return
    (Path(folder) / f"{job.kind}.failed").write_text(job.describe() + "\n")
    raise InjectedFault(f"injected failure of {job.describe()} (${FAULTS_ENV})")


# ---------------------------------------------------------------------------- driver


def connect(address: str | None = None, **init: Any) -> bool:
    """Join a Ray cluster, or start one on this machine.

    Args:
        address: ``None`` or ``"local"`` starts a local Ray (or joins ``$RAY_ADDRESS``);
            ``"auto"`` joins the cluster started here with ``ray start``; ``ray://host:10001``
            joins a remote cluster through the Ray client. Ignored when Ray is already
            initialised in this process.
        init: more arguments for ``ray.init`` (``num_cpus``, ``runtime_env``...).

    Returns:
        True when this call initialised Ray (the caller should shut it down).
    """
    try:
        import ray
    except ImportError as exc:  # pragma: no cover - ray is a dependency
        raise VidseekError("scale-out indexing needs Ray: pip install 'ray[data]'") from exc
    if ray.is_initialized():
        return False
    init = {"include_dashboard": False, "logging_level": logging.WARNING, **init}
    with warnings.catch_warnings():
        # Ray starts its processes with fork + exec; LanceDB's state never runs in them.
        warnings.filterwarnings("ignore", message="lancedb fork support")
        ray.init(address=None if address in (None, "", "local") else address, **init)
    return True


def index_on_ray(library: Any, paths: Iterable[str | Path], *, address: str | None = None,
                 chunk_seconds: float = CHUNK_SECONDS, max_retries: int = MAX_RETRIES,
                 progress: Any = None) -> Any:
    """Index files, folders and globs into ``library`` with Ray tasks.

    Same results as ``library.index(paths)``: the same analyzers, versions, observations and
    times (chunk borders are stitched, see `vidseek.chunks`), committed per
    ``(video, analyzer, version)``.

    Args:
        library: the `vidseek.library.Library` to index into (only this process opens it).
        paths: files, folders or globs.
        address: the Ray cluster (see :func:`connect`).
        chunk_seconds: split videos longer than 1.5 times this into chunks of about this
            length (``0`` never splits).
        max_retries: retries of a failed task.
        progress: called with a video and the fraction of its tasks done.

    Returns:
        An `vidseek.library.IndexReport`, one result per file.
    """
    import ray

    from vidseek.library import IndexReport, expand_paths

    started = time.perf_counter()
    files = expand_paths(paths)
    owned = connect(address)
    try:
        driver = _Driver(library, ray.remote(num_cpus=1)(run_job).options(
            max_retries=max_retries, retry_exceptions=True), chunk_seconds, progress)
        results = driver.index(files)
    finally:
        if owned:
            ray.shutdown()
    if any(r.analyzers for r in results):
        with library._write:
            library.store.build_indexes()
    return IndexReport(results=results, seconds=time.perf_counter() - started)


class _Driver:
    """Submits the jobs of every video, collects the pieces, stitches and commits."""

    def __init__(self, library: Any, task: Any, chunk_seconds: float, progress: Any) -> None:
        self.library = library
        self.task = task
        self.chunk_seconds = chunk_seconds
        self.progress = progress

    def index(self, files: list[Path]) -> list:
        import ray

        videos = [_Video(self, path) for path in files]
        pending: dict[Any, tuple[_Video, Job]] = {}
        for video in videos:
            for job in video.plan():
                pending[self.task.remote(job)] = (video, job)
        try:
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    video, job = pending.pop(ref)
                    try:
                        piece = ray.get(ref)
                    except Exception as exc:  # noqa: BLE001 - its retries ran out
                        piece = _failed(job, exc)
                    for follow in video.take(piece):
                        pending[self.task.remote(follow)] = (video, follow)
                    if self.progress is not None:
                        self.progress(video.path, video.fraction())
        except BaseException:
            for ref in pending:
                ray.cancel(ref)  # the next driver redoes what did not commit
            raise
        for video in videos:
            video.finish()
        return [video.result for video in videos]


def _failed(job: Job, exc: BaseException) -> Piece:
    """The piece of a task whose retries ran out: each analyzer it ran failed."""
    cause = getattr(exc, "cause", None) or exc
    names = list(job.names)
    if job.kind == "shots" or job.thumbnails:
        names.append("shots")
    message = f"{type(cause).__name__}: {cause} (task failed {job.describe()}, retries used up)"
    return Piece(job, errors=dict.fromkeys(names, message))


class _Video:
    """One video's jobs, its pieces so far, and its result."""

    def __init__(self, driver: _Driver, path: Path) -> None:
        from vidseek.library import IndexResult

        self.driver = driver
        self.library = driver.library
        self.path = path
        self.result = IndexResult(path=str(path), status="indexed")
        self.started = time.perf_counter()
        self.waiting: dict[str, int] = {}  # analyzer -> pieces still out
        self.pieces: dict[str, dict[int, Any]] = {}  # analyzer -> chunk index -> piece data
        self.total = self.done = 0
        self.todo: list[str] = []
        self.chunks: list[Chunk] = []
        self.step = 1.0

    # -- planning ----------------------------------------------------------------------

    def plan(self) -> list[Job]:
        from vidseek.media import probe
        from vidseek.store import video_id

        library, result = self.library, self.result
        try:
            self.info = probe(self.path)
            self.vid = video_id(self.path)
        except (VidseekError, OSError) as exc:
            result.status, result.errors["file"] = "failed", str(exc)
            return []
        result.video_id, result.duration = self.vid, self.info.duration
        with library._write:
            library.store.add_video(self.vid, self.path, self.info)
        for name in library.analyzers:
            try:
                if not library.store.is_complete(self.vid, name, library._version(name)):
                    self.todo.append(name)
            except (VidseekError, ImportError) as exc:  # its model cannot load
                result.errors[name] = f"{type(exc).__name__}: {exc}"
        if not self.todo:
            return []
        self.chunks = plan_chunks(self.info.duration, self.driver.chunk_seconds)
        whole = Chunk(0, 1, 0.0, self.info.duration)
        specs = library.models.model_dump_json()

        def job(kind: JobKind, names: list[str], chunk: Chunk, **more) -> Job:
            return Job(kind, str(self.path), self.vid, self.info, tuple(names), chunk, specs,
                       **more)

        jobs: list[Job] = []
        frames = [n for n in self.todo if n in _FRAME_ANALYZERS]
        if frames:
            models = [library._model(n) for n in frames]
            self.step = min(m.interval for m in models)
            size = max(m.size for m in models)
            split = [n for n in frames if n in CHUNKED]
            if len(self.chunks) > 1 and split:
                jobs += [job("frames", split, c, step=self.step, size=size) for c in self.chunks]
                rest = [n for n in frames if n not in CHUNKED]
                if rest:
                    jobs.append(job("frames", rest, whole, step=self.step, size=size))
            else:
                jobs.append(job("frames", frames, whole, step=self.step, size=size))
        if "speech" in self.todo:
            jobs += [job("speech", ["speech"], c) for c in self.chunks]
        if "shots" in self.todo:
            jobs += [job("shots", ["shots"], c) for c in self.chunks]
        per_shot = "shots" in self.todo or any(n in _SHOT_ANALYZERS for n in self.todo)
        for j in jobs:
            for name in j.names:
                self.waiting[name] = self.waiting.get(name, 0) + 1
        self.total = len(jobs) + per_shot
        if per_shot and "shots" not in self.todo:
            spans = [(o.start, o.end) for o in library.store.observations(self.vid, ["shot"])]
            jobs.append(self._per_shot_job(spans))
        return jobs

    def _per_shot_job(self, spans: list[tuple[float, float]]) -> Job:
        names = [n for n in self.todo if n in _SHOT_ANALYZERS]
        if not spans:
            for name in names:
                self.result.errors[name] = "no shots to work on (shot detection failed)"
            names = []
        for name in names:
            self.waiting[name] = 1
        return Job("per_shot", str(self.path), self.vid, self.info, tuple(names),
                   Chunk(0, 1, 0.0, self.info.duration), self.library.models.model_dump_json(),
                   spans=tuple(spans), thumbnails="shots" in self.todo and bool(spans))

    # -- collecting --------------------------------------------------------------------

    def take(self, piece: Piece) -> list[Job]:
        """Record a finished task; commit what is complete; return the jobs it unlocks."""
        self.done += 1
        job = piece.job
        for name, why in piece.errors.items():
            self.result.errors.setdefault(name, why)
        for name in job.names:
            self.result.analyzer_seconds[name] = (
                self.result.analyzer_seconds.get(name, 0.0) + piece.seconds)
        if job.kind == "per_shot":
            self._commit_per_shot(piece)
            return []
        follow: list[Job] = []
        for name in job.names:
            data = piece.boundaries if job.kind == "shots" else piece.observations.get(name, [])
            self.pieces.setdefault(name, {})[job.chunk.index] = data
            self.waiting[name] -= 1
            if self.waiting[name] == 0 and name not in self.result.errors:
                follow += self._complete(name)
            elif self.waiting[name] == 0 and name == "shots":
                self._per_shot_job([])  # no shots: the per-shot analyzers fail
                self.done += 1
        return follow

    def _complete(self, name: str) -> list[Job]:
        pieces = [self.pieces[name][k] for k in sorted(self.pieces[name])]
        if name == "shots":
            self.spans = stitch_shots(pieces, self.info.duration)
            return [self._per_shot_job(self.spans)]
        if name == "text" and len(pieces) > 1:
            found = stitch_text(pieces, self.chunks, step=self.step)
        else:
            found = stitch_speech(pieces)  # concatenation in time order
        self._commit(name, found)
        return []

    def _commit_per_shot(self, piece: Piece) -> None:
        store, lock = self.library.store, self.library._write
        if "shots" in self.todo and "shots" not in self.result.errors:
            spans = getattr(self, "spans", [])
            with lock:  # thumbnails first: a committed shots run always has them
                store.put_thumbnails(self.vid, piece.thumbnails)
            source = f"vidseek-shots:{self.library._version('shots')}"
            self._commit("shots", [
                Observation(video_id=self.vid, start=a, end=b, kind="shot", data={"index": i},
                            source=source) for i, (a, b) in enumerate(spans)])
        for name in piece.job.names:
            if name not in self.result.errors:
                self._commit(name, piece.observations.get(name, []))
            self.waiting[name] = 0

    def _commit(self, name: str, found: list[Observation]) -> None:
        library = self.library
        with library._write:
            run = library.store.begin(self.vid, name, library._version(name))
            try:
                run.add(found)
                run.commit()
            except BaseException:
                run.abort()
                raise
        self.result.analyzers[name] = len(found)

    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0

    def finish(self) -> None:
        result = self.result
        if result.status != "failed":
            if result.errors:
                result.status = "failed"
            elif not self.todo:
                result.status = "unchanged"
        result.seconds = time.perf_counter() - self.started
