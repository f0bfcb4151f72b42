"""Indexing jobs that run in the background, one at a time, and report their progress.

Indexing one video already keeps both cores busy, so jobs queue behind each other in one
worker thread instead of competing.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from vidseek.library import IndexResult, Library, expand_paths

__all__ = ["Job", "Jobs"]

JobStatus = Literal["queued", "running", "done", "failed"]


class Job(BaseModel):
    """One request to index files, and how far it got."""

    id: str
    paths: list[str]
    """The files to index (folders and globs already expanded)."""
    status: JobStatus = "queued"
    progress: float = 0.0
    """0..1 over all its files."""
    current: str | None = None
    """The file being indexed now."""
    results: list[IndexResult] = Field(default_factory=list)
    """One per file indexed so far."""
    error: str | None = None
    """Why the job failed, in words (the results say which file and analyzer)."""
    removed: list[str] = Field(default_factory=list)
    """Uploaded files deleted again because they could not be indexed."""
    created_at: datetime
    finished_at: datetime | None = None
    revision: int = 0
    """Grows with every change, so that a watcher can tell when to report again."""

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")


class Jobs:
    """The server's indexing jobs.

    Args:
        library: the library to index into.
    """

    def __init__(self, library: Library) -> None:
        self.library = library
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._uploaded: set[str] = set()  # ids of the jobs of uploads

    def submit(self, paths: list[str | Path], *, uploaded: bool = False) -> Job:
        """Queue the files (or folders, or globs) at ``paths`` for indexing.

        Args:
            paths: files, folders or globs on the server.
            uploaded: the files were uploaded to be indexed: those that cannot be indexed
                are deleted (and listed in the job's ``removed``).

        Raises:
            ValueError: nothing to index there.
        """
        files = expand_paths(paths)
        missing = [str(p) for p in files if not p.is_file()]
        if missing:
            raise ValueError(f"no such file: {', '.join(missing)}; give paths on the server")
        if not files:
            raise ValueError(f"no video files found at {', '.join(map(str, paths))}")
        job = Job(id=uuid.uuid4().hex[:12], paths=[str(p.resolve()) for p in files],
                  created_at=datetime.now(timezone.utc))
        with self._lock:
            self._jobs[job.id] = job
            if uploaded:
                self._uploaded.add(job.id)
            if self._worker is None:
                self._worker = threading.Thread(target=self._work, name="vidseek-jobs",
                                                daemon=True)
                self._worker.start()
        self._queue.put(job.id)
        return job.model_copy(deep=True)

    def get(self, job_id: str) -> Job | None:
        """A snapshot of a job, or None when there is no such job."""
        with self._lock:
            job = self._jobs.get(job_id)
            return None if job is None else job.model_copy(deep=True)

    def all(self) -> list[Job]:
        """Snapshots of every job, newest first."""
        with self._lock:
            jobs = [j.model_copy(deep=True) for j in self._jobs.values()]
        return sorted(jobs, key=lambda j: j.created_at, reverse=True)

    def close(self, timeout: float = 5.0) -> None:
        """Stop the worker after the job it is running (queued jobs are dropped)."""
        self._queue.put(None)
        if self._worker is not None:
            self._worker.join(timeout)

    # -- the worker --------------------------------------------------------------------------

    def _update(self, job_id: str, **changes) -> None:
        with self._lock:
            job = self._jobs[job_id]
            for name, value in changes.items():
                setattr(job, name, value)
            job.revision += 1

    def _work(self) -> None:
        while True:
            job_id = self._queue.get()
            if job_id is None:
                return
            try:
                self._run(job_id)
            except Exception as exc:  # noqa: BLE001 - a job's failure is reported, not raised
                with self._lock:
                    paths = list(self._jobs[job_id].paths)
                removed = self._remove_uploads(job_id, paths)
                self._update(job_id, status="failed", error=f"{type(exc).__name__}: {exc}"
                             + _removed_note(removed), removed=removed,
                             finished_at=datetime.now(timezone.utc))

    def _run(self, job_id: str) -> None:
        with self._lock:
            paths = list(self._jobs[job_id].paths)
        self._update(job_id, status="running", current=paths[0] if paths else None)
        done: dict[str, float] = {}  # the fraction of each file indexed so far
        finished: list[IndexResult] = []
        last = 0.0

        def publish(current: str | None = None, *, force: bool = False, **changes) -> None:
            nonlocal last
            now = time.monotonic()
            if not force and now - last < 0.1:  # progress arrives per frame; watchers need less
                return
            last = now
            with self._lock:
                job = self._jobs[job_id]
                share = min(sum(done.values()) / len(paths), 1.0)
                job.progress = max(job.progress, share)  # never backwards
                if current is not None:
                    job.current = current
                for name, value in changes.items():
                    setattr(job, name, value)
                job.revision += 1

        def progress(path: Path, fraction: float) -> None:
            with self._lock:
                done[str(path)] = max(done.get(str(path), 0.0), min(fraction, 1.0))
            publish(str(path))

        def on_result(result: IndexResult) -> None:
            with self._lock:
                done[result.path] = 1.0
                finished.append(result)
                results = list(finished)
            publish(force=True, results=results)

        # One call for every file of the job, so that search indexes are rebuilt once.
        report = self.library.index([Path(p) for p in paths], progress=progress,
                                    on_result=on_result)
        failed = [r for r in report.results if r.status == "failed"]
        error = None
        removed = self._remove_uploads(job_id, [r.path for r in failed])
        if failed:
            error = "; ".join(f"{Path(r.path).name}: " + ", ".join(
                f"{what}: {why}" for what, why in r.errors.items()) for r in failed)
            error += _removed_note(removed)
        self._update(job_id, status="failed" if failed else "done", progress=1.0, current=None,
                     results=list(report.results), error=error, removed=removed,
                     finished_at=datetime.now(timezone.utc))

    def _remove_uploads(self, job_id: str, paths: list[str]) -> list[str]:
        """Delete the job's uploaded files among ``paths`` that the library did not take in
        (a file the library knows stays, even when an analyzer failed on it); the paths
        deleted."""
        with self._lock:
            if job_id not in self._uploaded:
                return []
            mine = set(self._jobs[job_id].paths)
        try:
            known = {p for video in self.library.videos() for p in video.paths}
        except Exception:  # noqa: BLE001 - unsure what the library holds: delete nothing
            return []
        removed = []
        for path in paths:
            if path not in mine or path in known:
                continue
            try:
                Path(path).unlink(missing_ok=True)
            except OSError:
                continue
            removed.append(path)
        return removed


def _removed_note(removed: list[str]) -> str:
    if not removed:
        return ""
    return (f" (the upload{'s' if len(removed) > 1 else ''} "
            f"{', '.join(Path(p).name for p in removed)} "
            f"{'were' if len(removed) > 1 else 'was'} deleted again)")

