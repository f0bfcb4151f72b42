"""Hugging Face transformers vision-language models (image-text-to-text: Qwen2-VL, Qwen2.5-VL,
SmolVLM / Idefics3, LLaVA...) as a `ChatModel`, run in this process with torch.

Spec strings (resolve them with ``vidseek.models.resolve("chat", spec)``):

    hf:/path/to/SmolVLM-256M-Instruct              a ``save_pretrained`` folder
    hf:/path/to/model#device=cuda,dtype=bfloat16   with loading options after ``#``
    hf:org/name                                    a hub name, from the local Hugging Face cache;
                                                   downloaded only with VIDSEEK_ALLOW_DOWNLOADS=1

Options after ``#``: ``device`` (``cpu``, ``cuda``, ``cuda:1``, ``mps``; default: cuda when
available, else cpu), ``dtype`` (``float32``, ``bfloat16``, ``float16``; default float32 on
cpu, bfloat16 on cuda), ``threads`` (torch CPU threads) and ``max_new_tokens`` (the default
reply length, 512).

Messages come in the OpenAI form (`ChatMessage` or dicts) and are turned into the form the
processor's chat template takes: every content becomes a list of parts, ``image_url`` parts
(``data:`` URLs, ``file://`` URLs or local paths) become ``{"type": "image"}`` placeholders
whose pictures go to the processor in order. When the chat template knows tools, tool
definitions, assistant tool calls and ``tool`` messages are passed through, and
``<tool_call>{...}</tool_call>`` blocks in the output become `ChatReply.tool_calls`. Otherwise
(and for ``response_format``) the system text asks for a JSON reply instead, tool calls are
written back as ``{"tool": ..., "arguments": {...}}`` and tool results become user messages;
the agent reads tool calls written that way from the text.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from vidseek.models.hub import local_files_only
from vidseek.models.messages import ChatMessage, ChatReply
from vidseek.models.protocols import ChatModelError

__all__ = ["TransformersChat"]

DEFAULT_MAX_NEW_TOKENS = 512
"""Reply length when `chat` is given no ``max_tokens``."""

_INSTALL_HINT = ("pip install torch (the CPU build: --index-url "
                 "https://download.pytorch.org/whl/cpu), then pip install 'vidseek[clip]'")
_SPEC_FORM = ("'hf:/path/to/model-dir' (a Hugging Face image-text-to-text folder), "
              "optionally with '#device=cpu,dtype=float32', or 'hf:org/name' (from the local "
              "Hugging Face cache)")
_OPTIONS = ("device", "dtype", "threads", "max_new_tokens")
_HUB_NAME = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_TOOL_CALL = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.DOTALL)
_DTYPES = ("float32", "float16", "bfloat16")


def _split_options(spec: str) -> tuple[str, str]:
    """``(source, options)``: options follow the last ``#`` when they look like ``key=value``,
    so a folder whose name holds ``#`` still works."""
    source, sep, rest = spec.rpartition("#")
    if sep and "=" in rest:
        return source.strip(), rest
    return spec, ""


class TransformersChat:
    """A `ChatModel` running a Hugging Face image-text-to-text model with transformers.

    The model loads on the first `chat` (or `load`); ``load_seconds`` then says how long that
    took, and `ChatReply.seconds` counts only the call itself. Calls are serialised by a lock,
    so several threads may share one instance (they wait for each other).

    Args:
        source: a local model folder, or a hub name found in the Hugging Face cache.
        device: ``cpu``, ``cuda``, ``cuda:N`` or ``mps``; None picks cuda when available.
        dtype: ``float32``, ``bfloat16`` or ``float16``; None: float32 on cpu, else bfloat16.
        threads: torch CPU threads (process-wide); None leaves torch's setting.
        max_new_tokens: reply length when `chat` is given no ``max_tokens``.
        name: the name for `Observation.source`; default ``hf:<folder or hub name>``.

    Raises:
        ChatModelError: the folder does not exist (checked at once); loading errors (not a
            model folder, not a vision-language model, torch missing) come from the first
            `chat`.
    """

    def __init__(self, source: str | Path, *, device: str | None = None,
                 dtype: str | None = None, threads: int | None = None,
                 max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS, name: str | None = None) -> None:
        text = str(source).strip()
        path = Path(text).expanduser()
        self.is_hub_name = not path.exists() and bool(_HUB_NAME.match(text))
        if not self.is_hub_name and not path.is_dir():
            what = "is a file, not a folder" if path.exists() else "does not exist"
            raise ChatModelError(
                f"hf:{text}: {what}; pass the folder a Hugging Face vision-language model was "
                f"saved in (config.json, weights, processor and tokenizer files), e.g. "
                f"'hf:/models/SmolVLM-256M-Instruct'", detail=what)
        if dtype is not None and dtype not in _DTYPES:
            raise ChatModelError(f"hf:{text}: unknown dtype {dtype!r}; use one of "
                                 f"{', '.join(_DTYPES)}")
        if max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be at least 1, got {max_new_tokens}")
        self.source = text if self.is_hub_name else str(path.resolve())
        self.name = name or f"hf:{text if self.is_hub_name else path.resolve().name}"
        self.device = device
        self.dtype = dtype
        self.threads = threads
        self.max_new_tokens = int(max_new_tokens)
        self.load_seconds: float | None = None
        self._model: Any = None
        self._processor: Any = None
        self._torch: Any = None
        self._template = ""
        self._lock = threading.Lock()

    @classmethod
    def from_spec(cls, spec: str, **options: Any) -> TransformersChat:
        """The model an ``hf:`` spec names; it loads on the first `chat`.
        ``vidseek.models.resolve("chat", spec)`` calls this for ``hf:`` specs.

        Args:
            spec: ``hf:/path/to/dir``, ``hf:/path/to/dir#device=cpu,dtype=float32`` or
                ``hf:org/name``.
            **options: passed to `TransformersChat`; they override those in the spec.

        Raises:
            ChatModelError: not an ``hf:`` spec, no path, an unknown option, or a folder
                that does not exist.
        """
        kind, sep, rest = spec.strip().partition(":")
        if kind != "hf" or not sep:
            raise ChatModelError(f"{spec!r} is not a transformers model spec; write {_SPEC_FORM}")
        source, options_text = _split_options(rest.strip())
        if not source:
            raise ChatModelError(f"'hf:{rest}' names no model; write {_SPEC_FORM}")
        spec_options: dict[str, Any] = {}
        for item in filter(None, (x.strip() for x in options_text.split(","))):
            key, sep, value = item.partition("=")
            key, value = key.strip(), value.strip()
            if not sep or key not in _OPTIONS:
                raise ChatModelError(f"'hf:{rest}': unknown option {item!r}; the options are "
                                     f"{', '.join(k + '=...' for k in _OPTIONS)}")
            if key in ("threads", "max_new_tokens"):
                if not value.isdigit():
                    raise ChatModelError(f"'hf:{rest}': {key} must be a whole number, got "
                                         f"{value!r}")
                spec_options[key] = int(value)
            else:
                spec_options[key] = value
        return cls(source, **{**spec_options, **options})

    @property
    def supports_tools(self) -> bool:
        """Whether the chat template renders tool definitions (loads the model)."""
        self.load()
        return "tools" in self._template

    def chat(self, messages: Sequence[ChatMessage | Mapping[str, Any]], *,
             max_tokens: int | None = None, temperature: float = 0.0,
             tools: Sequence[Mapping[str, Any]] | None = None,
             response_format: Mapping[str, Any] | None = None) -> ChatReply:
        """One reply to `messages` (see `ChatModel.chat`). Greedy decoding at temperature 0.

        Returns:
            The reply; ``prompt_tokens`` counts the processed prompt (image tokens included),
            ``completion_tokens`` the generated tokens.

        Raises:
            ChatModelError: the model cannot be loaded, an image cannot be read, or the chat
                template rejects the conversation.
        """
        if not messages:
            raise ValueError("messages must not be empty")
        if max_tokens is not None and max_tokens < 1:
            raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")
        if temperature < 0:
            raise ValueError(f"temperature must not be negative, got {temperature}")
        with self._lock:
            self._load_locked()
            began = time.perf_counter()
            native_tools = bool(tools) and "tools" in self._template
            converted, images = _template_messages(
                [_as_dict(m) for m in messages], native_tools=native_tools)
            instruction = _json_instruction(tools if tools and not native_tools else None,
                                            response_format)
            if instruction:
                converted = _with_system_text(converted, instruction)
            prompt = self._render(converted, tools if native_tools else None)
            limit = max_tokens or self.max_new_tokens
            prompt_tokens, generated, stopped = self._generate(prompt, images, limit,
                                                               temperature)
            text = self._processor.decode(generated, skip_special_tokens=True).strip()
            seconds = time.perf_counter() - began
        tool_calls, text = _parse_tool_calls(text) if native_tools else ([], text)
        finish = "tool_calls" if tool_calls else ("stop" if stopped else "length")
        return ChatReply(text=text, tool_calls=tool_calls, finish_reason=finish,
                         prompt_tokens=prompt_tokens, completion_tokens=len(generated),
                         seconds=seconds, model=self.name,
                         raw={"prompt": prompt, "images": len(images)})

    def load(self) -> None:
        """Load the processor and model now rather than on the first `chat`.

        Raises:
            ChatModelError: torch or transformers is missing, or the folder does not hold a
                vision-language model with a processor and a chat template.
        """
        with self._lock:
            self._load_locked()

    def _load_locked(self) -> None:
        if self._model is not None:
            return
        began = time.perf_counter()
        if not self.is_hub_name and not (Path(self.source) / "config.json").is_file():
            raise ChatModelError(f"hf:{self.source}: no config.json there; this is not a "
                                 "Hugging Face model folder (save one with save_pretrained, "
                                 "or download a model such as HuggingFaceTB/SmolVLM-256M-"
                                 "Instruct with 'hf download')")
        # a local folder never downloads; a hub name only when the user allowed it
        local_only = local_files_only() if self.is_hub_name else True
        torch, transformers = _import_torch_stack(self.source)
        if self.threads:
            torch.set_num_threads(int(self.threads))
        device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype_name = self.dtype or ("float32" if device == "cpu" else "bfloat16")
        where: dict[str, Any] = {"local_files_only": local_only}
        major = int(transformers.__version__.split(".")[0])
        dtype_key = "dtype" if major >= 5 else "torch_dtype"
        try:
            processor = transformers.AutoProcessor.from_pretrained(self.source, **where)
            model = transformers.AutoModelForImageTextToText.from_pretrained(
                self.source, **where, **{dtype_key: getattr(torch, dtype_name)})
        except ValueError as exc:
            if "Unrecognized configuration class" in str(exc):
                raise ChatModelError(
                    f"hf:{self.source} is not an image-text-to-text (vision-language) model "
                    f"({_first_line(exc)}); use a model such as Qwen2.5-VL, SmolVLM or LLaVA, "
                    "or serve it with an OpenAI-compatible server and use 'openai:URL#MODEL'",
                    detail=str(exc)) from exc
            raise self._load_error(exc) from exc
        except (OSError, ImportError, KeyError, TypeError) as exc:
            raise self._load_error(exc) from exc
        if getattr(processor, "image_processor", None) is None:
            raise ChatModelError(f"hf:{self.source}: the processor has no image processor; the "
                                 "folder needs the processor files save_pretrained writes "
                                 "(preprocessor_config.json or processor_config.json)")
        template = (getattr(processor, "chat_template", None)
                    or getattr(getattr(processor, "tokenizer", None), "chat_template", None))
        if not template:
            raise ChatModelError(f"hf:{self.source}: the model has no chat template "
                                 "(chat_template.jinja or chat_template.json); use an "
                                 "instruction-tuned model, whose folder has one")
        self._template = json.dumps(template) if isinstance(template, dict) else str(template)
        self._torch, self._processor = torch, processor
        self._model = model.to(device).eval()
        self.load_seconds = time.perf_counter() - began

    def _load_error(self, exc: Exception) -> ChatModelError:
        if "torchvision" in str(exc).lower():  # Qwen2-VL and SmolVLM processors need it
            return ChatModelError(f"hf:{self.source}: this model's processor needs torchvision: "
                                  "pip install torchvision (the release built for your torch "
                                  f"{_version('torch')})", detail=str(exc))
        hint = ("is it in the Hugging Face cache? Download it ('hf download NAME') or set "
                "VIDSEEK_ALLOW_DOWNLOADS=1" if self.is_hub_name else
                "it needs config.json, the weights, and the processor and tokenizer files "
                "save_pretrained writes")
        return ChatModelError(f"cannot load the vision-language model hf:{self.source}: "
                              f"{_first_line(exc)} ({hint})", detail=str(exc))

    def _render(self, messages: list[dict[str, Any]],
                tools: Sequence[Mapping[str, Any]] | None) -> str:
        extra = {"tools": [dict(t) for t in tools]} if tools else {}
        try:
            return self._processor.apply_chat_template(
                messages, add_generation_prompt=True, tokenize=False, **extra)
        except Exception as exc:  # jinja raises its own errors (raise_exception in templates)
            raise ChatModelError(f"{self.name}: the chat template rejected the conversation: "
                                 f"{_first_line(exc)} (does this model take these roles, "
                                 "images, or several system messages?)",
                                 detail=str(exc)) from exc

    def _generate(self, prompt: str, images: list[Any], limit: int,
                  temperature: float) -> tuple[int, list[int], bool]:
        """``(prompt tokens, generated ids, stopped at an end token)``."""
        torch = self._torch
        inputs = self._processor(text=[prompt], images=[images] if images else None,
                                 return_tensors="pt", add_special_tokens=False)
        inputs = inputs.to(self._model.device)
        if "pixel_values" in inputs:
            inputs["pixel_values"] = inputs["pixel_values"].to(self._model.dtype)
        sampling: dict[str, Any] = ({"do_sample": True, "temperature": float(temperature)}
                                    if temperature > 0 else
                                    {"do_sample": False, "temperature": None, "top_p": None,
                                     "top_k": None})
        prompt_tokens = int(inputs["input_ids"].shape[1])
        with torch.inference_mode():
            output = self._model.generate(**inputs, max_new_tokens=limit, **sampling)
        generated = output[0, prompt_tokens:].tolist()
        ends = _end_ids(self._model.generation_config, self._processor)
        pad = getattr(self._model.generation_config, "pad_token_id", None)
        stopped = False
        for index, token in enumerate(generated):
            if token in ends:
                generated, stopped = generated[: index + 1], True
                break
        if not stopped and pad is not None and pad not in ends:
            while generated and generated[-1] == pad:
                generated.pop()
        return prompt_tokens, generated, stopped

    def close(self) -> None:
        """Free the model (a later `chat` loads it again)."""
        with self._lock:
            on_gpu = self._model is not None and self._model.device.type == "cuda"
            self._model = self._processor = None
            if on_gpu:
                self._torch.cuda.empty_cache()

    def __getstate__(self) -> dict[str, Any]:
        # picklable (for worker processes): each process loads its own copy
        skip = ("_model", "_processor", "_torch", "_lock")
        return {k: v for k, v in self.__dict__.items() if k not in skip}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._model = self._processor = self._torch = None
        self._lock = threading.Lock()

    def __enter__(self) -> TransformersChat:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"TransformersChat({self.source!r})"


# -- messages ----------------------------------------------------------------------------


def _as_dict(message: ChatMessage | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(message, ChatMessage):
        return message.to_dict()
    if isinstance(message, Mapping) and "role" in message:
        return dict(message)
    raise TypeError(f"a message is a ChatMessage or a dict with a role, got {message!r:.80}")


def _template_messages(messages: list[dict[str, Any]], *,
                       native_tools: bool) -> tuple[list[dict[str, Any]], list[Any]]:
    """The messages in chat-template form, and the pictures in the order they appear."""
    images: list[Any] = []
    call_names: dict[str, str] = {}
    converted: list[dict[str, Any]] = []
    for message in messages:
        role = message["role"]
        parts = _parts(message.get("content"), images)
        calls = [_call_parts(call) for call in message.get("tool_calls") or []]
        for call, (name, _) in zip(message.get("tool_calls") or [], calls):
            if call.get("id"):
                call_names[str(call["id"])] = name
        if native_tools:
            item: dict[str, Any] = {"role": role, "content": parts}
            if calls:
                item["tool_calls"] = [{"type": "function",
                                       "function": {"name": n, "arguments": a}}
                                      for n, a in calls]
            for key in ("tool_call_id", "name"):
                if message.get(key) is not None:
                    item[key] = message[key]
            converted.append(item)
            continue
        if calls:  # written the way the JSON instruction asks for them
            parts = parts + [{"type": "text", "text": json.dumps({"tool": n, "arguments": a})}
                             for n, a in calls]
        if role == "tool":
            name = message.get("name") or call_names.get(str(message.get("tool_call_id")))
            label = f"Result of the tool call {name}:" if name else "Tool result:"
            role, parts = "user", [{"type": "text", "text": label}] + parts
        converted.append({"role": role, "content": parts})
    return converted, images


def _parts(content: Any, images: list[Any]) -> list[dict[str, Any]]:
    """Content as template parts; pictures are appended to `images`."""
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    parts: list[dict[str, Any]] = []
    for part in content:
        kind = part.get("type") if isinstance(part, Mapping) else None
        if kind == "text":
            parts.append({"type": "text", "text": str(part.get("text", ""))})
        elif kind == "image_url":
            url = part.get("image_url")
            url = url.get("url") if isinstance(url, Mapping) else url
            images.append(_picture(str(url or "")))
            parts.append({"type": "image"})
        elif kind == "image":
            images.append(_picture(part.get("image") or part.get("url") or part.get("path")))
            parts.append({"type": "image"})
        else:
            raise ChatModelError(f"cannot send a content part of type {kind!r} to a "
                                 "transformers model; use text and image_url parts")
    return parts


def _picture(source: Any) -> Any:
    """An RGB PIL picture from a ``data:`` URL, a ``file://`` URL, a path, an array or a PIL
    picture."""
    from PIL import Image

    if isinstance(source, Image.Image):
        return source.convert("RGB")
    if hasattr(source, "__array_interface__"):
        return Image.fromarray(source).convert("RGB")
    text = str(source or "")
    try:
        if text.startswith("data:"):
            header, _, payload = text.partition(",")
            if ";base64" not in header:
                raise ValueError("only base64 data URLs are read")
            return Image.open(io.BytesIO(base64.b64decode(payload, validate=True))).convert("RGB")
        if text.startswith(("http://", "https://")):
            raise ChatModelError(f"a transformers model runs offline and cannot fetch "
                                 f"{text[:80]}; send the picture as a data: URL "
                                 "(vidseek.models.messages.image_part)")
        path = Path(text.removeprefix("file://"))
        with Image.open(path) as picture:
            return picture.convert("RGB")
    except (OSError, ValueError, binascii.Error) as exc:
        raise ChatModelError(f"cannot read the picture {text[:60]!r}: {exc}; send RGB "
                             "pictures as base64 JPEG or PNG data: URLs "
                             "(vidseek.models.messages.image_part)", detail=str(exc)) from exc


def _call_parts(call: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """``(name, arguments)`` of an OpenAI tool call; arguments decoded from JSON."""
    function = call.get("function") or {}
    arguments = function.get("arguments") or {}
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except json.JSONDecodeError:
            arguments = {"_raw": arguments}
    return str(function.get("name", "")), dict(arguments)


def _json_instruction(tools: Sequence[Mapping[str, Any]] | None,
                      response_format: Mapping[str, Any] | None) -> str:
    """System text asking for a JSON reply, for templates without tools and for
    ``response_format`` (which local generation cannot enforce)."""
    lines: list[str] = []
    if tools:
        lines.append('You can call these tools. To call one, reply with only one JSON object '
                     '{"tool": NAME, "arguments": {...}} and nothing else:')
        for tool in tools:
            function = tool.get("function", tool)
            lines.append(json.dumps({"name": function.get("name"),
                                     "description": function.get("description", ""),
                                     "parameters": function.get("parameters", {})}))
    if response_format and response_format.get("type") in ("json_object", "json_schema"):
        schema = (response_format.get("json_schema") or {}).get("schema")
        lines.append("Reply with only one JSON object" +
                     (f" matching this JSON schema: {json.dumps(schema)}" if schema else "."))
    return "\n".join(lines)


def _with_system_text(messages: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """`text` appended to the first system message, or a new system message before all."""
    if messages and messages[0]["role"] == "system":
        first = dict(messages[0])
        first["content"] = list(first["content"]) + [{"type": "text", "text": "\n\n" + text}]
        return [first, *messages[1:]]
    return [{"role": "system", "content": [{"type": "text", "text": text}]}, *messages]


def _parse_tool_calls(text: str) -> tuple[list[dict[str, Any]], str]:
    """OpenAI-form tool calls from ``<tool_call>{"name": ..., "arguments": ...}</tool_call>``
    blocks (the Qwen / Hermes form), and the text without them."""
    calls: list[dict[str, Any]] = []
    for match in _TOOL_CALL.finditer(text):
        try:
            value = json.loads(match.group(1))
        except json.JSONDecodeError:
            continue
        if not isinstance(value, dict) or not isinstance(value.get("name"), str):
            continue
        arguments = value.get("arguments", value.get("parameters", {}))
        calls.append({"id": f"call_{len(calls)}", "type": "function",
                      "function": {"name": value["name"],
                                   "arguments": json.dumps(arguments)}})
    if not calls:
        return [], text
    return calls, _TOOL_CALL.sub("", text).strip()


# -- helpers -------------------------------------------------------------------------------


def _end_ids(generation_config: Any, processor: Any) -> set[int]:
    ends = getattr(generation_config, "eos_token_id", None)
    ids = set(ends if isinstance(ends, list) else [] if ends is None else [ends])
    tokenizer = getattr(processor, "tokenizer", None)
    if not ids and getattr(tokenizer, "eos_token_id", None) is not None:
        ids.add(tokenizer.eos_token_id)
    return ids


def _import_torch_stack(source: str) -> tuple[Any, Any]:
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise ChatModelError(f"hf:{source} needs torch and transformers: {_INSTALL_HINT} "
                             f"({exc}); or serve the model with vLLM or Ollama and use "
                             "'openai:URL#MODEL'", detail=str(exc)) from exc
    return torch, transformers


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "?"


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
