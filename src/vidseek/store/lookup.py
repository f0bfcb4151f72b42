"""Finding one video of the library from what a person or an agent calls it: its id, the start
of its id, a path it was indexed from, or its file name.

The rule is the same in every interface (the command line, the REST API, the MCP tools), so
that the ``name`` a listing shows is always a name that works.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol, TypeVar

from vidseek.errors import UnknownVideoError

__all__ = ["Named", "find_video"]

_SHOWN = 5  # candidates an ambiguity error lists


class Named(Protocol):
    """What a lookup needs of a video: a :class:`~vidseek.store.VideoRecord`, or any record
    with its id and paths (the read cache's rows, wrapped)."""

    id: str
    paths: list[str]


V = TypeVar("V", bound=Named)


def find_video(videos: Sequence[V], query: str | Path, *,
               content_id: Callable[[Path], str] | None = None,
               where: str = "the library") -> V:
    """The one video that ``query`` names.

    Tried in this order, the first that matches wins:

    1. the exact id;
    2. a path the video was indexed from (resolved, so relative paths work);
    3. with ``content_id``, an existing file whose content is in the library (a copy or a
       moved file): ``content_id(path)`` hashes it;
    4. a file name (``talk.mp4``), or a file name without its suffix (``talk``), of any of
       the video's paths; only for queries without a folder in them;
    5. the start of an id.

    Args:
        videos: the library's videos.
        query: what the caller gave.
        content_id: hashes a file to its video id; ``None`` never opens a file (the REST API
            must not open files a client names).
        where: the library, in words, for the error.

    Returns:
        The video.

    Raises:
        UnknownVideoError: nothing matches, or a name or prefix matches several videos (the
            error lists them in ``candidates``).
    """
    text = str(query).strip()
    if not text:
        raise UnknownVideoError(text, "no video named; give an id, an id prefix, a path or a "
                                      "file name")
    by_id = {v.id: v for v in videos}
    if text in by_id:
        return by_id[text]
    path = Path(text).expanduser()
    forms = {text, path.as_posix()}
    if content_id is not None:
        forms.add(path.resolve().as_posix())
    for v in videos:
        if forms.intersection(v.paths):
            return v
    if content_id is not None and _is_file(path):
        found = by_id.get(content_id(path))
        if found is not None:
            return found
    if "/" not in text and "\\" not in text:
        for key in (lambda p: p.name, lambda p: p.stem):
            named = [v for v in videos if any(key(Path(p)) == text for p in v.paths)]
            if len(named) == 1:
                return named[0]
            if named:
                raise _ambiguous(text, named, "names")
    matches = [v for v in videos if v.id.startswith(text.lower())]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise _ambiguous(text, matches, "is the start of the ids of")
    raise UnknownVideoError(
        text, f"no video in {where} has this id, id prefix, path or file name")


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a name too long for the file system is no file
        return False


def _ambiguous(text: str, videos: list[Named], how: str) -> UnknownVideoError:
    shown = ", ".join(f"{v.id} ({v.paths[-1]})" for v in videos[:_SHOWN])
    more = f" and {len(videos) - _SHOWN} more" if len(videos) > _SHOWN else ""
    return UnknownVideoError(
        text, f"{how} {len(videos)} videos: {shown}{more}; give the id (or enough of it) or "
              "the path", candidates=[v.id for v in videos])
