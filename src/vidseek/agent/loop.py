"""The evidence-seeking answer loop with a chat (vision-language) model.

1. **Fast path**: search the index for the question, show the model the top moments (what
   was said or written there, and a few frames, each labelled with its time) and ask for an
   answer in the fixed JSON form. An answer at or above `Budget.confident` stands.
2. **Agentic path** otherwise: the same conversation goes on with tools (`tools.py`): the
   model plans, calls tools, sees what they return, and answers when the evidence suffices.
   When the step budget is nearly spent it must answer from what it has; when tokens or
   time run out, the loop stops and keeps the best answer so far.

Every model call ends by the time budget's deadline (`chat_within`): a server that hangs or
trickles its reply is cut off when `Budget.seconds` runs out. Time that runs out before the
first answer fails with `AskError` (its answer keeps the partial trace); later, the best
answer so far stands, with a note.

Servers without native tool calling get the tools described in the prompt and call them as
JSON in their text; a server that refuses ``tools`` or ``response_format`` is asked again
without them. A malformed reply is sent back with what is wrong, up to `Budget.retries`
times in a row; then the answer fails with `AskError`, which keeps the partial trace.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from vidseek.agent.budget import Budget, Meter, TimeSpent, chat_within, stopped
from vidseek.agent.replies import (
    ANSWER_FORM,
    ANSWER_SCHEMA,
    ParsedAnswer,
    ReplyError,
    ToolRequest,
    letter,
    parse_answer,
    parse_reply,
)
from vidseek.agent.tools import TOOL_NAMES, ToolError, ToolResult, VideoTools
from vidseek.errors import AskError
from vidseek.media import Frame
from vidseek.models.messages import ChatMessage, ChatReply, frame_parts
from vidseek.models.protocols import ChatModel, ChatModelError
from vidseek.types import Answer, Evidence, Moment, Step

__all__ = ["Agent"]

FAST_MOMENTS = 3
"""Moments the fast path shows the model."""
FAST_FRAMES = 8
"""Frames the fast path shows at most (fewer when the frame budget is small)."""
_OBSERVATION_CHARS = 4000  # of a tool's text kept in the trace
_REFUSED = (400, 404, 415, 422, 501)  # statuses of a server that refuses an option


class Agent:
    """Answers questions about one video with a chat model and the tools.

    Args:
        tools: the video's tools.
        model: the chat model.
        model_name: how the answer names the model (its spec).
        budget: the limits.
        on_step: called with each step as it happens.
    """

    def __init__(self, tools: VideoTools, model: ChatModel, *, model_name: str,
                 budget: Budget | None = None,
                 on_step: Callable[[Step], None] | None = None) -> None:
        self.tools = tools
        self.model = model
        self.model_name = model_name
        self.budget = budget or Budget()
        self.on_step = on_step
        self.native_tools = True
        self.structured = True

    def ask(self, question: str, options: Sequence[str] | None = None) -> Answer:
        """Answer `question` (with `options` for multiple choice).

        Raises:
            AskError: the model server failed, or its replies stayed malformed; the error's
                ``answer`` holds the trace and cost so far.
        """
        self._meter = Meter(self.budget)
        self._answer = Answer(question=question, video_id=self.tools.video.id,
                              path=self.tools.path, text="", options=list(options or []) or None,
                              found=False, model=self.model_name, route="fast")
        self._sent: list[float] = []  # times of frames the model has seen
        self.options = list(options or [])
        messages = [ChatMessage.system(self._system_prompt()), self._fast_prompt(question)]
        try:
            parsed = self._until_answer(messages, with_tools=False)
            if parsed.confidence < self.budget.confident:
                parsed = self._look_closer(messages, parsed)
        except (TimeSpent, ChatModelError) as exc:
            raise stopped(self._answer, self._meter, self._step, exc) from exc
        return self._finish(parsed)

    # -- prompts -----------------------------------------------------------------------------

    def _system_prompt(self) -> str:
        video = self.tools.video.info
        lines = [
            f"You answer questions about one video, {video.duration:.1f} s long. Times are "
            "seconds from the start of the video; every frame you see is labelled with its "
            "time. Answer only from what the video shows or says.",
            f"Your final reply is exactly one JSON object: {ANSWER_FORM}",
            'If the video does not show or say the answer, set "found" to false and "answer" '
            'to "Not found in this video.". "evidence" lists the moments your answer rests '
            "on, with what you saw or heard in each.",
        ]
        if self.options:
            lines.append('"choice" is the letter of one option.')
        return "\n".join(lines)

    def _tool_prompt(self) -> str:
        described = [{"tool": s["function"]["name"], "description": s["function"]["description"],
                      "arguments": s["function"]["parameters"]["properties"]}
                     for s in self.tools.schemas()]
        return ("You can call these tools. To call one, reply with only "
                '{"tool": "NAME", "arguments": {...}}:\n' + json.dumps(described))

    def _fast_prompt(self, question: str) -> ChatMessage:
        found = self._run_tool(ToolRequest("search", {"query": question, "k": FAST_MOMENTS}))
        moments = found.moments[:FAST_MOMENTS]
        parts: list[Any] = [f"Question: {question}"]
        if self.options:
            parts.append("Options:\n" + "\n".join(f"{letter(i)}. {o}"
                                                  for i, o in enumerate(self.options)))
        parts.append("The index's best matches for the question:\n" + found.text)
        count = min(FAST_FRAMES, self._meter.frames_left)
        if count:
            times = _fast_times(moments, count, self.tools.duration)
            frames, decoded = self.tools.frames(times)
            self._meter.cost.frames_decoded += decoded
            self._step("tool", tool="frames", arguments={"times": [round(t, 3) for t in times]},
                       observation=f"{len(frames)} frames for the model",
                       frame_times=[f.time for f in frames])
            parts.extend(self._show(frames))
        parts.append(f"Answer now in the JSON form: {ANSWER_FORM}")
        return ChatMessage.user(*parts)

    # -- the loop ----------------------------------------------------------------------------

    def _look_closer(self, messages: list[ChatMessage], fallback: ParsedAnswer) -> ParsedAnswer:
        """The agentic path after an unsure first answer; `fallback` stands when a budget
        runs out first."""
        spent = self._meter.spent()
        if spent:
            self._answer.notes.append(f"The answer was cut short: {spent} ran out.")
            return fallback
        self._answer.route = "agent"
        messages.append(ChatMessage.user(
            f"Your confidence is {fallback.confidence:.2f}. Look closer with the tools "
            "where you need to, then answer in the same JSON form."))
        try:
            return self._loop(messages, fallback)
        except TimeSpent as exc:
            spent = self._meter.time_spent
            self._step("error", observation=f"stopped: {spent} is spent"
                       + (f" ({exc.detail})" if exc.detail else ""))
            self._answer.notes.append(f"The answer was cut short: {spent} ran out.")
            return fallback

    def _loop(self, messages: list[ChatMessage], fallback: ParsedAnswer) -> ParsedAnswer:
        if not self.native_tools:
            messages.append(ChatMessage.user(self._tool_prompt()))
        repairs = 0
        while True:
            spent = self._meter.spent()
            if spent:  # tokens or time: no more calls
                self._step("error", observation=f"stopped: {spent} is spent")
                self._answer.notes.append(f"The answer was cut short: {spent} ran out.")
                return fallback
            if self._meter.steps >= self.budget.steps - 1:  # keep one call for the answer
                messages.append(ChatMessage.user(
                    "The budget for looking is spent. Answer now from what you have, in the "
                    f"JSON form: {ANSWER_FORM}"))
                self._answer.notes.append("The step budget ran out before the model was sure.")
                return self._until_answer(messages, with_tools=False)
            reply = self._call(messages, with_tools=True)
            try:
                requests = self._requests(reply)
            except ReplyError as exc:
                repairs = self._repair(messages, reply, exc, repairs)
                continue
            if isinstance(requests, ParsedAnswer):
                return requests
            repairs = 0
            messages.append(reply.message())
            shown: list[Any] = []
            for request in requests:
                result = self._run_tool(request)
                if request.call_id is not None:
                    messages.append(ChatMessage.tool(request.call_id, result.text))
                else:
                    shown.append(f"Result of {request.name}:\n{result.text}")
                shown.extend(self._show(result.frames))
            if shown:
                messages.append(ChatMessage.user(*shown))

    def _requests(self, reply: ChatReply) -> list[ToolRequest] | ParsedAnswer:
        if reply.tool_calls:
            return [_tool_request(call) for call in reply.tool_calls]
        parsed = parse_reply(reply.text, TOOL_NAMES, self.options, self.tools.duration)
        return parsed if isinstance(parsed, ParsedAnswer) else [parsed]

    def _until_answer(self, messages: list[ChatMessage], *, with_tools: bool) -> ParsedAnswer:
        """Calls until a reply parses as an answer (repairing malformed ones)."""
        repairs = 0
        while True:
            reply = self._call(messages, with_tools=with_tools, want_answer=True)
            try:
                parsed = parse_answer(reply.text, self.options, self.tools.duration)
            except ReplyError as exc:
                repairs = self._repair(messages, reply, exc, repairs)
                continue
            messages.append(reply.message())
            return parsed

    def _repair(self, messages: list[ChatMessage], reply: ChatReply, error: ReplyError,
                repairs: int) -> int:
        repairs += 1
        self._step("error", observation=f"malformed reply ({error}): {reply.text[:300]!r}")
        if repairs > self.budget.retries:
            self._answer.text = "No answer: the model's replies were malformed."
            self._answer.cost = self._meter.finish()
            raise AskError(f"the model replied in a malformed form {repairs} times in a row "
                           f"(last: {error}); try a stronger model or a larger budget",
                           self._answer)
        # Without the tool calls: a call with no tool message answering it breaks the protocol.
        messages.append(ChatMessage.assistant(reply.text or json.dumps(reply.tool_calls)))
        messages.append(ChatMessage.user(f"That reply was not valid: {error}. Reply again."))
        return repairs

    def _call(self, messages: list[ChatMessage], *, with_tools: bool,
              want_answer: bool = False) -> ChatReply:
        """One model call, ended by the time budget's deadline (`TimeSpent`); a server that
        refuses tools or structured output is asked again without them (and never offered
        them again)."""
        while True:
            tools = self.tools.schemas() if with_tools and self.native_tools else None
            schema = ({"type": "json_schema", "json_schema": {"name": "answer",
                                                              "schema": ANSWER_SCHEMA}}
                      if want_answer and self.structured else None)
            started = time.perf_counter()
            try:
                reply = chat_within(self._meter, self.model, messages, tools=tools,
                                    response_format=schema)
            except ChatModelError as exc:
                if exc.status in _REFUSED and (tools or schema):
                    refused = "tools" if tools else "response_format"
                    self._step("error", observation=f"the server refused {refused} "
                               f"({exc.status}); asking without it")
                    if tools:
                        self.native_tools = False
                        messages.append(ChatMessage.user(self._tool_prompt()))
                    else:
                        self.structured = False
                    continue
                raise
            self._meter.model_call(reply.prompt_tokens, reply.completion_tokens)
            said = reply.text or "calls " + ", ".join(
                c.get("function", {}).get("name", "?") for c in reply.tool_calls)
            self._step("model", observation=said, seconds=time.perf_counter() - started)
            return reply

    # -- tools and frames --------------------------------------------------------------------

    def _run_tool(self, request: ToolRequest) -> ToolResult:
        started = time.perf_counter()
        try:
            result = self.tools.call(request.name, request.arguments,
                                     max_frames=self._meter.frames_left)
        except ToolError as exc:
            result = ToolResult(f"error: {exc}")
        self._meter.cost.frames_decoded += result.frames_decoded
        self._step("tool", tool=request.name, arguments=request.arguments,
                   observation=result.text, frame_times=result.frame_times,
                   seconds=time.perf_counter() - started)
        return result

    def _show(self, frames: list[Frame]) -> list[Any]:
        """Content parts that show `frames` to the model (each after its time)."""
        self._meter.cost.frames_sent += len(frames)
        self._sent.extend(f.time for f in frames)
        return frame_parts(frames)

    # -- the answer --------------------------------------------------------------------------

    def _step(self, kind: str, **fields: Any) -> None:
        fields["observation"] = fields.get("observation", "")[:_OBSERVATION_CHARS]
        step = Step(index=len(self._answer.trace), kind=kind, **fields)
        self._answer.trace.append(step)
        if self.on_step is not None:
            self.on_step(step)

    def _finish(self, parsed: ParsedAnswer) -> Answer:
        answer = self._answer
        answer.text, answer.choice, answer.found = parsed.text, parsed.choice, parsed.found
        answer.confidence = parsed.confidence
        answer.evidence = [self._moment(seen.start, seen.end, seen.seen, parsed.confidence)
                           for seen in parsed.evidence]
        if parsed.found and not answer.evidence:
            answer.notes.append("The model named no evidence moments.")
        self._step("answer", observation=answer.text)
        answer.cost = self._meter.finish()
        return answer

    def _moment(self, start: float, end: float, seen: str, score: float) -> Moment:
        if end - start < 0.5:  # a point in time: the half second around it
            start, end = max(0.0, start - 0.25), min(self.tools.duration, end + 0.25)
        times = sorted({round(t, 3) for t in self._sent if start <= t <= end})
        evidence = Evidence(channel="model", kind="seen", start=start, end=end, text=seen,
                            score=score, frame_times=times)
        middle = min(times, key=lambda t: abs(t - (start + end) / 2)) if times else None
        return Moment(video_id=self.tools.video.id, path=self.tools.path, start=start, end=end,
                      score=score, evidence=[evidence], thumbnail=middle)


def _tool_request(call: dict[str, Any]) -> ToolRequest:
    function = call.get("function") or {}
    name = function.get("name", "")
    if name not in TOOL_NAMES:
        raise ReplyError(f"unknown tool {name!r}; the tools are {', '.join(TOOL_NAMES)}")
    try:
        arguments = json.loads(function.get("arguments") or "{}")
    except json.JSONDecodeError:
        raise ReplyError(f"the arguments of {name} are not valid JSON") from None
    if not isinstance(arguments, dict):
        raise ReplyError(f"the arguments of {name} must be a JSON object")
    return ToolRequest(name, arguments, call.get("id") or f"call_{name}")


def _fast_times(moments: Sequence[Moment], count: int, duration: float) -> list[float]:
    """Frame times for the fast path: spread over the top moments, or over the whole video
    when the index found nothing."""
    if not moments:
        step = duration / count
        return [(i + 0.5) * step for i in range(count)]
    times = []
    for i, moment in enumerate(moments):
        share = count // len(moments) + (1 if i < count % len(moments) else 0)
        step = (moment.end - moment.start) / max(share, 1)
        times.extend(moment.start + (j + 0.5) * step for j in range(share))
    return sorted(times)
