"""Fit the calibration: channel models and the threshold, from queries whose answers are
known (the needle benchmark's and the real clips'; see ``benchmarks/calibrate.py``).

A hit is a true match when it is in the example's video, of the answer's kind when the
example names one, and overlaps an answer by at least half of the shorter of the two (it is
the sentence, the text or the tag that was planted). The threshold is the lowest score at
which at most `max_false_positive_rate` of the queries whose answer is absent still return a
moment, in each library the examples come from (or, ``pooled``, on average over them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vidseek.search.calibration import FALLBACKS, PRIORS, Calibration, ChannelModel, fit_logistic
from vidseek.search.channels import Hit
from vidseek.search.fusion import fuse
from vidseek.search.searcher import Searcher

__all__ = ["ADDED_FEATURES", "Example", "fit_calibration", "is_match"]

_GRID = tuple(round(0.01 * i, 2) for i in range(1, 100))

ADDED_FEATURES = {
    # A tag is a word or two: it can be the whole answer to "a kitten" or "wind", hardly to
    # "a cat playing the piano" (which its "cat" tag shares a word with). How many content
    # words the query has tells the two apart where the similarity features do not.
    "label": ("words",),
}
"""Features a channel that falls back on another model (:data:`FALLBACKS`) is fitted on
beside that model's, the first time it is fitted."""


@dataclass
class Example:
    """A query with known answers (none when the answer is absent)."""

    video_id: str | None
    """The video the answers are in, and the one searched; None: the answer is in no video
    of the library, and every video is searched."""
    query: str | None = None
    image: str | Path | None = None
    answers: list[tuple[float, float]] = field(default_factory=list)
    whole_library: bool = False
    """Search every video of the library, as a user does (a hit in another video is then a
    false one), rather than the example's video alone."""
    kinds: list[str] | None = None
    """The observation kinds the answer is in (``speech``, ``text``, ``sound``...; None:
    any): when an answer window is wider than the answer (a caption shown over a whole
    clip), the other observations inside it are not the answer."""

    @property
    def videos(self) -> list[str] | None:
        """The videos to search (None: all)."""
        return None if self.whole_library or self.video_id is None else [self.video_id]


def is_match(hit: Hit, answers: Sequence[tuple[float, float]], *,
             video_id: str | None = None, kinds: Sequence[str] | None = None) -> bool:
    """Whether the hit is (mostly) one of the answers (of ``video_id`` and of one of
    ``kinds`` when given)."""
    if video_id is not None and hit.video_id != video_id:
        return False
    if kinds is not None and hit.observation.kind not in kinds:
        return False
    for start, end in answers:
        inter = min(hit.end, end) - max(hit.start, start)
        if inter > 0 and inter >= 0.5 * min(hit.end - hit.start, end - start):
            return True
    return False


def fit_calibration(searcher: Searcher, examples: Sequence[Example], *,
                    others: Sequence[tuple[Searcher, Sequence[Example]]] = (),
                    max_false_positive_rate: float = 0.075, pooled: bool = False,
                    source: str = "") -> Calibration:
    """A calibration fitted on ``examples`` searched with ``searcher``.

    Channel models with both true and false hits are refitted on the features they already
    use (``label``, when the searcher's calibration has none, on the features of the
    ``text`` model it falls back on plus :data:`ADDED_FEATURES`); the others keep their
    prior (or fallback). The threshold keeps at most
    ``max_false_positive_rate`` of the absent-answer queries of each library from returning
    a moment.

    Args:
        searcher: the library the examples are searched in; its calibration gives the
            channels' features and the models of channels without examples.
        examples: queries with their answers.
        others: examples of other libraries, each with its library's searcher (for example
            real clips beside a generated haystack).
        max_false_positive_rate: share of absent-answer queries a library may answer.
        pooled: keep ``max_false_positive_rate`` of the absent-answer queries answered on
            average over the libraries, each library's share weighing the same, rather than
            in each library (where a library with few such queries lets one or two of them
            set the threshold for every search).
        source: what the examples are, for ``fitted_on``.

    Returns:
        The new calibration (the searchers' own are left as they were).
    """
    groups = [(searcher, list(examples)), *((s, list(e)) for s, e in others)]
    searched = [[(e, s.hits(e.query, videos=e.videos, image=e.image)) for e in group]
                for s, group in groups]
    pairs = [pair for group in searched for pair in group]
    channels = dict(searcher.calibration.channels)  # a prior joins only once fitted
    # a channel that falls back on another (label on text) is first fitted on that model's
    # features and the ones it adds (ADDED_FEATURES)
    candidates = {**PRIORS, **{name: _extended(channels[other], ADDED_FEATURES.get(name, ()))
                                for name, other in FALLBACKS.items() if other in channels},
                  **channels}
    fitted = []
    for name, model in candidates.items():
        rows, labels = [], []
        for example, hits in pairs:
            for hit in hits:
                if hit.model == name:
                    rows.append([hit.features.get(f, 0.0) for f in model.features])
                    labels.append(int(is_match(hit, example.answers,
                                               video_id=example.video_id,
                                               kinds=example.kinds)))
        if len(set(labels)) == 2:
            weights, bias = fit_logistic(rows, labels)
            channels[name] = ChannelModel(features=model.features, weights=weights, bias=bias,
                                          fitted=True)
            fitted.append(f"{name} ({sum(labels)} true of {len(labels)} hits)")
    calibration = Calibration(channels=channels, threshold=0.5)
    tops = []  # each library's absent-answer queries: the score of their best moment
    for group in searched:
        absent_top = []
        for example, hits in group:
            for hit in hits:
                hit.score = calibration.probability(hit.model, hit.features)
            if not example.answers:
                moments = fuse(hits, threshold=0.0, k=1, path_of=str)
                absent_top.append(moments[0].score if moments else 0.0)
        if absent_top:
            tops.append(absent_top)
    rate = max_false_positive_rate
    if pooled and len(tops) > 1:
        calibration.threshold = _threshold(tops, rate)
        rule = (f"keeps <= {rate:.1%} of the absent-answer queries on average over "
                f"{' and '.join(str(len(t)) for t in tops)} (each set weighing the same; "
                f"alone: {', '.join(f'{_threshold([t], rate):.2f}' for t in tops)})")
    else:
        thresholds = [_threshold([t], rate) for t in tops]
        calibration.threshold = max(thresholds, default=_GRID[0])
        absent = [f"{len(t)}" if len(tops) == 1 else f"{len(t)} (at {at:.2f})"
                  for t, at in zip(tops, thresholds)]
        rule = f"keeps <= {rate:.1%} of {' and of '.join(absent) or 0} absent-answer queries"
    calibration.fitted_on = f"{source}; fitted: {', '.join(fitted) or 'none'}; threshold {rule}"
    return calibration


def _extended(model: ChannelModel, added: Sequence[str]) -> ChannelModel:
    """The model with more features (weighing nothing yet)."""
    added = [f for f in added if f not in model.features]
    return ChannelModel(features=[*model.features, *added],
                        weights=[*model.weights, *[0.0] * len(added)], bias=model.bias)


def _threshold(absent_tops: Sequence[Sequence[float]], rate: float) -> float:
    """The lowest grid score at which at most ``rate`` of the absent queries return a moment,
    on average over the sets of queries (each set's share weighing the same)."""
    sets = [np.asarray(top, dtype=float) for top in absent_tops if len(top)]
    for threshold in _GRID:
        if not sets or np.mean([(s >= threshold).mean() for s in sets]) <= rate:
            return threshold
    return _GRID[-1]
