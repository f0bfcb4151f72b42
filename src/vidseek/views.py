"""The JSON form of videos, observations, moments and answers, shared by every interface.

The command line's ``--json``, the REST API and the MCP tools all render records through
these functions, so a field has one name and one meaning wherever it appears. Each view is a
plain dict of JSON values; times are float seconds on the media timeline.

* :func:`video`: a library video (``id``, ``name``, ``path``, ``duration``, ``width``,
  ``height``, ``fps``, ``has_audio``, ``added_at``; ``paths`` and ``info`` in detail).
* :func:`observation`: what an analyzer found, without its embeddings.
* :func:`moment`: a search result with its evidence, the file ``name``, the ``link`` that
  opens the file at the moment (``/videos/talk.mp4#t=12.30,20.10``) and the same as a file
  URI (``uri``: ``file:///videos/talk.mp4#t=12.30,20.10``), which players, browsers and MCP
  clients open.
* :func:`segment`: a stretch of speech (``start``, ``end``, ``text``, ``uri``).
* :func:`answer`: an answer whose evidence moments are :func:`moment` views.

Given ``api`` (the REST API's prefix, ``/api``), videos and moments also carry the URLs of
their media (``media_url``, range requests) and a thumbnail (``thumbnail_url``), and moments
the media URL at the moment (``play_url``: ``/api/videos/ID/media#t=12.30,20.10``).

:func:`kinds` (:func:`vidseek.kinds.checked_kinds`) reads the kinds a caller asked for
(repeated, or comma-separated) and checks them against :data:`vidseek.kinds.KINDS`, so that
a typo is an error that lists the kinds rather than an empty result.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vidseek.kinds import checked_kinds as kinds

if TYPE_CHECKING:  # records only; nothing here loads the library
    from vidseek.store import VideoRecord
    from vidseek.types import Answer, Moment, Observation

__all__ = ["answer", "file_uri", "kinds", "moment", "observation", "segment", "video"]


def file_uri(path: str, start: float | None = None, end: float | None = None) -> str:
    """A ``file://`` URI of ``path`` (absolute; else the path as it is), with a media
    fragment ``#t=START,END`` (seconds, two decimals) when times are given."""
    where = Path(path)
    uri = where.as_uri() if where.is_absolute() else path
    if start is None:
        return uri
    return f"{uri}#t={start:.2f}" + ("" if end is None else f",{end:.2f}")


def video(record: VideoRecord | Mapping[str, Any], *, detail: bool = False,
          api: str | None = None) -> dict[str, Any]:
    """A library video.

    Args:
        record: the video, or its JSON form (``record.model_dump(mode="json")``, as the
            store's read cache keeps it).
        detail: add every path it was indexed from (``paths``, oldest first) and what
            probing found (``info``: container, streams, rotation...).
        api: the REST API's prefix (``/api``) to add ``media_url`` and ``thumbnail_url``
            (a frame from the middle); None leaves them out.

    Returns:
        ``id``, ``name`` (file name), ``path`` (newest path), ``duration`` (seconds),
        ``width`` and ``height`` (as displayed), ``fps``, ``has_audio``, ``added_at``
        (ISO 8601, UTC), and the fields ``detail`` and ``api`` ask for.
    """
    if isinstance(record, Mapping):
        row, added = record, record["added_at"]
    else:
        row, added = record.model_dump(mode="json"), record.added_at.isoformat()
    info, stream, paths = row["info"], row["info"]["video"], row["paths"]
    view: dict[str, Any] = {
        "id": row["id"],
        "name": Path(paths[-1]).name,
        "path": paths[-1],
        "duration": info["duration"],
        "width": stream["display_width"],
        "height": stream["display_height"],
        "fps": stream["fps"],
        "has_audio": bool(info.get("audio")),
        "added_at": added,
    }
    if api is not None:
        view["media_url"] = f"{api}/videos/{row['id']}/media"
        view["thumbnail_url"] = (f"{api}/videos/{row['id']}/thumbnail"
                                 f"?t={info['duration'] / 2:.3f}")
    if detail:
        view["paths"] = list(paths)
        view["info"] = info
    return view


def observation(found: Observation) -> dict[str, Any]:
    """An observation without its embeddings (``vector``, ``vectors``): ``video_id``,
    ``start``, ``end``, ``kind``, ``text``, ``data`` and ``source``."""
    return found.model_dump(mode="json", exclude={"vector", "vectors"})


def moment(found: Moment, *, api: str | None = None) -> dict[str, Any]:
    """A moment that answers a query.

    Args:
        found: the moment.
        api: the REST API's prefix (``/api``) to add ``media_url`` and ``thumbnail_url``
            (the frame of the moment's thumbnail); None leaves them out.

    Returns:
        The moment's fields (``video_id``, ``path``, ``start``, ``end``, ``score``,
        ``evidence``, ``thumbnail``, ``link``) plus ``name``, the file name, ``uri``, the
        file URI at the moment, and the URLs ``api`` asks for (``play_url`` is the media URL
        at the moment).
    """
    view = found.model_dump(mode="json")
    view["name"] = Path(found.path).name
    view["uri"] = file_uri(found.path, found.start, found.end)
    if api is not None:
        at = found.thumbnail if found.thumbnail is not None else found.start
        view["media_url"] = f"{api}/videos/{found.video_id}/media"
        view["play_url"] = f"{view['media_url']}#t={found.start:.2f},{found.end:.2f}"
        view["thumbnail_url"] = f"{api}/videos/{found.video_id}/thumbnail?t={at:.3f}"
    return view


def segment(found: Observation, path: str) -> dict[str, Any]:
    """A stretch of speech (or any observation) as a transcript line: ``start``, ``end``,
    ``text``, and ``uri``, the file URI of ``path`` (the video's file) at the segment."""
    return {"start": found.start, "end": found.end, "text": found.text,
            "uri": file_uri(path, found.start, found.end)}


def answer(given: Answer, *, trace: bool = True, api: str | None = None) -> dict[str, Any]:
    """An answer with its evidence moments.

    Args:
        given: the answer.
        trace: keep the trace of steps (tool calls, model replies); False leaves it out, for
            callers that want the answer only.
        api: passed on to :func:`moment` for each evidence moment.

    Returns:
        The answer's fields (``question``, ``video_id``, ``path``, ``text``, ``options``,
        ``choice``, ``found``, ``confidence``, ``evidence``, ``trace``, ``cost``, ``model``,
        ``route``, ``notes``), its evidence as :func:`moment` views.
    """
    view = given.model_dump(mode="json", exclude=None if trace else {"trace"})
    view["evidence"] = [moment(m, api=api) for m in given.evidence]
    return view
