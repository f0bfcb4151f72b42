"""Budgets that bound an answer, and the meter that spends them."""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from vidseek.errors import AskError
from vidseek.models.messages import ChatMessage, ChatReply
from vidseek.models.protocols import ChatModel, ChatTimeoutError
from vidseek.types import Answer, Cost

__all__ = ["Budget", "Meter", "TimeSpent", "chat_within", "stopped", "takes_timeout"]


@dataclass(frozen=True, slots=True)
class Budget:
    """Limits on one answer. The loop stops calling tools when one runs out and asks the
    model for its answer from what it has.

    Attributes:
        steps: model calls (the fast path's call and repairs of malformed replies count; the
            text agent's one-token checks are counted in the cost, not here).
        frames: pictures sent to the model, in total.
        tokens: prompt plus completion tokens, as the server reports them.
        seconds: wall-clock time. Every model call gets what is left of it as its deadline
            (backends that take ``timeout``: the OpenAI-compatible client cuts off a server
            that hangs or trickles; llama.cpp stops generating; a local call cannot be cut
            off while it reads its prompt), and no call starts once it is spent.
        confident: the fast path's answer stands when its confidence is at least this;
            below it the agentic loop looks further.
        retries: malformed replies repaired in a row before the answer fails.
    """

    steps: int = 8
    frames: int = 32
    tokens: int = 60_000
    seconds: float = 300.0
    confident: float = 0.7
    retries: int = 2

    def __post_init__(self) -> None:
        if self.steps < 1 or self.frames < 0 or self.tokens < 1 or self.seconds <= 0:
            raise ValueError(f"a budget needs steps >= 1, frames >= 0, tokens >= 1 and "
                             f"seconds > 0, got {self}")
        if not 0.0 <= self.confident <= 1.0:
            raise ValueError(f"confident must be 0..1, got {self.confident}")


@dataclass(slots=True)
class Meter:
    """Counts what an answer spends against its budget."""

    budget: Budget
    cost: Cost = field(default_factory=Cost)
    started: float = field(default_factory=time.perf_counter)
    steps: int = 0

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def seconds_left(self) -> float:
        """Seconds of the time budget left (0 or less: spent)."""
        return self.budget.seconds - self.elapsed()

    @property
    def time_spent(self) -> str:
        """The time limit as the trace and notes name it."""
        return f"the time budget ({self.budget.seconds:g} s)"

    @property
    def frames_left(self) -> int:
        return max(0, self.budget.frames - self.cost.frames_sent)

    def spent(self) -> str | None:
        """Which limit has run out (a phrase for the trace), or None."""
        b, c = self.budget, self.cost
        if self.steps >= b.steps:
            return f"the step budget ({b.steps} model calls)"
        if c.prompt_tokens + c.completion_tokens >= b.tokens:
            return f"the token budget ({b.tokens})"
        if self.elapsed() >= b.seconds:
            return self.time_spent
        return None

    def model_call(self, prompt_tokens: int | None, completion_tokens: int | None, *,
                   step: bool = True) -> None:
        """Count a model call and its tokens; `step` False: not against `Budget.steps`."""
        if step:
            self.steps += 1
        self.cost.model_calls += 1
        self.cost.prompt_tokens += prompt_tokens or 0
        self.cost.completion_tokens += completion_tokens or 0

    def finish(self) -> Cost:
        self.cost.seconds = round(self.elapsed(), 3)
        return self.cost


class TimeSpent(Exception):
    """The time budget ran out before or during a model call (raised inside the agents,
    which turn it into their best answer so far, or into `AskError` when there is none).

    Attributes:
        detail: what the model call said when it was cut off ('' when none was started).
    """

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or "the time budget is spent")
        self.detail = detail


def stopped(answer: Answer, meter: Meter, step: Callable[..., None],
            exc: Exception) -> AskError:
    """The error that ends an ask the model did not finish (the time budget ran out, or the
    model failed): the step that says so is recorded, and the error's ``answer`` keeps the
    trace and cost so far."""
    if isinstance(exc, TimeSpent):
        spent = meter.time_spent
        step("error", observation=f"stopped: {spent} is spent"
             + (f" ({exc.detail})" if exc.detail else ""))
        answer.text = f"No answer: {spent} ran out before the model answered."
        why = f"{spent} ran out before the model answered" + (
            f": {exc.detail}." if exc.detail else "; allow more time or use a faster model.")
    else:
        step("error", observation=str(exc))
        answer.text = "No answer: the model failed."
        why = str(exc)
    answer.cost = meter.finish()
    return AskError(f"{why} The partial trace is kept in the error's answer.", answer)


def takes_timeout(model: ChatModel) -> bool:
    """Whether a chat model's `chat` takes ``timeout`` (seconds the call may take)."""
    try:
        return "timeout" in inspect.signature(model.chat).parameters
    except (TypeError, ValueError):
        return False


def chat_within(meter: Meter, model: ChatModel, messages: Sequence[ChatMessage],
                **options: Any) -> ChatReply:
    """One model call that ends by the time budget's deadline: none starts once the budget
    is spent, and a model that takes ``timeout`` gets the seconds left.

    Raises:
        TimeSpent: the time budget was spent before the call, or the call ran out of it.
        ChatModelError: any other failure of the model (a timeout of its own included).
    """
    left = meter.seconds_left()
    if left <= 0:
        raise TimeSpent()
    if takes_timeout(model):
        options["timeout"] = left
    try:
        return model.chat(messages, **options)
    except ChatTimeoutError as exc:
        if meter.seconds_left() <= 0:
            raise TimeSpent(str(exc)) from exc
        raise
