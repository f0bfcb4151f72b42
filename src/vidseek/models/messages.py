"""The conversation a `ChatModel` takes and the reply it gives, shared by every chat backend:
`ChatMessage` records in the OpenAI chat-completions form, content parts (`text_part`,
`image_part`: an RGB frame as a base64 JPEG ``data:`` URL, scaled down to a longest side,
`frame_parts`: each frame's exact time before its picture, so a model can say *when* it saw
something), `ChatReply` and the token probabilities a reply may carry (`TokenLogprob`).
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

__all__ = [
    "DEFAULT_IMAGE_SIDE",
    "DEFAULT_JPEG_QUALITY",
    "ChatMessage",
    "ChatReply",
    "Part",
    "TokenLogprob",
    "frame_parts",
    "image_part",
    "jpeg_data_url",
    "text_part",
]

DEFAULT_IMAGE_SIDE = 768
"""Longest side, in pixels, images are scaled down to before they are sent."""
DEFAULT_JPEG_QUALITY = 85

Part = dict[str, Any]
"""One OpenAI content part: ``{"type": "text", "text": ...}`` or ``{"type": "image_url", ...}``."""
MessageRole = Literal["system", "user", "assistant", "tool"]


def text_part(text: str) -> Part:
    """A text content part."""
    return {"type": "text", "text": text}


def jpeg_data_url(image: np.ndarray, *, max_side: int = DEFAULT_IMAGE_SIDE,
                  quality: int = DEFAULT_JPEG_QUALITY) -> str:
    """An RGB picture as a ``data:image/jpeg;base64,...`` URL.

    Args:
        image: ``H x W x 3`` uint8 RGB.
        max_side: the picture is scaled down (never up) so its longest side is at most this.
        quality: JPEG quality, 1..95.

    Returns:
        The data URL.

    Raises:
        ValueError: `image` is not an RGB uint8 picture, or an argument is out of range.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an H x W x 3 uint8 RGB image, got {image.dtype} "
                         f"{image.shape}")
    if max_side < 16:
        raise ValueError(f"max_side must be at least 16 pixels, got {max_side}")
    if not 1 <= quality <= 95:
        raise ValueError(f"quality must be 1..95, got {quality}")
    from PIL import Image

    picture = Image.fromarray(np.ascontiguousarray(image))
    height, width = image.shape[:2]
    if max(height, width) > max_side:
        scale = max_side / max(height, width)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        picture = picture.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    picture = _letterboxed(picture, min(_LEAST_SIDE, max_side))
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


_LEAST_SIDE = 28  # vision-language servers refuse smaller sides (Qwen2-VL: 28 px)
_MOST_ASPECT = 4.0


def _letterboxed(picture: Any, least: int) -> Any:
    """The picture centred on black, as little as makes its short side at least ``least``
    pixels and at least a quarter of its long side (a 2 x 512 strip becomes 128 x 512):
    servers refuse thinner pictures (Qwen2-VL: sides under 28 px, aspect ratios over 200)."""
    from PIL import Image

    width, height = picture.size
    wide = max(width, least, math.ceil(height / _MOST_ASPECT))
    high = max(height, least, math.ceil(width / _MOST_ASPECT))
    if (wide, high) == (width, height):
        return picture
    canvas = Image.new("RGB", (wide, high))
    canvas.paste(picture, ((wide - width) // 2, (high - height) // 2))
    return canvas


def image_part(image: np.ndarray, *, max_side: int = DEFAULT_IMAGE_SIDE,
               quality: int = DEFAULT_JPEG_QUALITY,
               detail: Literal["low", "high", "auto"] | None = None) -> Part:
    """An image content part holding `image` as a JPEG data URL (see `jpeg_data_url`).

    Args:
        image: ``H x W x 3`` uint8 RGB.
        max_side: longest side in pixels after scaling down.
        quality: JPEG quality, 1..95.
        detail: OpenAI's image detail hint; None leaves it to the server.
    """
    url: dict[str, Any] = {"url": jpeg_data_url(image, max_side=max_side, quality=quality)}
    if detail is not None:
        url["detail"] = detail
    return {"type": "image_url", "image_url": url}


def frame_parts(frames: Iterable[Any], *, max_side: int = DEFAULT_IMAGE_SIDE,
                quality: int = DEFAULT_JPEG_QUALITY) -> list[Part]:
    """Content parts for frames: ``"Frame at 12.30 s"`` before each picture.

    Args:
        frames: objects with ``time`` (timeline seconds) and ``image`` (RGB), such as
            `vidseek.media.Frame`.
        max_side: longest side in pixels after scaling down.
        quality: JPEG quality, 1..95.
    """
    parts: list[Part] = []
    for frame in frames:
        parts.append(text_part(f"Frame at {frame.time:.2f} s"))
        parts.append(image_part(frame.image, max_side=max_side, quality=quality))
    return parts


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One message of a conversation, in the OpenAI chat-completions form.

    Attributes:
        role: ``system``, ``user``, ``assistant`` or ``tool``.
        content: a string, a list of content parts (`text_part`, `image_part`), or None
            (an assistant message that only calls tools).
        tool_calls: the tool calls of an assistant message, as the server sent them.
        tool_call_id: for a ``tool`` message, the id of the call it answers.
        name: an optional participant or tool name.
    """

    role: MessageRole
    content: str | list[Part] | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None

    @classmethod
    def system(cls, text: str) -> ChatMessage:
        return cls("system", text)

    @classmethod
    def user(cls, *parts: str | Part | np.ndarray) -> ChatMessage:
        """A user message. One string stays a plain string; otherwise strings become text
        parts, arrays become image parts (default size and quality) and dicts are parts."""
        if len(parts) == 1 and isinstance(parts[0], str):
            return cls("user", parts[0])
        return cls("user", [_as_part(p) for p in parts])

    @classmethod
    def assistant(cls, text: str | None = None,
                  tool_calls: Sequence[dict[str, Any]] = ()) -> ChatMessage:
        return cls("assistant", text, list(tool_calls))

    @classmethod
    def tool(cls, call_id: str, content: str) -> ChatMessage:
        """The result of the tool call `call_id`."""
        return cls("tool", content, tool_call_id=call_id)

    def to_dict(self) -> dict[str, Any]:
        """The message as the chat-completions API takes it."""
        message: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            message["tool_calls"] = self.tool_calls
        if self.tool_call_id is not None:
            message["tool_call_id"] = self.tool_call_id
        if self.name is not None:
            message["name"] = self.name
        return message


def _as_part(part: str | Part | np.ndarray) -> Part:
    if isinstance(part, str):
        return text_part(part)
    if isinstance(part, np.ndarray):
        return image_part(part)
    if isinstance(part, Mapping) and "type" in part:
        return dict(part)
    raise TypeError(f"a content part is a str, an RGB array or a part dict, got {part!r:.80}")


@dataclass(frozen=True, slots=True)
class TokenLogprob:
    """One generated token and how likely the model found it.

    Attributes:
        token: the token's text.
        logprob: its natural-log probability under the model (0 is certain), before any
            grammar or JSON schema constrained the choice.
        top: the likeliest tokens at that position, ``(text, logprob)``, likeliest first
            (as many as were asked for; the chosen token is among them when it ranks there).
    """

    token: str
    logprob: float
    top: tuple[tuple[str, float], ...] = ()

    @property
    def probability(self) -> float:
        return math.exp(self.logprob)

    @classmethod
    def from_openai(cls, item: Mapping[str, Any]) -> TokenLogprob:
        """From one entry of a chat-completions reply's ``logprobs.content``."""
        top = tuple((str(t.get("token", "")), float(t.get("logprob", -math.inf)))
                    for t in item.get("top_logprobs") or () if isinstance(t, Mapping))
        return cls(str(item.get("token", "")), float(item.get("logprob", -math.inf)), top)


@dataclass(frozen=True, slots=True)
class ChatReply:
    """What a chat model answered, and what it cost.

    Attributes:
        text: the assistant's text (empty when it only called tools).
        tool_calls: the tool calls as the server sent them (``id``, ``type``, ``function``
            with ``name`` and ``arguments`` as a JSON string); empty when none.
        finish_reason: ``stop``, ``length``, ``tool_calls``..., or None if not given.
        prompt_tokens: tokens the server counted in the prompt; None when it did not say.
        completion_tokens: tokens it generated; None when it did not say.
        seconds: wall time of the call, retries and waits included.
        model: the model that answered, as the server names it.
        attempts: HTTP requests made (1 without retries).
        raw: the server's reply, parsed.
        logprobs: the generated tokens with their log-probabilities, when they were asked
            for (``chat(..., logprobs=K)`` of the llama.cpp and OpenAI backends); empty
            otherwise.
    """

    text: str
    tool_calls: list[dict[str, Any]]
    finish_reason: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    seconds: float
    model: str
    attempts: int = 1
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    logprobs: tuple[TokenLogprob, ...] = field(default=(), repr=False)

    @property
    def total_tokens(self) -> int | None:
        """Prompt plus completion tokens, or None when either is unknown."""
        if self.prompt_tokens is None or self.completion_tokens is None:
            return None
        return self.prompt_tokens + self.completion_tokens

    def message(self) -> ChatMessage:
        """This reply as the assistant message that continues the conversation."""
        return ChatMessage.assistant(self.text or None, self.tool_calls)

    def span_logprob(self, span: str, *, last: bool = False) -> float | None:
        """The log-probability the model gave to the tokens that wrote `span` of its text:
        the sum over every token that overlaps the span's first (or last) occurrence.

        For a JSON answer ``{"answer": "25 minutes", ...}``, ``span_logprob("25 minutes")``
        is how sure the model was of those words (``math.exp`` of it is a probability).

        Args:
            span: a piece of the reply's text.
            last: use its last occurrence instead of its first.

        Returns:
            The summed log-probability, or None when the reply carries no token
            probabilities or `span` is not in the text the tokens spell.
        """
        if not self.logprobs or not span:
            return None
        spelled = "".join(t.token for t in self.logprobs)
        start = spelled.rfind(span) if last else spelled.find(span)
        if start < 0:
            return None
        end = start + len(span)
        total, offset = 0.0, 0
        for token in self.logprobs:
            after = offset + len(token.token)
            if after > start and offset < end:
                total += token.logprob
            offset = after
        return total

    @property
    def mean_logprob(self) -> float | None:
        """The mean log-probability of the generated tokens (None without `logprobs`)."""
        if not self.logprobs:
            return None
        return sum(t.logprob for t in self.logprobs) / len(self.logprobs)
