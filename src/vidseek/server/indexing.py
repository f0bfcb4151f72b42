"""Routes that add videos: by path on the server or by upload, indexed as background jobs
whose progress can be polled or followed as server-sent events."""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from vidseek.library import VIDEO_SUFFIXES
from vidseek.server.errors import ApiError
from vidseek.server.events import sse_event
from vidseek.server.jobs import Job
from vidseek.server.videos import API

__all__ = ["router"]

router = APIRouter(prefix=API, tags=["indexing"])

UPLOADS = "uploads"
"""Folder inside the library where uploaded files are kept."""
_CHUNK = 1 << 20
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")


class IndexRequest(BaseModel):
    paths: list[str] = Field(min_length=1, description="Files, folders or globs on the server.")


@router.post("/jobs", status_code=202, summary="Index files already on the server")
def add_paths(body: IndexRequest, request: Request) -> Job:
    try:
        return request.app.state.jobs.submit(body.paths)
    except ValueError as exc:
        raise ApiError(400, "nothing_to_index", str(exc)) from None


@router.get("/jobs", summary="Every indexing job, newest first")
def list_jobs(request: Request) -> list[Job]:
    return request.app.state.jobs.all()


@router.get("/jobs/{job_id}", summary="One job: status, progress and results")
def get_job(job_id: str, request: Request) -> Job:
    return _job(request, job_id)


@router.get("/jobs/{job_id}/events", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}}},
            summary="Follow a job: an event 'job' at every change, until it finishes")
async def job_events(job_id: str, request: Request) -> StreamingResponse:
    _job(request, job_id)  # 404 before the stream starts
    jobs = request.app.state.jobs

    async def stream():
        seen = -1
        while True:
            job = jobs.get(job_id)
            if job.revision != seen:
                seen = job.revision
                yield sse_event("job", job.model_dump_json())
            if job.finished or await request.is_disconnected():
                return
            await asyncio.sleep(0.2)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache"})


@router.post("/uploads", status_code=202,
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/octet-stream": {"schema": {"type": "string",
                                                         "format": "binary"}}}}},
             summary="Upload a video (the request body is the file) and index it")
async def upload(
    request: Request,
    filename: Annotated[str, Query(description="The file's name, e.g. talk.mp4.")],
) -> dict[str, Any]:
    limit = request.app.state.upload_limit
    name = _safe_name(filename)
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, "upload_too_large", _too_large(limit))
    folder = Path(request.app.state.library.path) / UPLOADS
    folder.mkdir(parents=True, exist_ok=True)
    target = _free_path(folder / name)
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
    size = 0
    try:
        with partial.open("wb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise ApiError(413, "upload_too_large", _too_large(limit))
                out.write(chunk)
        if size == 0:
            raise ApiError(400, "empty_upload", "the request body is empty: send the file's "
                           "bytes as the body (curl --data-binary @FILE)")
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    try:
        job = request.app.state.jobs.submit([target])
    except ValueError as exc:
        target.unlink(missing_ok=True)
        raise ApiError(400, "nothing_to_index", str(exc)) from None
    return {"path": str(target), "bytes": size, "job": job.model_dump(mode="json")}


def _job(request: Request, job_id: str) -> Job:
    job = request.app.state.jobs.get(job_id)
    if job is None:
        raise ApiError(404, "unknown_job", f"no job {job_id!r}; GET /api/jobs lists them")
    return job


def _safe_name(filename: str) -> str:
    """A plain file name from whatever the client sent: no folders, a video suffix."""
    name = _SAFE_NAME.sub("_", Path(filename.replace("\\", "/")).name).strip(" .")
    suffix = Path(name).suffix.lower()
    if not name or suffix not in VIDEO_SUFFIXES:
        raise ApiError(400, "bad_filename",
                       f"{filename!r} is not a video file name; use one ending in "
                       f"{', '.join(sorted(VIDEO_SUFFIXES))}")
    return name


def _free_path(path: Path) -> Path:
    """``path``, or ``name-2.mp4``, ``name-3.mp4``... when it is taken."""
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate


def _too_large(limit: int) -> str:
    return (f"the file is larger than this server's upload limit ({limit / 1e6:.0f} MB); "
            "index it by path instead, or start the server with a larger --upload-limit")
