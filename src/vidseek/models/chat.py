"""A client for any OpenAI-compatible chat-completions endpoint (vLLM, SGLang, Ollama,
llama.cpp server, LM Studio or a hosted API), as a `ChatModel`.

Spec strings (see DESIGN.md, "models behind small protocols"; resolve them with
``vidseek.models.resolve("chat", spec)``):

    openai:http://localhost:11434/v1#qwen2.5vl:7b   a server's base URL, then ``#`` and the model
    openai:#gpt-4o-mini                              the default base URL: ``$OPENAI_BASE_URL``,
                                                     else https://api.openai.com/v1
    openai:gpt-4o-mini                               the same, when the model is not a URL
    hf:/path/to/model-dir                            a Hugging Face vision-language model run
                                                     in-process (`vidseek.models.hf_chat`)
    llm, llamacpp:/path/to/model.gguf                a GGUF language model run in-process by
                                                     llama.cpp (`vidseek.models.llamacpp`)

The API key comes from ``VIDSEEK_API_KEY``, else ``OPENAI_API_KEY``; local servers need none.

Messages, content parts and replies are in `vidseek.models.messages`.
"""

from __future__ import annotations

import email.utils
import ipaddress
import logging
import os
import random
import re
import threading
import time
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

from vidseek.models.messages import ChatMessage, ChatReply, TokenLogprob
from vidseek.models.protocols import ChatModelError, ChatTimeoutError

__all__ = ["DEFAULT_BASE_URL", "OpenAIChat", "url_problem"]

DEFAULT_BASE_URL = "https://api.openai.com/v1"
"""Base URL of ``openai:#model`` specs when ``OPENAI_BASE_URL`` is not set."""

_SPEC_FORMS = ("'openai:http://localhost:11434/v1#qwen2.5vl:7b' (a server's base URL, '#', "
               "the model) or 'openai:#gpt-4o-mini' (the default base URL: $OPENAI_BASE_URL, "
               f"else {DEFAULT_BASE_URL})")
_API_KEY_VARIABLES = ("VIDSEEK_API_KEY", "OPENAI_API_KEY")
_RETRY_STATUSES = frozenset({408, 429})  # and every 5xx
_MAX_RETRY_WAIT = 60.0  # seconds; a longer Retry-After is cut to this
_ERROR_TEXT_CHARS = 500  # of a server's error body quoted in messages
_LEAST_ATTEMPT = 0.05  # seconds: no retry starts with less time than this left
_LABEL = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)")  # one label of a host name ('_': Docker)

log = logging.getLogger(__name__)


# -- the OpenAI-compatible client ----------------------------------------------------------


class OpenAIChat:
    """A `ChatModel` over an OpenAI-compatible ``POST {base_url}/chat/completions``.

    Connection errors, timeouts, 408, 429 and 5xx replies are retried with exponential
    backoff (``backoff * 2**n`` seconds, or longer when the server sends ``Retry-After``);
    other 4xx replies are not. `timeout` bounds each attempt as a whole, from connecting to
    the last byte of the reply, so a server that trickles its reply a byte at a time is cut
    off too; `chat` takes a ``timeout`` for the whole call (a time budget). Each attempt
    opens its own connection and closes it (so one cut off ends at once). Safe to call from
    several threads at once.

    Args:
        base_url: the API root, e.g. ``http://localhost:11434/v1``.
        model: the model name the server knows.
        api_key: sent as a bearer token; None reads ``VIDSEEK_API_KEY``, else
            ``OPENAI_API_KEY`` (neither is fine for local servers); ``""`` sends none.
        timeout: seconds one attempt may take in all: connecting, sending, waiting, and
            reading the whole reply.
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
        problem = url_problem(base_url)
        if problem:
            raise ChatModelError(f"the base URL {base_url!r} {problem}; give one such as "
                                 "'http://localhost:11434/v1'")
        self.base_url = _normal_base_url(base_url)
        self.url = f"{self.base_url}/chat/completions"
        self.model = model
        self.name = f"openai:{model}"
        self.api_key = _api_key_from_env() if api_key is None else api_key
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.backoff = float(backoff)
        self.options = dict(options or {})

    @classmethod
    def from_spec(cls, spec: str, **options: Any) -> OpenAIChat:
        """The client an ``openai:`` spec names; nothing is sent until the first `chat`.
        ``vidseek.models.resolve("chat", spec)`` calls this for ``openai:`` specs.

        Args:
            spec: ``openai:BASE_URL#MODEL``, ``openai:#MODEL`` or ``openai:MODEL`` (the last
                two use ``$OPENAI_BASE_URL``, else https://api.openai.com/v1).
            **options: passed to `OpenAIChat` (``api_key``, ``timeout``, ``retries``,
                ``backoff``, ``options``).

        Raises:
            ChatModelError: the spec is not one of those forms.
        """
        kind, sep, rest = spec.strip().partition(":")
        if kind != "openai" or not sep:
            raise ChatModelError(f"{spec!r} is not a chat model spec; write {_SPEC_FORMS}, or "
                                 "'hf:/path/to/model-dir' (a local transformers model)")
        rest = rest.strip()
        if "#" in rest:
            base, _, model = rest.partition("#")
        elif "://" in rest:
            raise ChatModelError(f"{spec!r} names no model: put '#' and the model name after "
                                 f"the base URL, e.g. 'openai:{rest}#qwen2.5vl:7b'")
        else:
            base, model = "", rest
        base, model = base.strip(), model.strip()
        if not model:
            raise ChatModelError(f"{spec!r} names no model; write {_SPEC_FORMS}")
        source = ""
        if not base:
            base = os.environ.get("OPENAI_BASE_URL", "").strip() or DEFAULT_BASE_URL
            source = " (from $OPENAI_BASE_URL)" if base != DEFAULT_BASE_URL else ""
        problem = url_problem(base)
        if problem:
            raise ChatModelError(f"{spec!r}: the base URL {base!r}{source} {problem}; write "
                                 f"{_SPEC_FORMS}")
        return cls(base, model, **options)

    def chat(self, messages: Sequence[ChatMessage | Mapping[str, Any]], *,
             max_tokens: int | None = None, temperature: float = 0.0,
             tools: Sequence[Mapping[str, Any]] | None = None,
             response_format: Mapping[str, Any] | None = None,
             logprobs: int | None = None, timeout: float | None = None) -> ChatReply:
        """One reply to `messages` (see `ChatModel.chat`).

        Args:
            logprobs: None: no token probabilities; K >= 0: ask the server for every
                generated token's log-probability and its K likeliest alternatives
                (`ChatReply.logprobs`; servers that do not give them leave it empty).
            timeout: seconds the whole call may take: every attempt and the waits between
                them (what is left of a time budget). An attempt gets the client's
                `timeout` or what is left, whichever is less; no retry starts that cannot
                begin in time; a call given no time (0 or less) sends nothing. None: the
                client's `timeout` per attempt and its `retries` bound the call.

        Raises:
            ChatModelError: the server could not be reached after the retries, timed out,
                answered with an error status, or did not answer in the OpenAI form;
                `ChatTimeoutError` when an attempt or the call's `timeout` ran out.
        """
        body = self._body(messages, max_tokens, temperature, tools, response_format)
        if logprobs is not None:
            body["logprobs"] = True
            body["top_logprobs"] = int(logprobs)
        if timeout is not None and timeout <= 0:
            raise ChatTimeoutError(f"POST {self.url}: not sent: no time left for the call "
                                   f"(timeout {timeout:g} s)", url=self.url, detail="no time")
        began = time.perf_counter()
        deadline = None if timeout is None else time.monotonic() + timeout
        reply, attempts = self._post(body, deadline, timeout)
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

    def _post(self, body: dict[str, Any], deadline: float | None,
              given: float | None) -> tuple[Any, int]:
        """The parsed JSON of the first successful attempt, and the attempts made; every
        attempt and wait ends by `deadline` (``time.monotonic()``; None: no deadline), the
        call's `given` seconds."""
        import httpx

        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            seconds, cut = self.timeout, False
            if deadline is not None and deadline - time.monotonic() < seconds:
                seconds, cut = max(deadline - time.monotonic(), 0.001), True
            try:
                response = self._attempt(body, seconds)
            except (httpx.InvalidURL, UnicodeError) as exc:  # url_problem let it through
                raise ChatModelError(f"POST {self.url}: the URL cannot be used "
                                     f"({_describe(exc)}); write {_SPEC_FORMS}", url=self.url,
                                     detail=_describe(exc)) from exc
            except httpx.TransportError as exc:
                if cut and isinstance(exc, httpx.TimeoutException):
                    raise self._out_of_time(given, attempt + 1, _describe(exc)) from exc
                wait = self._wait(attempt, None)
                if last or not _in_time(wait, deadline):
                    raise self._transport_error(exc, attempt + 1, retry=not last) from exc
                log.warning("%s: %s; retrying in %.1f s", self.url, _describe(exc), wait)
                time.sleep(wait)
                continue
            status = response.status_code
            if 200 <= status < 300:
                return _json(response, self.url), attempt + 1
            if last or not (status in _RETRY_STATUSES or status >= 500):
                raise self._status_error(response, attempt + 1)
            wait = self._wait(attempt, response)
            if not _in_time(wait, deadline):
                raise self._status_error(response, attempt + 1, retry=True)
            log.warning("%s: HTTP %d; retrying in %.1f s", self.url, status, wait)
            time.sleep(wait)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _attempt(self, body: dict[str, Any], seconds: float) -> Any:
        """The reply to one POST, read whole within `seconds` from now (connecting, sending,
        waiting and every byte of the reply): a server that hangs or trickles its reply is
        cut off then with an ``httpx.ReadTimeout``.

        The request runs in a daemon thread that this one waits for, on a connection of its
        own: one cut off has its connection closed at once, so the thread ends and the server
        sees the client go (a local llama.cpp server being shut down would otherwise wait
        for the request while holding the GIL the request needs)."""
        import httpx

        client = self._new_client()
        outcome: dict[str, Any] = {}
        done, stop = threading.Event(), threading.Event()

        def send() -> None:
            try:
                outcome["response"] = _read_reply(client, self.url, body, seconds, stop)
            except BaseException as exc:  # handed to the waiting thread
                outcome["error"] = exc
            finally:
                done.set()

        threading.Thread(target=send, name="vidseek-chat-request", daemon=True).start()
        finished = done.wait(seconds)
        stop.set()
        client.close()
        if not finished:
            done.wait(1.0)
            raise httpx.ReadTimeout(f"no complete reply within {seconds:g} s")
        if "error" in outcome:
            raise outcome["error"]
        return outcome["response"]

    def _wait(self, attempt: int, response: Any) -> float:
        """Seconds before the next attempt: exponential backoff with a little jitter, or the
        server's Retry-After when that is longer."""
        wait = self.backoff * 2**attempt * random.uniform(1.0, 1.25)
        asked = _retry_after(response) if response is not None else None
        if asked is not None:
            wait = max(wait, asked)
        return min(wait, _MAX_RETRY_WAIT)

    def _new_client(self) -> Any:
        import httpx

        headers = {"Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return httpx.Client(timeout=httpx.Timeout(self.timeout), headers=headers)

    def _transport_error(self, exc: Exception, attempts: int, *,
                         retry: bool = False) -> ChatModelError:
        import httpx

        tried = f"after {attempts} attempt{'s' * (attempts > 1)}"
        if retry:
            tried += " (the call's time left no room for another)"
        if isinstance(exc, httpx.TimeoutException):
            advice = (f"the server is slow or stuck: raise the timeout (now {self.timeout:g} s), "
                      "send fewer or smaller images, or use a smaller model")
            what = f"no reply within {self.timeout:g} s"
        else:
            advice = ("is the server running and is the base URL right? Start it (e.g. "
                      "'ollama serve', 'vllm serve MODEL', 'llama-server ...') or fix the spec: "
                      f"{_SPEC_FORMS}")
            what = f"cannot connect ({_describe(exc)})"
        error = ChatTimeoutError if isinstance(exc, httpx.TimeoutException) else ChatModelError
        return error(f"POST {self.url}: {what} {tried}; {advice}", url=self.url,
                     detail=_describe(exc))

    def _out_of_time(self, given: float | None, attempts: int, detail: str) -> ChatTimeoutError:
        return ChatTimeoutError(
            f"POST {self.url}: no complete reply within the {given:.1f} s this call was given "
            f"(what was left of its time budget), after {attempts} "
            f"attempt{'s' * (attempts > 1)}; allow more time, send fewer or smaller images, or "
            "use a faster server or model", url=self.url, detail=detail)

    def _status_error(self, response: Any, attempts: int, *,
                      retry: bool = False) -> ChatModelError:
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
        if retry:
            wait = _retry_after(response)
            tried += (f" (no time left to wait {wait:g} s, as its Retry-After asks, and retry)"
                      if wait else " (no time left for a retry)")
        return ChatModelError(f"POST {self.url}: HTTP {status}{tried}: {detail}; {advice}",
                              url=self.url, status=status, detail=detail)

    def close(self) -> None:
        """Nothing to close: each attempt opens its own connection and closes it."""

    def __enter__(self) -> OpenAIChat:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"OpenAIChat({self.base_url!r}, {self.model!r})"


# -- helpers -------------------------------------------------------------------------------


def url_problem(url: str) -> str:
    """What is wrong with a server's base URL, as the end of a sentence that names it, or
    ``""`` when it can be used: ``http://`` or ``https://``, then a host name (labels of 1-63
    letters, digits and hyphens, 253 characters at most), an IPv4 address (four numbers
    0-255) or an IPv6 address in brackets, then an optional port 1-65535 and path. Nothing
    is looked up or contacted."""
    text = url.strip()
    if not text.lower().startswith(("http://", "https://")):
        return "must start with http:// or https://"
    if any(c.isspace() for c in text):
        return "must not contain spaces"
    try:
        parts = urllib.parse.urlsplit(text)
        port = parts.port
    except ValueError as exc:  # an unclosed '[', a port that is not a number 0-65535
        reason = str(exc)
        if "IPv6" in reason:
            return ("has a broken IPv6 address (an address goes in brackets, its port after "
                    "them: http://[::1]:8000/v1)")
        return ("has a port that is not a number 1-65535 (write host:port, e.g. "
                "localhost:8000)")
    if port == 0:
        return "has port 0: give the server's port, 1-65535"
    host = parts.hostname or ""
    if not host:
        return "names no host: write e.g. http://localhost:11434/v1"
    if "[" in parts.netloc:
        try:
            ipaddress.IPv6Address(host.split("%")[0])
        except ValueError:
            return f"has {_cut(host)!r} in brackets, which is not an IPv6 address (e.g. [::1])"
        return ""
    if re.fullmatch(r"[0-9.]+", host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return (f"has {_cut(host)!r}, which is not an IPv4 address (four numbers 0-255, e.g. "
                    "127.0.0.1)")
        return ""
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        ascii_host = ""
    labels = ascii_host.rstrip(".").split(".")
    if not ascii_host or len(ascii_host) > 253 or not all(
            _LABEL.fullmatch(label) for label in labels):
        return (f"has the host {_cut(host)!r}, which is not a host name (dot-separated labels of "
                "1-63 letters, digits and hyphens, 253 characters at most)")
    return ""


def _cut(text: str, chars: int = 60) -> str:
    return text if len(text) <= chars else text[: chars - 1] + "…"


def _normal_base_url(url: str) -> str:
    """The API root without a trailing slash or a pasted ``/chat/completions``."""
    url = url.strip().rstrip("/")
    suffix = "/chat/completions"
    return url[: -len(suffix)] if url.endswith(suffix) else url


def _in_time(wait: float, deadline: float | None) -> bool:
    """Whether an attempt after `wait` seconds can start before `deadline`."""
    return deadline is None or time.monotonic() + wait < deadline - _LEAST_ATTEMPT


def _read_reply(client: Any, url: str, body: dict[str, Any], seconds: float,
                stop: threading.Event) -> Any:
    """POST `body` and read the whole reply, chunk by chunk, until `stop` is set."""
    import httpx

    with client.stream("POST", url, json=body, timeout=httpx.Timeout(seconds)) as response:
        raw = bytearray()
        for chunk in response.iter_raw():
            if stop.is_set():
                raise httpx.ReadTimeout("cut off", request=response.request)
            raw += chunk
    # the bytes as received: the new response decodes them as the headers say (gzip, ...)
    kept = {k: v for k, v in response.extensions.items() if k in ("reason_phrase",
                                                                    "http_version")}
    return httpx.Response(response.status_code, headers=response.headers, content=bytes(raw),
                          request=response.request, extensions=kept)


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
    probs = choice.get("logprobs") if isinstance(choice.get("logprobs"), dict) else {}
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
        logprobs=tuple(TokenLogprob.from_openai(p) for p in probs.get("content") or ()
                       if isinstance(p, dict)),
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
