"""Routes that add videos: by path on the server or by upload, indexed as background jobs
whose progress can be polled or followed as server-sent events."""

from __future__ import annotations

import asyncio
import os
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
UPLOAD_TYPES = ("video/*", "application/octet-stream")
"""Content types an upload may be sent as. Browsers send these only from pages of this
server (another site's page would have to ask first, and is not answered), unlike the types
any page may send (``text/plain``, forms), which are refused."""
MAX_NAME_CHARS = 120
"""Characters an uploaded file's name keeps (the end of a longer name is cut before its
suffix), well under the 255 bytes file systems allow, with room for ``-2``."""
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
                 kind: {"schema": {"type": "string", "format": "binary"}}
                 for kind in UPLOAD_TYPES}}},
             summary="Upload a video (the request body is the file, sent as video/* or "
                     "application/octet-stream) and index it; if it cannot be indexed, it is "
                     "deleted again")
async def upload(
    request: Request,
    filename: Annotated[str, Query(description="The file's name, e.g. talk.mp4.")],
) -> dict[str, Any]:
    _check_type(request.headers.get("content-type"))
    limit = request.app.state.upload_limit
    name = _safe_name(filename)
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, "upload_too_large", _too_large(limit))
    folder = Path(request.app.state.library.path) / UPLOADS
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".upload-{uuid.uuid4().hex}.part"
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
        target = _claim(partial, name)
    finally:
        partial.unlink(missing_ok=True)
    try:
        job = request.app.state.jobs.submit([target], uploaded=True)
    except ValueError as exc:
        target.unlink(missing_ok=True)
        raise ApiError(400, "nothing_to_index", str(exc)) from None
    return {"path": str(target), "bytes": size, "job": job.model_dump(mode="json")}


def _job(request: Request, job_id: str) -> Job:
    job = request.app.state.jobs.get(job_id)
    if job is None:
        raise ApiError(404, "unknown_job", f"no job {job_id!r}; GET /api/jobs lists them")
    return job


def _check_type(content_type: str | None) -> None:
    """Refuse a body that is not declared as a video (see :data:`UPLOAD_TYPES`).

    Raises:
        ApiError: 415 ``unsupported_media_type``.
    """
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if kind.startswith("video/") or kind == "application/octet-stream":
        return
    given = f"Content-Type {kind}" if kind else "no Content-Type"
    raise ApiError(415, "unsupported_media_type",
                   f"an upload is the file's bytes sent as video/* or application/octet-stream, "
                   f"not with {given}: e.g. curl -H 'Content-Type: video/mp4' "
                   "--data-binary @FILE")


def _safe_name(filename: str) -> str:
    """A plain file name from whatever the client sent: no folders, a video suffix, at most
    :data:`MAX_NAME_CHARS` characters (a longer name loses the end of its stem)."""
    name = _SAFE_NAME.sub("_", Path(filename.replace("\\", "/")).name).strip(" .")
    suffix = Path(name).suffix
    if not name or suffix.lower() not in VIDEO_SUFFIXES:
        shown = filename if len(filename) <= 80 else f"{filename[:60]}...{filename[-12:]}"
        raise ApiError(400, "bad_filename",
                       f"{shown!r} is not a video file name; use one ending in "
                       f"{', '.join(sorted(VIDEO_SUFFIXES))}")
    if len(name) > MAX_NAME_CHARS:
        stem = name[:-len(suffix)][:MAX_NAME_CHARS - len(suffix)].rstrip(" .") or "upload"
        name = stem + suffix
    return name


def _claim(partial: Path, name: str) -> Path:
    """Give a finished upload its name in the uploads folder: ``name``, or ``stem-2.mp4``,
    ``stem-3.mp4``... when that is taken. Each name is taken atomically (a hard link, or an
    exclusive create, fails when the name exists), so two uploads never share one and no file
    is overwritten. ``partial`` stays; the caller removes it."""
    stem, suffix = name[:-len(Path(name).suffix)], Path(name).suffix
    for n in range(1, 10_000):
        target = partial.with_name(name if n == 1 else f"{stem}-{n}{suffix}")
        try:
            os.link(partial, target)
            return target
        except FileExistsError:
            continue
        except OSError:  # no hard links on this file system: reserve the name, then fill it
            try:
                os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
            except FileExistsError:
                continue
            os.replace(partial, target)
            return target
    raise ApiError(409, "name_taken", f"{name} and 9,999 numbered copies of it are in the "
                   "uploads folder already; upload the file under another name")


def _too_large(limit: int) -> str:
    return (f"the file is larger than this server's upload limit ({limit / 1e6:.0f} MB); "
            "index it by path instead, or start the server with a larger --upload-limit")
