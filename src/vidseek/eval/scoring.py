"""From per-sample records (the runner's JSONL) to a run's results: the official metrics of
each kind of sample, bootstrap intervals, breakdowns and cost.

Every headline number is computed by the official metric over all samples; its interval
resamples the per-sample values of the same metric (each is a mean over samples).

- Multiple choice: ``accuracy`` (a reply that names no option is wrong; ``unparsed`` says
  how often), per category and per duration; where samples carry true windows (NExT-GQA),
  `grounded_qa_report`: the official ``Acc@GQA`` (right and IoP >= 0.5), ``Acc@QA&IoU>=0.3``
  (right and the top evidence window has IoU >= 0.3), mIoP, mIoU...
- Option-order consistency: the share of questions whose answer survives a shuffle of the
  options.
- Grounding: R@1/R@5 at IoU 0.3/0.5/0.7, mIoU, mAP (QVHighlights), HIT@1 where saliency is
  given; queries whose answer is absent give ``absent_fp_rate``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from statistics import mean, median
from typing import Any

from vidseek.eval.bootstrap import RESAMPLES, bootstrap_ci
from vidseek.eval.metrics import grounded_qa_report, grounding_report, hit_at_1, moment_map

__all__ = ["COST_FIELDS", "DURATION_BUCKETS", "duration_bucket", "score_records"]

COST_FIELDS = ("frames_decoded", "frames_sent", "prompt_tokens", "completion_tokens",
               "model_calls", "seconds")
DURATION_BUCKETS = ((60.0, "< 1 min"), (600.0, "1-10 min"), (3600.0, "10-60 min"),
                    (float("inf"), "> 1 h"))
_GROUNDING_IOU = 0.3


def duration_bucket(record: dict[str, Any]) -> str | None:
    """The benchmark's own duration group, else a bucket of the video's length."""
    if record.get("duration_group"):
        return str(record["duration_group"])
    seconds = record.get("duration")
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


def score_records(records: Sequence[dict[str, Any]], *, seed: int = 0,
                  answers: bool = True) -> dict[str, Any]:
    """The metrics of one run.

    Args:
        records: the runner's per-sample records (status ``ok``, ``error`` or ``skipped``).
        seed: seeds the bootstrap.
        answers: False for a method that finds moments but answers nothing (search): its
            questions with true windows are scored as grounding queries only.

    Returns:
        ``{"counts", "metrics": {name: {"value", "ci", "n"}}, "primary", "by_category",
        "by_duration", "cost", "frames_used"}``.
    """
    counted = [r for r in records if r["status"] in ("ok", "error")]
    ok = [r for r in counted if r["status"] == "ok"]
    counts = {"samples": len(records), "ok": len(ok),
              "errors": sum(r["status"] == "error" for r in records),
              "skipped": sum(r["status"] == "skipped" for r in records)}
    metrics: dict[str, Any] = {}
    # a failed sample counts as wrong: dropping it would flatter the method
    mc = [r for r in counted if r["kind"] == "mc" and r.get("answer") is not None
          and answers]
    if mc:
        right = [float(_correct(r)) for r in mc]
        metrics["accuracy"] = _metric(right, seed)
        metrics["unparsed"] = _metric([float(r["status"] == "ok" and r.get("choice") is None)
                                       for r in mc], seed)
        grounded = [r for r in mc if r.get("windows")]
        if grounded:
            metrics.update(_per_sample(
                lambda p, t: _gqa_keys(grounded_qa_report(
                    [x[0] for x in p], [x[1] for x in p], t, iou=_GROUNDING_IOU)),
                [(_correct(r), _windows(r)) for r in grounded],
                [r["windows"] for r in grounded], seed))
        checked = [r for r in mc if r["status"] == "ok" and r.get("consistency")]
        if checked:
            metrics["option_order_consistency"] = _metric(
                [float(r["consistency"]["consistent"]) for r in checked], seed)
    grounding = [r for r in counted if r.get("windows")
                 and (r["kind"] == "grounding" or (r["kind"] == "mc" and not answers))]
    if grounding:
        predictions = [_windows(r) for r in grounding]
        truths = [r["windows"] for r in grounding]
        metrics.update(_per_sample(grounding_report, predictions, truths, seed))
        if all(len(w) == 3 for p in predictions for w in p):
            metrics.update(_per_sample(moment_map, predictions, truths, seed))
        salient = [r for r in grounding if r.get("clip_labels")]
        if salient:
            metrics.update(_per_sample(
                lambda p, t: {"HIT@1": hit_at_1(p, t)},
                [_clip_scores(r) for r in salient], [r["clip_labels"] for r in salient], seed))
    absent = [r for r in counted if r["kind"] == "grounding" and not r.get("windows")]
    if absent:
        metrics["absent_fp_rate"] = _metric(
            [float(r["status"] == "ok" and bool(r.get("found"))) for r in absent], seed)
    primary = next((k for k in ("accuracy", "R@1,IoU=0.5") if k in metrics), None)
    return {
        "counts": counts,
        "metrics": metrics,
        "primary": primary,
        "by_category": _breakdown(mc, lambda r: r.get("category"), seed),
        "by_duration": _breakdown(mc, duration_bucket, seed) if mc else _breakdown(
            grounding, duration_bucket, seed, grounding=True),
        "cost": _cost(ok),
        "frames_used": float(mean(len(r.get("frame_times") or []) for r in ok)) if ok else 0.0,
        "bootstrap": {"resamples": RESAMPLES, "level": 0.95, "seed": seed},
    }


def _gqa_keys(report: dict[str, float]) -> dict[str, float]:
    """Grounded-QA window metrics get a ``GQA`` prefix: grounding samples have an mIoU too."""
    return {k if k.startswith("Acc@") else f"GQA {k}": v for k, v in report.items()}


def _correct(record: dict[str, Any]) -> bool:
    return record["status"] == "ok" and record.get("choice") == record.get("answer")


def _windows(record: dict[str, Any]) -> list[list[float]]:
    if record["status"] != "ok":
        return []
    return [list(w) for w in record.get("predicted_windows") or []]


def _clip_scores(record: dict[str, Any], clip_seconds: float = 2.0) -> list[float]:
    """A saliency score per 2-s clip from the predicted windows: the best window over it."""
    clips = len(record["clip_labels"])
    scores = [0.0] * clips
    for start, end, score in _windows(record):
        for c in range(clips):
            if start < (c + 1) * clip_seconds and end > c * clip_seconds:
                scores[c] = max(scores[c], float(score))
    return scores


def _breakdown(records: list[dict[str, Any]], key: Callable[[dict[str, Any]], Any], seed: int,
               grounding: bool = False) -> dict[str, Any]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        name = key(r)
        if name is not None:
            groups[str(name)].append(r)
    out = {}
    for name in sorted(groups):
        group = groups[name]
        if grounding:
            out[name] = _per_sample(grounding_report, [_windows(r) for r in group],
                                    [r["windows"] for r in group], seed)["R@1,IoU=0.5"]
        else:
            out[name] = _metric([float(_correct(r)) for r in group], seed)
    return out


def _cost(records: list[dict[str, Any]]) -> dict[str, Any]:
    out = {}
    for name in COST_FIELDS:
        values = [float(r.get("cost", {}).get(name, 0) or 0) for r in records]
        out[name] = ({"mean": mean(values), "median": median(values), "total": sum(values)}
                     if values else {"mean": 0.0, "median": 0.0, "total": 0.0})
    return out
