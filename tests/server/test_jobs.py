"""Indexing jobs on a stand-in library: one ``index`` call per job, every file's result as
soon as it is done, progress that never goes back."""

from __future__ import annotations

import time
from pathlib import Path

from vidseek.library import IndexReport, IndexResult
from vidseek.server.jobs import Jobs


class BatchLibrary:
    """Indexes a batch the way :meth:`Library.index` reports it: progress per file, then a
    result per file as it finishes; records every call."""

    def __init__(self) -> None:
        self.calls: list[list[Path]] = []
        self.seen_results: list[list[str]] = []  # what the job held when each file finished
        self.jobs: Jobs | None = None

    def index(self, paths, *, progress=None, on_result=None, executor="local",
              ray_address=None) -> IndexReport:
        paths = list(paths)
        self.calls.append(paths)
        results = []
        for path in paths:
            for fraction in (0.25, 0.5, 1.0):
                progress(path, fraction)
                time.sleep(0.12)  # past the job's throttle, so that each step shows
            failed = path.name.startswith("broken")
            result = IndexResult(path=str(path), status="failed" if failed else "indexed",
                                 errors={"file": "not a video"} if failed else {})
            results.append(result)
            on_result(result)
            [job] = self.jobs.all()
            self.seen_results.append([r.path for r in job.results])
        return IndexReport(results=results, seconds=0.0)


def _wait(jobs: Jobs, job_id: str, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    history = []
    while time.monotonic() < deadline:
        job = jobs.get(job_id)
        history.append(job)
        if job.finished:
            return job, history
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} did not finish: {jobs.get(job_id)}")


def test_a_job_indexes_its_files_in_one_call(tmp_path):
    files = [tmp_path / name for name in ("a.mp4", "b.mp4", "broken.mp4")]
    for file in files:
        file.write_bytes(b"x")
    library = BatchLibrary()
    jobs = Jobs(library)
    library.jobs = jobs
    try:
        job = jobs.submit([tmp_path])  # a folder: its three videos
        final, history = _wait(jobs, job.id)
    finally:
        jobs.close()
    assert library.calls == [[Path(p) for p in final.paths]]  # one call for every file
    names = [Path(p).name for p in final.paths]
    assert names == ["a.mp4", "b.mp4", "broken.mp4"]
    # each file's result is on the job as soon as it is done
    assert [[Path(p).name for p in seen] for seen in library.seen_results] == [
        names[:1], names[:2], names]
    progress = [j.progress for j in history]
    assert progress == sorted(progress) and final.progress == 1.0
    assert 0 < min(p for p in progress if p > 0) < 1 / 3
    assert {j.current for j in history if j.current} <= set(final.paths)
    assert final.status == "failed" and final.error == "broken.mp4: file: not a video"
    assert [r.status for r in final.results] == ["indexed", "indexed", "failed"]
