"""Fit the calibration: channel models and the threshold, from queries whose answers are
known (the needle benchmark's; see ``benchmarks/calibrate.py``).

A hit is a true match when it overlaps an answer by at least half of the shorter of the two
(it is the sentence, the text or the tag that was planted). The threshold is the lowest
score at which at most `max_false_positive_rate` of the queries whose answer is absent
still return a moment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vidseek.search.calibration import PRIORS, Calibration, ChannelModel, fit_logistic
from vidseek.search.channels import Hit
from vidseek.search.fusion import fuse
from vidseek.search.searcher import Searcher

__all__ = ["Example", "fit_calibration", "is_match"]

_GRID = tuple(round(0.01 * i, 2) for i in range(1, 100))


@dataclass
class Example:
    """A query with known answers (none when the answer is absent)."""

    video_id: str
    query: str | None = None
    image: str | Path | None = None
    answers: list[tuple[float, float]] = field(default_factory=list)


def is_match(hit: Hit, answers: Sequence[tuple[float, float]]) -> bool:
    """Whether the hit is (mostly) one of the answers."""
    for start, end in answers:
        inter = min(hit.end, end) - max(hit.start, start)
        if inter > 0 and inter >= 0.5 * min(hit.end - hit.start, end - start):
            return True
    return False


def fit_calibration(searcher: Searcher, examples: Sequence[Example], *,
                    max_false_positive_rate: float = 0.075, source: str = "") -> Calibration:
    """A calibration fitted on ``examples`` searched with ``searcher``.

    Channel models with both true and false hits are refitted on the features they already
    use; the others keep their prior. Returns the new calibration (the searcher's own is
    left as it was).
    """
    found = [searcher.hits(e.query, videos=[e.video_id], image=e.image) for e in examples]
    channels = dict(searcher.calibration.channels)  # a prior joins only once fitted
    fitted = []
    for name, model in {**PRIORS, **channels}.items():
        rows, labels = [], []
        for example, hits in zip(examples, found):
            for hit in hits:
                if hit.model == name:
                    rows.append([hit.features.get(f, 0.0) for f in model.features])
                    labels.append(int(is_match(hit, example.answers)))
        if len(set(labels)) == 2:
            weights, bias = fit_logistic(rows, labels)
            channels[name] = ChannelModel(features=model.features, weights=weights, bias=bias,
                                          fitted=True)
            fitted.append(f"{name} ({sum(labels)} true of {len(labels)} hits)")
    calibration = Calibration(channels=channels, threshold=0.5)
    absent_top = []
    for example, hits in zip(examples, found):
        for hit in hits:
            hit.score = calibration.probability(hit.model, hit.features)
        if not example.answers:
            moments = fuse(hits, threshold=0.0, k=1, path_of=str)
            absent_top.append(moments[0].score if moments else 0.0)
    calibration.threshold = _threshold(absent_top, max_false_positive_rate)
    calibration.fitted_on = (f"{source}; fitted: {', '.join(fitted) or 'none'}; threshold "
                             f"keeps <= {max_false_positive_rate:.1%} of {len(absent_top)} "
                             "absent-answer queries")
    return calibration


def _threshold(absent_top: Sequence[float], rate: float) -> float:
    """The lowest grid score at which at most ``rate`` of the absent queries return a moment."""
    scores = np.asarray(absent_top, dtype=float)
    for threshold in _GRID:
        if len(scores) == 0 or (scores >= threshold).mean() <= rate:
            return threshold
    return _GRID[-1]
