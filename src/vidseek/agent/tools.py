"""Tools over one indexed video and its media, each with a JSON schema a model can call.

| tool | what it returns |
|---|---|
| ``overview`` | a few frames spread over the video or a range |
| ``search`` | the moment search, restricted to this video |
| ``inspect`` | frames in [start, end] at a count or rate, optionally zoomed to a region |
| ``transcript`` | what was said in a range, line by line with times |
| ``screen_text`` | what was written on screen in a range |
| ``faces`` | face tracks in a range |
| ``objects`` | object labels and people counts in a range |

Every frame carries its exact presentation time, every line its start and end, so a model
can say *when* it saw or heard something.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from vidseek.agent.index import VideoIndex
from vidseek.errors import QueryError
from vidseek.kinds import KINDS, checked_kinds
from vidseek.media import Frame, VideoReader, uniform_times
from vidseek.types import Moment, Observation

if TYPE_CHECKING:
    from vidseek.store import VideoRecord

__all__ = ["TOOL_NAMES", "ToolError", "ToolResult", "VideoTools"]

MAX_TOOL_FRAMES = 16
"""Frames one call may return."""
MAX_LINES = 80
"""Lines of text one call may return; the rest is summarised with a hint to narrow the range."""
SEARCHED_KINDS = tuple(kind for kind in KINDS if kind not in ("shot", "image"))
"""The kinds of notes a search can be kept to (shots and image vectors hold no words)."""
FRAME_SIDE = 512
"""Longest side of decoded frames (zoomed frames are cut from full-size pictures)."""

_RANGE = {
    "start": {"type": "number", "minimum": 0, "description": "seconds; default 0"},
    "end": {"type": "number", "minimum": 0,
            "description": "seconds; default the end of the video"},
}


def _schema(name: str, description: str, properties: dict[str, Any],
            required: Sequence[str] = ()) -> dict[str, Any]:
    return {"type": "function", "function": {
        "name": name, "description": description,
        "parameters": {"type": "object", "properties": properties,
                       "required": list(required), "additionalProperties": False}}}


SCHEMAS: dict[str, dict[str, Any]] = {
    "overview": _schema(
        "overview", "A few frames spread evenly over the video or a range, each labelled "
        "with its time. Use it first to see what the video is.",
        {**_RANGE, "count": {"type": "integer", "minimum": 1, "maximum": MAX_TOOL_FRAMES,
                             "description": "frames; default 8"}}),
    "search": _schema(
        "search", "Find the moments of this video that match words (what is said, written "
        "on screen, or seen): time ranges, scores 0-1 and what matched.",
        {"query": {"type": "string", "description": "what to look for, in words"},
         "k": {"type": "integer", "minimum": 1, "maximum": 10,
               "description": "moments; default 5"},
         "kinds": {"type": "array", "items": {"type": "string", "enum": list(SEARCHED_KINDS)},
                   "description": "only these kinds of notes (speech, text on screen, "
                   "visual tags...); default all"}}, ["query"]),
    "inspect": _schema(
        "inspect", "Look closely at [start, end]: frames at a count or rate, each labelled "
        "with its time, optionally zoomed to a region of the picture.",
        {"start": {"type": "number", "minimum": 0}, "end": {"type": "number", "minimum": 0},
         "count": {"type": "integer", "minimum": 1, "maximum": MAX_TOOL_FRAMES,
                   "description": "frames spread over the range; default 4"},
         "fps": {"type": "number", "exclusiveMinimum": 0,
                 "description": "frames per second instead of a count"},
         "region": {"type": "array", "items": {"type": "number", "minimum": 0, "maximum": 1},
                    "minItems": 4, "maxItems": 4,
                    "description": "zoom: [left, top, right, bottom] as fractions 0-1"}},
        ["start", "end"]),
    "transcript": _schema("transcript", "What was said in a range, with times.", _RANGE),
    "screen_text": _schema("screen_text", "Text written on screen in a range, with times.",
                           _RANGE),
    "faces": _schema("faces", "Faces seen in a range: when each face track is visible.",
                     _RANGE),
    "objects": _schema("objects", "Objects and people detected in a range, with times.",
                       _RANGE),
    "sounds": _schema("sounds", "Sounds heard in a range besides words (music, applause, "
                      "a dog, an engine: AudioSet labels), with times.", _RANGE),
}
TOOL_NAMES: tuple[str, ...] = tuple(SCHEMAS)


class ToolError(ValueError):
    """A call the tool cannot do (bad arguments, budget spent). Sent back to the model."""


@dataclass(slots=True)
class ToolResult:
    """What a tool returns: text for the model, frames to show it, and what it found."""

    text: str
    frames: list[Frame] = field(default_factory=list)
    moments: list[Moment] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    frames_decoded: int = 0

    @property
    def frame_times(self) -> list[float]:
        return [round(f.time, 3) for f in self.frames]


class VideoTools:
    """The tools for one video of an index.

    Args:
        index: what the video is indexed in (a `vidseek.Library`, or anything else with
            the `VideoIndex` methods).
        video: the video's record.
    """

    def __init__(self, index: VideoIndex, video: VideoRecord) -> None:
        self.index = index
        self.video = video
        self.duration = video.info.duration
        self._observations: dict[str, list[Observation]] = {}

    @property
    def path(self) -> str:
        return self.video.paths[-1]

    def schemas(self, names: Sequence[str] = TOOL_NAMES) -> list[dict[str, Any]]:
        """OpenAI tool definitions for `names`."""
        return [SCHEMAS[name] for name in names]

    def call(self, name: str, arguments: dict[str, Any], *, max_frames: int) -> ToolResult:
        """Run a tool.

        Args:
            name: one of `TOOL_NAMES`.
            arguments: as the model gave them.
            max_frames: frames the budget still allows.

        Raises:
            ToolError: unknown tool, bad arguments, or no frames left for a frame tool.
        """
        tool: Callable[..., ToolResult] | None = getattr(self, f"_{name}", None)
        if name not in SCHEMAS or tool is None:
            raise ToolError(f"unknown tool {name!r}; the tools are {', '.join(TOOL_NAMES)}")
        allowed = SCHEMAS[name]["function"]["parameters"]["properties"]
        unknown = set(arguments) - set(allowed)
        if unknown:
            raise ToolError(f"{name} takes {', '.join(allowed) or 'no arguments'}; "
                            f"not {', '.join(sorted(unknown))}")
        if name in ("overview", "inspect"):
            if max_frames <= 0:
                raise ToolError("the frame budget is spent; answer from what you have")
            return tool(max_frames=max_frames, **arguments)
        return tool(**arguments)

    # -- frames ------------------------------------------------------------------------------

    def frames(self, times: Sequence[float], *, region: Sequence[float] | None = None,
               ) -> tuple[list[Frame], int]:
        """Frames at `times` (sorted), zoomed to `region`; and how many frames were decoded."""
        size = None if region else FRAME_SIDE
        with VideoReader(self.path, info=self.video.info) as reader:
            frames = list(reader.at(sorted(times), size=size))
            decoded = reader.stats.frames_decoded
        if region:
            frames = [_zoom(frame, region) for frame in frames]
        return frames, decoded

    def _overview(self, *, max_frames: int, start: float = 0.0, end: float | None = None,
                  count: int = 8) -> ToolResult:
        start, end = self._range(start, end)
        count = min(_count(count), max_frames)
        frames, decoded = self.frames(uniform_times(count, start, end))
        return ToolResult(f"{len(frames)} frames from {start:.2f} s to {end:.2f} s.",
                          frames=frames, frames_decoded=decoded)

    def _inspect(self, *, max_frames: int, start: float, end: float, count: int | None = None,
                 fps: float | None = None, region: Sequence[float] | None = None) -> ToolResult:
        start, end = self._range(start, end)
        if fps is not None:
            if float(fps) <= 0:
                raise ToolError("fps must be above 0")
            count = int((end - start) * float(fps)) + 1
        count = min(_count(count or 4), max_frames, MAX_TOOL_FRAMES)
        region = _region(region)
        frames, decoded = self.frames(uniform_times(count, start, end), region=region)
        zoom = "" if region is None else f", zoomed to {list(region)}"
        return ToolResult(f"{len(frames)} frames from {start:.2f} s to {end:.2f} s{zoom}.",
                          frames=frames, frames_decoded=decoded)

    # -- the index ---------------------------------------------------------------------------

    def _search(self, query: str, k: int = 5, kinds: Sequence[str] | None = None) -> ToolResult:
        if not str(query).strip():
            raise ToolError("query must not be empty")
        try:
            moments = self.index.search(str(query), videos=[self.video.id], k=_count(k, 10),
                                        kinds=checked_kinds(kinds),
                                        threshold=0.0)
        except QueryError as exc:  # too long, an unknown kind: the model can search again
            raise ToolError(str(exc)) from None
        if not moments:
            return ToolResult(f"Nothing in the index matches {query!r}.")
        lines = [f"{m.start:.2f}-{m.end:.2f} s (score {m.score:.2f}): "
                 + "; ".join(f"{e.kind}: {e.text}" for e in m.evidence[:3]) for m in moments]
        return ToolResult("\n".join(lines), moments=moments)

    def _transcript(self, start: float = 0.0, end: float | None = None) -> ToolResult:
        return self._lines(("speech",), "Nothing was said", start, end)

    def _screen_text(self, start: float = 0.0, end: float | None = None) -> ToolResult:
        return self._lines(("text",), "No text was read on screen", start, end)

    def _faces(self, start: float = 0.0, end: float | None = None) -> ToolResult:
        return self._lines(("face",), "No face was seen", start, end)

    def _objects(self, start: float = 0.0, end: float | None = None) -> ToolResult:
        return self._lines(("visual", "person"), "No object was detected", start, end)

    def _sounds(self, start: float = 0.0, end: float | None = None) -> ToolResult:
        return self._lines(("sound",), "No sound was tagged", start, end)

    def observations(self, kinds: Sequence[str], start: float = 0.0,
                     end: float | None = None) -> list[Observation]:
        """Observations of `kinds` that overlap [start, end] (the index is read once)."""
        start, end = self._range(start, end)
        key = ",".join(kinds)
        if key not in self._observations:
            self._observations[key] = list(self.index.observations(self.video.id, kinds=kinds))
        return [o for o in self._observations[key]
                if o.end >= start and o.start <= end]

    def _lines(self, kinds: Sequence[str], nothing: str, start: float,
               end: float | None) -> ToolResult:
        start, end = self._range(start, end)
        found = self.observations(kinds, start, end)
        if not found:
            return ToolResult(f"{nothing} from {start:.2f} s to {end:.2f} s (or it was not "
                              "indexed).")
        lines = [f"[{o.start:.2f}-{o.end:.2f}] {_describe(o)}" for o in found[:MAX_LINES]]
        if len(found) > MAX_LINES:
            lines.append(f"... {len(found) - MAX_LINES} more lines up to {found[-1].end:.2f} s; "
                         "ask for a narrower range")
        return ToolResult("\n".join(lines), observations=found[:MAX_LINES])

    def _range(self, start: Any, end: Any) -> tuple[float, float]:
        try:
            start = float(start or 0.0)
            end = self.duration if end is None else float(end)
        except (TypeError, ValueError):
            raise ToolError("start and end must be numbers of seconds") from None
        start, end = max(0.0, start), min(end, self.duration)
        if end <= start:
            raise ToolError(f"the range {start:.2f}-{end:.2f} s is empty; the video runs from "
                            f"0 to {self.duration:.2f} s")
        return start, end


def _describe(observation: Observation) -> str:
    if observation.kind == "face":
        identity = observation.data.get("identity")
        return f"face {identity}" if identity not in (None, "") else "a face"
    return observation.text or observation.kind


def _count(value: Any, most: int = MAX_TOOL_FRAMES) -> int:
    try:
        count = int(value)
    except (TypeError, ValueError):
        raise ToolError("count and k must be whole numbers") from None
    if count < 1:
        raise ToolError("count and k must be at least 1")
    return min(count, most)


def _region(region: Any) -> tuple[float, float, float, float] | None:
    if region is None:
        return None
    try:
        left, top, right, bottom = (float(v) for v in region)
    except (TypeError, ValueError):
        raise ToolError("region must be [left, top, right, bottom] as fractions 0-1") from None
    if not (0 <= left < right <= 1 and 0 <= top < bottom <= 1):
        raise ToolError("region must be [left, top, right, bottom] with 0 <= left < right <= 1 "
                        "and 0 <= top < bottom <= 1")
    return left, top, right, bottom


def _zoom(frame: Frame, region: Sequence[float]) -> Frame:
    height, width = frame.image.shape[:2]
    left, top, right, bottom = region
    crop = frame.image[int(top * height):max(int(bottom * height), int(top * height) + 1),
                       int(left * width):max(int(right * width), int(left * width) + 1)]
    return Frame(frame.time, np.ascontiguousarray(crop), frame.requested, frame.keyframe)
