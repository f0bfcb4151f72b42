"""The fixed forms a model must reply in, and the parsing that holds it to them.

A reply is either a final answer (`ANSWER_SCHEMA`) or, where the server has no native tool
calling, a tool call written as JSON in the text (``{"tool": ..., "arguments": {...}}``).
Parsing repairs what is unambiguous (code fences, prose around the JSON, an option given by
its text instead of its letter, a confidence of 80 meaning 0.8, times outside the video) and
raises `ReplyError`, whose message is sent back to the model, for everything else.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ANSWER_SCHEMA", "ParsedAnswer", "ReplyError", "SeenMoment", "ToolRequest",
           "letter", "parse_answer", "parse_reply", "parse_json_object"]

NOT_FOUND = "Not found in this video."

ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "answer": {"type": "string", "description": "the answer in words"},
        "choice": {"type": ["string", "null"],
                   "description": "the letter of the chosen option, or null"},
        "found": {"type": "boolean",
                  "description": "false when the video does not show or say the answer"},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "evidence": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"start": {"type": "number"}, "end": {"type": "number"},
                               "seen": {"type": "string",
                                        "description": "what was seen or heard there"}},
                "required": ["start", "end", "seen"],
            },
        },
    },
    "required": ["answer", "choice", "found", "confidence", "evidence"],
}

ANSWER_FORM = ('{"answer": "...", "choice": "B" or null, "found": true, "confidence": 0.0-1.0, '
               '"evidence": [{"start": 12.0, "end": 15.5, "seen": "what was seen or heard"}]}')
"""The answer form as the prompts show it."""


class ReplyError(ValueError):
    """A reply that is not in the required form. The message tells the model what to fix."""


@dataclass(frozen=True, slots=True)
class SeenMoment:
    start: float
    end: float
    seen: str


@dataclass(frozen=True, slots=True)
class ParsedAnswer:
    text: str
    choice: int | None
    found: bool
    confidence: float
    evidence: list[SeenMoment] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ToolRequest:
    name: str
    arguments: dict[str, Any]
    call_id: str | None = None
    """The server's id for a native tool call; None for one written in the text."""


def letter(index: int) -> str:
    return string.ascii_uppercase[index]


def parse_json_object(text: str) -> dict[str, Any]:
    """The first JSON object in `text`, from a code fence or from prose around it."""
    fenced = re.search(r"```(?:json)?\s*(\{.*?\})\s*```", text, re.DOTALL)
    candidates = [fenced.group(1)] if fenced else []
    start = text.find("{")
    while start != -1:
        candidates.append(text[start:])
        start = text.find("{", start + 1)
    decoder = json.JSONDecoder()
    for candidate in candidates:
        try:
            value, _ = decoder.raw_decode(candidate)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    raise ReplyError("the reply holds no JSON object; reply with exactly one JSON object")


def parse_reply(text: str, tools: Sequence[str], options: Sequence[str] | None,
                duration: float) -> ParsedAnswer | ToolRequest:
    """A text reply: a tool call written as JSON, or the final answer."""
    value = parse_json_object(text)
    if "tool" in value:
        name = value["tool"]
        if name not in tools:
            raise ReplyError(f"unknown tool {name!r}; the tools are {', '.join(tools)}")
        arguments = value.get("arguments") or {}
        if not isinstance(arguments, dict):
            raise ReplyError('"arguments" must be a JSON object')
        return ToolRequest(name, arguments)
    return _answer(value, options, duration)


def parse_answer(text: str, options: Sequence[str] | None, duration: float) -> ParsedAnswer:
    """The final answer in a reply (see `ANSWER_SCHEMA`)."""
    return _answer(parse_json_object(text), options, duration)


def _answer(value: dict[str, Any], options: Sequence[str] | None,
            duration: float) -> ParsedAnswer:
    if "answer" not in value:
        raise ReplyError(f'the JSON has no "answer"; answer in this form: {ANSWER_FORM}')
    text = str(value["answer"] or "").strip()
    found = value.get("found", True)
    if not isinstance(found, bool):
        found = str(found).strip().lower() in ("true", "yes", "1")
    choice = _choice(value.get("choice"), text, options)
    if options and choice is None and found:
        raise ReplyError(f'"choice" must be one of the letters '
                         f'{", ".join(letter(i) for i in range(len(options)))}')
    if not text:
        if choice is not None and options:
            text = options[choice]
        elif not found:
            text = NOT_FOUND
        else:
            raise ReplyError('"answer" is empty; say the answer in words')
    return ParsedAnswer(text, choice, found, _confidence(value.get("confidence")),
                        _evidence(value.get("evidence"), duration))


def _choice(raw: Any, text: str, options: Sequence[str] | None) -> int | None:
    """An option's index from a letter ("B", "(b)", "B. decoration"), a number, or its text."""
    if not options:
        return None
    for candidate in (raw, text):
        if candidate is None:
            continue
        if isinstance(candidate, int) and not isinstance(candidate, bool):
            if 0 <= candidate < len(options):
                return candidate
            continue
        words = str(candidate).strip()
        match = re.fullmatch(r"\(?([A-Za-z])\)?(?:[.:)]\s*.*)?", words, re.DOTALL)
        if match and (index := ord(match.group(1).upper()) - ord("A")) < len(options):
            return index
        folded = words.lower().rstrip(".")
        for index, option in enumerate(options):
            if folded == option.lower().rstrip("."):
                return index
    return None


def _confidence(raw: Any) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ReplyError('"confidence" must be a number from 0 to 1') from None
    if 1.0 < value <= 100.0:  # a percentage
        value /= 100.0
    if not 0.0 <= value <= 1.0:
        raise ReplyError(f'"confidence" must be from 0 to 1, not {raw}')
    return value


def _evidence(raw: Any, duration: float) -> list[SeenMoment]:
    if raw in (None, ""):
        return []
    if not isinstance(raw, list):
        raise ReplyError('"evidence" must be a list of {"start", "end", "seen"} objects')
    moments = []
    for item in raw:
        if not isinstance(item, dict):
            raise ReplyError('each evidence item must be {"start": s, "end": s, "seen": "..."}')
        try:
            start, end = float(item["start"]), float(item.get("end", item["start"]))
        except (KeyError, TypeError, ValueError):
            raise ReplyError("each evidence item needs numeric start and end times in "
                             "seconds") from None
        start, end = sorted((min(max(start, 0.0), duration), min(max(end, 0.0), duration)))
        moments.append(SeenMoment(start, end, str(item.get("seen", "")).strip()))
    return moments
