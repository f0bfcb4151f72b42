"""A real HTTP server that speaks the OpenAI chat-completions protocol from a script.

Tests talk to it over loopback exactly as vidseek talks to vLLM, Ollama or a hosted API::

    from chat_server import Reply, ScriptedChatServer

    with ScriptedChatServer(["A red car.", Reply.failure(500, "boom"), "A cat."]) as server:
        model = OpenAIChat(server.url, server.model)      # or resolve("chat", server.spec)
        ...
        server.requests[0].body["messages"], server.requests[0].image_urls

Each POST to ``/v1/chat/completions`` takes the next item of the script (a plain string is the
assistant's text; a `Reply` sets tool calls, usage, an error status, a delay, a malformed
body, or a server that hangs (`Reply.hanging`) or trickles its reply a byte at a time
(`Reply.trickling`); a callable gets the request's JSON and returns either). ``replies`` may
also be one callable that answers every request. Every request is recorded with its headers
and body, including the ones that are rejected. ``GET /v1/models`` lists the model.

(``tests/`` is on ``sys.path`` because ``tests/conftest.py`` is a root conftest, so test
modules anywhere under ``tests/`` import this module as ``chat_server``.)
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["RecordedRequest", "Reply", "ScriptedChatServer", "content_parts", "image_urls",
           "texts"]

IMAGE_TOKENS = 85
"""Prompt tokens the automatic usage counts per image (OpenAI's low-detail cost)."""
HANG_SECONDS = 3600.0
"""How long `Reply.hanging` waits (closing the server ends the wait)."""
TRICKLE_PADDING = 4096
"""Spaces after a trickled body's JSON, so that it lasts thousands of `Reply.trickle` steps."""


@dataclass
class Reply:
    """One scripted answer.

    Attributes:
        text: the assistant's content (None sends ``null``, as with tool calls).
        tool_calls: OpenAI tool calls (``id``, ``type``, ``function``: ``name``,
            ``arguments`` as a JSON string).
        finish_reason: default ``tool_calls`` when there are tool calls, else ``stop``.
        usage: ``"auto"`` counts words of text parts plus `IMAGE_TOKENS` per image as the
            prompt and words of `text` as the completion; a dict is sent as is; None sends
            no usage at all.
        model: the model named in the reply (default: the one requested).
        status: HTTP status; 400 and up sends ``{"error": {"message": message}}``.
        message: the error text for an error status.
        headers: extra response headers (e.g. ``{"Retry-After": "1"}``).
        delay: seconds to wait before answering (to test timeouts).
        body: raw bytes sent instead of any JSON (to test malformed replies).
        trickle: seconds between the bytes of the body: the status and headers go at once,
            then one byte at a time (to test a server whose every read arrives in time but
            whose reply never ends); 0 sends the body at once.
    """

    text: str | None = ""
    tool_calls: list[dict[str, Any]] | None = None
    finish_reason: str | None = None
    usage: dict[str, Any] | str | None = "auto"
    model: str | None = None
    status: int = 200
    message: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    body: bytes | None = None
    trickle: float = 0.0

    @classmethod
    def failure(cls, status: int, message: str, *, retry_after: float | None = None) -> Reply:
        """An error status with an OpenAI-style error body."""
        headers = {} if retry_after is None else {"Retry-After": f"{retry_after:g}"}
        return cls(status=status, message=message, headers=headers)

    @classmethod
    def malformed(cls, body: bytes = b'{"choices": [{"message": ') -> Reply:
        """A 200 reply whose body is not valid JSON."""
        return cls(body=body)

    @classmethod
    def hanging(cls) -> Reply:
        """A server that takes the request and never answers (until the server closes)."""
        return cls(delay=HANG_SECONDS)

    @classmethod
    def trickling(cls, every: float = 0.5, text: str = "late") -> Reply:
        """A reply sent one byte each `every` seconds: the headers come at once, the body
        (padded to thousands of bytes) never finishes within a test."""
        return cls(text=text, trickle=every)

    @classmethod
    def calling(cls, name: str, arguments: dict[str, Any], call_id: str = "call_1") -> Reply:
        """A reply that calls one tool."""
        return cls(text=None, tool_calls=[{
            "id": call_id, "type": "function",
            "function": {"name": name, "arguments": json.dumps(arguments)}}])


Script = str | Reply | Callable[[dict[str, Any]], "str | Reply"]


@dataclass
class RecordedRequest:
    """A request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    """Header names in lower case."""
    raw: bytes
    body: Any
    """The parsed JSON body, or None when it was not JSON."""
    received: float
    """``time.perf_counter()`` when it arrived."""

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list((self.body or {}).get("messages") or [])

    @property
    def parts(self) -> list[dict[str, Any]]:
        """Every content part of every message, in order (a string content is one text part)."""
        return content_parts(self.body)

    @property
    def texts(self) -> list[str]:
        """The text of every text part, in order."""
        return texts(self.body)

    @property
    def image_urls(self) -> list[str]:
        """The URL of every image part, in order."""
        return image_urls(self.body)


def content_parts(body: Any) -> list[dict[str, Any]]:
    """Every content part of every message of a request body, in order (a string content is
    one text part). Useful in reply callables, which get the body."""
    parts: list[dict[str, Any]] = []
    for message in (body or {}).get("messages") or []:
        content = message.get("content")
        if isinstance(content, str):
            parts.append({"type": "text", "text": content})
        elif isinstance(content, list):
            parts.extend(content)
    return parts


def texts(body: Any) -> list[str]:
    """The text of every text part of a request body, in order."""
    return [p["text"] for p in content_parts(body) if p.get("type") == "text"]


def image_urls(body: Any) -> list[str]:
    """The URL of every image part of a request body, in order."""
    return [p["image_url"]["url"] for p in content_parts(body) if p.get("type") == "image_url"]


class ScriptedChatServer:
    """An OpenAI-compatible chat server on 127.0.0.1 (a free port) answering from a script.

    Args:
        replies: the answers, one per chat request, in order; or one callable taking the
            request's JSON and returning a string or a `Reply`, for every request. When a
            list runs out, requests get HTTP 500 "script exhausted".
        model: the model `spec` names and ``/v1/models`` lists.

    Attributes:
        url: the base URL, ``http://127.0.0.1:PORT/v1``.
        spec: ``openai:URL#MODEL`` for ``resolve("chat", spec)``.
        requests: every request received, in order of arrival.
        errors: exceptions raised by reply callables (answered with HTTP 500).
    """

    def __init__(self, replies: Iterable[Script] | Callable[[dict[str, Any]], Any] = (), *,
                 model: str = "scripted-vlm") -> None:
        self.model = model
        self.requests: list[RecordedRequest] = []
        self.errors: list[Exception] = []
        self._every: Callable[[dict[str, Any]], Any] | None = None
        self._script: deque[Script] = deque()
        if callable(replies):
            self._every = replies
        else:
            self._script.extend(replies)
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._port: int | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> ScriptedChatServer:
        handler = type("Handler", (_Handler,), {"server_state": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name="scripted-chat-server", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._closing.set()  # ends delayed replies early
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> ScriptedChatServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def port(self) -> int:
        """The port it listens on (still known after `close`)."""
        if self._port is None:
            raise RuntimeError("the server was never started: use it as a context manager")
        return self._port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def spec(self) -> str:
        return f"openai:{self.url}#{self.model}"

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        """The requests to the chat-completions endpoint."""
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def add(self, *replies: Script) -> None:
        """Append answers to the script."""
        with self._lock:
            self._script.extend(replies)

    # -- answering ---------------------------------------------------------------------------

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _next(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            item: Any = self._every if self._every is not None else (
                self._script.popleft() if self._script else None)
        if item is None:
            return Reply.failure(500, "ScriptedChatServer: script exhausted, no reply left")
        if callable(item) and not isinstance(item, Reply):
            try:
                item = item(body)
            except Exception as exc:  # a bug in the test's script: say so in the reply
                self.errors.append(exc)
                return Reply.failure(500, f"ScriptedChatServer: the reply callable raised "
                                          f"{type(exc).__name__}: {exc}")
        return Reply(text=item) if isinstance(item, str) else item

    def _wait(self, seconds: float) -> None:
        self._closing.wait(seconds)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers do
    timeout = 10  # idle keep-alive connections end after this many seconds
    # headers and body leave in one write, without Nagle: otherwise the client's delayed ACK
    # adds 40 ms to every keep-alive request
    wbufsize = 1 << 16
    disable_nagle_algorithm = True
    server_state: ScriptedChatServer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: tests read server.requests instead

    def do_GET(self) -> None:
        self._receive()
        if self.path.rstrip("/").endswith("/models"):
            model = self.server_state.model
            self._send_json(200, {"object": "list", "data": [
                {"id": model, "object": "model", "owned_by": "scripted"}]})
        else:
            self._send_error(404, f"no route GET {self.path}")

    def do_POST(self) -> None:
        raw, body = self._receive()
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send_error(404, f"no route POST {self.path}")
            return
        problem = _invalid(body)
        if problem:
            self._send_error(400, problem)
            return
        reply = self.server_state._next(body)
        if reply.delay:
            self.server_state._wait(reply.delay)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._answer(reply, body)  # fails when the client gave up (a timeout test)

    def _receive(self) -> tuple[bytes, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.server_state._record(RecordedRequest(self.command, self.path, headers, raw, body,
                                                  time.perf_counter()))
        return raw, body

    def _answer(self, reply: Reply, request: dict[str, Any]) -> None:
        if reply.trickle:
            data = json.dumps(_completion(reply, request)).encode() + b" " * TRICKLE_PADDING
            self._trickle(reply.status, data, reply.trickle, reply.headers)
        elif reply.body is not None:
            self._send(reply.status, reply.body, "application/json", reply.headers)
        elif reply.status >= 400:
            self._send_error(reply.status, reply.message or "scripted error", reply.headers)
        else:
            self._send_json(reply.status, _completion(reply, request), reply.headers)

    def _send_error(self, status: int, message: str,
                    headers: dict[str, str] | None = None) -> None:
        error = {"message": message, "type": "invalid_request_error", "code": status}
        self._send_json(status, {"error": error}, headers)

    def _send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(body).encode(), "application/json", headers)

    def _trickle(self, status: int, data: bytes, every: float,
                 headers: dict[str, str] | None = None) -> None:
        self._send(status, b"", "application/json", {**(headers or {}),
                                                     "Content-Length": str(len(data))})
        for i in range(len(data)):
            if self.server_state._closing.is_set():
                return
            self.wfile.write(data[i:i + 1])
            self.wfile.flush()
            self.server_state._wait(every)

    def _send(self, status: int, data: bytes, content_type: str,
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if "Content-Length" not in (headers or {}):
            self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()


def _invalid(body: Any) -> str:
    """Why a request body is not a chat-completions request ('' when it is)."""
    if not isinstance(body, dict):
        return "the request body must be a JSON object"
    if not body.get("model"):
        return "'model' is required"
    if not isinstance(body.get("messages"), list) or not body["messages"]:
        return "'messages' must be a non-empty list"
    if body.get("stream"):
        return "ScriptedChatServer does not stream"
    return ""


def _completion(reply: Reply, request: dict[str, Any]) -> dict[str, Any]:
    """A chat-completions response body for a scripted reply."""
    message: dict[str, Any] = {"role": "assistant", "content": reply.text}
    if reply.tool_calls:
        message["tool_calls"] = reply.tool_calls
    finish = reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")
    body: dict[str, Any] = {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": reply.model or request.get("model"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
    }
    if reply.usage == "auto":
        body["usage"] = _auto_usage(reply, request)
    elif reply.usage is not None:
        body["usage"] = reply.usage
    return body


def _auto_usage(reply: Reply, request: dict[str, Any]) -> dict[str, int]:
    prompt = sum(len(text.split()) for text in texts(request))
    prompt += IMAGE_TOKENS * len(image_urls(request))
    completion = len((reply.text or "").split())
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion}
