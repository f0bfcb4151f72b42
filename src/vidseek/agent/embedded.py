"""The embedded answerer: answers from the index alone, with no generative model.

- **Open questions** get the words of the best moment the search finds for the question
  (a sentence that was said, a line written on screen, an object label), when its
  calibrated score clears the search threshold; otherwise "Not found in this video.".
- **Multiple choice**: each option, read together with the question, is compared with the
  text embedder against what the index holds near the question and near that option
  (speech, screen text, labels, captions); the option closest to some piece of evidence
  wins, and a softmax over the options' best similarities is its confidence.

It cannot see actions, count, read a scene's layout or reason about order and time beyond
what the index's words say; every answer says so in its notes. A vision-language model
(``model=``) is what those questions need.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from vidseek.agent.replies import NOT_FOUND
from vidseek.agent.tools import VideoTools
from vidseek.types import Answer, Evidence, Moment, Step

if TYPE_CHECKING:
    from vidseek.models.protocols import TextEmbedder

__all__ = ["EmbeddedAnswerer", "LIMITS"]

LIMITS = ("The embedded answerer has no generative model: it answers with the words of the "
          "best-matching moment in the index (speech, screen text, object labels) and picks "
          "options by text similarity to them. It cannot see actions, count or reason about "
          "time; give a vision-language model (--model) for that.")
QUESTION_MOMENTS = 10
"""Moments searched for the question."""
OPTION_MOMENTS = 3
"""Moments searched for each option (with the question)."""
TEMPERATURE = 0.02
"""Of the softmax that turns the options' cosine similarities into a confidence: e5
similarities of related texts differ by a few hundredths."""


@dataclass(frozen=True, slots=True)
class _Passage:
    """One piece of evidence: an observation's words inside a moment."""

    evidence: Evidence
    moment: Moment


class EmbeddedAnswerer:
    """Answers with the index and the text embedder only.

    Args:
        tools: the video's tools (for its search).
        embedder: the library's text embedder.
        threshold: the calibrated score an open answer's moment must reach: the search's
            threshold (see docs/decisions.md for why not one fitted on fact videos).
        on_step: called with each step as it happens.
    """

    name = "embedded"

    def __init__(self, tools: VideoTools, embedder: TextEmbedder, *, threshold: float,
                 on_step: Callable[[Step], None] | None = None) -> None:
        self.tools = tools
        self.embedder = embedder
        self.threshold = threshold
        self.on_step = on_step

    def ask(self, question: str, options: Sequence[str] | None = None) -> Answer:
        started = time.perf_counter()
        answer = Answer(question=question, video_id=self.tools.video.id, path=self.tools.path,
                        text="", options=list(options) if options else None, model=self.name,
                        route="embedded", notes=[LIMITS])
        moments = self._search(answer, question, QUESTION_MOMENTS)
        if options:
            for option in options:
                moments += self._search(answer, f"{question} {option}", OPTION_MOMENTS)
            self._choose(answer, question, list(options), moments)
        else:
            self._extract(answer, moments)
        self._record(answer, Step(index=len(answer.trace), kind="answer",
                                  observation=answer.text))
        answer.cost.seconds = round(time.perf_counter() - started, 3)
        return answer

    def _search(self, answer: Answer, query: str, k: int) -> list[Moment]:
        started = time.perf_counter()
        result = self.tools.call("search", {"query": query, "k": k}, max_frames=0)
        self._record(answer, Step(index=len(answer.trace), kind="tool", tool="search",
                                  arguments={"query": query, "k": k}, observation=result.text,
                                  seconds=time.perf_counter() - started))
        return result.moments

    def _extract(self, answer: Answer, moments: list[Moment]) -> None:
        """An open question: the best moment's words, or not found."""
        found = [m for m in moments if m.score >= self.threshold]
        best = max(moments, key=lambda m: m.score, default=None)
        if not found:
            answer.found, answer.text = False, NOT_FOUND
            answer.confidence = round(1.0 - (best.score if best else 0.0), 4)
            return
        answer.text = found[0].evidence[0].text
        answer.confidence = found[0].score
        answer.evidence = found[:3]

    def _choose(self, answer: Answer, question: str, options: list[str],
                moments: list[Moment]) -> None:
        """Multiple choice: the option most similar to some piece of evidence."""
        passages = _passages(moments)
        claims = self.embedder.queries([f"{question} {option}" for option in options])
        if passages:
            texts = self.embedder.passages([p.evidence.text for p in passages])
            similarity = claims @ texts.T  # options x passages
        else:  # nothing indexed to compare with: the question's words alone
            answer.notes.append("The index holds no words for this video, so the choice is a "
                                "guess from the question and options alone.")
            similarity = claims @ self.embedder.passages([question]).T
        best = similarity.max(axis=1)
        weights = np.exp((best - best.max()) / TEMPERATURE)
        choice = int(np.argmax(best))
        answer.choice, answer.text = choice, options[choice]
        answer.confidence = round(float(weights[choice] / weights.sum()), 4)
        answer.found = False
        if passages:
            passage = passages[int(np.argmax(similarity[choice]))]
            answer.evidence = [passage.moment.model_copy(update={"evidence": [passage.evidence]})]
            # a choice is always made; it is "found" only when its evidence answers the
            # question as well as a search hit must
            answer.found = passage.moment.score >= self.threshold
            if not answer.found:
                answer.notes.append(
                    f"The best evidence for this choice is weak (score "
                    f"{passage.moment.score:.2f}, below {self.threshold:.2f}): a guess.")

    def _record(self, answer: Answer, step: Step) -> None:
        answer.trace.append(step)
        if self.on_step is not None:
            self.on_step(step)


def _passages(moments: list[Moment]) -> list[_Passage]:
    """Each distinct piece of evidence in `moments`, once."""
    seen: set[tuple] = set()
    passages = []
    for moment in moments:
        for evidence in moment.evidence:
            key = (evidence.kind, evidence.start, evidence.end, evidence.text)
            if evidence.text.strip() and key not in seen:
                seen.add(key)
                passages.append(_Passage(evidence, moment))
    return passages
