"""Routes that read the library: videos, what was learned about them, thumbnails, media."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from vidseek.server.errors import ApiError
from vidseek.server.media import find_video, media_response
from vidseek.store import VideoRecord

__all__ = ["router", "video_summary"]

router = APIRouter(prefix="/api/videos", tags=["videos"])

MAX_THUMBNAIL = 1280


def video_summary(record: VideoRecord) -> dict[str, Any]:
    """What the web page shows of a video, with the URLs to fetch the rest."""
    info = record.info
    return {
        "id": record.id,
        "name": Path(record.paths[-1]).name,
        "path": record.paths[-1],
        "duration": info.duration,
        "width": info.video.display_width,
        "height": info.video.display_height,
        "fps": info.video.fps,
        "has_audio": info.has_audio,
        "added_at": record.added_at.isoformat(),
        "media_url": f"/api/videos/{record.id}/media",
        "thumbnail_url": f"/api/videos/{record.id}/thumbnail?t={info.duration / 2:.3f}",
    }


@router.get("", summary="List the videos in the library")
def list_videos(request: Request) -> list[dict[str, Any]]:
    return [video_summary(v) for v in request.app.state.library.videos()]


@router.get("/{video}", summary="One video: file, stream details and what was indexed")
def get_video(video: str, request: Request) -> dict[str, Any]:
    library = request.app.state.library
    record = find_video(library, video)
    kinds = Counter(o.kind for o in library.store.observations(record.id))
    return {**video_summary(record), "paths": record.paths,
            "info": record.info.model_dump(mode="json"), "observations": dict(kinds)}


@router.get("/{video}/observations",
            summary="What the analyzers found, in time order, optionally by kind and range")
def observations(
    video: str,
    request: Request,
    kind: Annotated[list[str] | None, Query(
        description="Only these kinds (repeatable): speech, text, shot, face, person, ...")] = None,
    start: Annotated[float | None, Query(description="From this time, seconds.")] = None,
    end: Annotated[float | None, Query(description="Up to this time, seconds.")] = None,
) -> list[dict[str, Any]]:
    library = request.app.state.library
    record = find_video(library, video)
    found = library.store.observations(record.id, kinds=kind)
    return [o.model_dump(exclude={"vector", "vectors"}) for o in found
            if (start is None or o.end >= start) and (end is None or o.start <= end)]


@router.get("/{video}/thumbnail", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}}}},
            summary="The frame shown at a time, as a JPEG")
def thumbnail(
    video: str,
    request: Request,
    t: Annotated[float, Query(description="Timeline seconds.", ge=0)] = 0.0,
    size: Annotated[int, Query(description="Longer side, pixels.", ge=16,
                               le=MAX_THUMBNAIL)] = 320,
) -> Response:
    library = request.app.state.library
    record = find_video(library, video)
    if t > record.info.duration:
        raise ApiError(400, "bad_time", f"t={t} is after the end of the video "
                       f"({record.info.duration:.3f} s)")
    t = min(t, max(record.info.duration - 1e-3, 0.0))
    picture = library.thumbnail(record.id, t, size=size)
    return Response(picture.data, media_type="image/jpeg",
                    headers={"Cache-Control": "max-age=86400",
                             "X-Frame-Time": f"{picture.time:.6f}"})


@router.get("/{video}/media", response_class=Response,
            responses={200: {"content": {"video/mp4": {}}}, 206: {"description": "A range"},
                       416: {"description": "Range not satisfiable"}},
            summary="The video file, with HTTP range requests so that players can seek")
def media(video: str, request: Request):
    return media_response(find_video(request.app.state.library, video))
