"""Files the server hands out: only videos of the library, found by id, never by a path the
client names (so there is nothing to traverse), streamed with HTTP range requests so that a
browser can seek without downloading the whole file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from vidseek.errors import UnknownVideoError
from vidseek.server.errors import ApiError

if TYPE_CHECKING:
    from vidseek.library import Library
    from vidseek.store import VideoRecord

__all__ = ["MEDIA_TYPES", "find_video", "kinds_param", "media_file", "media_response"]

MEDIA_TYPES = {
    ".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime",
    ".mkv": "video/x-matroska", ".webm": "video/webm", ".avi": "video/x-msvideo",
    ".ts": "video/mp2t", ".mts": "video/mp2t", ".m2ts": "video/mp2t", ".flv": "video/x-flv",
    ".wmv": "video/x-ms-wmv", ".mpg": "video/mpeg", ".mpeg": "video/mpeg",
    ".3gp": "video/3gpp", ".ogv": "video/ogg",
}


def find_video(library: Library, ref: str) -> VideoRecord:
    """The library's video that ``ref`` names: its id, an id prefix, a path it was indexed
    from, or its file name (as ``GET /api/videos`` shows it).

    Unlike :meth:`Library.video`, a path is only compared with the paths the library knows:
    no file a client names is ever opened.

    Raises:
        UnknownVideoError: nothing (or more than one video) matches; a 404 ``unknown_video``.
    """
    try:
        return library.store.video(ref, open_files=False)
    except UnknownVideoError as exc:
        raise exc.advised("GET /api/videos lists the library") from None


def kinds_param(given: list[str] | None) -> list[str] | None:
    """The ``kind`` query parameter (repeated or comma-separated), checked against the known
    kinds.

    Raises:
        ApiError: 422 ``unknown_kind`` naming the kinds there are.
    """
    from vidseek.errors import QueryError
    from vidseek.views import kinds

    try:
        return kinds(given)
    except QueryError as exc:
        raise ApiError(422, "unknown_kind", str(exc)) from None


def media_file(record: VideoRecord) -> Path:
    """The newest path of a library video that still exists.

    Raises:
        ApiError: 410 when none of its paths holds the file any more.
    """
    for path in map(Path, reversed(record.paths)):
        if path.is_file():
            return path
    raise ApiError(410, "media_gone",
                   f"video {record.id} is no longer at {record.paths[-1]}; index the file again "
                   "from where it is now")


def media_response(record: VideoRecord):
    """A response that streams the video, honouring ``Range`` (206, 416) and ``If-Range``."""
    from starlette.responses import FileResponse

    path = media_file(record)
    media_type = MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "no-cache"},
                        content_disposition_type="inline", filename=path.name)
