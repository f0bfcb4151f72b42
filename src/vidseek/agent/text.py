"""The text agent: answers with a text-only language model (``llm``, ``llamacpp:...``) from
what the index holds, never sending it a picture.

1. **Search** the video for the question and for cheap reformulations of it (its content
   words; each option of a multiple-choice question).
2. **Read**: the transcript, screen text, object tags and sounds (the ``transcript``,
   ``screen_text``, ``objects`` and ``sounds`` tools), each line with its times. When the
   whole video's notes fit the prompt budget (`Budget.tokens`, at most `NOTES_TOKENS`), the
   model reads them all.
3. **Check** (long videos, open questions): the model is asked whether each line of the
   best moments answers the question (one-token yes/no, the LLM reranker's prompt), and
   each line of the best screen text, searched on its own (speech's many lines outrank the
   sign that answers). When
   none does, it imagines the line the video would hold if it answered (details guessed, as
   HyDE does), that line is searched and what it finds is checked. The model then reads the
   windows around the lines it judged an answer, those lines named beside the question: a
   1.5B model picks an answer out of a few lines far better than out of 1,500 tokens. When
   no line passed, it reads a compact overview of the whole timeline (one line per segment)
   and, in full, the windows around the best moments.
4. **Answer** in a short JSON form constrained by a grammar or schema (the answer, whether
   the notes hold it, the times it rests on; or the option's letter and the times), or
   "Not found in this video.". It is kept when the line it rests on clears the search
   threshold, or, on a long video, when the model's check of that line stands (a
   paraphrased question scores the line that answers it low in the search). When no line
   the model judged an answer holds the words it wrote (it copied the line beside, or wrote
   a time), the answer is the line it judged likeliest. A video read whole is not checked:
   on the fact videos checks saved no right answer and let absent ones through.

The notes come first and the question last, so llama.cpp reuses the cached notes of a video
across questions. Every call gets ``timeout=`` the time left of `Budget.seconds`, and none
starts once it is spent (`chat_within`); llama.cpp stops generating at that deadline but
cannot stop while it reads the prompt (or loads the model, on the first call). Time that runs
out before the answer fails with `AskError`, which keeps the partial trace; a check it cuts
short is left out.

**Confidence** comes from the model's token probabilities and the evidence scores (see
`confidence`): the probability of its found/not-found decision (or of the chosen option's
letter among the letters), the geometric mean of its answer's token probabilities, and the
calibrated search score of the line it rests on or the model's check of it, whichever is
larger; an open answer's is then scaled by the share of its words the notes hold (an answer
the notes do not hold is likely invented). The evidence is the lines that hold the answer's
words, then the lines at the times it cites, the line the check likes best first.
An answer below ``abstain`` becomes "Not found in this video." (benchmarks/ask.py fits that
threshold on some fact-video seeds and judges it on held-out ones).
"""

from __future__ import annotations

import inspect
import json
import math
import re
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vidseek.agent.budget import Budget, Meter, TimeSpent, chat_within, stopped
from vidseek.agent.replies import NOT_FOUND, letter
from vidseek.agent.tools import ToolError, ToolResult, VideoTools
from vidseek.errors import AskError
from vidseek.models.llm_rerank import conversation, logit
from vidseek.models.messages import ChatMessage, ChatReply
from vidseek.models.protocols import ChatModel, ChatModelError
from vidseek.models.scoring import YES_NO_ALTERNATIVES, yes_no_from_reply
from vidseek.types import Answer, Evidence, Moment, Observation, Step

if TYPE_CHECKING:
    from vidseek.search.calibration import Calibration

__all__ = ["ABSTAIN", "CHECK", "DEFAULT_MODEL", "NOTES_TOKENS", "READ_TOOLS", "TextAgent",
           "calibrated_gate", "confidence", "default_model", "is_text_only"]

NOTES_TOKENS = 1500
"""Prompt tokens the video's notes may take at most (2 busy cores read ~130 tokens/s)."""
READ_TOOLS = {"transcript": "said", "screen_text": "screen", "objects": "seen",
              "sounds": "sound"}
"""The tools the agent reads with, and how each line is labelled for the model."""
_TOOL_KINDS = {"transcript": ("speech",), "screen_text": ("text",),
               "objects": ("visual", "person"), "sounds": ("sound",)}
# (the observation kinds each reading tool returns)
SEARCH_MOMENTS = 5
"""Moments searched for the question."""
WINDOW_PAD = 10.0
"""Seconds read on each side of a moment the search found (long videos)."""
ABSTAIN = 0.44
"""Open answers under this confidence say "Not found in this video.": fitted by
benchmarks/ask.py with llm-small on fact-video seeds 0-1 (the lowest confidence at which at
most 5% of absent questions get an answer); on held-out seed 3 it kept 0.50 of 0.62 right
answers and cut absent questions answered from 0.89 to 0.00."""
CHECK = 0.5
"""The P(yes) at which the model has judged a line an answer (yes likelier than no; not
fitted): such lines are read first on a long video, and without a calibrated ``check_gate``
they keep an answer whose line scores under the search threshold."""
CHECKED_LINES = 2
"""Cited lines the model checks (each check is a one-token call)."""
CANDIDATES = 5
"""Long videos: the lines of this many of the best moments are checked before answering."""
SCREEN_TEXT = 2
"""...and of this many of the best moments of screen text, searched on its own: speech's
many lines outrank a sign that answers (held-out needles: signs 12th-52nd among all notes
were 1st-2nd among screen text; right before any gate 21 -> 24 of 30). Object tags
searched so found one picture more, lost a spoken needle to a tag and gave absent questions
more to say yes to ("web site" for "how do I get online for free")."""
IMAGINED_CANDIDATES = 3
"""...and of this many found by the line the model imagines, when none of those passed."""
FOCUSED_LINES = 3
"""The lines that passed the check whose windows the model reads (the likeliest first)."""
IMAGINED_CHARS = 100
"""Characters of the line the model imagines to search with."""
REPLY_TOKENS = 96
"""Tokens an answer may take."""
ANSWER_CHARS = 120
"""Characters an open answer may take."""
WHOLE = "all that was said and shown"
ZOOMED = "an overview of the whole video and, in full, the parts that match the question"
FOCUSED = "the parts of the video that match the question"
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


@dataclass(frozen=True, slots=True)
class _Weighed:
    """What an answer rests on (`TextAgent._weigh`)."""

    found: bool
    cited: list[_Line]
    """The lines it rests on, best first."""
    support: float
    """The share of the answer's words the notes hold (1 for none to hold)."""
    evidence: float
    """The search score of the first cited line (for "not found": 1 minus the best)."""
    checks: dict[_Line, float] = field(default_factory=dict)
    """The model's probability that a line answers, for the lines it checked."""
    replaced: _Line | None = None
    """The line that is the answer when no line the model judged an answer holds the words
    the model wrote (it copied a line beside it, or wrote a time or the question's words)."""

    @property
    def check(self) -> float | None:
        """The check of the first cited line (None: not checked)."""
        return self.checks.get(self.cited[0]) if self.cited else None


def calibrated_gate(calibration: Calibration) -> Callable[[float, float], bool]:
    """A `TextAgent` ``check_gate`` from the search calibration fitted with the same model as
    search's reranker (``calibration-rerank-llm.json``): the check is that reranker's yes/no
    question, so its ``rerank`` channel (features: the log-odds of P(yes) and of the search
    score) says how likely the line is to answer, and its threshold was chosen on needle
    haystacks for few answers to absent questions."""

    from vidseek.search.calibration import rerank_features

    def stands(check: float, score: float) -> bool:
        features = rerank_features(logit(check), score)  # as search's rerank scores a hit
        return calibration.probability("rerank", features) >= calibration.threshold

    return stands


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
            this video." (unless its check passes, below) and a chosen option is marked a
            guess (``found`` false). None (the default) keeps every answer; `Library.ask`
            passes the search's threshold.
        check_gate: whether an open answer whose line scores under `threshold` stands on
            the model's check of that line, called with the check's P(yes) and the line's
            search score. None: P(yes) >= `CHECK`. `Library.ask` passes `calibrated_gate`
            of the search calibration fitted with the model as reranker, when there is one.
        on_step: called with each step as it happens.
    """

    def __init__(self, tools: VideoTools, model: ChatModel, *, model_name: str,
                 budget: Budget | None = None, abstain: float = ABSTAIN,
                 threshold: float | None = None,
                 check_gate: Callable[[float, float], bool] | None = None,
                 on_step: Callable[[Step], None] | None = None) -> None:
        self.tools = tools
        self.model = model
        self.model_name = model_name
        self.budget = budget or Budget()
        self.abstain = abstain
        self.threshold = threshold
        self.check_gate = check_gate
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
        self._whole = False
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
        checks: dict[_Line, float] = {}
        self._whole = _tokens(everything) <= limit
        if self._whole:
            notes, scope = everything, WHOLE
        elif self.options:
            notes, scope = self._zoomed(everything, _best_first(moments), limit), ZOOMED
        else:
            good = self._candidates(question, moments, everything, checks, CANDIDATES)
            if any(line.kind == "text" for line in everything):
                shown = self._search(question, SEARCH_MOMENTS, ("text",))
                moments += shown
                good = self._candidates(question, shown, everything, checks, SCREEN_TEXT)
            if not good:
                good = self._imagine(question, moments, everything, checks)
            if good:  # a small model answers far better from a few lines than from many
                notes, scope = _around(everything, good), FOCUSED
            else:
                notes, scope = self._zoomed(everything, _best_first(moments), limit), ZOOMED
        reply, parsed = self._answer_from(question, notes, scope,
                                          _passed(checks)[:FOCUSED_LINES])
        weighed = self._weigh(question, parsed, moments, everything, checks)
        return self._finish(reply, parsed, weighed, moments)

    def _candidates(self, question: str, moments: list[Moment], lines: list[_Line],
                    checks: dict[_Line, float], count: int) -> list[_Line]:
        """Check the lines of the best `count` moments not checked yet (into `checks`);
        return every checked line the model judged an answer, likeliest first."""
        for line in _lines_of(_best_first(moments), lines, skip=checks)[:count]:
            if (p := self._check(question, line)) is not None:
                checks[line] = p
        return _passed(checks)

    def _imagine(self, question: str, moments: list[Moment], lines: list[_Line],
                 checks: dict[_Line, float]) -> list[_Line]:
        """Search again with the line the model imagines would answer (its moments added to
        `moments`), and check what that finds."""
        if self._meter.spent():
            return []
        try:
            query = self._imagined_line(question)
        except TimeSpent:
            return []
        if not query:
            return []
        self._answer.route = "agent"
        found = self._search(query, SEARCH_MOMENTS)
        moments += found
        return self._candidates(question, found, lines, checks, IMAGINED_CANDIDATES)

    # -- searching and reading ---------------------------------------------------------------

    def _search(self, query: str, k: int, kinds: Sequence[str] = ()) -> list[Moment]:
        arguments: dict[str, Any] = {"query": query, "k": k}
        if kinds:
            arguments["kinds"] = list(kinds)
        return self._tool("search", arguments).moments

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
            found = self.tools.observations(_TOOL_KINDS[name], start, end)
            self._step("tool", tool=name, arguments={"start": round(start, 2),
                                                      "end": round(end, 2)},
                       observation=f"{len(found)} lines")
            lines.extend(_merge(found, label))
        return sorted(lines, key=lambda line: (line.start, line.end))

    def _notes_tokens(self) -> int:
        left = self.budget.tokens - REPLY_TOKENS * self.budget.steps
        return max(200, min(NOTES_TOKENS, left))

    def _zoomed(self, lines: list[_Line], moments: list[Moment], limit: int) -> list[_Line]:
        """An overview of the whole timeline plus the full notes around `moments` (the ones
        that matter most first), within `limit` tokens."""
        windows: list[tuple[float, float]] = []
        for moment in moments:
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

    def _answer_from(self, question: str, notes: list[_Line], scope: str,
                     likely: Sequence[_Line] = ()) -> tuple[ChatReply, dict[str, Any]]:
        messages = self._messages(question, notes, scope, likely)
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

    def _messages(self, question: str, notes: list[_Line], scope: str,
                  likely: Sequence[_Line]) -> list[ChatMessage]:
        """The prompt; its notes trimmed (from the end, with a note) to fit the model."""
        messages = self._prompt(question, notes, scope, likely)
        count = getattr(self.model, "count_tokens", None)
        room = getattr(self.model, "max_context", None)
        if count is None or not isinstance(room, int):
            return messages
        room = min(room, self.budget.tokens) - REPLY_TOKENS
        kept = list(notes)
        while kept and count(messages) > room:
            kept = kept[: int(len(kept) * 0.8)]
            messages = self._prompt(question, kept, scope, likely)
        if len(kept) < len(notes):
            self._answer.notes.append(f"The video's notes were trimmed to {len(kept)} of "
                                      f"{len(notes)} lines to fit the model's context.")
        return messages

    def _prompt(self, question: str, notes: list[_Line], scope: str,
                likely: Sequence[_Line]) -> list[ChatMessage]:
        video = self.tools.video.info
        system = (f"You answer questions about a video {video.duration:.0f} s long from its "
                  f"notes: {scope}, each line with its start and end in seconds. Use only the "
                  "notes. If they do not hold the answer, set found to false.")
        text = "\n".join(line.render() for line in notes) or "(the index holds no notes)"
        ask = [f"Question: {question}"]
        if likely:  # the lines the model judged an answer, beside the question it answers
            ask.append("The lines judged likeliest to answer it:\n"
                       + "\n".join(line.render() for line in likely))
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

    def _imagined_line(self, question: str) -> str:
        """A line the video might hold if it answered (its details guessed), to search with:
        a paraphrased question shares few words with the line that answers it, and the
        line it imagines shares more (as HyDE searches with a written answer)."""
        messages = [ChatMessage.system("You help search the notes of a video: what was said "
                                       "and what was shown on screen."),
                    ChatMessage.user(f"Question: {question}\nThe notes found so far do not "
                                     "answer it. Imagine the sentence the video would say, or "
                                     "the sign it would show, if it held the answer (guess "
                                     "the details). Reply with that line only, in quotes.")]
        if self._grammar:
            chars = f'[^"\\\\\\n{{}}]{{1,{IMAGINED_CHARS}}}'  # no JSON object inside
            form: dict[str, Any] = {"grammar": f'root ::= "\\"" {chars} "\\""'}
        else:
            form = {"response_format": {"type": "json_schema", "json_schema": {
                "name": "line", "schema": {"type": "string", "maxLength": IMAGINED_CHARS}}}}
        reply = self._call(messages, max_tokens=32, **form)
        try:
            line = json.loads(reply.text)
        except json.JSONDecodeError:
            line = reply.text
        return str(line).strip().strip('"')[:IMAGINED_CHARS]

    def _check(self, question: str, line: _Line) -> float | None:
        """The model's probability that `line` answers `question` (the yes/no judgement
        the LLM reranker makes), or None when the model gives no token probabilities, the
        budget is spent or runs out during the call, or the model fails."""
        if not self._logprobs or self._meter.spent():
            return None
        try:
            reply = self._call(conversation(question, line.text), step=False, max_tokens=1,
                               temperature=0.0, logprobs=YES_NO_ALTERNATIVES)
            return round(yes_no_from_reply(reply), 4)
        except TimeSpent:  # unchecked: the search score alone decides
            return None
        except ChatModelError as exc:
            self._step("error", observation=f"check failed: {exc}")
            return None

    def _call(self, messages: list[ChatMessage], *, step: bool = True,
              **options: Any) -> ChatReply:
        spent = self._meter.spent()
        if spent == self._meter.time_spent:
            raise TimeSpent()
        if spent:
            raise AskError(f"stopped: {spent} is spent", self._partial(spent))
        if self._logprobs:
            options.setdefault("logprobs", 5)
        started = time.perf_counter()
        reply = chat_within(self._meter, self.model, messages, **options)
        self._meter.model_call(reply.prompt_tokens, reply.completion_tokens, step=step)
        self._step("model", observation=reply.text, seconds=time.perf_counter() - started)
        return reply

    def _partial(self, spent: str) -> Answer:
        self._step("error", observation=f"stopped: {spent} is spent")
        self._answer.text = f"No answer: {spent} ran out."
        self._answer.cost = self._meter.finish()
        return self._answer

    # -- the answer --------------------------------------------------------------------------

    def _weigh(self, question: str, parsed: dict[str, Any], moments: list[Moment],
               lines: list[_Line], checks: dict[_Line, float]) -> _Weighed:
        """What an answer rests on: the lines it cites (those that hold its words first),
        how much of it they hold, their search score and the model's own check (lines in
        `checks` are not checked again)."""
        if not parsed["found"]:  # the better the search's best match, the less sure
            return _Weighed(False, [], 1.0, 1.0 - max((m.score for m in moments), default=0.0))
        cited = _cited(parsed["times"], lines, prefer=_passed(checks))
        support, holding = 1.0, []
        if not self.options:  # the lines that hold the answer's words come first
            support, holding = _holding(parsed["answer"], lines)
            cited = holding + [line for line in cited if line not in holding]
        # checked on long videos only: on the fact videos, read whole, checks saved no right
        # answer, let absent ones through (seeds 5-6: 3 of 36 -> 5) and put a wrong line first
        if not self.options and not self._whole:
            for line in cited[:CHECKED_LINES]:
                if line not in checks and (p := self._check(question, line)) is not None:
                    checks[line] = p
            cited.sort(key=lambda line: -checks.get(line, -1.0))  # stable: unchecked keep order
        good = _passed(checks)
        replaced = None
        if (good and not self.options and all(line in checks for line in holding)
                and not any(line in good for line in holding)):
            replaced, support = good[0], 1.0
            cited = [replaced] + [line for line in cited if line != replaced]
        cited = cited[:3]
        return _Weighed(True, cited, support, _evidence_score(cited[:1], moments), checks,
                        replaced)

    def _kept(self, weighed: _Weighed) -> bool:
        """Whether an answer passes the gate: the line it rests on clears the search
        threshold, or its check (long videos) does (`check_gate`, else P(yes) >= `CHECK`)."""
        if not weighed.found or self.threshold is None or weighed.evidence >= self.threshold:
            return weighed.found
        if weighed.check is None:
            return False
        if self.check_gate is not None:
            return self.check_gate(weighed.check, weighed.evidence)
        return weighed.check >= CHECK

    def _finish(self, reply: ChatReply, parsed: dict[str, Any], weighed: _Weighed,
                moments: list[Moment]) -> Answer:
        answer = self._answer
        decision, words = self._probabilities(reply, parsed)
        answer.found = parsed["found"]
        answer.text, answer.choice = parsed["answer"], parsed["choice"]
        if answer.found and weighed.replaced is not None:
            answer.notes.append(f"The model answered {answer.text!r}, which no line it judged "
                                "an answer holds; the answer is the line it judged likeliest.")
            answer.text = weighed.replaced.text
        evidence = max(weighed.evidence, weighed.check or 0.0)
        answer.confidence = round(confidence(decision, words, evidence) * weighed.support, 4)
        weak = answer.found and not self._kept(weighed)
        if weak and self.options:
            answer.found = False
            answer.notes.append(f"The evidence for the chosen option is weak (search score "
                                f"{weighed.evidence:.2f}, below {self.threshold:.2f}): a "
                                "guess.")
        elif weak or (answer.found and not self.options and answer.confidence < self.abstain):
            why = (f", but the line it cites scores {weighed.evidence:.2f} in the search, under "
                   f"its threshold {self.threshold:.2f}"
                   + (f", and the model judged it an answer with probability "
                      f"{weighed.check:.2f}" if weighed.check is not None else "")
                   if weak else
                   f" with confidence {answer.confidence:.2f}, under the abstention threshold "
                   f"{self.abstain:.2f}")
            answer.notes.append(f"The model answered {parsed['answer']!r}{why}.")
            answer.found, answer.text = False, NOT_FOUND
            answer.confidence = round(1.0 - answer.confidence, 4)
        if answer.found:
            answer.evidence = [self._moment(line, moments, weighed.checks.get(line))
                               for line in weighed.cited]
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

    def _moment(self, line: _Line, moments: list[Moment], check: float | None) -> Moment:
        score = _evidence_score([line], moments)
        evidence = [Evidence(channel="words", kind=line.kind, start=line.start, end=line.end,
                             text=line.text, score=score)]
        if check is not None:  # the model's own judgement that the line answers
            evidence.append(Evidence(channel="check", kind=line.kind, start=line.start,
                                     end=line.end, text=line.text, score=check))
        end = max(line.end, line.start + 0.5)
        return Moment(video_id=self.tools.video.id, path=self.tools.path, start=line.start,
                      end=min(end, self.tools.duration), score=max(score, check or 0.0),
                      evidence=evidence)

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


def _passed(checks: dict[_Line, float]) -> list[_Line]:
    """The checked lines the model judged an answer (P(yes) >= `CHECK`), likeliest first."""
    return sorted((line for line, p in checks.items() if p >= CHECK),
                  key=lambda line: -checks[line])


def _best_first(moments: Sequence[Moment]) -> list[Moment]:
    return sorted(moments, key=lambda m: -m.score)


def _lines_of(moments: Sequence[Moment], lines: Sequence[_Line],
              skip: Collection[_Line] = ()) -> list[_Line]:
    """The note lines the moments' evidence points at (same kind, overlapping; the same words
    first), in the moments' order, each once, none of `skip`."""
    found: list[_Line] = []
    for moment in moments:
        for evidence in moment.evidence:
            overlapping = [line for line in lines if line.kind == evidence.kind
                           and line.start <= evidence.end and evidence.start <= line.end
                           and line not in skip and line not in found]
            if overlapping:
                found.append(max(overlapping, key=lambda line: (
                    line.text == evidence.text,
                    min(line.end, evidence.end) - max(line.start, evidence.start))))
    return found


def _around(lines: Sequence[_Line], good: Sequence[_Line]) -> list[_Line]:
    """The lines within `WINDOW_PAD` of the first `FOCUSED_LINES` of `good`, in time order."""
    windows = [(line.start - WINDOW_PAD, line.end + WINDOW_PAD)
               for line in good[:FOCUSED_LINES]]
    return [line for line in lines if line.kind != "overview"
            and any(line.end >= start and line.start <= end for start, end in windows)]


def _cited(times: Sequence[float], lines: Sequence[_Line],
           prefer: Collection[_Line] = ()) -> list[_Line]:
    """The note lines the cited times point at (a time inside a line, or its start within
    1 s; of lines that start as near, one of `prefer`); overview lines are not evidence."""
    cited: list[_Line] = []
    for t in times:
        candidates = [line for line in lines if line.kind != "overview"
                      and line.start - 1.0 <= t <= line.end + 0.5]
        if candidates:
            line = min(candidates, key=lambda line: (abs(line.start - t), line not in prefer))
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
