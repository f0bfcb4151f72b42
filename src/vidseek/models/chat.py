"""Chat models (vision-language models) behind the small `ChatModel` protocol, and a client
for any OpenAI-compatible chat-completions endpoint: vLLM, SGLang, Ollama, llama.cpp server,
LM Studio or a hosted API.

Spec strings (see DESIGN.md, "models behind small protocols"):

    openai:http://localhost:11434/v1#qwen2.5vl:7b   a server's base URL, then ``#`` and the model
    openai:#gpt-4o-mini                              the default base URL: ``$OPENAI_BASE_URL``,
                                                     else https://api.openai.com/v1
    openai:gpt-4o-mini                               the same, when the model is not a URL
    hf:/path/to/model-dir                            a Hugging Face vision-language model run
                                                     in-process (`vidseek.models.hf_chat`)

The API key comes from ``VIDSEEK_API_KEY``, else ``OPENAI_API_KEY``; local servers need none.

Messages are `ChatMessage` records whose content is a string or a list of OpenAI content
parts: `text_part` and `image_part` (an RGB frame as a base64 JPEG ``data:`` URL, scaled down
to a longest side). `frame_parts` puts each frame's exact time before its picture, so a model
can say *when* it saw something.
"""

from __future__ import annotations

import base64
import email.utils
import io
import logging
import os
import random
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

from vidseek.errors import ModelError

__all__ = [
    "DEFAULT_BASE_URL",
    "ChatMessage",
    "ChatModel",
    "ChatModelError",
    "ChatReply",
    "OpenAIChat",
    "frame_parts",
    "image_part",
    "jpeg_data_url",
    "resolve_chat_model",
    "text_part",
]

DEFAULT_BASE_URL = "https://api.openai.com/v1"
"""Base URL of ``openai:#model`` specs when ``OPENAI_BASE_URL`` is not set."""

DEFAULT_IMAGE_SIDE = 768
"""Longest side, in pixels, images are scaled down to before they are sent."""
DEFAULT_JPEG_QUALITY = 85

Part = dict[str, Any]
"""One OpenAI content part: ``{"type": "text", "text": ...}`` or ``{"type": "image_url", ...}``."""
Role = Literal["system", "user", "assistant", "tool"]

_SPEC_FORMS = ("'openai:http://localhost:11434/v1#qwen2.5vl:7b' (a server's base URL, '#', "
               "the model) or 'openai:#gpt-4o-mini' (the default base URL: $OPENAI_BASE_URL, "
               f"else {DEFAULT_BASE_URL})")
_API_KEY_VARIABLES = ("VIDSEEK_API_KEY", "OPENAI_API_KEY")
_RETRY_STATUSES = frozenset({408, 429})  # and every 5xx
_MAX_RETRY_WAIT = 60.0  # seconds; a longer Retry-After is cut to this
_ERROR_TEXT_CHARS = 500  # of a server's error body quoted in messages

log = logging.getLogger(__name__)


class ChatModelError(ModelError):
    """A chat model that cannot be used or did not answer. The message names the URL, the
    HTTP status and the server's own error text, and says what to do.

    Attributes:
        url: the endpoint that failed (empty for a bad spec).
        status: the HTTP status, or None when no HTTP reply came (connection, timeout).
        detail: the server's error text, or the transport error.
    """

    def __init__(self, message: str, *, url: str = "", status: int | None = None,
                 detail: str = "") -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.detail = detail


# -- content parts and messages ----------------------------------------------------------


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
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


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

    role: Role
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


# -- replies and the protocol ------------------------------------------------------------


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

    @property
    def total_tokens(self) -> int | None:
        """Prompt plus completion tokens, or None when either is unknown."""
        if self.prompt_tokens is None or self.completion_tokens is None:
            return None
        return self.prompt_tokens + self.completion_tokens

    def message(self) -> ChatMessage:
        """This reply as the assistant message that continues the conversation."""
        return ChatMessage.assistant(self.text or None, self.tool_calls)


@runtime_checkable
class ChatModel(Protocol):
    """A chat (vision-language) model: messages in, one reply out."""

    name: str
    """Backend and model for `Observation.source`, e.g. ``openai:qwen2.5vl:7b``."""

    def chat(self, messages: Sequence[ChatMessage | Mapping[str, Any]], *,
             max_tokens: int | None = None, temperature: float = 0.0,
             tools: Sequence[Mapping[str, Any]] | None = None,
             response_format: Mapping[str, Any] | None = None) -> ChatReply:
        """One reply to `messages`.

        Args:
            messages: the conversation, `ChatMessage` records or API-form dicts.
            max_tokens: the most tokens to generate; None leaves it to the server.
            temperature: sampling temperature (0 for repeatable answers).
            tools: OpenAI tool (function) definitions the model may call.
            response_format: e.g. ``{"type": "json_schema", "json_schema": {...}}``.

        Raises:
            ChatModelError: the model could not be reached or refused the request.
        """


# -- the OpenAI-compatible client ----------------------------------------------------------


class OpenAIChat:
    """A `ChatModel` over an OpenAI-compatible ``POST {base_url}/chat/completions``.

    Connection errors, timeouts, 408, 429 and 5xx replies are retried with exponential
    backoff (``backoff * 2**n`` seconds, or longer when the server sends ``Retry-After``);
    other 4xx replies are not. One HTTP connection is kept open between calls. Safe to call
    from several threads at once.

    Args:
        base_url: the API root, e.g. ``http://localhost:11434/v1``.
        model: the model name the server knows.
        api_key: sent as a bearer token; None reads ``VIDSEEK_API_KEY``, else
            ``OPENAI_API_KEY`` (neither is fine for local servers); ``""`` sends none.
        timeout: seconds to wait for connecting and for the reply of one attempt.
        retries: extra attempts after a retryable failure.
        backoff: seconds before the first retry; each later one waits twice as long.
        options: extra fields for every request body, e.g. ``{"top_p": 0.9}`` or vLLM's
            ``{"chat_template_kwargs": {"enable_thinking": False}}``.

    Raises:
        ChatModelError: from `chat`, naming the URL, the status and the server's message.
    """

    def __init__(self, base_url: str, model: str, api_key: str | None = None,
                 timeout: float = 60.0, retries: int = 3, *, backoff: float = 0.5,
                 options: Mapping[str, Any] | None = None) -> None:
        if not model:
            raise ChatModelError(f"no model named; write {_SPEC_FORMS}")
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        if retries < 0 or backoff < 0:
            raise ValueError(f"retries and backoff must not be negative, got {retries}, "
                             f"{backoff}")
        self.base_url = _normal_base_url(base_url)
        self.url = f"{self.base_url}/chat/completions"
        self.model = model
        self.name = f"openai:{model}"
        self.api_key = _api_key_from_env() if api_key is None else api_key
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.backoff = float(backoff)
        self.options = dict(options or {})
        self._client: Any = None
        self._lock = threading.Lock()

    def chat(self, messages: Sequence[ChatMessage | Mapping[str, Any]], *,
             max_tokens: int | None = None, temperature: float = 0.0,
             tools: Sequence[Mapping[str, Any]] | None = None,
             response_format: Mapping[str, Any] | None = None) -> ChatReply:
        """One reply to `messages` (see `ChatModel.chat`).

        Raises:
            ChatModelError: the server could not be reached after the retries, timed out,
                answered with an error status, or did not answer in the OpenAI form.
        """
        body = self._body(messages, max_tokens, temperature, tools, response_format)
        began = time.perf_counter()
        reply, attempts = self._post(body)
        return _parse_reply(reply, self.url, self.model, time.perf_counter() - began, attempts)

    def _body(self, messages, max_tokens, temperature, tools, response_format) -> dict:
        if not messages:
            raise ValueError("messages must not be empty")
        body: dict[str, Any] = {
            **self.options,
            "model": self.model,
            "messages": [m.to_dict() if isinstance(m, ChatMessage) else dict(m)
                         for m in messages],
            "temperature": temperature,
        }
        if max_tokens is not None:
            body["max_tokens"] = int(max_tokens)
        if tools:
            body["tools"] = [dict(tool) for tool in tools]
        if response_format is not None:
            body["response_format"] = dict(response_format)
        return body

    def _post(self, body: dict[str, Any]) -> tuple[Any, int]:
        """The parsed JSON of the first successful attempt, and the attempts made."""
        import httpx

        client = self._http()
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response = client.post(self.url, json=body)
            except httpx.TransportError as exc:
                if last:
                    raise self._transport_error(exc, attempt + 1) from exc
                wait = self._wait(attempt, None)
                log.warning("%s: %s; retrying in %.1f s", self.url, _describe(exc), wait)
                time.sleep(wait)
                continue
            status = response.status_code
            if 200 <= status < 300:
                return _json(response, self.url), attempt + 1
            if last or not (status in _RETRY_STATUSES or status >= 500):
                raise self._status_error(response, attempt + 1)
            wait = self._wait(attempt, response)
            log.warning("%s: HTTP %d; retrying in %.1f s", self.url, status, wait)
            time.sleep(wait)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _wait(self, attempt: int, response: Any) -> float:
        """Seconds before the next attempt: exponential backoff with a little jitter, or the
        server's Retry-After when that is longer."""
        wait = self.backoff * 2**attempt * random.uniform(1.0, 1.25)
        asked = _retry_after(response) if response is not None else None
        if asked is not None:
            wait = max(wait, asked)
        return min(wait, _MAX_RETRY_WAIT)

    def _http(self) -> Any:
        """The HTTP client, created on first use (one connection pool for all calls)."""
        with self._lock:
            if self._client is None:
                self._client = self._new_client()
            return self._client

    def _new_client(self) -> Any:
        import httpx

        headers = {"Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return httpx.Client(timeout=httpx.Timeout(self.timeout), headers=headers)

    def _transport_error(self, exc: Exception, attempts: int) -> ChatModelError:
        import httpx

        tried = f"after {attempts} attempt{'s' * (attempts > 1)}"
        if isinstance(exc, httpx.TimeoutException):
            advice = (f"the server is slow or stuck: raise the timeout (now {self.timeout:g} s), "
                      "send fewer or smaller images, or use a smaller model")
            what = f"no reply within {self.timeout:g} s"
        else:
            advice = ("is the server running and is the base URL right? Start it (e.g. "
                      "'ollama serve', 'vllm serve MODEL', 'llama-server ...') or fix the spec: "
                      f"{_SPEC_FORMS}")
            what = f"cannot connect ({_describe(exc)})"
        return ChatModelError(f"POST {self.url}: {what} {tried}; {advice}", url=self.url,
                              detail=_describe(exc))

    def _status_error(self, response: Any, attempts: int) -> ChatModelError:
        status = response.status_code
        detail = _server_message(response)
        if 300 <= status < 400:
            location = response.headers.get("location", "?")
            advice = (f"the server redirects to {location}: use that as the base URL "
                      "(redirects are not followed, since they turn a POST into a GET)")
        elif status in (401, 403):
            advice = ("check the API key: set VIDSEEK_API_KEY (or OPENAI_API_KEY) to a key "
                      "this server accepts")
        elif status == 404:
            advice = (f"is the model {self.model!r} served (pulled) there? For Ollama run "
                      f"'ollama pull {self.model}'; GET {self.base_url}/models lists the "
                      "served models. Also check that the base URL ends where the API starts "
                      "(usually /v1)")
        elif status == 429:
            advice = "the server is rate limiting: wait, or send fewer requests at once"
        elif status >= 500:
            advice = ("the server failed: check its log (out of memory? model still "
                      "loading? images too large?)")
        else:
            advice = (f"the server rejected the request: check that {self.model!r} takes "
                      "images and the options sent (tools, response_format, max_tokens)")
        tried = f" after {attempts} attempts" if attempts > 1 else ""
        return ChatModelError(f"POST {self.url}: HTTP {status}{tried}: {detail}; {advice}",
                              url=self.url, status=status, detail=detail)

    def close(self) -> None:
        """Close the HTTP connection (a later call opens a new one)."""
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def __getstate__(self) -> dict[str, Any]:
        # picklable (for worker processes): the connection and its lock are not sent
        return {k: v for k, v in self.__dict__.items() if k not in ("_client", "_lock")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._client = None
        self._lock = threading.Lock()

    def __enter__(self) -> OpenAIChat:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"OpenAIChat({self.base_url!r}, {self.model!r})"


def resolve_chat_model(spec: str, **options: Any) -> ChatModel:
    """The chat model a spec string names. Nothing is sent or loaded until the first `chat`.

    Args:
        spec: ``openai:BASE_URL#MODEL``, ``openai:#MODEL`` or ``openai:MODEL`` (the last two
            use ``$OPENAI_BASE_URL``, else https://api.openai.com/v1): an OpenAI-compatible
            server; or ``hf:/path/to/model-dir`` (optionally ``#device=cpu,dtype=float32``) or
            ``hf:org/name``: a Hugging Face vision-language model run in this process with
            transformers (see `vidseek.models.hf_chat`).
        **options: passed to `OpenAIChat` (``api_key``, ``timeout``, ``retries``,
            ``backoff``, ``options``) or to `TransformersChat` (``device``, ``dtype``,
            ``threads``, ``max_new_tokens``, ``name``).

    Returns:
        An `OpenAIChat` or a `vidseek.models.hf_chat.TransformersChat`.

    Raises:
        ChatModelError: the spec is not one of those forms, or an ``hf:`` folder does not
            exist.
    """
    kind, sep, rest = spec.strip().partition(":")
    if kind == "hf" and sep:
        from vidseek.models.hf_chat import resolve_hf_chat

        return resolve_hf_chat(rest, **options)
    if kind != "openai" or not sep:
        raise ChatModelError(f"{spec!r} is not a chat model spec; write {_SPEC_FORMS}, or "
                             "'hf:/path/to/model-dir' (a local transformers model)")
    rest = rest.strip()
    if "#" in rest:
        base, _, model = rest.partition("#")
    elif "://" in rest:
        raise ChatModelError(f"{spec!r} names no model: put '#' and the model name after the "
                             f"base URL, e.g. 'openai:{rest}#qwen2.5vl:7b'")
    else:
        base, model = "", rest
    base, model = base.strip(), model.strip()
    if not model:
        raise ChatModelError(f"{spec!r} names no model; write {_SPEC_FORMS}")
    if not base:
        base = os.environ.get("OPENAI_BASE_URL", "").strip() or DEFAULT_BASE_URL
    if not base.startswith(("http://", "https://")):
        raise ChatModelError(f"{spec!r}: the base URL {base!r} must start with http:// or "
                             f"https://; write {_SPEC_FORMS}")
    return OpenAIChat(base, model, **options)


# -- helpers -------------------------------------------------------------------------------


def _normal_base_url(url: str) -> str:
    """The API root without a trailing slash or a pasted ``/chat/completions``."""
    url = url.strip().rstrip("/")
    suffix = "/chat/completions"
    return url[: -len(suffix)] if url.endswith(suffix) else url


def _api_key_from_env() -> str:
    for variable in _API_KEY_VARIABLES:
        value = os.environ.get(variable, "").strip()
        if value:
            return value
    return ""


def _describe(exc: Exception) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _retry_after(response: Any) -> float | None:
    """Seconds the server asked to wait (``retry-after-ms``, or ``Retry-After`` as seconds or
    an HTTP date), or None."""
    headers = response.headers
    for name, unit in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) / unit)
        except ValueError:
            break
    else:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _server_message(response: Any) -> str:
    """The error text of a reply: OpenAI's ``error.message``, Ollama's ``error``, FastAPI's
    ``detail``, or the start of the body."""
    text = response.text.strip()
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("error", "message", "detail"):
            value = body.get(key)
            if isinstance(value, dict):
                value = value.get("message") or value
            if value:
                text = value if isinstance(value, str) else str(value)
                break
    if not text:
        text = response.reason_phrase or "(no error text)"
    return text[:_ERROR_TEXT_CHARS]


def _json(response: Any, url: str) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        start = response.text[:200]
        raise ChatModelError(
            f"POST {url}: HTTP {response.status_code} but the body is not JSON ({start!r}); "
            "is this an OpenAI-compatible chat-completions endpoint?",
            url=url, status=response.status_code, detail=start) from exc


def _parse_reply(reply: Any, url: str, model: str, seconds: float,
                 attempts: int) -> ChatReply:
    """A `ChatReply` from a chat-completions response body."""
    choices = reply.get("choices") if isinstance(reply, dict) else None
    if not choices or not isinstance(choices[0], dict):
        raise ChatModelError(
            f"POST {url}: the reply has no choices ({str(reply)[:200]!r}); is this an "
            "OpenAI-compatible chat-completions endpoint?", url=url, detail=str(reply)[:200])
    choice = choices[0]
    message = choice.get("message")
    message = message if isinstance(message, dict) else {}
    usage = reply.get("usage") if isinstance(reply.get("usage"), dict) else {}
    return ChatReply(
        text=_content_text(message.get("content")),
        tool_calls=list(message.get("tool_calls") or []),
        finish_reason=choice.get("finish_reason"),
        prompt_tokens=_count(usage.get("prompt_tokens")),
        completion_tokens=_count(usage.get("completion_tokens")),
        seconds=seconds,
        model=str(reply.get("model") or model),
        attempts=attempts,
        raw=reply,
    )


def _content_text(content: Any) -> str:
    """The text of a message's content: a string, or the text parts of a list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content
                       if isinstance(part, dict) and part.get("type") in ("text", None))
    return ""


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
