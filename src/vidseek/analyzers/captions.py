"""Shot captions: a vision-language model describes each shot in a sentence or two.

For each shot (a long shot in segments of at most `max_segment` seconds) a few frames spread
inside it are read and sent in ONE chat request, each picture preceded by its exact time
("Frame at 12.30 s"), with a short instruction to say what is seen, factually. The reply is
a ``caption`` observation over the segment, so captions are searched like speech and screen
text, and the agent can cite them.

Frames are taken at the centres of `frames_per_shot` equal parts of the segment, away from
its ends, where fades and dissolves blend two shots. They are read in one pass over the
video (`VideoReader.at` with sorted times), so decoding costs a seek or a short decode per
frame, not a decode of the whole video.
"""

from __future__ import annotations

import math
import re
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice

from vidseek.media import Frame, VideoReader
from vidseek.models import resolve
from vidseek.models.messages import ChatMessage, ChatReply, frame_parts, text_part
from vidseek.models.protocols import ChatModel
from vidseek.types import Observation

__all__ = ["CaptionAnalyzer"]

INSTRUCTION = (
    "Describe what these frames show in one or two factual sentences: the people, objects "
    "and actions, and any text on screen (quote it exactly). Say only what is visible; do not "
    "guess who people are, where this is or why things happen, and do not mention frames, "
    "timestamps or the video itself."
)
"""What the model is asked; changing it changes the captions, so bump `version` with it."""

_THINKING = re.compile(r"<think>.*?</think>", re.DOTALL)  # reasoning models' preamble


@dataclass(frozen=True, slots=True)
class _Segment:
    start: float
    end: float
    times: list[float]
    """The times to read frames at, inside [start, end]."""


class CaptionAnalyzer:
    """A `ShotAnalyzer` that captions each shot (or segment of a long shot) with a chat model.

    Each observation has ``kind="caption"``, ``start``/``end`` of the segment, the caption
    as ``text``, ``source`` naming the model (e.g. ``openai:qwen2.5vl:7b``) and ``data``::

        {"frames": [float, ...],          # exact times of the frames sent
         "model": str,                    # the model as the server named it in its reply
         "prompt_tokens": int | None,     # as the server counted them (None: not said)
         "completion_tokens": int | None,
         "seconds": float}                # wall time of the request, retries included

    Empty replies give no observation. A model that cannot be reached raises
    `ChatModelError` (a `ModelError`): indexing reports this analyzer as failed.

    Args:
        model: a `ChatModel`, or a spec for `vidseek.models.resolve("chat", ...)`.
        frames_per_shot: frames sent per segment (fewer when the segment holds fewer).
        max_segment: longest stretch of video, in seconds, one caption covers; longer shots
            are split into equal segments no longer than this.
        size: longest side in pixels of the frames sent.
        quality: JPEG quality of the frames sent.
        max_tokens: the most tokens a caption may take.
        concurrency: requests in flight at once (servers such as vLLM batch them).

    Attributes:
        calls: chat requests made by the last `analyze`.
        frames_sent: pictures sent by the last `analyze`.
    """

    name = "captions"
    version = "1"

    def __init__(self, model: ChatModel | str, frames_per_shot: int = 3,
                 max_segment: float = 30.0, size: int = 512, *, quality: int = 85,
                 max_tokens: int = 120, concurrency: int = 1) -> None:
        if frames_per_shot < 1:
            raise ValueError(f"frames_per_shot must be at least 1, got {frames_per_shot}")
        if max_segment <= 0:
            raise ValueError(f"max_segment must be positive, got {max_segment}")
        if size < 32:
            raise ValueError(f"size must be at least 32 pixels, got {size}")
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        self.model: ChatModel = resolve("chat", model) if isinstance(model, str) else model
        self.frames_per_shot = int(frames_per_shot)
        self.max_segment = float(max_segment)
        self.size = int(size)
        self.quality = int(quality)
        self.max_tokens = int(max_tokens)
        self.concurrency = int(concurrency)
        self.calls = 0
        self.frames_sent = 0

    def analyze(self, video_id: str, shots: Sequence[tuple[float, float]],
                reader: VideoReader) -> Iterator[Observation]:
        """Caption observations for the shots, lazily, in time order.

        Args:
            video_id: the video's id.
            shots: ``(start, end)`` timeline seconds, in time order.
            reader: the video, to read frames from.

        Yields:
            One observation per segment whose caption is not empty.

        Raises:
            ChatModelError: the model could not be reached or refused a request.
        """
        self.calls = self.frames_sent = 0
        segments = _segments(shots, self.max_segment, self.frames_per_shot, reader.duration)
        requests = self._requests(segments, reader)
        if self.concurrency == 1:
            for segment, frames in requests:
                observation = self._observation(video_id, segment, frames, self._ask(frames))
                if observation is not None:
                    yield observation
            return
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="captions") as pool:
            pending: deque[tuple[_Segment, list[Frame], Future[ChatReply]]] = deque()
            for segment, frames in requests:
                pending.append((segment, frames, pool.submit(self._ask, frames)))
                # keep at most `concurrency` requests (and their frames) in memory
                while len(pending) >= self.concurrency:
                    yield from self._done(video_id, pending.popleft())
            while pending:
                yield from self._done(video_id, pending.popleft())

    def _requests(self, segments: list[_Segment],
                  reader: VideoReader) -> Iterator[tuple[_Segment, list[Frame]]]:
        """Each segment with its frames, read in one pass over the video."""
        frames = reader.at((t for s in segments for t in s.times), size=self.size)
        for segment in segments:
            read = list(islice(frames, len(segment.times)))
            # a segment shorter than its sampling may hit one picture twice: send it once
            unique = [f for i, f in enumerate(read) if i == 0 or f.time != read[i - 1].time]
            self.calls += 1
            self.frames_sent += len(unique)
            yield segment, unique

    def _ask(self, frames: list[Frame]) -> ChatReply:
        """One chat request with the frames, each after its time, then the instruction."""
        parts = frame_parts(frames, max_side=self.size, quality=self.quality)
        message = ChatMessage.user(*parts, text_part(INSTRUCTION))
        return self.model.chat([message], max_tokens=self.max_tokens, temperature=0.0)

    def _done(self, video_id: str, item: tuple[_Segment, list[Frame], Future[ChatReply]]
              ) -> Iterator[Observation]:
        segment, frames, future = item
        observation = self._observation(video_id, segment, frames, future.result())
        if observation is not None:
            yield observation

    def _observation(self, video_id: str, segment: _Segment, frames: list[Frame],
                     reply: ChatReply) -> Observation | None:
        caption = _clean(reply.text)
        if not caption:
            return None
        return Observation(
            video_id=video_id, start=segment.start, end=segment.end, kind="caption",
            text=caption, source=self.model.name,
            data={"frames": [f.time for f in frames],
                  "model": reply.model or self.model.name,
                  "prompt_tokens": reply.prompt_tokens,
                  "completion_tokens": reply.completion_tokens,
                  "seconds": round(reply.seconds, 4)})


def _segments(shots: Sequence[tuple[float, float]], max_segment: float, frames: int,
              duration: float) -> list[_Segment]:
    """Shots cut into equal segments of at most `max_segment` seconds, each with `frames`
    times at the centres of equal parts of it (clipped to the video, never decreasing)."""
    segments: list[_Segment] = []
    last = 0.0
    for shot_start, shot_end in shots:
        if shot_end <= shot_start:
            continue
        count = max(1, math.ceil((shot_end - shot_start) / max_segment - 1e-9))
        length = (shot_end - shot_start) / count
        for k in range(count):
            start = shot_start + k * length
            end = shot_end if k == count - 1 else start + length
            times = []
            for i in range(frames):
                last = max(last, min(start + (i + 0.5) * (end - start) / frames, duration))
                times.append(last)
            segments.append(_Segment(start, end, times))
    return segments


def _clean(text: str) -> str:
    """The caption on one line, without a reasoning model's ``<think>`` block."""
    return " ".join(_THINKING.sub("", text).split())
