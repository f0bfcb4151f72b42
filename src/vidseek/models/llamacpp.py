"""GGUF language models run by llama.cpp in this process (the prebuilt ``xllamacpp`` wheel),
as a `ChatModel`.

Spec strings (resolve them with ``vidseek.models.resolve("chat", spec)``):

    llm                                  the installed Qwen2.5-Coder-1.5B-Instruct
                                         (``vidseek models install llm``)
    llm-small, llm-tiny                  the installed 0.5B and SmolLM2-135M
    llamacpp:/path/to/model.gguf         any GGUF file with a chat template
    llamacpp:/path/model.gguf#ctx=8192   with options after ``#``
    llamacpp:llm#ctx=16384               an installed model with options

Options after ``#``: ``ctx`` (a fixed context in tokens; default: sized to the prompts, see
below), ``threads`` (default: the idle cores, see `auto_threads`), ``max_tokens`` (the default
reply length, 512), ``seed`` (0), ``timeout`` (seconds a reply may take; default none).

How it runs:

* **Loaded once per process.** The first `chat` (or `LlamaCppChat.load`) loads the file;
  every handle on the same file and threads in the process shares that one loaded model
  (`vidseek serve` and `vidseek mcp` keep it warm between questions). Calls take turns.
* **Context sized to the prompt.** The context starts at 4096 tokens (or the model's own
  limit, if smaller); a conversation that does not fit reloads the model with the next power
  of two that holds it, up to the model's trained context (32768 for Qwen2.5). Beyond that
  `chat` raises `ChatContextError`; `count_tokens` says beforehand how long a conversation is.
* **Repeatable.** Temperature 0 (greedy) unless asked otherwise, and a fixed seed.
* **The GGUF's own chat template** (jinja), with native tool calls where the template knows
  tools (Qwen2.5 does; a call Qwen2.5-Coder writes as a bare JSON object instead of in its
  template's tags is read as a tool call too). A template without tools makes
  `chat(tools=...)` raise a `ChatModelError` with status 400, as a server that refuses tools
  does, so the agent falls back to tools described in the prompt.
* **Structured output.** ``response_format={"type": "json_object"}`` or ``{"type":
  "json_schema", "json_schema": {"schema": {...}}}`` constrain the reply with a grammar, so it
  always parses; ``grammar=`` takes any GBNF grammar.
* **Token probabilities.** ``chat(..., logprobs=K)`` returns every generated token with its
  log-probability and the K likeliest alternatives (`ChatReply.logprobs`, `span_logprob`);
  `vidseek.models.scoring.yes_probability` turns them into a yes/no judgement.
* **Deadlines.** ``timeout`` stops generating at the deadline (checked at every token) and
  raises `ChatTimeoutError` carrying the reply so far. Reading the prompt (and loading the
  model, on the first call) cannot be cut off: a call whose deadline has passed before it
  starts, or by the time the model is loaded, raises `ChatTimeoutError` without starting.
* **An OpenAI-compatible server too.** llama.cpp serves the loaded model on a random
  127.0.0.1 port with a random key (`base_url`, `api_key`): an ``openai:`` client can share
  it; nothing else on the machine can use it without the key.

Measured on 2 busy cores: see docs/backends.md ("Local language models").
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import re
import secrets
import signal
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vidseek.models.install import ModelInstallError
from vidseek.models.messages import ChatMessage, ChatReply, TokenLogprob
from vidseek.models.protocols import (
    ChatContextError,
    ChatModelError,
    ChatTimeoutError,
)

__all__ = ["DEFAULT_CONTEXT", "DEFAULT_MAX_TOKENS", "INSTALLED", "GGUFFileError", "LlamaCppChat",
           "auto_threads"]

DEFAULT_CONTEXT = 4096
"""Context (tokens) a model is first loaded with; it grows when a conversation needs more."""
DEFAULT_MAX_TOKENS = 512
"""Reply length when `chat` is given no ``max_tokens``."""
INSTALLED = ("llm", "llm-small", "llm-tiny")
"""The GGUF models `vidseek models install` provides, usable by name."""

_XLLAMACPP = "xllamacpp==2026.10.11549"
_SPEC_FORMS = ("'llm', 'llm-small' or 'llm-tiny' (installed by `vidseek models install "
               "NAME`), 'llamacpp:/path/to/model.gguf', or either after 'llamacpp:' with "
               "options: 'llamacpp:llm#ctx=8192,threads=2'")
_OPTIONS = {"ctx": "context", "threads": "threads", "max_tokens": "max_tokens",
            "seed": "seed", "timeout": "timeout"}
_MAX_TOP_LOGPROBS = 20


class GGUFFileError(ChatModelError, ModelInstallError):
    """A GGUF file that is missing, damaged or not a GGUF file; for an installed model
    (``llm``...) the message names the install command. Both a `ChatModelError` and a
    `ModelInstallError`.

    Attributes:
        name: the installed model it belongs to (``llm``...), or ``""``.
        path: the file.
    """

    def __init__(self, message: str, *, name: str = "", path: Path | None = None) -> None:
        super().__init__(message, detail="gguf file")
        self.name = name
        self.path = path


# -- one loaded model per file and thread count, shared in the process ------------------------


@dataclass
class _Loaded:
    """A loaded model: llama.cpp's server object and what it told us about itself."""

    server: Any
    context: int
    trained_context: int
    base_url: str
    api_key: str
    supports_tools: bool
    load_seconds: float
    lock: threading.RLock = field(default_factory=threading.RLock)


_LOADED: dict[tuple[str, int], _Loaded] = {}
_LOADING = threading.Lock()


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@functools.lru_cache(maxsize=1)
def auto_threads() -> int:
    """Threads for llama.cpp: the cores this process may use that are idle now (at least 1),
    decided once per process.

    llama.cpp's threads meet at a barrier after every operation, so a thread that waits for
    a busy core stalls all of them: with the two cores of a shared machine already busy
    (load average 5.4), SmolLM2 generated 45 tokens/s on one thread and 5 on two; on idle
    cores two threads are faster (90 tokens/s).
    """
    cores = _cores()
    try:
        busy = os.getloadavg()[0]
    except (AttributeError, OSError):  # not on Unix
        return cores
    return max(1, min(cores, round(cores - busy)))


class LlamaCppChat:
    """A `ChatModel` running a GGUF file with llama.cpp (xllamacpp) in this process.

    Nothing loads until the first `chat` (or `load`). Handles on the same file and thread
    count share one loaded model in the process; `close` frees it for all of them.

    Args:
        path: the ``.gguf`` file.
        threads: CPU threads; None: `auto_threads` (the idle cores, at least 1).
        context: a fixed context in tokens; None: start at `DEFAULT_CONTEXT` and grow to fit.
        max_tokens: reply length when `chat` is given no ``max_tokens``.
        seed: the sampling seed (replies repeat at any temperature).
        timeout: seconds a reply may take (None: no limit); `chat` may override it.
        name: the name for `Observation.source`; default ``llamacpp:<file stem>``.
        installed: the `vidseek models install` name the file belongs to (its errors then
            say how to install it).

    Raises:
        GGUFFileError: the file is missing or is not a GGUF file (checked at once).
    """

    def __init__(self, path: str | Path, *, threads: int | None = None,
                 context: int | None = None, max_tokens: int = DEFAULT_MAX_TOKENS,
                 seed: int = 0, timeout: float | None = None, name: str | None = None,
                 installed: str | None = None) -> None:
        self.path = Path(path).expanduser().resolve()
        self.installed = installed
        _check_gguf(self.path, installed)
        if threads is not None and threads < 1:
            raise ValueError(f"threads must be at least 1, got {threads}")
        if context is not None and context < 256:
            raise ValueError(f"context must be at least 256 tokens, got {context}")
        if max_tokens < 1:
            raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")
        if timeout is not None and timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        self.threads = int(threads or auto_threads())
        self.fixed_context = context
        self.max_tokens = int(max_tokens)
        self.seed = int(seed)
        self.timeout = timeout
        self.name = name or f"llamacpp:{installed or self.path.stem}"

    @classmethod
    def from_spec(cls, spec: str, **options: Any) -> LlamaCppChat:
        """The model a spec names; it loads on the first `chat`.
        ``vidseek.models.resolve("chat", spec)`` calls this for ``llamacpp:`` specs and for
        ``llm``, ``llm-small`` and ``llm-tiny``.

        Args:
            spec: ``llm``, ``llm-small``, ``llm-tiny``, ``llamacpp:/path/model.gguf`` or
                ``llamacpp:NAME``, optionally with ``#ctx=...,threads=...`` options.
            **options: passed to `LlamaCppChat`; they override those in the spec.

        Raises:
            ChatModelError: an unknown form or option, or a missing or damaged file (the
                message names the file and, for installed models, the install command).
        """
        text = spec.strip()
        kind, sep, rest = text.partition(":")
        if kind.strip().lower() == "llamacpp" and sep:
            text = rest.strip()
        elif text.lower() not in INSTALLED:
            raise ChatModelError(f"{spec!r} is not a llama.cpp model spec; write {_SPEC_FORMS}")
        source, options_text = _split_options(text)
        if not source:
            raise ChatModelError(f"{spec!r} names no model; write {_SPEC_FORMS}")
        merged = {**_parse_options(spec, options_text), **options}
        if source.lower() in INSTALLED:
            return cls.installed_model(source.lower(), **merged)
        return cls(source, **merged)

    @classmethod
    def installed_model(cls, name: str, **options: Any) -> LlamaCppChat:
        """An installed model (``llm``, ``llm-small``, ``llm-tiny``), its file checked by
        size and checksum.

        Raises:
            GGUFFileError: the file is missing or damaged (size or sha256); the message names
                it and the install command.
        """
        from vidseek.models.install import model_file

        try:
            path = model_file(name)
        except ModelInstallError as exc:
            raise GGUFFileError(str(exc), name=name, path=exc.path) from exc
        return cls(path, installed=name, **options)

    # -- loading ---------------------------------------------------------------------------

    @property
    def _key(self) -> tuple[str, int]:
        return (str(self.path), self.threads)

    @property
    def loaded(self) -> bool:
        """Whether the model is loaded in this process (by this handle or another)."""
        return self._key in _LOADED

    def load(self) -> LlamaCppChat:
        """Load the model now rather than on the first `chat` (a no-op once loaded).

        Returns:
            This handle, so that ``LlamaCppChat(path).load()`` reads well.

        Raises:
            ChatModelError: xllamacpp is not installed, or llama.cpp cannot load the file.
        """
        self._model()
        return self

    @property
    def load_seconds(self) -> float | None:
        """Seconds the (last) load took; None before loading."""
        loaded = _LOADED.get(self._key)
        return loaded.load_seconds if loaded else None

    @property
    def context(self) -> int:
        """The context (tokens) the model is loaded with now (loads it)."""
        return self._model().context

    @property
    def max_context(self) -> int:
        """The most tokens the model can read, prompt and reply together (loads it)."""
        loaded = self._model()
        return loaded.context if self.fixed_context else loaded.trained_context

    @property
    def supports_tools(self) -> bool:
        """Whether the GGUF's chat template takes tool definitions (loads it)."""
        return self._model().supports_tools

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible API of the loaded model, ``http://127.0.0.1:PORT/v1``
        (loads it); requests need `api_key` as a bearer token."""
        return self._model().base_url + "/v1"

    @property
    def api_key(self) -> str:
        """The key the loopback server takes (random, made at load)."""
        return self._model().api_key

    def _model(self) -> _Loaded:
        loaded = _LOADED.get(self._key)
        if loaded is not None:
            return loaded
        with _LOADING:
            loaded = _LOADED.get(self._key)
            if loaded is None:
                loaded = self._start(self.fixed_context or DEFAULT_CONTEXT, None)
                _LOADED[self._key] = loaded
            return loaded

    def _start(self, context: int, trained: int | None) -> _Loaded:
        """Load the file with llama.cpp at `context` tokens."""
        _check_gguf(self.path, self.installed)  # it may have changed since the handle was made
        xlc = _import_xllamacpp()
        params = xlc.CommonParams()
        params.model.path = str(self.path)
        params.n_ctx = int(context if trained is None else min(context, trained))
        params.n_parallel = 1  # one conversation at a time: the whole context is its own
        params.cpuparams.n_threads = self.threads
        params.cpuparams_batch.n_threads = self.threads
        # Busy-waiting threads cost 10x on shared cores (measured: 90 vs 9 tokens/s).
        params.cpuparams.poll = 0
        params.cpuparams_batch.poll = 0
        params.sampling.seed = self.seed
        params.sampling.temp = 0.0
        params.verbosity = -1  # llama.cpp's log stays off stderr
        params.warmup = False  # 0.5 s of load time saved; the first reply pays a little
        params.ui = False
        params.api_keys = [secrets.token_urlsafe(24)]
        params.use_jinja = True
        began = time.perf_counter()
        handlers = _signal_handlers()
        try:
            server = xlc.Server(params)
        except RuntimeError as exc:
            raise ChatModelError(
                f"llama.cpp could not load {self.path}: {exc} (is it a complete GGUF "
                f"file of a model this llama.cpp knows?{self._reinstall()})",
                detail=str(exc)) from exc
        finally:
            _restore(handlers)  # llama.cpp takes SIGINT and SIGTERM; Ctrl-C stays Python's
        seconds = time.perf_counter() - began
        base = server.listening_address.rstrip("/")
        key = params.api_keys[0]
        meta, caps = _describe(base, key)
        trained_context = int(meta.get("n_ctx_train") or trained or params.n_ctx)
        loaded = _Loaded(server, int(meta.get("n_ctx") or params.n_ctx), trained_context, base,
                         key, bool(caps.get("supports_tools")), seconds)
        if trained is None and loaded.context > trained_context:  # a small model: reload
            return self._start(trained_context, trained_context)
        return loaded

    def _reinstall(self) -> str:
        if self.installed:
            from vidseek.models.install import install_hint

            return f" Reinstall it: `{install_hint(self.installed)}`"
        return ""

    def _limit(self, loaded: _Loaded) -> int:
        return loaded.context if self.fixed_context else loaded.trained_context

    def _grow(self, loaded: _Loaded, needed: int, prompt_tokens: int) -> _Loaded:
        """The model reloaded with a context of at least `needed` tokens (at most its
        limit), or `ChatContextError` when even the limit cannot hold the prompt."""
        limit = self._limit(loaded)
        if prompt_tokens >= limit or loaded.context >= limit:
            raise ChatContextError(
                f"{self.name}: the conversation has {prompt_tokens} tokens; this model reads "
                f"at most {limit}, prompt and reply together "
                f"({'the ctx option' if self.fixed_context else 'its trained context'}): "
                "send less", prompt_tokens=prompt_tokens, context=limit)
        size = min(max(1 << (needed - 1).bit_length(), loaded.context * 2), limit)
        with _LOADING:
            current = _LOADED.get(self._key)
            if current is loaded:  # nobody has grown it meanwhile
                with loaded.lock:
                    loaded.server = None  # frees the model before the bigger one loads
                del _LOADED[self._key]
                current = self._start(size, loaded.trained_context)
                _LOADED[self._key] = current
        return current if current is not None else self._model()

    def close(self) -> None:
        """Free the loaded model (for every handle in the process); a later `chat` loads
        it again."""
        with _LOADING:
            loaded = _LOADED.pop(self._key, None)
        if loaded is not None:
            with loaded.lock:
                loaded.server = None

    # -- chat ------------------------------------------------------------------------------

    def chat(self, messages: Sequence[ChatMessage | Mapping[str, Any]], *,
             max_tokens: int | None = None, temperature: float = 0.0,
             tools: Sequence[Mapping[str, Any]] | None = None,
             response_format: Mapping[str, Any] | None = None,
             logprobs: int | None = None, grammar: str | None = None,
             timeout: float | None = None) -> ChatReply:
        """One reply to `messages` (see `ChatModel.chat`); the first call loads the model.

        Args:
            messages: the conversation, `ChatMessage` records or API-form dicts (text only:
                this backend has no vision).
            max_tokens: the most tokens to generate (default `max_tokens` of the handle).
            temperature: 0 (the default) decodes greedily; the seed makes any temperature
                repeatable.
            tools: OpenAI tool definitions, passed to the chat template (see
                `supports_tools`).
            response_format: ``{"type": "json_object"}`` or ``{"type": "json_schema",
                "json_schema": {"schema": {...}}}``: the reply is constrained to it.
            logprobs: None: no token probabilities; K >= 0: every generated token's
                log-probability and its K (at most 20) likeliest alternatives, in
                `ChatReply.logprobs`.
            grammar: a GBNF grammar the reply must follow (instead of `response_format`).
            timeout: seconds the reply may take (default: the handle's `timeout`); 0 or
                less starts nothing. Generation stops at the deadline; reading the prompt
                is not interrupted.

        Returns:
            The reply; ``raw`` holds llama.cpp's ``timings`` (prompt and generation speed)
            and the context used.

        Raises:
            ChatModelError: the model cannot be loaded, the template takes no tools (status
                400), or llama.cpp rejected the request; `ChatContextError` when the
                conversation is longer than the model reads; `ChatTimeoutError` (with the
                reply so far) when the deadline passed.
        """
        if not messages:
            raise ValueError("messages must not be empty")
        if max_tokens is not None and max_tokens < 1:
            raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")
        if temperature < 0:
            raise ValueError(f"temperature must not be negative, got {temperature}")
        if logprobs is not None and not 0 <= logprobs <= _MAX_TOP_LOGPROBS:
            raise ValueError(f"logprobs must be 0..{_MAX_TOP_LOGPROBS}, got {logprobs}")
        limit = int(max_tokens or self.max_tokens)
        body: dict[str, Any] = {
            "messages": [_text_only(m.to_dict() if isinstance(m, ChatMessage) else dict(m))
                         for m in messages],
            "max_tokens": limit,
            "temperature": float(temperature),
            "seed": self.seed,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if response_format is not None:
            body["response_format"] = dict(response_format)
        if grammar is not None:
            body["grammar"] = grammar
        if logprobs is not None:
            body["logprobs"] = True
            body["top_logprobs"] = max(1, int(logprobs))  # llama.cpp gives none for 0
        wait = self.timeout if timeout is None else timeout
        if wait is not None and wait <= 0:
            raise ChatTimeoutError(f"{self.name}: not started: no time left (timeout {wait:g} "
                                   "s); a local call cannot be stopped while it reads its "
                                   "prompt, so none starts without time", detail="no time")
        deadline = None if wait is None else time.monotonic() + wait
        loaded = self._model()
        if deadline is not None and time.monotonic() >= deadline:
            raise ChatTimeoutError(f"{self.name}: not started: loading the model took the "
                                   f"{wait:g} s the call had", detail="no time")
        if tools:
            if not loaded.supports_tools:
                raise ChatModelError(
                    f"{self.name}: this model's chat template takes no tools; describe them "
                    "in the prompt and read tool calls from the reply's JSON instead",
                    status=400, detail="tools not supported by the chat template")
            body["tools"] = [dict(t) for t in tools]
        began = time.perf_counter()
        while True:
            with loaded.lock:
                if loaded.server is None:  # closed or grown meanwhile
                    loaded = self._model()
                    continue
                outcome = self._run(loaded, body, wait, deadline, began)
            if outcome.grow is None:
                reply = outcome.reply
                if logprobs == 0:  # the chosen tokens only
                    reply = dataclasses.replace(reply, logprobs=tuple(
                        TokenLogprob(t.token, t.logprob) for t in reply.logprobs))
                if tools and not reply.tool_calls:
                    reply = _recover_tool_calls(reply, tools)
                return reply
            loaded = self._grow(loaded, *outcome.grow)

    def _run(self, loaded: _Loaded, body: dict[str, Any], wait: float | None,
             deadline: float | None, began: float) -> _Outcome:
        stream = _Stream(deadline)
        loaded.server.handle_chat_completions(body, stream.take)
        if stream.error is not None:
            error = stream.error
            if error.get("type") == "exceed_context_size_error":
                prompt = int(error.get("n_prompt_tokens") or 0)
                return _Outcome(None, (prompt + body["max_tokens"], prompt))
            raise ChatModelError(f"{self.name}: llama.cpp refused the request: "
                                 f"{error.get('message') or error}",
                                 status=_int(error.get("code")), detail=str(error))
        reply = stream.reply(self.name, time.perf_counter() - began, loaded.context)
        if stream.timed_out:
            raise ChatTimeoutError(
                f"{self.name}: no complete reply within {wait:g} s (stopped after "
                f"{len(stream.content)} pieces of text; raise the timeout or ask for less)",
                detail="timeout", partial=reply)
        used = (reply.prompt_tokens or 0) + (reply.completion_tokens or 0)
        cut_by_context = (reply.finish_reason == "length" and used >= loaded.context - 1
                          and (reply.completion_tokens or 0) < body["max_tokens"])
        if cut_by_context and loaded.context < self._limit(loaded):
            prompt = reply.prompt_tokens or 0
            return _Outcome(None, (prompt + body["max_tokens"], prompt))
        return _Outcome(reply, None)

    def count_tokens(self, messages: Sequence[ChatMessage | Mapping[str, Any]] | str) -> int:
        """How many tokens a conversation (rendered by the chat template, with the
        assistant's turn opened) or a plain text takes (loads the model).

        Use it to fit evidence into `max_context` before sending it.
        """
        import httpx

        loaded = self._model()
        headers = {"Authorization": f"Bearer {loaded.api_key}"}
        with httpx.Client(base_url=loaded.base_url, headers=headers, timeout=60) as client:
            if isinstance(messages, str):
                prompt = messages
            else:
                listed = [_text_only(m.to_dict() if isinstance(m, ChatMessage) else dict(m))
                          for m in messages]
                rendered = client.post("/apply-template", json={"messages": listed})
                rendered.raise_for_status()
                prompt = rendered.json()["prompt"]
            tokens = client.post("/tokenize", json={"content": prompt, "add_special": False,
                                                    "parse_special": True})
            tokens.raise_for_status()
            return len(tokens.json()["tokens"])

    def __getstate__(self) -> dict[str, Any]:
        return dict(self.__dict__)  # a handle holds no loaded state: each process loads its own

    def __enter__(self) -> LlamaCppChat:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"LlamaCppChat({str(self.path)!r}, threads={self.threads})"


# -- streaming replies -----------------------------------------------------------------------


@dataclass
class _Outcome:
    reply: ChatReply | None
    grow: tuple[int, int] | None
    """``(tokens needed, prompt tokens)`` when the context must grow and the call repeat."""


class _Stream:
    """Collects a streamed chat completion into one reply; stops at the deadline."""

    def __init__(self, deadline: float | None) -> None:
        self.deadline = deadline
        self.content: list[str] = []
        self.reasoning: list[str] = []
        self.calls: dict[int, dict[str, Any]] = {}
        self.tokens: list[TokenLogprob] = []
        self.finish: str | None = None
        self.usage: dict[str, Any] = {}
        self.timings: dict[str, Any] = {}
        self.model = ""
        self.error: dict[str, Any] | None = None
        self.timed_out = False

    def take(self, chunk: Any) -> bool:
        """One chunk from llama.cpp; True stops the stream."""
        if not isinstance(chunk, dict):
            return False
        if "error" in chunk:
            error = chunk["error"]
            self.error = error if isinstance(error, dict) else {"message": str(error)}
            return True
        if chunk.get("code") and chunk.get("type"):  # the binding's own error form
            self.error = chunk
            return True
        self.model = self.model or str(chunk.get("model") or "")
        if isinstance(chunk.get("usage"), dict):
            self.usage = chunk["usage"]
        if isinstance(chunk.get("timings"), dict):
            self.timings = chunk["timings"]
        for choice in chunk.get("choices") or ():
            delta = choice.get("delta") or {}
            if delta.get("content"):
                self.content.append(delta["content"])
            if delta.get("reasoning_content"):
                self.reasoning.append(delta["reasoning_content"])
            for call in delta.get("tool_calls") or ():
                self._call(call)
            probs = (choice.get("logprobs") or {}).get("content") or ()
            self.tokens.extend(TokenLogprob.from_openai(p) for p in probs)
            if choice.get("finish_reason"):
                self.finish = choice["finish_reason"]
        if self.deadline is not None and time.monotonic() > self.deadline and not self.finish:
            self.timed_out = True
            return True
        return False

    def _call(self, delta: Mapping[str, Any]) -> None:
        index = int(delta.get("index", len(self.calls)))
        call = self.calls.setdefault(index, {"id": "", "type": "function",
                                             "function": {"name": "", "arguments": ""}})
        if delta.get("id"):
            call["id"] = delta["id"]
        function = delta.get("function") or {}
        if function.get("name"):
            call["function"]["name"] += function["name"]
        if function.get("arguments"):
            call["function"]["arguments"] += function["arguments"]

    def reply(self, name: str, seconds: float, context: int) -> ChatReply:
        calls = [self.calls[i] for i in sorted(self.calls)]
        for n, call in enumerate(calls):
            call["id"] = call["id"] or f"call_{n}"
        finish = "timeout" if self.timed_out else self.finish
        raw = {"timings": self.timings, "usage": self.usage, "context": context}
        if self.reasoning:
            raw["reasoning"] = "".join(self.reasoning)
        return ChatReply(
            text="".join(self.content), tool_calls=calls, finish_reason=finish,
            prompt_tokens=_int(self.usage.get("prompt_tokens")),
            completion_tokens=_int(self.usage.get("completion_tokens")) or
            (len(self.tokens) or None),
            seconds=seconds, model=name, raw=raw, logprobs=tuple(self.tokens))


# -- helpers ---------------------------------------------------------------------------------


_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


def _recover_tool_calls(reply: ChatReply, tools: Sequence[Mapping[str, Any]]) -> ChatReply:
    """Tool calls the model wrote as plain JSON instead of in its template's form.

    Qwen2.5-Coder (``llm``, ``llm-small``) answers a request for a tool with a fenced
    ```` ```json {"name": "search", "arguments": {...}} ``` ```` block rather than the
    ``<tool_call>`` tags its template asks for, which llama.cpp then does not parse. A reply
    that is nothing but such an object (or a list of them) naming offered tools becomes
    those tool calls; any other reply is left as it is.
    """
    text = reply.text.strip()
    fenced = _FENCE.match(text)
    try:
        parsed = json.loads(fenced.group(1) if fenced else text)
    except ValueError:
        return reply
    names = {str((t.get("function") or {}).get("name")) for t in tools}
    calls = []
    for item in parsed if isinstance(parsed, list) else [parsed]:
        if not isinstance(item, dict):
            return reply
        item = item.get("function") if isinstance(item.get("function"), dict) else item
        name = item.get("name") or item.get("tool")
        arguments = item.get("arguments", item.get("parameters", {}))
        if name not in names or not isinstance(arguments, dict | str):
            return reply
        if isinstance(arguments, dict):
            arguments = json.dumps(arguments)
        calls.append({"id": f"call_{len(calls)}", "type": "function",
                      "function": {"name": name, "arguments": arguments}})
    if not calls:
        return reply
    return dataclasses.replace(reply, text="", tool_calls=calls, finish_reason="tool_calls")


def _import_xllamacpp() -> Any:
    try:
        import xllamacpp
    except ImportError as exc:
        raise ChatModelError(f"llama.cpp models need the xllamacpp package: pip install "
                             f"'{_XLLAMACPP}' (a prebuilt wheel, no compiler)") from exc
    return xllamacpp


def _check_gguf(path: Path, installed: str | None) -> None:
    from vidseek.models.install import install_hint

    hint = f"; run `{install_hint(installed)}`" if installed else ""
    if not path.is_file():
        what = "is a folder, not a .gguf file" if path.is_dir() else "does not exist"
        raise GGUFFileError(f"{path} {what}{hint or '; pass the path of a .gguf file'}",
                            name=installed or "", path=path)
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic != b"GGUF":
        raise GGUFFileError(
            f"{path} is not a GGUF file (it starts with {magic!r}, not b'GGUF'); "
            f"{'it is damaged' + hint if installed else 'llama.cpp reads .gguf files'}",
            name=installed or "", path=path)


def _split_options(text: str) -> tuple[str, str]:
    source, sep, rest = text.rpartition("#")
    if sep and "=" in rest:
        return source.strip(), rest
    return text.strip(), ""


def _parse_options(spec: str, text: str) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for item in filter(None, (x.strip() for x in text.split(","))):
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or key not in _OPTIONS:
            raise ChatModelError(f"{spec!r}: unknown option {item!r}; the options are "
                                 f"{', '.join(k + '=...' for k in _OPTIONS)}")
        try:
            number = float(value) if key == "timeout" else int(value)
        except ValueError:
            raise ChatModelError(f"{spec!r}: {key} must be a number, got {value!r}") from None
        options[_OPTIONS[key]] = number
    return options


def _text_only(message: dict[str, Any]) -> dict[str, Any]:
    """The message with its text parts joined; a picture is refused (no vision here)."""
    content = message.get("content")
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, Mapping) and part.get("type") not in ("text", None):
                raise ChatModelError(
                    "llama.cpp text models cannot see pictures: send text only (the text agent "
                    "reads transcripts and screen text), or use a vision-language model "
                    "('openai:URL#MODEL', 'hf:/path')", status=400, detail="image part")
            texts.append(str(part.get("text", "")) if isinstance(part, Mapping) else str(part))
        message = {**message, "content": "\n".join(texts)}
    return message


def _describe(base_url: str, key: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(model meta, chat template capabilities)`` from the loopback server."""
    import httpx

    headers = {"Authorization": f"Bearer {key}"}
    try:
        with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
            models = client.get("/v1/models").json()
            props = client.get("/props").json()
    except (httpx.HTTPError, ValueError):
        return {}, {}
    data = models.get("data") or [{}]
    meta = data[0].get("meta") or {} if isinstance(data[0], dict) else {}
    caps = props.get("chat_template_caps") or {}
    return meta, caps if isinstance(caps, dict) else {}


def _signal_handlers() -> dict[int, Any] | None:
    if threading.current_thread() is not threading.main_thread():
        return None
    return {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}


def _restore(handlers: dict[int, Any] | None) -> None:
    for number, handler in (handlers or {}).items():
        if handler is not None:
            signal.signal(number, handler)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None

