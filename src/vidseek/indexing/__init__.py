"""Indexing: plan each video's due runs, cut the work into jobs, run them on an executor
(threads here, or Ray tasks), stitch the pieces and commit the runs. One body of job code
for every executor; see `pipeline` for the flow."""

from vidseek.indexing.executors import (
    CHUNK_SECONDS,
    FAULTS_ENV,
    Executor,
    LocalExecutor,
    RayExecutor,
    connect,
)
from vidseek.indexing.jobs import THUMBNAIL_SIZE
from vidseek.indexing.paths import VIDEO_SUFFIXES, expand_paths
from vidseek.indexing.pipeline import Progress, ResultCallback, index
from vidseek.indexing.results import IndexReport, IndexResult

__all__ = [
    "CHUNK_SECONDS",
    "FAULTS_ENV",
    "THUMBNAIL_SIZE",
    "VIDEO_SUFFIXES",
    "Executor",
    "IndexReport",
    "IndexResult",
    "LocalExecutor",
    "Progress",
    "RayExecutor",
    "ResultCallback",
    "connect",
    "expand_paths",
    "index",
]
