"""Standard metrics, with the definitions their benchmarks use.

Shot boundaries: ``boundary_f1`` (TRECVID-style one-to-one matching).

Temporal grounding (moment retrieval), on windows ``(start, end)`` in seconds:

- ``temporal_iou``: IoU of two windows.
- ``recall_at_k`` / ``mean_iou`` / ``grounding_report``: Charades-STA / ActivityNet
  Captions "R@k,IoU=m" and mIoU, where a query may have several true windows
  (QVHighlights): a prediction counts against the true window it overlaps best.
- ``average_precision`` / ``moment_map``: QVHighlights moment-retrieval mAP as computed by
  moment_detr's ``standalone_eval`` (greedy matching in score order, VOC-2011 interpolation,
  averaged over queries then over IoU thresholds 0.5:0.05:0.95).
- ``moment_map_by_length``: the same mAP over queries' short (<= 10 s), middle (10-30 s) and
  long (> 30 s) true windows, as the official script splits them.
- ``hit_at_1`` / ``highlight_map``: QVHighlights highlight-detection HIT@1 and HL-mAP.

Conventions shared by the grounding metrics:

- ``predictions`` holds one entry per query: that query's windows, best first. A window
  may carry a score as a third element, ``(start, end, score)``; only the AP metrics read it.
- ``truths`` holds one entry per query: a list of windows, or a single ``(start, end)``.
- A query with no true window is left out of every grounding metric (there is nothing to
  find, so it can neither hit nor miss). A query with true windows but no prediction scores
  0. With no query left to score, the functions raise ``ValueError``.
- IoU is intersection over ``max(ends) - min(starts)``, as lmms-eval, Moment-DETR's R1 and
  NExT-GQA compute it (equal to the union for overlapping windows, and bit for bit what they
  get: ``len_a + len_b - inter`` rounds GT (0.8, 6.4) against (0, 4.0) to
  0.49999999999999994, a miss at 0.5). Moment-DETR's AP alone uses that sum form, so
  ``average_precision`` does too.
- IoU thresholds are inclusive (``IoU >= m`` counts) and are rounded to 10 decimals first,
  so ``np.arange`` noise such as ``0.6000000000000001`` does not turn an exact 0.6 into a miss
  (the official script rounds thresholds to 2 decimals, which agrees on the standard ones).
- Results are fractions in [0, 1]; the official scripts print them x100.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Real
from typing import Any

import numpy as np

__all__ = [
    "QVHIGHLIGHTS_IOUS",
    "BoundaryScore",
    "average_precision",
    "boundary_f1",
    "grounding_report",
    "highlight_map",
    "hit_at_1",
    "mean_iou",
    "moment_map",
    "moment_map_by_length",
    "recall_at_k",
    "temporal_iou",
    "temporal_iop",
    "grounded_qa_report",
]

QVHIGHLIGHTS_IOUS = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
"""The ten IoU thresholds QVHighlights averages its moment-retrieval mAP over."""

QVHIGHLIGHTS_LENGTHS = (("short", 0.0, 10.0), ("middle", 10.0, 30.0), ("long", 30.0, 150.0))
"""QVHighlights' moment-length groups: true windows with ``low < length <= high`` seconds."""

SALIENCY_LEVELS = (("Fair", 2), ("Good", 3), ("VeryGood", 4))
"""QVHighlights' highlight levels: a clip is a highlight when a rater gave it at least this."""


@dataclass(frozen=True, slots=True)
class BoundaryScore:
    precision: float
    recall: float
    f1: float
    matched: int
    detected: int
    expected: int


def boundary_f1(
    detected: Sequence[float],
    expected: Sequence[tuple[float, float]],
    *,
    tolerance: float = 0.1,
) -> BoundaryScore:
    """Shot-boundary precision, recall and F1 with one-to-one matching.

    Args:
        detected: boundary times found (seconds).
        expected: true boundaries as (start, end) intervals: equal for a cut, the span of
            the transition for a gradual one (as TRECVID scores gradual transitions).
        tolerance: seconds of slack on each side of an expected interval.

    A detection matches an expected boundary when it lies within [start - tolerance,
    end + tolerance]; each side is matched at most once, closest pairs first.
    """
    pairs = []
    for i, t in enumerate(detected):
        for j, (start, end) in enumerate(expected):
            if start - tolerance <= t <= end + tolerance:
                pairs.append((abs(t - (start + end) / 2), i, j))
    used_detected: set[int] = set()
    used_expected: set[int] = set()
    for _, i, j in sorted(pairs):
        if i not in used_detected and j not in used_expected:
            used_detected.add(i)
            used_expected.add(j)
    matched = len(used_detected)
    precision = matched / len(detected) if detected else float(not expected)
    recall = matched / len(expected) if expected else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return BoundaryScore(precision, recall, f1, matched, len(detected), len(expected))


# ---------------------------------------------------------------------------------------------
# Temporal grounding


def temporal_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two windows ``(start, end)`` (a third element is ignored).

    The union is ``max(ends) - min(starts)``, as the official scorers compute it (see the
    module docstring). Returns 0 for disjoint or touching windows and whenever the union is
    empty (two zero-length windows at the same time), so a point never "overlaps" anything.
    """
    a_start, a_end = _window(a)
    b_start, b_end = _window(b)
    inter = max(0.0, min(a_end, b_end) - max(a_start, b_start))
    union = max(a_end, b_end) - min(a_start, b_start)
    return inter / union if union > 0 else 0.0


def _iou_sum_form(a: tuple[float, float], b: tuple[float, float]) -> float:
    """IoU with the union as ``len_a + len_b - inter``: Moment-DETR's AP computes it so, and
    its numbers differ from `temporal_iou` in the last bit when a window sits exactly on a
    threshold."""
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = (a[1] - a[0]) + (b[1] - b[0]) - inter
    return inter / union if union > 0 else 0.0


def recall_at_k(predictions: Sequence[Any], truths: Sequence[Any], k: int, iou: float) -> float:
    """R@k,IoU=m: the fraction of queries where one of the first ``k`` predicted windows
    has IoU >= ``iou`` with one of the query's true windows.

    Args:
        predictions: per query, its predicted windows in rank order (list order; scores,
            if given, are not used to re-rank).
        truths: per query, its true windows (or a single window).
        k: how many top predictions may hit (>= 1).
        iou: IoU threshold in [0, 1], inclusive.

    Returns:
        Hits over scored queries (queries with no true window are left out).
    """
    if k < 1:
        raise ValueError(f"recall_at_k needs k >= 1, got {k}")
    threshold = _threshold(iou)
    queries = _queries(predictions, truths)
    hits = sum(
        any(_best_iou(p, windows) >= threshold for p in ranked[:k]) for ranked, windows in queries
    )
    return hits / len(queries)


def mean_iou(predictions: Sequence[Any], truths: Sequence[Any]) -> float:
    """mIoU: the mean over queries of the top-1 prediction's IoU with its best-matching true
    window (0 for a query with no prediction; queries with no true window are left out)."""
    queries = _queries(predictions, truths)
    ious = [_best_iou(ranked[0], windows) if ranked else 0.0 for ranked, windows in queries]
    return sum(ious) / len(ious)


def grounding_report(
    predictions: Sequence[Any],
    truths: Sequence[Any],
    ks: Sequence[int] = (1, 5),
    ious: Sequence[float] = (0.3, 0.5, 0.7),
) -> dict[str, float]:
    """R@k,IoU=m for every k and m, plus mIoU.

    Returns:
        ``{"R@1,IoU=0.3": ..., ..., "R@5,IoU=0.7": ..., "mIoU": ...}`` (fractions in [0, 1]).
    """
    report = {
        f"R@{k},IoU={_threshold(m):g}": recall_at_k(predictions, truths, k, m)
        for k in ks
        for m in ious
    }
    report["mIoU"] = mean_iou(predictions, truths)
    return report


def average_precision(
    predictions: Sequence[Any],
    truths: Sequence[Any],
    iou: float,
    *,
    max_windows: int | None = 10,
) -> float:
    """Moment-retrieval AP at one IoU threshold, averaged over queries (QVHighlights style).

    Per query, as moment_detr's ``standalone_eval`` does:

    1. Keep the first ``max_windows`` predictions in list order (the official script keeps
       10), then sort them by descending score; the sort is stable, so equal scores keep list
       order. Windows without a score are ranked in list order.
    2. Walk the ranked predictions: each one matches the still-unmatched true window with the
       highest IoU >= ``iou`` (true positive), else it is a false positive. So a duplicate of a
       prediction that already took a true window cannot take it again. Equal IoUs go to the
       later true window, as the official ``argsort()[::-1]`` does; IoU here is the sum form
       ``len_a + len_b - inter`` the official AP uses.
    3. AP = (1 / number of true windows) x sum, over true positives, of the interpolated
       precision at that rank: the highest precision at that rank or any later one
       (VOC-2011 interpolation, as in ``interpolated_precision_recall``).

    Deviation: the official script silently drops a query whose prediction list is empty;
    here it scores AP 0, as in ``recall_at_k``. Queries with no true window are left out.

    Args:
        predictions: per query, windows ``(start, end, score)``, or all ``(start, end)``.
        truths: per query, its true windows (or a single window).
        iou: IoU threshold in [0, 1], inclusive.
        max_windows: predictions kept per query before ranking; None keeps all.

    Returns:
        Mean AP over scored queries.
    """
    threshold = _threshold(iou)
    queries = _queries(predictions, truths)
    scores = [_query_ap(ranked, windows, threshold, max_windows) for ranked, windows in queries]
    return sum(scores) / len(scores)


def moment_map(
    predictions: Sequence[Any],
    truths: Sequence[Any],
    ious: Sequence[float] = QVHIGHLIGHTS_IOUS,
    *,
    max_windows: int | None = 10,
) -> dict[str, float]:
    """QVHighlights MR-mAP: ``average_precision`` at each IoU threshold, then their mean.

    Returns:
        ``{"mAP": mean over thresholds, "mAP@0.5": ..., "mAP@0.55": ..., ...}``: one
        ``mAP@m`` key per threshold (so ``mAP@0.5`` and ``mAP@0.75`` with the defaults).
    """
    if len(ious) == 0:
        raise ValueError("moment_map needs at least one IoU threshold, e.g. QVHIGHLIGHTS_IOUS")
    per_threshold = {
        f"mAP@{_threshold(m):g}": average_precision(predictions, truths, m, max_windows=max_windows)
        for m in ious
    }
    return {"mAP": sum(per_threshold.values()) / len(per_threshold), **per_threshold}


def moment_map_by_length(
    predictions: Sequence[Any],
    truths: Sequence[Any],
    lengths: Sequence[tuple[str, float, float]] = QVHIGHLIGHTS_LENGTHS,
    *,
    max_windows: int | None = 10,
) -> dict[str, float]:
    """QVHighlights MR-mAP by moment length (``MR-short-mAP``, ``MR-middle-mAP``,
    ``MR-long-mAP`` of the official script).

    For each group ``(name, low, high)`` only the true windows with ``low < end - start <=
    high`` are kept; a query left with none is left out of that group, and its predictions are
    scored against the windows kept.

    Returns:
        ``{"mAP short": ..., "mAP middle": ..., "mAP long": ...}``; a group no query falls in
        is absent.
    """
    if len(predictions) != len(truths):
        raise ValueError(
            f"got predictions for {len(predictions)} queries but truths for {len(truths)}; "
            "pass one entry per query in the same order"
        )
    out = {}
    for name, low, high in lengths:
        kept = [[w for w in (_window(w) for w in _as_windows(t)) if low < w[1] - w[0] <= high]
                for t in truths]
        pairs = [(p, t) for p, t in zip(predictions, kept, strict=True) if t]
        if pairs:
            out[f"mAP {name}"] = moment_map([p for p, _ in pairs], [t for _, t in pairs],
                                            max_windows=max_windows)["mAP"]
    return out


def hit_at_1(
    predicted_clip_scores: Sequence[Sequence[float]],
    clip_labels: Sequence[Any],
    threshold: float = 4,
) -> float:
    """QVHighlights highlight-detection HIT@1, as moment_detr's ``standalone_eval`` computes it.

    Per query, the clip with the highest predicted saliency (the first one on ties, like
    ``np.argmax``) is a hit when at least one annotator rated it >= ``threshold``. Saliency is
    0-4 (Very Bad .. Very Good) per 2-s clip from 3 annotators; the official script turns each
    annotator's rating into "clip is positive" on its own and then takes the max over
    annotators. Its headline "HIT@1" is ``HL-min-VeryGood-Hit1``, i.e. ``threshold=4``
    (``2`` and ``3`` give its Fair and Good variants). Queries where no clip reaches the
    threshold still count (as misses), as in the official mean.

    Args:
        predicted_clip_scores: per query, one predicted score per clip of the video.
        clip_labels: per query, true saliency per clip: shape ``(clips,)`` for one rating or
            ``(clips, annotators)``. Clips without a rating are 0. A top clip past the end of
            the labels is a miss, so labels may stop at the last rated clip.
        threshold: minimum rating for a clip to count as a highlight.

    Returns:
        Hits over queries (all queries count).
    """
    if len(predicted_clip_scores) != len(clip_labels):
        raise ValueError(
            f"hit_at_1 got scores for {len(predicted_clip_scores)} queries but labels for "
            f"{len(clip_labels)}; pass one entry per query in the same order"
        )
    if not clip_labels:
        raise ValueError("hit_at_1 needs at least one query")
    hits = 0
    for scores, labels in zip(predicted_clip_scores, clip_labels, strict=True):
        scores = np.asarray(scores, dtype=float).reshape(-1)
        labels = np.asarray(labels, dtype=float)
        if labels.ndim == 1:
            labels = labels[:, None]
        if labels.ndim != 2:
            raise ValueError(
                f"clip labels must be (clips,) or (clips, annotators), got shape {labels.shape}"
            )
        if scores.size == 0:
            continue
        top = int(np.argmax(scores))
        if top < len(labels) and bool(np.any(labels[top] >= threshold)):
            hits += 1
    return hits / len(clip_labels)


def highlight_map(
    predicted_clip_scores: Sequence[Sequence[float]],
    clip_labels: Sequence[Any],
    threshold: float = 4,
) -> float:
    """QVHighlights highlight-detection HL-mAP, as the official ``standalone_eval`` computes it.

    Per query and per rater, the clips that rater scored >= ``threshold`` are the positives and
    the predicted clip scores rank the clips (cut or padded with 0 to the number of labelled
    clips). AP is the mean, over the distinct recall levels reached, of the interpolated
    precision there (the best precision at that recall or any higher one; equal scores are one
    step, as with scikit-learn's ``precision_recall_curve``). A rater with no positive clip gives
    0, one who rated every clip positive 1; a query with no predicted scores gives 0. The
    result is the mean over queries and raters.
    Thresholds 2, 3, 4 give the official ``HL-min-Fair``, ``-Good`` and ``-VeryGood`` mAP.

    Args:
        predicted_clip_scores: per query, one predicted score per 2-s clip.
        clip_labels: per query, ``(clips, raters)`` ratings 0-4 (0 where unrated).
        threshold: minimum rating for a clip to count as a highlight.

    Returns:
        The mean AP in [0, 1].
    """
    if len(predicted_clip_scores) != len(clip_labels):
        raise ValueError(
            f"highlight_map got scores for {len(predicted_clip_scores)} queries but labels for "
            f"{len(clip_labels)}; pass one entry per query in the same order"
        )
    if not clip_labels:
        raise ValueError("highlight_map needs at least one query")
    aps = []
    for scores, labels in zip(predicted_clip_scores, clip_labels, strict=True):
        labels = np.asarray(labels, dtype=float)
        if labels.ndim == 1:
            labels = labels[:, None]
        scores = np.asarray(scores, dtype=float).reshape(-1)[: len(labels)]
        if scores.size == 0:  # no prediction (a failed sample): 0, as hit_at_1 misses
            aps += [0.0] * labels.shape[1]
            continue
        scores = np.pad(scores, (0, len(labels) - len(scores)))
        for rater in range(labels.shape[1]):
            aps.append(_ranking_ap(labels[:, rater] >= threshold, scores))
    return float(np.mean(aps))


def _ranking_ap(positive: np.ndarray, scores: np.ndarray) -> float:
    """Interpolated AP of one ranking, averaged over the distinct recall levels it reaches."""
    total = int(positive.sum())
    if total == 0:
        return 0.0
    if total == len(positive):
        return 1.0
    order = np.argsort(-scores, kind="stable")
    ranked_scores, ranked_pos = scores[order], positive[order]
    tp = np.cumsum(ranked_pos)
    # one point per distinct score: the last position holding it (ties are one step)
    last = np.r_[np.flatnonzero(np.diff(ranked_scores)), len(ranked_scores) - 1]
    tp_at = tp[last]
    precision = tp_at / (last + 1)
    recall = tp_at / total
    # best precision at this recall or any higher one
    best = np.maximum.accumulate(precision[::-1])[::-1]
    # one value per recall level reached: the highest-threshold point with that recall
    levels = np.r_[True, np.diff(recall) != 0] & (recall > 0)
    return float(best[levels].mean())


def _query_ap(
    predicted: list[Sequence[float]],
    windows: list[tuple[float, float]],
    threshold: float,
    max_windows: int | None,
) -> float:
    kept = predicted if max_windows is None else predicted[:max_windows]
    matched = [False] * len(windows)
    is_hit = []
    for start, end in _by_score(kept):
        ious = [_iou_sum_form((start, end), w) for w in windows]
        # Best IoU first; equal IoUs go to the later true window (official argsort()[::-1]).
        order = sorted(range(len(windows)), key=lambda j: (-ious[j], -j))
        match = next((j for j in order if ious[j] >= threshold and not matched[j]), None)
        if match is not None:
            matched[match] = True
        is_hit.append(match is not None)
    precision = []
    true_positives = 0
    for rank, hit in enumerate(is_hit, start=1):
        true_positives += hit
        precision.append(true_positives / rank)
    # Interpolated precision: the best precision at this rank or any later one.
    for i in range(len(precision) - 2, -1, -1):
        precision[i] = max(precision[i], precision[i + 1])
    return sum(p for p, hit in zip(precision, is_hit) if hit) / len(windows)


def _by_score(windows: list[Sequence[float]]) -> list[tuple[float, float]]:
    scored = [len(w) == 3 for w in windows]
    if all(scored):
        # Stable: equal scores keep list order, as Python's sort does in the official script.
        windows = sorted(windows, key=lambda w: -float(w[2]))
    elif any(scored):
        raise ValueError(
            "give every predicted window of a query a score, (start, end, score), or none, "
            "(start, end); a mix cannot be ranked"
        )
    return [_window(w) for w in windows]


def _queries(
    predictions: Sequence[Any], truths: Sequence[Any]
) -> list[tuple[list[Sequence[float]], list[tuple[float, float]]]]:
    """Pairs each query's predictions with its true windows, leaving out queries without any."""
    if len(predictions) != len(truths):
        raise ValueError(
            f"got predictions for {len(predictions)} queries but truths for {len(truths)}; "
            "pass one entry per query in the same order"
        )
    queries = []
    for predicted, true in zip(predictions, truths, strict=True):
        windows = [_window(w) for w in _as_windows(true)]
        if windows:
            queries.append((_as_windows(predicted), windows))
    if not queries:
        raise ValueError(
            "no query has a true window to score against; pass truths as one list of "
            "(start, end) windows per query"
        )
    return queries


def _as_windows(value: Any) -> list[Sequence[float]]:
    """One query's windows: a list of windows, or a single bare window."""
    if value is None or len(value) == 0:
        return []
    if isinstance(value[0], Real):
        return [value]
    return list(value)


def _window(w: Sequence[float]) -> tuple[float, float]:
    if len(w) not in (2, 3):
        raise ValueError(f"a window is (start, end) or (start, end, score) in seconds, got {w!r}")
    start, end = float(w[0]), float(w[1])
    if end < start:
        raise ValueError(f"window {w!r} ends before it starts; windows are (start, end)")
    return start, end


def _best_iou(predicted: Sequence[float], windows: list[tuple[float, float]]) -> float:
    return max(temporal_iou(predicted, w) for w in windows)


def _threshold(iou: float) -> float:
    threshold = round(float(iou), 10)
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"an IoU threshold is in [0, 1], got {iou}")
    return threshold


# ---------------------------------------------------------------------------------------------
# Grounded question answering (NExT-GQA)


def temporal_iop(predicted: Sequence[float], truth: Sequence[float]) -> float:
    """Intersection over prediction: the share of the predicted window inside the true one
    (NExT-GQA's IoP). A zero-length prediction (a point) is 1 when it lies inside the true
    window, ends included, else 0, as NExT-GQA's ``get_tIoU`` scores it."""
    p_start, p_end = _window(predicted)
    t_start, t_end = _window(truth)
    if p_end == p_start:
        return 1.0 if t_start <= p_start <= t_end else 0.0
    inter = max(0.0, min(p_end, t_end) - max(p_start, t_start))
    return inter / (p_end - p_start)


def grounded_qa_report(
    correct: Sequence[bool],
    predictions: Sequence[Any],
    truths: Sequence[Any],
    *,
    iou: float = 0.3,
) -> dict[str, float]:
    """Grounded QA as NExT-GQA scores it, plus accuracy-with-grounding at an IoU.

    Per question the top predicted window (the first one; none scores 0) is compared with
    the question's true windows, taking the best-matching one.

    Args:
        correct: per question, whether the answer was right.
        predictions: per question, its evidence windows, best first.
        truths: per question, its true windows (questions without any are left out).
        iou: IoU the top window needs for ``Acc@QA&IoU>=m``.

    Returns:
        ``Acc@QA`` (over the grounded questions), ``Acc@GQA`` (right and IoP >= 0.5, the
        official NExT-GQA criterion), ``Acc@QA&IoU>=m`` (right and IoU >= ``iou``), ``mIoP``,
        ``IoP@0.3``, ``IoP@0.5``, ``mIoU``, ``IoU@0.3``, ``IoU@0.5``: fractions in [0, 1].
    """
    if not len(correct) == len(predictions) == len(truths):
        raise ValueError(f"got {len(correct)} answers, {len(predictions)} predictions and "
                         f"{len(truths)} truths; pass one entry per question in the same order")
    threshold = _threshold(iou)
    rows = []
    for right, predicted, true in zip(correct, predictions, truths, strict=True):
        windows = [_window(w) for w in _as_windows(true)]
        if not windows:
            continue
        ranked = _as_windows(predicted)
        top = ranked[0] if ranked else None
        best_iou = max((temporal_iou(top, w) for w in windows), default=0.0) if top else 0.0
        best_iop = max((temporal_iop(top, w) for w in windows), default=0.0) if top else 0.0
        rows.append((bool(right), best_iou, best_iop))
    if not rows:
        raise ValueError("no question has a true window to score against")
    n = len(rows)
    return {
        "Acc@QA": sum(r for r, _, _ in rows) / n,
        "Acc@GQA": sum(r and p >= 0.5 for r, _, p in rows) / n,
        f"Acc@QA&IoU>={threshold:g}": sum(r and i >= threshold for r, i, _ in rows) / n,
        "mIoP": sum(p for _, _, p in rows) / n,
        "IoP@0.3": sum(p >= 0.3 for _, _, p in rows) / n,
        "IoP@0.5": sum(p >= 0.5 for _, _, p in rows) / n,
        "mIoU": sum(i for _, i, _ in rows) / n,
        "IoU@0.3": sum(i >= 0.3 for _, i, _ in rows) / n,
        "IoU@0.5": sum(i >= 0.5 for _, i, _ in rows) / n,
    }
