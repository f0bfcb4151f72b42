"""Compose one frame's content: the current shot, or two shots mixed by a transition."""

from __future__ import annotations

import numpy as np

from vidseek.synth.looks import Look
from vidseek.synth.script import Script
from vidseek.synth.shots import ShotImage
from vidseek.synth.timeline import Cutlist, Mix
from vidseek.synth.yuv import BLACK, Yuv

__all__ = ["ContentRenderer", "blend"]


def blend(a: Yuv | None, b: Yuv | None, alpha: float, kind: str) -> Yuv:
    """Mix two frames for a transition.

    Args:
        a: the outgoing frame (unused in a fade's second half).
        b: the incoming frame (unused in a fade's first half).
        alpha: transition progress, 0 (all `a`) to 1 (all `b`).
        kind: ``dissolve`` (cross-fade) or ``fade`` (a to black, then black to b).

    Returns:
        A new frame.
    """
    # integer weights out of 256: exact enough and much faster than float maths;
    # YUV is linear in RGB, so mixing the planes mixes the colours
    if kind == "fade":
        src, weight = (a, 1 - 2 * alpha) if alpha < 0.5 else (b, 2 * alpha - 1)
        w = round(weight * 256)
        out = Yuv(src.height, src.width)
        for dst, plane, black in zip(out.planes(), src.planes(), BLACK, strict=True):
            dst[:] = ((plane.astype(np.int32) - black) * w >> 8) + black
        return out
    w = round(alpha * 256)
    mixed = a.buffer.astype(np.uint16) * (256 - w) + b.buffer.astype(np.uint16) * w
    return Yuv(a.height, a.width, (mixed >> 8).astype(np.uint8))


class ContentRenderer:
    """Shot pixels for any timeline time, keeping only the shots in use in memory.

    Args:
        script: the script.
        looks: the resolved look of every shot.
        cutlist: the script's shot boundaries.
    """

    def __init__(self, script: Script, looks: list[Look], cutlist: Cutlist) -> None:
        self.script = script
        self.looks = looks
        self.cutlist = cutlist
        self._cache: dict[int, ShotImage] = {}

    def _shot(self, i: int) -> ShotImage:
        if i not in self._cache:
            s = self.script
            self._cache[i] = ShotImage(s.shots[i], self.looks[i], s.width, s.height,
                                       [s.seed, 0x5407, i])
        return self._cache[i]

    def _frame(self, i: int, t: float) -> Yuv:
        progress = (t - self.cutlist.starts[i]) / self.script.shots[i].duration
        return self._shot(i).frame(progress)

    def render(self, t: float, mix: Mix) -> Yuv:
        """The content of the frame at `t`.

        Args:
            t: timeline seconds.
            mix: what the frame shows (from `Cutlist.mix_at`).

        Returns:
            A new yuv420p frame.
        """
        for i in [k for k in self._cache if k not in (mix.shot, mix.previous)]:
            del self._cache[i]  # shots are visited in order: a dropped one never returns
        if mix.previous is None:
            return self._frame(mix.shot, t)
        a = self._frame(mix.previous, t) if mix.kind == "dissolve" or mix.alpha < 0.5 else None
        b = self._frame(mix.shot, t) if mix.kind == "dissolve" or mix.alpha >= 0.5 else None
        return blend(a, b, mix.alpha, mix.kind)
