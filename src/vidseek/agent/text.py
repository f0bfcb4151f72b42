"""The text agent: answers with a text-only language model (``llm``, ``llamacpp:...``) from
what the index holds, never sending it a picture.

1. **Search** the video for the question and for cheap reformulations of it (its content
   words; each option of a multiple-choice question).
2. **Read**: the transcript, screen text, object tags and sounds (the ``transcript``,
   ``screen_text``, ``objects`` and ``sounds`` tools), each line with its times. When the
   whole video's notes fit the prompt budget (`Budget.tokens`, at most `NOTES_TOKENS`), the
   model reads them all; otherwise it reads a compact overview of the whole timeline (one
   line per segment) and, in full, the windows around the best moments.
3. **Answer** in a short JSON form constrained by a grammar or schema (the answer, whether
   the notes hold it, the times it rests on; or the option's letter and the times), or
   "Not found in this video.".
4. **Search again** (long videos only, when the model found nothing and the budget allows):
   the model proposes other search words; their windows are read and it answers again.

The notes come first and the question last, so llama.cpp reuses the cached notes of a video
across questions. Every call gets ``timeout=`` the time left of `Budget.seconds`, and none
starts once it is spent (`chat_within`); llama.cpp stops generating at that deadline but
cannot stop while it reads the prompt (or loads the model, on the first call). Time that runs
out before the first answer fails with `AskError`, which keeps the partial trace; during the
second search, the first answer stands, with a note.

**Confidence** comes from the model's token probabilities and the evidence scores (see
`confidence`): the probability of its found/not-found decision (or of the chosen option's
letter among the letters), the geometric mean of its answer's token probabilities, and the
calibrated search score of the line it rests on; an open answer's is then scaled by the share
of its words the notes hold (an answer the notes do not hold is likely invented). The
evidence is the lines that hold the answer's words, then the lines at the times it cites.
An answer below ``abstain`` becomes "Not found in this video." (benchmarks/ask.py fits that
threshold on some fact-video seeds and judges it on held-out ones).
"""

from __future__ import annotations

import inspect
import json
import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from vidseek.agent.budget import Budget, Meter, TimeSpent, chat_within, stopped
from vidseek.agent.replies import NOT_FOUND, letter
from vidseek.agent.tools import ToolError, ToolResult, VideoTools
from vidseek.errors import AskError
from vidseek.models.messages import ChatMessage, ChatReply
from vidseek.models.protocols import ChatModel, ChatModelError
from vidseek.types import Answer, Evidence, Moment, Observation, Step

__all__ = ["ABSTAIN", "DEFAULT_MODEL", "NOTES_TOKENS", "READ_TOOLS", "TextAgent", "confidence",
           "default_model", "is_text_only"]

NOTES_TOKENS = 1500
"""Prompt tokens the video's notes may take at most (2 busy cores read ~130 tokens/s)."""
READ_TOOLS = {"transcript": "said", "screen_text": "screen", "objects": "seen",
              "sounds": "sound"}
"""The tools the agent reads with, and how each line is labelled for the model."""
SEARCH_MOMENTS = 5
"""Moments searched for the question."""
WINDOW_PAD = 10.0
"""Seconds read on each side of a moment the search found (long videos)."""
ABSTAIN = 0.44
"""Open answers under this confidence say "Not found in this video.": fitted by
benchmarks/ask.py with llm-small on fact-video seeds 0-1 (the lowest confidence at which at
most 5% of absent questions get an answer); on held-out seed 3 it kept 0.50 of 0.62 right
answers and cut absent questions answered from 0.89 to 0.00."""
REPLY_TOKENS = 96
"""Tokens an answer may take."""
ANSWER_CHARS = 120
"""Characters an open answer may take."""
_CHARS_PER_TOKEN = 3.2  # a cautious estimate, checked with count_tokens when the model has it
_SPEECH_SOUNDS = frozenset({"speech", "narration, monologue", "conversation"})
# (sound tags that only repeat that someone speaks: the transcript says more)
_STOP = frozenset(re.findall(r"\w+", """a an the is are was were be been do does did what
which who whom whose when where why how many much of in on at to for from by with and or not
no this that these those there it its can could should would will shall may might video said
shown say show people person"""))


DEFAULT_MODEL = "llm"
"""The installed model ``ask`` uses when given none (``model="auto"``)."""


def default_model() -> tuple[str | None, str | None]:
    """The model an ``ask`` without one uses: the installed `DEFAULT_MODEL`, or None (the
    embedded answerer) with a one-line note on how to install it.

    Returns:
        ``(spec, note)``: ``("llm", None)``, or ``(None, "...vidseek models install llm...")``.
    """
    from vidseek.models.install import install_hint, status

    if status(DEFAULT_MODEL).state == "installed":
        return DEFAULT_MODEL, None
    return None, (f"Answered without a language model. For answers that read and reason: "
                  f"{install_hint(DEFAULT_MODEL)}")


def is_text_only(model: ChatModel) -> bool:
    """Whether a chat model cannot see pictures: it says so (``supports_images = False``), or
    it is a llama.cpp GGUF model (text only)."""
    said = getattr(model, "supports_images", None)
    if said is not None:
        return not said
    from vidseek.models.llamacpp import LlamaCppChat

    return isinstance(model, LlamaCppChat)


@dataclass(frozen=True, slots=True)
class _Line:
    """One note the model reads: an observation's words with its times."""

    start: float
    end: float
    label: str
    text: str
    kind: str

    def render(self) -> str:
        return f"[{self.start:.1f}-{self.end:.1f}] {self.label}: {self.text}"


def confidence(decision: float | None, answer: float | None, evidence: float) -> float:
    """An answer's confidence, 0..1.

    Args:
        decision: the model's probability for its found/not-found decision, or for its
            option's letter among the letters (None: no token probabilities).
        answer: the geometric mean of the probabilities of its answer's tokens (None: none).
        evidence: the calibrated search score (0..1) of the moment it cites (0 for none);
            for "not found", 1 minus the best score the search found.

    Returns:
        ``decision × answer`` weighted 3:1 with the evidence, or the evidence alone with no
        token probabilities. Not fitted: benchmarks/ask.py reports how it is calibrated.
    """
    if decision is None and answer is None:
        return round(evidence, 4)
    token = (decision if decision is not None else 1.0) * (answer if answer is not None else 1.0)
    return round(0.75 * token + 0.25 * evidence, 4)


class TextAgent:
    """Answers questions about one video with a text-only chat model and the index.

    Args:
        tools: the video's tools.
        model: a text-only chat model (frames are never sent to it).
        model_name: how the answer names the model (its spec).
        budget: the limits (steps, tokens, seconds; frames are not used).
        abstain: an open answer whose confidence is below this says "Not found in this
            video." (0 keeps every answer).
        threshold: the calibrated search score (0..1) the moment an answer cites must reach,
            as the embedded answerer's must: under it an open answer says "Not found in
            this video." and a chosen option is marked a guess (``found`` false). None
            (the default) keeps every answer; `Library.ask` passes the search's threshold.
        on_step: called with each step as it happens.
    """

    def __init__(self, tools: VideoTools, model: ChatModel, *, model_name: str,
                 budget: Budget | None = None, abstain: float = ABSTAIN,
                 threshold: float | None = None,
                 on_step: Callable[[Step], None] | None = None) -> None:
        self.tools = tools
        self.model = model
        self.model_name = model_name
        self.budget = budget or Budget()
        self.abstain = abstain
        self.threshold = threshold
        self.on_step = on_step
        parameters = _parameters(model)
        self._logprobs = "logprobs" in parameters
        self._grammar = "grammar" in parameters

    def ask(self, question: str, options: Sequence[str] | None = None) -> Answer:
        """Answer `question` (with `options` for multiple choice).

        Raises:
            AskError: the model failed or ran past the time budget; the error's ``answer``
                holds the trace and cost so far.
        """
        self._meter = Meter(self.budget)
        self.options = list(options or [])
        self._answer = Answer(question=question, video_id=self.tools.video.id,
                              path=self.tools.path, text="", options=self.options or None,
                              found=False, model=self.model_name, route="fast")
        try:
            return self._ask(question)
        except (TimeSpent, ChatModelError) as exc:
            raise stopped(self._answer, self._meter, self._step, exc) from exc

    def _ask(self, question: str) -> Answer:
        moments = self._search(question, SEARCH_MOMENTS)
        for query in _reformulations(question, self.options):
            moments += self._search(query, 2 if self.options else 3)
        everything = self._read(0.0, self.tools.duration)
        limit = self._notes_tokens()
        if _tokens(everything) <= limit:
            notes, whole = everything, True
        else:
            notes, whole = self._zoomed(everything, moments, limit), False
        reply, parsed = self._answer_from(question, notes, whole)
        if (not parsed["found"] and not whole and not self.options
                and self._meter.steps < self.budget.steps - 1 and not self._meter.spent()):
            try:
                query = self._another_query(question)
                if query:
                    self._answer.route = "agent"
                    more = moments + self._search(query, SEARCH_MOMENTS)
                    again = self._answer_from(question, self._zoomed(everything, more, limit),
                                              whole)
                    moments, (reply, parsed) = more, again
            except TimeSpent as exc:  # the first answer stands
                spent = self._meter.time_spent
                self._step("error", observation=f"stopped: {spent} is spent"
                           + (f" ({exc.detail})" if exc.detail else ""))
                self._answer.notes.append(f"The second search was cut short: {spent} ran "
                                          "out.")
        return self._finish(reply, parsed, moments, everything)

    # -- searching and reading ---------------------------------------------------------------

    def _search(self, query: str, k: int) -> list[Moment]:
        return self._tool("search", {"query": query, "k": k}).moments

    def _tool(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        started = time.perf_counter()
        try:
            result = self.tools.call(name, arguments, max_frames=0)
        except ToolError as exc:
            self._step("tool", tool=name, arguments=arguments, observation=f"error: {exc}")
            return ToolResult(f"error: {exc}")
        self._step("tool", tool=name, arguments=arguments, observation=result.text,
                   seconds=time.perf_counter() - started)
        return result

    def _read(self, start: float, end: float) -> list[_Line]:
        """Every note of [start, end], in time order (each tool called once)."""
        lines: list[_Line] = []
        for name, label in READ_TOOLS.items():
            kinds = {"transcript": ("speech",), "screen_text": ("text",),
                     "objects": ("visual", "person"), "sounds": ("sound",)}[name]
            found = self.tools.observations(kinds, start, end)
            self._step("tool", tool=name, arguments={"start": round(start, 2),
                                                      "end": round(end, 2)},
                       observation=f"{len(found)} lines")
            lines.extend(_merge(found, label))
        return sorted(lines, key=lambda line: (line.start, line.end))

    def _notes_tokens(self) -> int:
        left = self.budget.tokens - REPLY_TOKENS * self.budget.steps
        return max(200, min(NOTES_TOKENS, left))

    def _zoomed(self, lines: list[_Line], moments: list[Moment], limit: int) -> list[_Line]:
        """An overview of the whole timeline plus the full notes around the best moments,
        within `limit` tokens."""
        best = sorted(moments, key=lambda m: -m.score)
        windows: list[tuple[float, float]] = []
        for moment in best:
            start, end = moment.start - WINDOW_PAD, moment.end + WINDOW_PAD
            if not any(s <= moment.start and moment.end <= e for s, e in windows):
                windows.append((start, end))
        near = []
        budget = limit * 0.6
        for start, end in windows:
            inside = [line for line in lines if line.end >= start and line.start <= end
                      and line not in near]
            if _tokens(near + inside) > budget:
                break
            near.extend(inside)
        overview = _overview(lines, self.tools.duration, limit - _tokens(near))
        self._step("tool", tool="overview", arguments={"segments": len(overview)},
                   observation=f"{len(overview)} segment lines; {len(near)} lines around "
                   f"{len(windows)} moments")
        return sorted(overview + near, key=lambda line: (line.start, line.end))

    # -- the model ---------------------------------------------------------------------------

    def _answer_from(self, question: str, notes: list[_Line],
                     whole: bool) -> tuple[ChatReply, dict[str, Any]]:
        messages = self._messages(question, notes, whole)
        if self._grammar:  # compact JSON: no whitespace tokens
            form: dict[str, Any] = {"grammar": self._gbnf()}
        else:
            form = {"response_format": {"type": "json_schema", "json_schema": {
                "name": "answer", "schema": self._schema()}}}
        reply = self._call(messages, max_tokens=REPLY_TOKENS, **form)
        return reply, self._parse(reply.text)

    def _gbnf(self) -> str:
        """The answer form as a GBNF grammar: `_schema` written without spare whitespace."""
        rules = ['times ::= "[" (num (", " num){0,2})? "]"',
                 'num ::= [0-9]{1,5} ("." [0-9]{1,2})?']
        if self.options:
            letters = " | ".join(f'"{letter(i)}"' for i in range(len(self.options)))
            root = f'root ::= "{{\\"choice\\": \\"" ({letters}) "\\", \\"times\\": " times "}}"'
        else:
            root = ('root ::= "{\\"answer\\": \\"" text "\\", \\"found\\": " '
                    '("true" | "false") ", \\"times\\": " times "}"')
            rules.append(f'text ::= [^"\\\\\\n]{{1,{ANSWER_CHARS}}}')
        return "\n".join([root, *rules])

    def _messages(self, question: str, notes: list[_Line], whole: bool) -> list[ChatMessage]:
        """The prompt; its notes trimmed (from the end, with a note) to fit the model."""
        messages = self._prompt(question, notes, whole)
        count = getattr(self.model, "count_tokens", None)
        room = getattr(self.model, "max_context", None)
        if count is None or not isinstance(room, int):
            return messages
        room = min(room, self.budget.tokens) - REPLY_TOKENS
        kept = list(notes)
        while kept and count(messages) > room:
            kept = kept[: int(len(kept) * 0.8)]
            messages = self._prompt(question, kept, whole)
        if len(kept) < len(notes):
            self._answer.notes.append(f"The video's notes were trimmed to {len(kept)} of "
                                      f"{len(notes)} lines to fit the model's context.")
        return messages

    def _prompt(self, question: str, notes: list[_Line], whole: bool) -> list[ChatMessage]:
        video = self.tools.video.info
        scope = ("all that was said and shown" if whole else
                 "an overview of the whole video and, in full, the parts that match the "
                 "question")
        system = (f"You answer questions about a video {video.duration:.0f} s long from its "
                  f"notes: {scope}, each line with its start and end in seconds. Use only the "
                  "notes. If they do not hold the answer, set found to false.")
        text = "\n".join(line.render() for line in notes) or "(the index holds no notes)"
        ask = [f"Question: {question}"]
        if self.options:
            ask.append("Options:\n" + "\n".join(f"{letter(i)}. {o}"
                                                for i, o in enumerate(self.options)))
            ask.append("Reply in JSON: the letter of the best option and the start times of "
                       "the lines it rests on.")
        else:
            ask.append("Reply in JSON: found, a short answer, and the start times of the "
                       "lines it rests on.")
        return [ChatMessage.system(system),
                ChatMessage.user(f"Notes:\n{text}\n\n" + "\n".join(ask))]

    def _schema(self) -> dict[str, Any]:
        times = {"type": "array", "items": {"type": "number"}, "maxItems": 3}
        if self.options:
            return {"type": "object", "properties": {
                "choice": {"type": "string",
                           "enum": [letter(i) for i in range(len(self.options))]},
                "times": times}, "required": ["choice", "times"]}
        return {"type": "object", "properties": {
            "answer": {"type": "string", "maxLength": ANSWER_CHARS},
            "found": {"type": "boolean"},
            "times": times}, "required": ["answer", "found", "times"]}

    def _parse(self, text: str) -> dict[str, Any]:
        """The reply's fields; a reply cut short or malformed counts as not found."""
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            match = re.search(r"\{.*\}", text, re.DOTALL)
            try:
                value = json.loads(match.group(0)) if match else {}
            except json.JSONDecodeError:
                value = {}
        if not isinstance(value, dict):
            value = {}
        times = [float(t) for t in value.get("times") or [] if isinstance(t, (int, float))]
        if self.options:
            raw = str(value.get("choice", "")).strip().upper()[:1]
            choice = ord(raw) - ord("A") if raw and raw.isalpha() else None
            if choice is None or not 0 <= choice < len(self.options):
                self._step("error", observation=f"no option in the reply: {text[:200]!r}")
                return {"found": False, "answer": NOT_FOUND, "choice": None, "times": times}
            return {"found": True, "answer": self.options[choice], "choice": choice,
                    "times": times}
        answer = str(value.get("answer") or "").strip()
        found = value.get("found") is True and bool(answer)
        if "found" not in value:
            self._step("error", observation=f"malformed reply: {text[:200]!r}")
        return {"found": found, "answer": answer if found else NOT_FOUND, "choice": None,
                "times": times}

    def _another_query(self, question: str) -> str:
        messages = [ChatMessage.system("You write search queries for a video index."),
                    ChatMessage.user(f"Question: {question}\nThe first search found nothing "
                                     "that answers it. Write other words to search for "
                                     "(at most six), as a JSON string.")]
        reply = self._call(messages, max_tokens=24, response_format={
            "type": "json_schema", "json_schema": {"name": "query", "schema": {
                "type": "string", "maxLength": 60}}})
        try:
            query = json.loads(reply.text)
        except json.JSONDecodeError:
            query = reply.text
        return str(query).strip().strip('"')[:60]

    def _call(self, messages: list[ChatMessage], **options: Any) -> ChatReply:
        spent = self._meter.spent()
        if spent == self._meter.time_spent:
            raise TimeSpent()
        if spent:
            raise AskError(f"stopped: {spent} is spent", self._partial(spent))
        if self._logprobs:
            options["logprobs"] = 5
        started = time.perf_counter()
        reply = chat_within(self._meter, self.model, messages, **options)
        self._meter.model_call(reply.prompt_tokens, reply.completion_tokens)
        self._step("model", observation=reply.text, seconds=time.perf_counter() - started)
        return reply

    def _partial(self, spent: str) -> Answer:
        self._step("error", observation=f"stopped: {spent} is spent")
        self._answer.text = f"No answer: {spent} ran out."
        self._answer.cost = self._meter.finish()
        return self._answer

    # -- the answer --------------------------------------------------------------------------

    def _finish(self, reply: ChatReply, parsed: dict[str, Any], moments: list[Moment],
                lines: list[_Line]) -> Answer:
        answer = self._answer
        cited = _cited(parsed["times"], lines)
        support = 1.0
        if parsed["found"]:
            if not self.options:  # the lines that hold the answer's words come first
                support, holding = _holding(parsed["answer"], lines)
                cited = holding + [line for line in cited if line not in holding]
            cited = cited[:3]
            evidence = _evidence_score(cited[:1], moments)
        else:  # the better the search's best match, the less sure "not found" is
            evidence = 1.0 - max((m.score for m in moments), default=0.0)
        decision, words = self._probabilities(reply, parsed)
        answer.found = parsed["found"]
        answer.text, answer.choice = parsed["answer"], parsed["choice"]
        answer.confidence = round(confidence(decision, words, evidence) * support, 4)
        weak = (answer.found and self.threshold is not None and evidence < self.threshold)
        if weak and self.options:
            answer.found = False
            answer.notes.append(f"The evidence for the chosen option is weak (search score "
                                f"{evidence:.2f}, below {self.threshold:.2f}): a guess.")
        elif weak or (answer.found and not self.options and answer.confidence < self.abstain):
            why = (f", but the line it cites scores {evidence:.2f} in the search, under its "
                   f"threshold {self.threshold:.2f}" if weak else
                   f" with confidence {answer.confidence:.2f}, under the abstention threshold "
                   f"{self.abstain:.2f}")
            answer.notes.append(f"The model answered {parsed['answer']!r}{why}.")
            answer.found, answer.text = False, NOT_FOUND
            answer.confidence = round(1.0 - answer.confidence, 4)
        if answer.found:
            answer.evidence = [self._moment(line, moments) for line in cited]
            if not answer.evidence:
                answer.notes.append("The model cited no line of the notes.")
        answer.notes.append("A text-only model answered from what the index heard and read "
                            "(speech, screen text, object tags, sounds); it saw no frames.")
        self._step("answer", observation=answer.text)
        answer.cost = self._meter.finish()
        return answer

    def _probabilities(self, reply: ChatReply,
                       parsed: dict[str, Any]) -> tuple[float | None, float | None]:
        if not reply.logprobs:
            return None, None
        if self.options:
            letters = {letter(i) for i in range(len(self.options))}
            return _share(reply, '"choice":', letters, letter(parsed["choice"])
                          if parsed["choice"] is not None else ""), None
        decision = _share(reply, '"found":', {"true", "false"},
                          "true" if parsed["found"] else "false")
        words = _mean_probability(reply, parsed["answer"]) if parsed["found"] else None
        return decision, words

    def _moment(self, line: _Line, moments: list[Moment]) -> Moment:
        score = _evidence_score([line], moments)
        evidence = Evidence(channel="words", kind=line.kind, start=line.start, end=line.end,
                            text=line.text, score=score)
        end = max(line.end, line.start + 0.5)
        return Moment(video_id=self.tools.video.id, path=self.tools.path, start=line.start,
                      end=min(end, self.tools.duration), score=score, evidence=[evidence])

    def _step(self, kind: str, **fields: Any) -> None:
        fields["observation"] = fields.get("observation", "")[:4000]
        step = Step(index=len(self._answer.trace), kind=kind, **fields)
        self._answer.trace.append(step)
        if self.on_step is not None:
            self.on_step(step)


# -- helpers -----------------------------------------------------------------------------------


def _parameters(model: ChatModel) -> set[str]:
    try:
        return set(inspect.signature(model.chat).parameters)
    except (TypeError, ValueError):
        return set()


def _reformulations(question: str, options: Sequence[str]) -> list[str]:
    """Cheap other searches: the question's content words, and each option."""
    words = [w for w in re.findall(r"[\w'-]+", question.lower()) if w not in _STOP]
    queries = []
    keywords = " ".join(words)
    if keywords and keywords != question.lower().strip(" ?.!"):
        queries.append(keywords)
    queries.extend(o for o in options if o.strip())
    return queries


def _merge(observations: Sequence[Observation], label: str) -> list[_Line]:
    """Lines for `observations`; the same words on consecutive observations (screen text read
    on several frames) become one line spanning them."""
    lines: list[_Line] = []
    for o in observations:
        text = " ".join((o.text or o.kind).split())
        if o.kind == "face" or (o.kind == "sound" and text.lower() in _SPEECH_SOUNDS):
            continue
        if lines and lines[-1].text == text and o.start - lines[-1].end <= 2.0:
            last = lines[-1]
            lines[-1] = _Line(last.start, max(last.end, o.end), label, text, o.kind)
            continue
        lines.append(_Line(o.start, o.end, label, text, o.kind))
    return lines


def _tokens(lines: Sequence[_Line]) -> int:
    return int(sum(len(line.render()) + 1 for line in lines) / _CHARS_PER_TOKEN)


def _overview(lines: list[_Line], duration: float, tokens: int) -> list[_Line]:
    """One line per segment of the timeline, its notes cut to fit `tokens` in all."""
    if tokens < 40 or not lines:
        return []
    segments = max(1, min(24, int(tokens // 30)))
    span = duration / segments
    chars = int(tokens * _CHARS_PER_TOKEN / segments) - 24
    overview = []
    for i in range(segments):
        start, end = i * span, (i + 1) * span
        inside = [line for line in lines if start <= line.start < end]
        if not inside:
            continue
        words = " | ".join(f"{line.label}: {line.text}" for line in inside)
        if len(words) > chars:
            words = words[: max(chars - 1, 0)].rstrip() + "…"
        overview.append(_Line(start, end, "overview", words, "overview"))
    return overview


def _cited(times: Sequence[float], lines: Sequence[_Line]) -> list[_Line]:
    """The note lines the cited times point at (a time inside a line, or its start within
    1 s); overview lines are not evidence."""
    cited: list[_Line] = []
    for t in times:
        candidates = [line for line in lines if line.kind != "overview"
                      and line.start - 1.0 <= t <= line.end + 0.5]
        if candidates:
            line = min(candidates, key=lambda line: abs(line.start - t))
            if line not in cited:
                cited.append(line)
    return cited


def _holding(answer: str, lines: Sequence[_Line]) -> tuple[float, list[_Line]]:
    """How much of the answer the notes hold (the share of its words found in the line that
    holds most of them, 0..1), and the lines that hold its words, most first. An answer the
    notes do not hold is likely invented."""
    words = {w for w in re.findall(r"\w+", answer.lower()) if w not in _STOP}
    if not words:
        return 1.0, []
    scored = []
    for line in lines:
        if line.kind == "overview":
            continue
        said = set(re.findall(r"\w+", line.text.lower()))
        held = sum(any(_same_word(word, other) for other in said) for word in words)
        if held:
            scored.append((held, line))
    scored.sort(key=lambda pair: -pair[0])
    best = scored[0][0] if scored else 0
    return best / len(words), [line for count, line in scored if count == best][:2]


def _same_word(one: str, other: str) -> bool:
    """The same word, or one with an ending added ("Monday" and "Mondays", "water" and
    "watered"): an answer names what the notes say in another form."""
    short, long = sorted((one, other), key=len)
    return short == long or (len(short) >= 4 and len(long) - len(short) <= 2
                             and long.startswith(short))


def _evidence_score(lines: Sequence[_Line], moments: Sequence[Moment]) -> float:
    """The best calibrated search score of a moment that overlaps one of `lines`."""
    return max((m.score for m in moments for line in lines
                if m.start <= line.end and line.start <= m.end), default=0.0)


def _share(reply: ChatReply, key: str, words: set[str], chosen: str) -> float | None:
    """The probability of `chosen` among `words` at the first token after `key`."""
    position = "".join(t.token for t in reply.logprobs).find(key)
    if position < 0:
        return None
    offset, at = 0, None
    for token in reply.logprobs:
        if offset >= position + len(key) and token.token.strip():
            at = token
            break
        offset += len(token.token)
    if at is None:
        return None
    mass: dict[str, float] = {}
    for text, logprob in (*at.top, (at.token, at.logprob)):
        word = text.strip().strip('"').lower()
        for candidate in words:
            if word and candidate.lower().startswith(word):
                mass[candidate] = max(mass.get(candidate, 0.0), math.exp(logprob))
    total = sum(mass.values())
    return round(mass.get(chosen, 0.0) / total, 4) if total else None


def _mean_probability(reply: ChatReply, span: str) -> float | None:
    """The geometric mean of the probabilities of the tokens that wrote `span`."""
    spelled = "".join(t.token for t in reply.logprobs)
    start = spelled.find(span)
    if start < 0 or not span:
        return None
    end, offset, logprobs = start + len(span), 0, []
    for token in reply.logprobs:
        after = offset + len(token.token)
        if after > start and offset < end:
            logprobs.append(token.logprob)
        offset = after
    return round(math.exp(sum(logprobs) / len(logprobs)), 4) if logprobs else None
