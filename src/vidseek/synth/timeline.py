"""Frame timestamps and which shot (or mix of two shots) each frame shows.

Frame times are integer ticks of ``1 / den`` seconds, so the pts written to the file and
the times written to the ground truth are the same numbers.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from vidseek.synth.script import ShotSpec
from vidseek.synth.truth import BoundaryTruth

__all__ = ["BoundaryRecorder", "Clock", "Cutlist", "Mix"]

_EPS = 1e-9
_VFR_HALF_FRAMES = np.array([1, 2, 4])  # frame durations of 1/(2 fps), 1/fps, 2/fps ...
_VFR_WEIGHTS = np.array([0.4, 0.4, 0.2])  # ... weighted so the average is exactly 1/fps
_VFR_BLOCK = 4096


class Clock:
    """Timeline ticks of every frame, starting at 0.

    Args:
        fps: nominal frame rate (the average for VFR).
        duration: seconds of video; frames start strictly before it.
        vfr: vary each frame's duration at random (seeded).
        seed: seed of the VFR durations.
        time_base_den: ticks per second the container imposes, or None to pick one where
            every half frame and every millisecond is a whole number of ticks.
    """

    def __init__(self, fps: float, duration: float, *, vfr: bool = False, seed: int = 0,
                 time_base_den: int | None = None) -> None:
        self.rate = Fraction(fps).limit_denominator(1001)
        self.duration = duration
        self.vfr = vfr
        self.seed = seed
        num, den = self.rate.numerator, self.rate.denominator
        self.den = time_base_den or math.lcm(2 * num // math.gcd(2 * num, den), 1000)

    @property
    def exact(self) -> bool:
        """True when frame k sits at exactly k / fps (constant rate, no rounding)."""
        return not self.vfr and (self.den * self.rate.denominator) % self.rate.numerator == 0

    def _half_frames_to_ticks(self, halves: int) -> int:
        # round(halves / (2 fps) * den) in integers, so no float drift over hours
        x = halves * self.den * self.rate.denominator
        y = 2 * self.rate.numerator
        return (2 * x + y) // (2 * y)

    def _half_frames(self) -> Iterator[int]:
        """Each frame's start in half-frame units."""
        limit = self.duration * 2 * float(self.rate) - 1e-6
        if not self.vfr:
            n = max(1, math.ceil(self.duration * float(self.rate) - 1e-6))
            yield from range(0, 2 * n, 2)
            return
        rng = np.random.default_rng([self.seed, 0x7F5])
        position = 0
        while True:
            steps = rng.choice(_VFR_HALF_FRAMES, size=_VFR_BLOCK, p=_VFR_WEIGHTS)
            for step in steps.tolist():
                if position >= limit and position > 0:
                    return
                yield position
                position += step

    def ticks(self) -> Iterator[int]:
        """Timeline ticks of each frame in order (deterministic; may be called again).

        Returns:
            An iterator of non-negative ints, strictly increasing.
        """
        last = -1
        for halves in self._half_frames():
            tick = self._half_frames_to_ticks(halves)
            if tick > last:  # a coarse container clock could merge two frames: keep one
                last = tick
                yield tick

    def times(self) -> Iterator[float]:
        """Timeline seconds of each frame, as `ticks` / den."""
        for tick in self.ticks():
            yield tick / self.den


@dataclass(frozen=True)
class Mix:
    """What one frame shows.

    Attributes:
        shot: index of the shot shown (the incoming one during a transition).
        previous: index of the outgoing shot during a fade or dissolve, else None.
        alpha: progress of the transition, 0 < alpha < 1 (1 outside transitions).
        kind: the transition kind into `shot`.
    """

    shot: int
    previous: int | None = None
    alpha: float = 1.0
    kind: str = "cut"


class Cutlist:
    """Shot boundaries on the timeline and the mix shown at any time.

    A shot's nominal start is the sum of the durations before it. A fade or dissolve of
    length d into shot i covers (start_i - d/2, start_i + d/2).

    Args:
        shots: the script's shots.
    """

    def __init__(self, shots: list[ShotSpec]) -> None:
        self.shots = shots
        self.starts: list[float] = []
        total = 0.0
        for shot in shots:
            self.starts.append(total)
            total += shot.duration

    def _alpha(self, i: int, t: float) -> float:
        d = self.shots[i].transition_duration
        return (t - (self.starts[i] - d / 2)) / d

    def mix_at(self, t: float) -> Mix:
        """The mix shown at timeline time `t`.

        Args:
            t: timeline seconds.

        Returns:
            The shot(s) and transition progress.
        """
        i = max(0, bisect_right(self.starts, t + _EPS) - 1)
        nxt = i + 1
        if nxt < len(self.shots) and self.shots[nxt].transition != "cut":
            alpha = self._alpha(nxt, t)
            if 0 < alpha < 1:
                return Mix(nxt, i, alpha, self.shots[nxt].transition)
        if i > 0 and self.shots[i].transition != "cut":
            alpha = self._alpha(i, t)
            if 0 < alpha < 1:
                return Mix(i, i - 1, alpha, self.shots[i].transition)
        return Mix(i)


class BoundaryRecorder:
    """Collects each boundary's real frame times while the frames go by.

    Args:
        cutlist: the boundaries being recorded.
    """

    def __init__(self, cutlist: Cutlist) -> None:
        n = len(cutlist.shots)
        self.cutlist = cutlist
        self._first_shown: list[float | None] = [None] * n
        self._mixed: list[list[float]] = [[] for _ in range(n)]

    def add(self, t: float, mix: Mix) -> None:
        """Record one frame.

        Args:
            t: the frame's timeline time.
            mix: what it shows.
        """
        if mix.previous is not None:
            span = self._mixed[mix.shot]
            if not span:
                span.append(t)
            span[1:] = [t]
        elif self._first_shown[mix.shot] is None:
            self._first_shown[mix.shot] = t

    def boundaries(self) -> list[BoundaryTruth]:
        """The boundaries into shots 1..n-1, in order.

        Returns:
            One record per boundary; a fade or dissolve that no frame fell inside is
            reported as the cut it became.
        """
        out = []
        for i in range(1, len(self.cutlist.shots)):
            span = self._mixed[i]
            if span:
                start, end = span[0], span[-1]
                out.append(BoundaryTruth(time=(start + end) / 2, start=start, end=end,
                                         kind=self.cutlist.shots[i].transition))
            else:
                t = self._first_shown[i]
                if t is None:
                    raise RuntimeError(f"no frame shows shot {i}")  # excluded by validation
                out.append(BoundaryTruth(time=t, start=t, end=t, kind="cut"))
        return out
