"""Routes that read the library: videos, what was learned about them, thumbnails, media."""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from vidseek import views
from vidseek.kinds import KINDS
from vidseek.server.errors import ApiError
from vidseek.server.media import find_video, kinds_param, media_response

__all__ = ["router"]

API = "/api"
router = APIRouter(prefix=f"{API}/videos", tags=["videos"])

MAX_THUMBNAIL = 1280


@router.get("", summary="List the videos in the library")
def list_videos(request: Request) -> list[dict[str, Any]]:
    return [views.video(v, api=API) for v in request.app.state.library.videos()]


@router.get("/{video}", summary="One video: file, stream details and what was indexed")
def get_video(video: str, request: Request) -> dict[str, Any]:
    library = request.app.state.library
    record = find_video(library, video)
    kinds = Counter(o.kind for o in library.store.observations(record.id))
    return {**views.video(record, detail=True, api=API), "observations": dict(kinds)}


@router.get("/{video}/observations",
            summary="What the analyzers found, in time order, optionally by kind and range")
def observations(
    video: str,
    request: Request,
    kind: Annotated[list[str] | None, Query(
        description=f"Only these kinds (repeated or comma-separated): {', '.join(KINDS)}.")
    ] = None,
    start: Annotated[float | None, Query(description="From this time, seconds.")] = None,
    end: Annotated[float | None, Query(description="Up to this time, seconds.")] = None,
) -> list[dict[str, Any]]:
    library = request.app.state.library
    kinds = kinds_param(kind)
    record = find_video(library, video)
    found = library.store.observations(record.id, kinds=kinds)
    return [views.observation(o) for o in found
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
