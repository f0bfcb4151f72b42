"""Budgets that bound an answer, and the meter that spends them."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from vidseek.types import Cost

__all__ = ["Budget", "Meter"]


@dataclass(frozen=True, slots=True)
class Budget:
    """Limits on one answer. The loop stops calling tools when one runs out and asks the
    model for its answer from what it has.

    Attributes:
        steps: model calls (the fast path's call and repairs of malformed replies count).
        frames: pictures sent to the model, in total.
        tokens: prompt plus completion tokens, as the server reports them.
        seconds: wall-clock time.
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
            return f"the time budget ({b.seconds:g} s)"
        return None

    def model_call(self, prompt_tokens: int | None, completion_tokens: int | None) -> None:
        self.steps += 1
        self.cost.model_calls += 1
        self.cost.prompt_tokens += prompt_tokens or 0
        self.cost.completion_tokens += completion_tokens or 0

    def finish(self) -> Cost:
        self.cost.seconds = round(self.elapsed(), 3)
        return self.cost
