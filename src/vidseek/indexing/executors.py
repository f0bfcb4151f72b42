"""Where jobs run: threads of this process, or Ray tasks on a cluster.

Both run the same job body (`vidseek.indexing.jobs.run_job`); they differ only in where the
observations go. Locally each job streams them into its analyzers' store runs (memory stays
flat however long the video); on Ray the task embeds them and returns them to the driver,
which alone opens the library, and long videos are split into time chunks.

Ray failures: a task that raises is retried (``max_retries``, application errors included);
its outcome after that reports each of its analyzers as failed and the rest goes on. For
tests, ``VIDSEEK_RAY_FAULTS`` names a folder: a file ``frames``, ``audio``, ``shots`` or
``per_shot`` there makes the next task of that kind fail once (the file is replaced by
``<kind>.failed``, saying which task it was).
"""

from __future__ import annotations

import logging
import os
import warnings
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any, Protocol

from vidseek.analyzers.registry import LoadedModels
from vidseek.errors import VidseekError
from vidseek.indexing.commit import embed_texts
from vidseek.indexing.jobs import THUMBNAILS, Emit, Outcome, Position, error_text, run_job
from vidseek.indexing.plan import Job
from vidseek.models.registry import ModelSpecs

__all__ = [
    "AUDIO_PARTS",
    "CHUNK_SECONDS",
    "FAULTS_ENV",
    "MAX_RETRIES",
    "Executor",
    "InjectedFault",
    "LocalExecutor",
    "RayExecutor",
    "connect",
]

CHUNK_SECONDS = 600.0
"""Default chunk length on Ray: long enough that a chunk's fixed costs (a worker decoding
audio up to its start, re-reading shot context) stay small, short enough to spread an hour
over cores."""
AUDIO_PARTS = 2
"""Parts the audio of a video (of at least two
:data:`~vidseek.indexing.plan.AUDIO_PART_SECONDS`) is analysed in locally, side by side.
Speech is the slowest analyzer; in one part it kept one core busy long after the frame pass
had finished. The parts are cut where one pass would cut its windows, so the transcript is
the same (each part decodes the audio up to its end)."""
MAX_RETRIES = 2
"""Retries of a failed Ray task before its analyzers are reported as failed."""
FAULTS_ENV = "VIDSEEK_RAY_FAULTS"


class Executor(Protocol):
    streams: bool
    """Jobs run in this process and call the driver's ``emit`` (else outcomes carry what
    they found)."""
    chunk_seconds: float
    """Split videos into chunks of about this length (0: never)."""
    videos_at_once: int | None
    """Videos planned at once (None: all)."""
    audio_parts: int
    """Parts an unchunked video's audio is analysed in, side by side (see
    :data:`AUDIO_PARTS`)."""

    def submit(self, job: Job, emit: Emit, position: Position) -> None: ...

    def next(self, timeout: float) -> Outcome | None:
        """The outcome of a finished job, or None after ``timeout`` seconds without one."""

    def close(self, cancel: bool = False) -> None: ...


class LocalExecutor:
    """Threads of this process: the heavy work happens in FFmpeg, CTranslate2, dlib and ONNX
    Runtime, which release the GIL, so a video's frame, audio and shot jobs use every core.
    One video at a time, one chunk per video, its audio in :data:`AUDIO_PARTS` parts."""

    streams = True
    chunk_seconds = 0.0
    videos_at_once = 1
    audio_parts = AUDIO_PARTS

    def __init__(self, models: LoadedModels, workers: int = 4) -> None:
        self.models = models
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="vidseek-index")
        self._running: dict[Future, Job] = {}

    def submit(self, job: Job, emit: Emit, position: Position) -> None:
        self._running[self._pool.submit(run_job, job, self.models, emit, position)] = job

    def next(self, timeout: float) -> Outcome | None:
        done, _ = wait(self._running, timeout=timeout, return_when=FIRST_COMPLETED)
        if not done:
            return None
        future = done.pop()
        del self._running[future]
        return future.result()

    def close(self, cancel: bool = False) -> None:
        self._pool.shutdown(wait=True, cancel_futures=cancel)


class InjectedFault(RuntimeError):
    """A failure injected through ``VIDSEEK_RAY_FAULTS`` (tests only)."""


_worker_models: dict[str, LoadedModels] = {}  # per worker process: models load once


def _remote_job(job: Job, specs: str) -> Outcome:
    """The body of every Ray task: the job, with what it found embedded and returned."""
    _inject_fault(job)
    if specs not in _worker_models:
        _worker_models[specs] = LoadedModels(ModelSpecs.model_validate_json(specs))
    models = _worker_models[specs]
    found: dict[str, list] = {name: [] for name in job.names}
    outcome = run_job(job, models, lambda name, obs: found[name].extend(obs))
    outcome.observations = {name: embed_texts(obs, models.text_embedder())
                            for name, obs in found.items() if name not in outcome.errors}
    return outcome


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
    except ImportError as exc:
        raise VidseekError("scale-out indexing needs Ray: pip install 'ray[data]'") from exc
    if ray.is_initialized():
        return False
    init = {"include_dashboard": False, "logging_level": logging.WARNING, **init}
    with warnings.catch_warnings():
        # Ray starts its processes with fork + exec; LanceDB's state never runs in them.
        warnings.filterwarnings("ignore", message="lancedb fork support")
        ray.init(address=None if address in (None, "", "local") else address, **init)
    return True


class RayExecutor:
    """Ray tasks, one CPU each; every video planned at once, long ones split into chunks."""

    streams = False
    videos_at_once = None
    audio_parts = 1  # the audio follows the chunks

    def __init__(self, specs: ModelSpecs, *, address: str | None = None,
                 chunk_seconds: float = CHUNK_SECONDS, max_retries: int = MAX_RETRIES) -> None:
        import ray

        self.chunk_seconds = chunk_seconds
        self._specs = specs.model_dump_json()
        self._owned = connect(address)
        self._task = ray.remote(num_cpus=1)(_remote_job).options(
            max_retries=max_retries, retry_exceptions=True)
        self._running: dict[Any, Job] = {}

    def submit(self, job: Job, emit: Emit, position: Position) -> None:
        self._running[self._task.remote(job, self._specs)] = job

    def next(self, timeout: float) -> Outcome | None:
        import ray

        done, _ = ray.wait(list(self._running), num_returns=1, timeout=timeout)
        if not done:
            return None
        job = self._running.pop(done[0])
        try:
            return ray.get(done[0])
        except Exception as exc:  # noqa: BLE001 - its retries ran out
            cause = getattr(exc, "cause", None) or exc
            why = f"{error_text(cause)} (task failed {job.describe()}, retries used up)"
            names = [*job.names, *([THUMBNAILS] if job.thumbnails else [])]
            return Outcome(job, errors=dict.fromkeys(names, why))

    def close(self, cancel: bool = False) -> None:
        import ray

        if cancel:
            for ref in self._running:
                ray.cancel(ref)  # the next driver redoes what did not commit
        self._running.clear()
        if self._owned:
            ray.shutdown()
