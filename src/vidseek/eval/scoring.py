"""From per-sample records (the runner's `SampleRecord`s) to a run's results: the official
metrics of each kind of sample, bootstrap intervals, breakdowns and cost.

Every headline number is computed by the official metric over all samples; its interval
resamples the per-sample values of the same metric (each is a mean over samples).

- Multiple choice: ``accuracy`` (a reply that names no option is wrong; ``unparsed`` says
  how often), per category and per duration; where samples carry true windows (NExT-GQA),
  `grounded_qa_report`: the official ``Acc@GQA`` (right and IoP >= 0.5), ``Acc@QA&IoU>=0.3``
  (right and the top evidence window has IoU >= 0.3), mIoP, mIoU...
- Option-order consistency: the share of questions whose answer survives a shuffle of the
  options.
- Grounding: R@1/R@5 at IoU 0.3/0.5/0.7, mIoU, mAP (QVHighlights: also by moment length,
  ``mAP short/middle/long``); where true saliency is given (QVHighlights) ``HIT@1`` and
  ``HL-mAP`` at the ``VeryGood`` level (the headline) and ``Fair``/``Good``, from the method's
  own clip scores (``SampleRecord.saliency_scores``) when every record has them, else from its
  windows (each clip scored by the best window over it) and then named ``... (window
  proxy)``: a method that gives no saliency is not measured on highlight detection, only
  approximated. Queries whose answer is absent give ``absent_fp_rate``.
- Threshold sweep (methods that return every candidate with its score: search): R@1 at IoU
  0.5 per category and the absent-query false-positive rate at thresholds 0.05..0.95.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from statistics import mean, median
from typing import Any

from vidseek.eval.bootstrap import RESAMPLES, bootstrap_ci
from vidseek.eval.metrics import (
    QVHIGHLIGHTS_LENGTHS,
    SALIENCY_LEVELS,
    grounded_qa_report,
    grounding_report,
    highlight_map,
    hit_at_1,
    moment_map,
    recall_at_k,
)
from vidseek.eval.records import SampleRecord, at_threshold

__all__ = ["COST_FIELDS", "DURATION_BUCKETS", "SWEEP", "duration_bucket", "score_records",
           "threshold_sweep"]

COST_FIELDS = ("frames_decoded", "frames_sent", "prompt_tokens", "completion_tokens",
               "model_calls", "seconds")
DURATION_BUCKETS = ((60.0, "< 1 min"), (600.0, "1-10 min"), (3600.0, "10-60 min"),
                    (float("inf"), "> 1 h"))
_GROUNDING_IOU = 0.3
SWEEP = tuple(round(0.05 * i, 2) for i in range(1, 20))
"""Thresholds of the sweep: 0.05, 0.10, ..., 0.95."""


def duration_bucket(record: SampleRecord) -> str | None:
    """The benchmark's own duration group, else a bucket of the video's length."""
    if record.duration_group:
        return record.duration_group
    seconds = record.duration
    if seconds is None:
        return None
    return next(name for limit, name in DURATION_BUCKETS if seconds < limit)


def _metric(values: Sequence[float], seed: int) -> dict[str, Any]:
    ci = bootstrap_ci(values, seed=seed)
    return {"value": float(mean(values)), "ci": list(ci) if ci else None, "n": len(values)}


def _per_sample(fn: Callable[..., dict[str, float]], predictions: list, truths: list,
                seed: int, **kwargs: Any) -> dict[str, dict[str, Any]]:
    """Each key of an official metric's report, with the interval of its per-sample values."""
    overall = fn(predictions, truths, **kwargs)
    singles = [fn([p], [t], **kwargs) for p, t in zip(predictions, truths, strict=True)]
    out = {}
    for key, value in overall.items():
        values = [s[key] for s in singles]
        ci = bootstrap_ci(values, seed=seed)
        out[key] = {"value": float(value), "ci": list(ci) if ci else None, "n": len(values)}
    return out


def score_records(records: Sequence[SampleRecord], *, seed: int = 0,
                  answers: bool = True) -> dict[str, Any]:
    """The metrics of one run.

    Args:
        records: the runner's per-sample records (status ``ok``, ``error`` or ``skipped``).
        seed: seeds the bootstrap.
        answers: False for a method that finds moments but answers nothing (search): its
            questions with true windows are scored as grounding queries only, and a
            threshold sweep is added.

    Returns:
        ``{"counts", "metrics": {name: {"value", "ci", "n"}}, "primary", "by_category",
        "by_duration", "cost", "frames_used", "bootstrap"}``, plus ``"sweep"`` (see
        `threshold_sweep`) when ``answers`` is False.
    """
    counted = [r for r in records if r.counted]
    ok = [r for r in counted if r.status == "ok"]
    counts = {"samples": len(records), "ok": len(ok),
              "errors": sum(r.status == "error" for r in records),
              "skipped": sum(r.status == "skipped" for r in records)}
    metrics: dict[str, Any] = {}
    # a failed sample counts as wrong: dropping it would flatter the method
    mc = [r for r in counted if r.kind == "mc" and r.answer is not None and answers]
    if mc:
        right = [float(_correct(r)) for r in mc]
        metrics["accuracy"] = _metric(right, seed)
        metrics["unparsed"] = _metric([float(r.status == "ok" and r.choice is None)
                                       for r in mc], seed)
        grounded = [r for r in mc if r.windows]
        if grounded:
            metrics.update(_per_sample(
                lambda p, t: _gqa_keys(grounded_qa_report(
                    [x[0] for x in p], [x[1] for x in p], t, iou=_GROUNDING_IOU)),
                [(_correct(r), _windows(r)) for r in grounded],
                [r.windows for r in grounded], seed))
        checked = [r for r in mc if r.status == "ok" and r.consistency]
        if checked:
            metrics["option_order_consistency"] = _metric(
                [float(r.consistency.consistent) for r in checked], seed)
    grounding = _grounding(counted, answers)
    if grounding:
        predictions = [_windows(r) for r in grounding]
        truths = [r.windows for r in grounding]
        metrics.update(_per_sample(grounding_report, predictions, truths, seed))
        metrics.update(_per_sample(moment_map, predictions, truths, seed))
        if any(r.task == "qvhighlights" for r in grounding):
            metrics.update(_by_length(predictions, truths, seed))
        salient = [r for r in grounding if r.clip_labels]
        if salient:
            metrics.update(_saliency(salient, seed))
    absent = _absent(counted)
    if absent:
        metrics["absent_fp_rate"] = _metric(
            [float(r.status == "ok" and bool(r.found)) for r in absent], seed)
    primary = next((k for k in ("accuracy", "R@1,IoU=0.5") if k in metrics), None)
    scores = {
        "counts": counts,
        "metrics": metrics,
        "primary": primary,
        "by_category": _breakdown(mc, lambda r: r.category, seed),
        "by_duration": _breakdown(mc, duration_bucket, seed) if mc else _breakdown(
            grounding, duration_bucket, seed, grounding=True),
        "cost": _cost(ok),
        "frames_used": float(mean(len(r.frame_times) for r in ok)) if ok else 0.0,
        "bootstrap": {"resamples": RESAMPLES, "level": 0.95, "seed": seed},
    }
    if not answers and (grounding or absent):
        scores["sweep"] = threshold_sweep(records)
    return scores


def threshold_sweep(records: Sequence[SampleRecord],
                    thresholds: Sequence[float] = SWEEP) -> list[dict[str, Any]]:
    """What a search would score at each threshold, from records holding every candidate
    window with its score (a search asked with ``threshold=0``): see `at_threshold`.

    Args:
        records: the run's records.
        thresholds: where to score.

    Returns:
        One ``{"threshold": t, "R@1@0.5": {category: recall}, "absent_fp": rate or None}``
        per threshold, in the given order: R@1 at IoU 0.5 of the samples with true windows,
        by category (``all`` for samples without one), and the share of absent-answer
        queries left with a window (None when there are none).
    """
    counted = [r for r in records if r.counted]
    rows = []
    for t in thresholds:
        kept = at_threshold(counted, t)
        groups: dict[str, list[SampleRecord]] = defaultdict(list)
        for r in _grounding(kept, answers=False):
            groups[r.category or "all"].append(r)
        absent = _absent(kept)
        rows.append({
            "threshold": t,
            "R@1@0.5": {name: recall_at_k([_windows(r) for r in group],
                                          [r.windows for r in group], 1, 0.5)
                        for name, group in groups.items()},
            "absent_fp": (sum(bool(_windows(r)) for r in absent) / len(absent)
                          if absent else None)})
    return rows


def _grounding(records: Sequence[SampleRecord], answers: bool) -> list[SampleRecord]:
    """Samples scored as grounding: queries with true windows, and without answers (search)
    questions with evidence windows too."""
    return [r for r in records if r.windows
            and (r.kind == "grounding" or (r.kind == "mc" and not answers))]


def _absent(records: Sequence[SampleRecord]) -> list[SampleRecord]:
    """Grounding queries whose answer is in no window of the video."""
    return [r for r in records if r.kind == "grounding" and not r.windows]


def _gqa_keys(report: dict[str, float]) -> dict[str, float]:
    """Grounded-QA window metrics get a ``GQA`` prefix: grounding samples have an mIoU too."""
    return {k if k.startswith("Acc@") else f"GQA {k}": v for k, v in report.items()}


def _correct(record: SampleRecord) -> bool:
    return record.status == "ok" and record.choice == record.answer


def _windows(record: SampleRecord) -> list[list[float]]:
    if record.status != "ok":
        return []
    return [list(w) for w in record.predicted_windows]


def _by_length(predictions: list, truths: list, seed: int) -> dict[str, dict[str, Any]]:
    """QVHighlights MR-mAP by moment length, each with the interval of its own queries."""
    out = {}
    for name, low, high in QVHIGHLIGHTS_LENGTHS:
        kept = [[w for w in t if low < w[1] - w[0] <= high] for t in truths]
        pairs = [(p, t) for p, t in zip(predictions, kept, strict=True) if t]
        if pairs:
            result = _per_sample(moment_map, [p for p, _ in pairs], [t for _, t in pairs], seed)
            out[f"mAP {name}"] = result["mAP"]
    return out


def _saliency(records: list[SampleRecord], seed: int) -> dict[str, dict[str, Any]]:
    """HIT@1 and HL-mAP at each saliency level; ``(window proxy)`` when derived from windows."""
    own = all(r.status != "ok" or r.saliency_scores is not None for r in records)
    scores = [_clip_scores(r) if not own else
              (list(r.saliency_scores or []) if r.status == "ok" else []) for r in records]
    labels = [r.clip_labels for r in records]
    suffix = "" if own else " (window proxy)"

    def report(p: list, t: list) -> dict[str, float]:
        out = {}
        for level, threshold in reversed(SALIENCY_LEVELS):
            name = "" if level == "VeryGood" else f" {level}"
            out[f"HIT@1{name}{suffix}"] = hit_at_1(p, t, threshold)
            out[f"HL-mAP{name}{suffix}"] = highlight_map(p, t, threshold)
        return out

    return _per_sample(report, scores, labels, seed)


def _clip_scores(record: SampleRecord, clip_seconds: float = 2.0) -> list[float]:
    """A saliency score per 2-s clip from the predicted windows: the best window over it."""
    clips = len(record.clip_labels or [])
    scores = [0.0] * clips
    for start, end, score in _windows(record):
        for c in range(clips):
            if start < (c + 1) * clip_seconds and end > c * clip_seconds:
                scores[c] = max(scores[c], float(score))
    return scores


def _breakdown(records: list[SampleRecord], key: Callable[[SampleRecord], Any], seed: int,
               grounding: bool = False) -> dict[str, Any]:
    groups: dict[str, list[SampleRecord]] = defaultdict(list)
    for r in records:
        name = key(r)
        if name is not None:
            groups[str(name)].append(r)
    out = {}
    for name in sorted(groups):
        group = groups[name]
        if grounding:
            out[name] = _per_sample(grounding_report, [_windows(r) for r in group],
                                    [r.windows for r in group], seed)["R@1,IoU=0.5"]
        else:
            out[name] = _metric([float(_correct(r)) for r in group], seed)
    return out


def _cost(records: list[SampleRecord]) -> dict[str, Any]:
    out = {}
    for name in COST_FIELDS:
        values = [float(getattr(r.cost, name) if r.cost else 0) for r in records]
        out[name] = ({"mean": mean(values), "median": median(values), "total": sum(values)}
                     if values else {"mean": 0.0, "median": 0.0, "total": 0.0})
    return out
