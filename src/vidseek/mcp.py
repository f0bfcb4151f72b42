"""The MCP server (``vidseek mcp``): the library's tools for agents, over stdio.

Tools: ``list_videos``, ``search_moments``, ``get_transcript``, ``inspect_frames`` (pictures
with their times) and ``ask``. Times are float seconds on the media timeline everywhere. Built
on the official MCP Python SDK (``mcp.server.mcpserver.MCPServer``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

__all__ = ["MAX_FRAMES", "create_server", "run_stdio"]

MAX_FRAMES = 16
"""Pictures one ``inspect_frames`` call may return."""
_INSTRUCTIONS = (
    "vidseek indexes videos (speech, on-screen text, shots, faces...) and finds the moments "
    "that answer a query. Start with list_videos, then search_moments to find where something "
    "is said, written or shown, get_transcript to read what is said in a time range, "
    "inspect_frames to look at the frames of a range, and ask for an answer with evidence. "
    "Times are seconds from the start of the video."
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

    from vidseek import __version__

    opened: list[Any] = []

    def lib():
        if not opened:
            opened.append(library() if callable(library) else library)
        return opened[0]

    server = MCPServer("vidseek", version=__version__, instructions=_INSTRUCTIONS)
    # Each tool's body runs inside _told(): our errors reach the agent as their message.

    @server.tool()
    def list_videos() -> list[dict[str, Any]]:
        """Every video in the library: id, file, duration (seconds), size and whether it has
        audio."""
        with _told():
            videos = lib().videos()
        return [{"id": v.id, "name": Path(v.paths[-1]).name, "path": v.paths[-1],
                 "duration": round(v.info.duration, 3),
                 "width": v.info.video.display_width, "height": v.info.video.display_height,
                 "has_audio": v.info.has_audio} for v in videos]

    @server.tool()
    def search_moments(
        query: Annotated[str, Field(description="What is said, written, shown or happening.")],
        video: Annotated[str | None, Field(
            description="Only this video (id, id prefix or path); all videos when omitted.")
        ] = None,
        kinds: Annotated[list[str] | None, Field(
            description="Only these kinds: speech, text, visual, person, caption, image, "
                        "face.")] = None,
        k: Annotated[int, Field(ge=1, le=50, description="At most this many moments.")] = 10,
    ) -> list[dict[str, Any]]:
        """Moments across the library that answer a query, best first: video, start and end
        (seconds), a calibrated score (0-1) and the evidence that matched (what was said or
        read there). An empty list means nothing matched well enough."""
        with _told():
            moments = lib().search(query, videos=[video] if video else None, kinds=kinds, k=k)
        return [{"video_id": m.video_id, "path": m.path, "start": m.start, "end": m.end,
                 "score": m.score,
                 "evidence": [{"kind": e.kind, "channel": e.channel, "start": e.start,
                               "end": e.end, "text": e.text, "score": e.score}
                              for e in m.evidence]} for m in moments]

    @server.tool()
    def get_transcript(
        video: Annotated[str, Field(description="Video id, id prefix or path.")],
        start: Annotated[float | None, Field(ge=0, description="From this time, seconds.")
                         ] = None,
        end: Annotated[float | None, Field(ge=0, description="Up to this time, seconds.")
                       ] = None,
    ) -> list[dict[str, Any]]:
        """What is said in a video (or in [start, end] of it): timed segments of speech."""
        with _told():
            segments = lib().observations(video, kinds=["speech"])
        return [{"start": o.start, "end": o.end, "text": o.text} for o in segments
                if (start is None or o.end >= start) and (end is None or o.start <= end)]

    @server.tool(structured_output=False)  # pictures, not JSON
    def inspect_frames(
        video: Annotated[str, Field(description="Video id, id prefix or path.")],
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
            record = lib().video(video)
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
        video: Annotated[str, Field(description="Video id, id prefix or path.")],
        question: Annotated[str, Field(description="The question about the video.")],
        options: Annotated[list[str] | None, Field(
            description="Multiple-choice options, if any.")] = None,
        model: Annotated[str | None, Field(
            description="Chat model spec (e.g. openai:http://localhost:11434/v1#MODEL); "
                        "default the library's, or the embedded answerer.")] = None,
    ) -> dict[str, Any]:
        """Answer a question about one video with the moments that support it: the answer,
        the chosen option, whether it was found, a confidence (0-1), the evidence moments
        (start, end, what was seen or heard) and what it cost."""
        with _told():
            answer = lib().ask(video, question, options=options, model=model)
        return {
            "answer": answer.text, "choice": answer.choice, "found": answer.found,
            "confidence": answer.confidence,
            "evidence": [{"start": m.start, "end": m.end,
                          "text": m.evidence[0].text if m.evidence else "", "score": m.score}
                         for m in answer.evidence],
            "model": answer.model, "notes": answer.notes,
            "cost": answer.cost.model_dump(),
        }

    return server


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
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a blocked download would hang the client

    from vidseek.library import Library

    create_server(lambda: Library(library)).run("stdio")
