"""The metrics against the official scorers' numbers, on the real published files.

QVHighlights: Moment-DETR's own val predictions (``sample_val_preds.jsonl``) and what the
official ``standalone_eval`` printed for them (``sample_val_preds_metrics_raw.json``, read here,
not copied: every official number is compared at the 2 decimals it is printed with).
Charades-STA and NExT-GQA ship no predictions; seeded ones are scored against the official
definitions (lmms-eval's and NExT-GQA's IoU and IoP), written out below as the reference.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from vidseek.eval.datasets import load_task
from vidseek.eval.datasets.qvhighlights import clip_labels
from vidseek.eval.metrics import (
    SALIENCY_LEVELS,
    average_precision,
    grounded_qa_report,
    highlight_map,
    hit_at_1,
    moment_map,
    moment_map_by_length,
    recall_at_k,
    temporal_iop,
    temporal_iou,
)
from vidseek.eval.records import SampleRecord
from vidseek.eval.scoring import score_records


@pytest.fixture(scope="module")
def qvh(benchmarks):
    folder = benchmarks / "qvhighlights"
    dataset = load_task("qvhighlights", folder)
    preds = {}
    for line in (folder / "sample_val_preds.jsonl").read_text().splitlines():
        row = json.loads(line)
        preds[str(row["qid"])] = row
    official = json.loads((folder / "sample_val_preds_metrics_raw.json").read_text())
    return dataset, preds, official


def _x100(value: float) -> float:
    return round(value * 100, 2)


def test_qvhighlights_moment_retrieval_matches_the_official_scorer(qvh):
    dataset, preds, official = qvh
    predicted = [preds[s.id]["pred_relevant_windows"] for s in dataset]
    truths = [s.windows for s in dataset]
    full = official["full"]
    for threshold, value in full["MR-R1"].items():
        assert _x100(recall_at_k(predicted, truths, 1, float(threshold))) == value, threshold
    result = moment_map(predicted, truths)
    assert _x100(result["mAP"]) == full["MR-mAP"]["average"]
    for threshold, value in full["MR-mAP"].items():
        if threshold != "average":
            assert _x100(result[f"mAP@{float(threshold):g}"]) == value, threshold
    by_length = moment_map_by_length(predicted, truths)
    for name in ("short", "middle", "long"):
        assert _x100(by_length[f"mAP {name}"]) == official[name]["MR-mAP"]["average"], name


def test_qvhighlights_highlight_detection_matches_the_official_scorer(qvh):
    dataset, preds, official = qvh
    scores = [preds[s.id]["pred_saliency_scores"] for s in dataset]
    labels = [clip_labels(s) for s in dataset]
    for level, threshold in SALIENCY_LEVELS:
        expected = official[f"HL-min-{level}"]
        assert _x100(highlight_map(scores, labels, threshold)) == expected["HL-mAP"], level
        assert _x100(hit_at_1(scores, labels, threshold)) == expected["HL-Hit1"], level


def _records(dataset, preds, *, saliency: bool) -> list[SampleRecord]:
    return [SampleRecord(
        id=s.id, task=s.task, kind="grounding", status="ok", windows=s.windows,
        duration=s.duration, clip_labels=clip_labels(s),
        predicted_windows=[tuple(w) for w in preds[s.id]["pred_relevant_windows"]],
        saliency_scores=preds[s.id]["pred_saliency_scores"] if saliency else None)
        for s in dataset]


@pytest.mark.slow
def test_score_records_reads_a_models_own_saliency_and_labels_the_window_proxy(qvh):
    dataset, preds, official = qvh
    metrics = score_records(_records(dataset, preds, saliency=True))["metrics"]
    brief = official["brief"]
    assert _x100(metrics["HIT@1"]["value"]) == brief["HL-min-VeryGood-Hit1"]
    assert _x100(metrics["HL-mAP"]["value"]) == brief["HL-min-VeryGood-mAP"]
    assert _x100(metrics["HIT@1 Fair"]["value"]) == brief["HL-min-Fair-Hit1"]
    assert _x100(metrics["HL-mAP Good"]["value"]) == brief["HL-min-Good-mAP"]
    assert _x100(metrics["mAP"]["value"]) == brief["MR-full-mAP"]
    assert _x100(metrics["mAP short"]["value"]) == brief["MR-short-mAP"]
    assert _x100(metrics["R@1,IoU=0.7"]["value"]) == brief["MR-full-R1@0.7"]
    proxy = score_records(_records(dataset, preds, saliency=False))["metrics"]
    assert "HIT@1" not in proxy and "HL-mAP" not in proxy
    # windows are a poor stand-in for a model's saliency: a different, lower number
    assert proxy["HIT@1 (window proxy)"]["value"] < metrics["HIT@1"]["value"]


def test_ap_gives_a_tied_prediction_the_later_true_window():
    # GTs [0,10] and [2,12]; [1,11] has IoU 9/11 with both, so it takes the later one,
    # and [0,10] then matches the first: AP@0.7 is 1 (0.5 if [1,11] took [0,10]).
    predicted = [[(1, 11, 0.9), (0, 10, 0.8)]]
    assert average_precision(predicted, [[(0, 10), (2, 12)]], 0.7) == 1.0


def _lmms_eval_iou(a, b):
    """lmms-eval's Charades-STA IoU: overlap over (latest end - earliest start)."""
    overlap = min(a[1], b[1]) - max(a[0], b[0])
    return max(overlap, 0) / (max(a[1], b[1]) - min(a[0], b[0]))


def test_iou_is_exact_where_the_official_scorers_are():
    assert temporal_iou((0.8, 6.4), (0.0, 4.0)) == 0.5  # the sum form gives 0.49999999999999994


def test_charades_sta_recall_matches_lmms_eval_on_the_real_test_set(benchmarks):
    dataset = load_task("charades_sta", benchmarks / "charades_sta")
    assert len(dataset) == 3720
    rng = np.random.default_rng(0)
    predicted = []
    for s in dataset:  # windows on the annotations' 0.1-s grid, near the truth
        start, end = s.windows[0]
        a = round(max(0.0, start + rng.uniform(-4, 4)), 1)
        predicted.append([(a, round(a + rng.uniform(0.5, 12), 1))])
    truths = [s.windows for s in dataset]
    for threshold in (0.3, 0.5, 0.7):
        official = np.mean([_lmms_eval_iou(p[0], t[0]) >= threshold
                            for p, t in zip(predicted, truths, strict=True)])
        assert recall_at_k(predicted, truths, 1, threshold) == official
    on_the_edge = sum(_lmms_eval_iou(p[0], t[0]) == 0.5 for p, t in zip(predicted, truths,
                                                                       strict=True))
    assert on_the_edge > 10  # the test has teeth: many windows sit exactly on 0.5


def test_nextgqa_point_predictions_count_inside_the_truth(benchmarks):
    dataset = load_task("nextgqa", benchmarks)
    grounded = [s for s in dataset if s.windows]
    assert len(grounded) == 3358
    inside = [[(w[0][0] + w[0][1]) / 2] * 2 for w in (s.windows for s in grounded)]
    # a point inside a true window has IoP 1 (NExT-GQA's get_tIoU), so every right answer
    # is grounded; a point far past every window has IoP 0
    report = grounded_qa_report([True] * len(grounded), [[p] for p in inside],
                                [s.windows for s in grounded])
    assert report["Acc@GQA"] == 1.0 and report["mIoP"] == 1.0 and report["mIoU"] == 0.0
    assert temporal_iop((1e6, 1e6), grounded[0].windows[0]) == 0.0
    assert temporal_iop((5.8, 5.8), (1.2, 5.8)) == 1.0  # ends included
