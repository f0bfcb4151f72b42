"""Files the server hands out: only videos of the library, found by id, never by a path the
client names (so there is nothing to traverse), streamed with HTTP range requests so that a
browser can seek without downloading the whole file."""

from __future__ import annotations

import re
from pathlib import Path

from vidseek.library import Library
from vidseek.server.errors import ApiError
from vidseek.store import VideoRecord

__all__ = ["MEDIA_TYPES", "find_video", "media_file", "media_response"]

MEDIA_TYPES = {
    ".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime",
    ".mkv": "video/x-matroska", ".webm": "video/webm", ".avi": "video/x-msvideo",
    ".ts": "video/mp2t", ".mts": "video/mp2t", ".m2ts": "video/mp2t", ".flv": "video/x-flv",
    ".wmv": "video/x-ms-wmv", ".mpg": "video/mpeg", ".mpeg": "video/mpeg",
    ".3gp": "video/3gpp", ".ogv": "video/ogg",
}
_ID = re.compile(r"^[0-9a-f]{4,64}$")


def find_video(library: Library, ref: str) -> VideoRecord:
    """The library's video whose id is ``ref`` or starts with it.

    Unlike :meth:`Library.video`, never a path: a client must not make the server open files.

    Raises:
        ApiError: 404 when no video (or more than one) matches.
    """
    ref = ref.lower()
    if not _ID.match(ref):
        raise ApiError(404, "unknown_video",
                       f"{ref!r} is not a video id; GET /api/videos lists the library")
    matches = [v for v in library.videos() if v.id.startswith(ref)]
    if len(matches) != 1:
        why = "matches several videos; give more of the id" if matches else "no such video"
        raise ApiError(404, "unknown_video", f"{ref!r}: {why}; GET /api/videos lists the library")
    return matches[0]


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
