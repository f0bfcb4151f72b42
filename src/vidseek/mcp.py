"""The MCP server (``vidseek mcp``): the library's tools for agents, over stdio.

Tools: ``list_videos``, ``search_moments``, ``get_transcript``, ``inspect_frames`` (pictures
with their times) and ``ask``. Times are float seconds on the media timeline everywhere.
Videos, moments and answers have the same JSON form as in the REST API and the command line's
``--json`` (:mod:`vidseek.views`), and every moment and transcript line carries ``uri``, a
``file://`` URI with the media fragment ``#t=START,END`` that players open at the moment.
Videos are named as ``list_videos`` gives them: by ``name`` (the file name), ``id`` (or its
start) or ``path``. Errors are tool errors that say what to do in the tools' terms. Built on
the official MCP Python SDK (``mcp.server.mcpserver.MCPServer``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

from vidseek.kinds import KINDS
from vidseek.library import MAX_OPTION_CHARS, MAX_OPTIONS, MAX_QUESTION_CHARS
from vidseek.search.searcher import MAX_QUERY_CHARS

__all__ = ["MAX_FRAMES", "MAX_NAME_CHARS", "create_server", "run_stdio"]

MAX_FRAMES = 16
"""Pictures one ``inspect_frames`` call may return."""
MAX_NAME_CHARS = 4096
"""Characters of a video's name, id or path, or of a model spec, in a tool call."""
_VIDEO = "The video: its name (file name), id (or the start of it) or path, as list_videos " \
    "gives them."
_VideoName = Annotated[str, Field(max_length=MAX_NAME_CHARS, description=_VIDEO)]
_LIST = "call list_videos for every video's name and id"
_INSTRUCTIONS = (
    "vidseek indexes videos (speech, on-screen text, shots, faces...) and finds the moments "
    "that answer a query. Start with list_videos, then search_moments to find where something "
    "is said, written or shown, get_transcript to read what is said in a time range, "
    "inspect_frames to look at the frames of a range, and ask for an answer with evidence. "
    "Name a video by the name, id or path list_videos gives. Times are seconds from the start "
    "of the video; each moment's uri opens the file at the moment."
)


def create_server(library: Any) -> Any:
    """An MCP server whose tools read ``library``.

    Args:
        library: a :class:`vidseek.library.Library`, or a callable that returns one (called
            on the first tool call, so that the server answers ``initialize`` at once).

    Returns:
        A ``MCPServer``; run it with ``.run("stdio")``.
    """
    from mcp.server.mcpserver import Image, MCPServer

    from vidseek import __version__, views
    from vidseek.errors import QueryError

    opened: list[Any] = []

    def lib():
        if not opened:
            opened.append(library() if callable(library) else library)
        return opened[0]

    server = MCPServer("vidseek", version=__version__, instructions=_INSTRUCTIONS)
    # Each tool's body runs inside _told(): our errors reach the agent as their message.

    @server.tool()
    def list_videos() -> list[dict[str, Any]]:
        """Every video in the library: id, file name and path, duration (seconds), size,
        frame rate, whether it has audio, and when it was added."""
        with _told():
            videos = lib().videos()
        return [views.video(v) for v in videos]

    @server.tool()
    def search_moments(
        query: Annotated[str, Field(max_length=MAX_QUERY_CHARS,
                                    description="What is said, written, shown or happening.")],
        video: Annotated[str | None, Field(
            max_length=MAX_NAME_CHARS,
            description="Only this video (name, id or path, as list_videos gives them); all "
                        "videos when omitted.")] = None,
        kinds: Annotated[list[Annotated[str, Field(max_length=200)]] | None, Field(
            max_length=len(KINDS), description=f"Only these kinds: {', '.join(KINDS)}.")
        ] = None,
        k: Annotated[int, Field(ge=1, le=50, description="At most this many moments.")] = 10,
    ) -> dict[str, list[Any]]:
        """Moments across the library that answer a query, best first (``moments``): video,
        start and end (seconds), a calibrated score (0-1), the evidence that matched (what
        was said or read there) and a link that opens the file at the moment. No moments
        means nothing matched well enough; then ``hints`` says which kinds of evidence this
        library lacks for the query (e.g. no picture models), so another search would not
        help."""
        with _told():
            if not query.strip():
                raise QueryError("query is empty: give words that are said, written or shown")
            wanted = views.kinds(kinds)
            library = lib()
            videos = [_video(library, video).id] if video else None
            moments = library.search(query, videos=videos, kinds=wanted, k=k)
            hints = [] if moments else library.search_hints(kinds=wanted)
        return {"moments": [views.moment(m) for m in moments], "hints": hints}

    @server.tool()
    def get_transcript(
        video: _VideoName,
        start: Annotated[float | None, Field(ge=0, description="From this time, seconds.")
                         ] = None,
        end: Annotated[float | None, Field(ge=0, description="Up to this time, seconds.")
                       ] = None,
    ) -> list[dict[str, Any]]:
        """What is said in a video (or in [start, end] of it): timed segments of speech, each
        with a uri that opens the file there. Empty when nothing is said."""
        with _told():
            library = lib()
            record = _video(library, video)
            segments = library.observations(record.id, kinds=["speech"])
        return [views.segment(o, record.paths[-1]) for o in segments
                if (start is None or o.end >= start) and (end is None or o.start <= end)]

    @server.tool(structured_output=False)  # pictures, not JSON
    def inspect_frames(
        video: _VideoName,
        start: Annotated[float, Field(ge=0, description="Start of the range, seconds.")] = 0.0,
        end: Annotated[float | None, Field(
            ge=0, description="End of the range, seconds (default: the end of the video).")
        ] = None,
        count: Annotated[int, Field(ge=1, le=MAX_FRAMES,
                                    description="Frames spread evenly over the range.")] = 4,
        times: Annotated[list[float] | None, Field(
            description="Exact times to look at instead of a range (seconds).")] = None,
        size: Annotated[int, Field(ge=64, le=1280,
                                   description="Longer side of each picture, pixels.")] = 512,
    ) -> list[Any]:
        """Look at a video: the frames shown at given times, or spread evenly over a range, as
        JPEG pictures, each preceded by its exact time in seconds."""
        from vidseek.media import VideoReader, encode_image

        content: list[Any] = []
        with _told():
            record = _video(lib(), video)
            wanted = _frame_times(record.info.duration, start, end, count, times)
            with VideoReader(record.paths[-1], info=record.info) as reader:
                for frame in reader.at(wanted, size=size):
                    content.append(f"frame at {frame.time:.3f} s "
                                   f"(asked {frame.requested:.3f} s)")
                    content.append(Image(data=encode_image(frame.image, "jpeg"),
                                         format="jpeg"))
        return content

    @server.tool()
    def ask(
        video: _VideoName,
        question: Annotated[str, Field(max_length=MAX_QUESTION_CHARS,
                                       description="The question about the video.")],
        options: Annotated[list[Annotated[str, Field(max_length=MAX_OPTION_CHARS)]] | None,
                           Field(max_length=MAX_OPTIONS,
                                 description="Multiple-choice options, if any.")] = None,
        model: Annotated[str | None, Field(
            max_length=MAX_NAME_CHARS,
            description="Chat model spec (e.g. openai:http://localhost:11434/v1#MODEL); "
                        "default the library's, or the embedded answerer.")] = None,
    ) -> dict[str, Any]:
        """Answer a question about one video with the moments that support it: the answer
        (text), the chosen option (choice, an index into options), whether it was found, a
        confidence (0-1), the evidence moments (start, end, what was seen or heard there),
        notes on what limited the answer, and what it cost."""
        with _told():
            library = lib()
            answer = library.ask(_video(library, video).id, question, options=options,
                                 model=model)
        return views.answer(answer, trace=False)  # the steps are the server's business

    return server


def _video(library: Any, name: str) -> Any:
    """The library's video named by ``name``, with an error in the tools' terms."""
    from vidseek.errors import UnknownVideoError

    try:
        return library.video(name)
    except UnknownVideoError as exc:
        raise exc.advised(_LIST) from None


@contextmanager
def _told() -> Iterator[None]:
    """Turn the library's errors (whose messages say what to do) into tool errors, which
    the SDK shows to the agent; other exceptions stay crashes, logged on the server."""
    from mcp.server.mcpserver.exceptions import ToolError

    from vidseek.errors import VidseekError

    try:
        yield
    except (VidseekError, ValueError) as exc:
        raise ToolError(str(exc)) from exc


def _frame_times(duration: float, start: float, end: float | None, count: int,
                 times: list[float] | None) -> list[float]:
    """Sorted times to look at, checked against the video's length."""
    from vidseek.errors import QueryError
    from vidseek.media import uniform_times

    last = max(duration - 1e-3, 0.0)
    if times:
        if len(times) > MAX_FRAMES:
            raise QueryError(f"at most {MAX_FRAMES} times per call; split the request")
        late = [t for t in times if t < 0 or t > duration]
        if late:
            raise QueryError(f"times {late} are outside the video (0 to {duration:.3f} s)")
        return sorted(min(t, last) for t in times)
    end = duration if end is None else end
    if start >= duration or end <= start:
        raise QueryError(f"the range {start:g}-{end:g} s is empty or outside the video "
                         f"(0 to {duration:.3f} s)")
    return [min(t, last) for t in uniform_times(count, start, min(end, duration))]


def run_stdio(library: str | Path | None = None) -> None:
    """Serve the library at ``library`` (default ``$VIDSEEK_HOME`` or ``~/.vidseek``) to one
    MCP client over stdin and stdout."""
    from vidseek.models.hub import local_files_only

    local_files_only()  # HF_HUB_OFFLINE=1 unless downloads are allowed: one would hang the client

    from vidseek.library import Library

    create_server(lambda: Library(library, create=False)).run("stdio")
