"""Judgements read from a chat model's token probabilities rather than from its words.

* `yes_probability`: how likely the model is to answer "yes" to a question (is this passage
  relevant to the query? does this evidence answer the question?), from the probabilities of
  its first token: P(yes) / (P(yes) + P(no)). One short call with a one-token reply: the
  building block of LLM reranking and of evidence checks.
* `ChatReply.span_logprob` (in `vidseek.models.messages`): how sure the model was of a piece
  of its reply, e.g. the answer inside a JSON object; ``math.exp`` makes it a probability.

Both need a backend that returns token probabilities: the llama.cpp backend (``llm``,
``llamacpp:...``) always can; ``openai:`` servers can when they support ``logprobs`` (vLLM,
llama.cpp server and OpenAI do; Ollama does not).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping, Sequence
from typing import Any

from vidseek.models.messages import ChatMessage, ChatReply
from vidseek.models.protocols import ChatModel, ChatModelError

__all__ = ["YES_NO_ALTERNATIVES", "YES_NO_SYSTEM", "supports_logprobs", "yes_no_from_reply",
           "yes_probability"]

YES_NO_SYSTEM = "Reply with yes or no only."
"""The system text `yes_probability` adds to a bare question."""

YES_NO_ALTERNATIVES = 20
"""Alternatives read at the first token (llama.cpp and OpenAI allow up to 20)."""
_YES = frozenset({"yes", "y", "true"})
_NO = frozenset({"no", "n", "false"})


def supports_logprobs(model: ChatModel) -> bool:
    """Whether the model's ``chat`` takes ``logprobs=`` (the llama.cpp and OpenAI backends)."""
    try:
        return "logprobs" in inspect.signature(model.chat).parameters
    except (TypeError, ValueError):
        return False


def yes_probability(model: ChatModel,
                    question: str | Sequence[ChatMessage | Mapping[str, Any]], *,
                    system: str | None = YES_NO_SYSTEM,
                    timeout: float | None = None) -> float:
    """The probability that the model answers yes, read from its first token.

    Write the fixed part first and the varying part last (``"Question: ...\\nPassage:
    ..."``): llama.cpp reuses the cached start of the previous prompt, so judging many
    passages for one question reads the question once.

    Args:
        model: a chat model that gives token probabilities (`supports_logprobs`).
        question: a yes/no question as text, or a whole conversation ending in one.
        system: the system text put before a text question (None: none); a conversation
            is sent as it is.
        timeout: seconds the call may take, passed to the model's ``chat`` (None: the
            model's own default).

    Returns:
        P(yes) / (P(yes) + P(no)) over the likeliest first tokens ("Yes", " yes", "NO",
        ... all count), 0..1; 0.5 when neither word is among them.

    Raises:
        ChatModelError: the model gives no token probabilities, or failed;
            `ChatTimeoutError` when the timeout passed.
    """
    if not supports_logprobs(model):
        raise ChatModelError(f"{getattr(model, 'name', model)!r} gives no token "
                             "probabilities; use a llama.cpp model ('llm', 'llamacpp:PATH') "
                             "or an OpenAI-compatible server that returns logprobs")
    if isinstance(question, str):
        messages: list[Any] = ([ChatMessage.system(system)] if system else [])
        messages.append(ChatMessage.user(question))
    else:
        messages = list(question)
    limits: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
    reply = model.chat(messages, max_tokens=1, temperature=0.0,  # type: ignore[call-arg]
                       logprobs=YES_NO_ALTERNATIVES, **limits)
    return yes_no_from_reply(reply)


def yes_no_from_reply(reply: ChatReply) -> float:
    """P(yes) / (P(yes) + P(no)) from the first token of a reply made with ``logprobs``.

    Raises:
        ChatModelError: the reply carries no token probabilities.
    """
    if not reply.logprobs:
        raise ChatModelError(f"the reply of {reply.model!r} carries no token probabilities "
                             "(the server ignored logprobs)")
    first = reply.logprobs[0]
    seen: dict[str, float] = dict(first.top)
    seen.setdefault(first.token, first.logprob)
    yes = no = 0.0
    for token, logprob in seen.items():
        word = token.strip().strip(".,!").lower()
        if word in _YES:
            yes += math.exp(logprob)
        elif word in _NO:
            no += math.exp(logprob)
    return 0.5 if yes + no == 0.0 else yes / (yes + no)
