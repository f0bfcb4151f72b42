"""Moment-retrieval and highlight metrics on hand-computed examples (arithmetic in comments)."""

from __future__ import annotations

import numpy as np
import pytest

from vidseek.eval.metrics import (
    QVHIGHLIGHTS_IOUS,
    average_precision,
    grounding_report,
    hit_at_1,
    mean_iou,
    moment_map,
    recall_at_k,
    temporal_iou,
)

# --- temporal_iou ----------------------------------------------------------------------------


def test_temporal_iou_hand_computed():
    # [0, 4] and [2, 6]: intersection 2, union 6.
    assert temporal_iou((0, 4), (2, 6)) == pytest.approx(1 / 3)
    assert temporal_iou((2, 6), (0, 4)) == pytest.approx(1 / 3)
    # [1, 3] inside [0, 4]: intersection 2, union 4.
    assert temporal_iou((1, 3), (0, 4)) == 0.5
    assert temporal_iou((0.0, 10.0), (0.0, 10.0)) == 1.0
    # A third element (a score) is ignored.
    assert temporal_iou((1, 3, 0.9), (0, 4)) == 0.5


def test_temporal_iou_edges():
    assert temporal_iou((0, 2), (5, 6)) == 0.0  # disjoint
    assert temporal_iou((0, 2), (2, 4)) == 0.0  # touching: intersection is a point
    assert temporal_iou((1, 1), (0, 2)) == 0.0  # zero-length inside a window
    assert temporal_iou((1, 1), (1, 1)) == 0.0  # empty union
    with pytest.raises(ValueError, match="ends before it starts"):
        temporal_iou((3, 1), (0, 4))
    with pytest.raises(ValueError, match="start, end"):
        temporal_iou((1,), (0, 4))


# --- recall_at_k, mean_iou, grounding_report ------------------------------------------------

TRUTHS = [
    [(0, 10)],
    [(10, 20), (30, 40)],  # two true windows, as in QVHighlights
    [(5, 7)],
]
PREDICTIONS = [
    # (0, 5) vs (0, 10): 5 / 10 = 0.5;  (0, 10): 1.0
    [(0, 5), (0, 10)],
    # (30, 36) vs (30, 40): 6 / 10 = 0.6 (0 vs (10, 20));  (50, 60): 0
    [(30, 36), (50, 60)],
    # (0, 1): 0;  (5, 6) vs (5, 7): 1 / 2 = 0.5
    [(0, 1), (5, 6)],
]


def test_recall_at_k_hand_computed():
    # Top-1 IoUs are 0.5, 0.6, 0; best over the top 2 are 1.0, 0.6, 0.5.
    assert recall_at_k(PREDICTIONS, TRUTHS, 1, 0.3) == pytest.approx(2 / 3)
    assert recall_at_k(PREDICTIONS, TRUTHS, 1, 0.5) == pytest.approx(2 / 3)  # 0.5 >= 0.5 counts
    assert recall_at_k(PREDICTIONS, TRUTHS, 1, 0.7) == 0.0
    assert recall_at_k(PREDICTIONS, TRUTHS, 5, 0.5) == 1.0
    assert recall_at_k(PREDICTIONS, TRUTHS, 5, 0.7) == pytest.approx(1 / 3)  # only query 1
    # The second true window of query 2 is the one hit: with it removed, query 2 misses.
    assert recall_at_k(PREDICTIONS, [TRUTHS[0], [(10, 20)], TRUTHS[2]], 5, 0.3) == pytest.approx(
        2 / 3
    )


def test_mean_iou_hand_computed():
    # (0.5 + 0.6 + 0) / 3
    assert mean_iou(PREDICTIONS, TRUTHS) == pytest.approx(1.1 / 3)


def test_grounding_report_keys_and_values():
    report = grounding_report(PREDICTIONS, TRUTHS)
    assert report == pytest.approx(
        {
            "R@1,IoU=0.3": 2 / 3,
            "R@1,IoU=0.5": 2 / 3,
            "R@1,IoU=0.7": 0.0,
            "R@5,IoU=0.3": 1.0,
            "R@5,IoU=0.5": 1.0,
            "R@5,IoU=0.7": 1 / 3,
            "mIoU": 1.1 / 3,
        }
    )
    assert list(grounding_report(PREDICTIONS, TRUTHS, ks=(1,), ious=(0.5,))) == [
        "R@1,IoU=0.5",
        "mIoU",
    ]


def test_query_without_predictions_is_a_miss():
    predictions = [*PREDICTIONS, []]
    truths = [*TRUTHS, [(0, 3)]]
    # 2 hits over 4 queries; mIoU (0.5 + 0.6 + 0 + 0) / 4.
    assert recall_at_k(predictions, truths, 1, 0.5) == 0.5
    assert mean_iou(predictions, truths) == pytest.approx(1.1 / 4)


def test_query_without_truth_is_left_out():
    # A query with nothing to find neither hits nor misses: the scores stay those of 3 queries.
    predictions = [*PREDICTIONS, [(0, 3)]]
    truths = [*TRUTHS, []]
    assert recall_at_k(predictions, truths, 1, 0.5) == pytest.approx(2 / 3)
    assert mean_iou(predictions, truths) == pytest.approx(1.1 / 3)
    assert average_precision([[(0, 10, 1.0)], [(0, 3, 1.0)]], [[(0, 10)], []], 0.5) == 1.0
    with pytest.raises(ValueError, match="no query has a true window"):
        recall_at_k([[(0, 3)]], [[]], 1, 0.5)


def test_single_bare_window_as_truth():
    # Charades-STA style: one (start, end) per query instead of a list of windows.
    bare = [(0, 10), (30, 40), (5, 7)]
    listed = [[w] for w in bare]
    assert recall_at_k(PREDICTIONS, bare, 1, 0.5) == recall_at_k(PREDICTIONS, listed, 1, 0.5)
    assert mean_iou(PREDICTIONS, bare) == mean_iou(PREDICTIONS, listed)


def test_scores_do_not_rerank_recall():
    # R@k reads rank from list order (the official MR-R1 takes pred_relevant_windows[0]).
    predictions = [[(50, 60, 0.1), (0, 10, 0.9)]]
    assert recall_at_k(predictions, [[(0, 10)]], 1, 0.5) == 0.0
    assert recall_at_k(predictions, [[(0, 10)]], 2, 0.5) == 1.0


def test_zero_length_and_touching_predictions_never_hit():
    predictions = [[(5, 5)], [(10, 12)]]
    truths = [[(0, 10)], [(0, 10)]]  # a point inside, and a window touching the end
    assert recall_at_k(predictions, truths, 1, 0.0 + 1e-9) == 0.0
    assert mean_iou(predictions, truths) == 0.0


def test_misuse_is_reported():
    with pytest.raises(ValueError, match="one entry per query"):
        recall_at_k(PREDICTIONS, TRUTHS[:2], 1, 0.5)
    with pytest.raises(ValueError, match="k >= 1"):
        recall_at_k(PREDICTIONS, TRUTHS, 0, 0.5)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        recall_at_k(PREDICTIONS, TRUTHS, 1, 50)
    with pytest.raises(ValueError):
        mean_iou([], [])


def test_recall_and_mean_iou_match_a_direct_computation():
    rng = np.random.default_rng(0)
    predictions, truths = [], []
    for _ in range(60):
        starts = rng.uniform(0, 100, size=rng.integers(1, 4))
        truths.append([(s, s + d) for s, d in zip(starts, rng.uniform(1, 20, len(starts)))])
        starts = rng.uniform(0, 100, size=rng.integers(1, 6))
        predictions.append([(s, s + d) for s, d in zip(starts, rng.uniform(1, 20, len(starts)))])
    # Vectorised IoU of each query's top-1 window against all its true windows.
    top1_best = []
    for ranked, windows in zip(predictions, truths):
        gt = np.asarray(windows)
        p = np.asarray(ranked[0])
        inter = np.clip(np.minimum(p[1], gt[:, 1]) - np.maximum(p[0], gt[:, 0]), 0, None)
        union = (p[1] - p[0]) + (gt[:, 1] - gt[:, 0]) - inter
        top1_best.append((inter / union).max())
    top1_best = np.asarray(top1_best)
    assert top1_best.max() > 0.5  # the set has hits to count
    assert mean_iou(predictions, truths) == pytest.approx(top1_best.mean())
    for m in (0.1, 0.3, 0.5, 0.7):
        assert recall_at_k(predictions, truths, 1, m) == pytest.approx((top1_best >= m).mean())
    # With one true window and one prediction per query, AP is 1 for a hit and 0 for a miss,
    # so mean AP equals R@1.
    single_truth = [w[:1] for w in truths]
    single_pred = [[(*r[0], 1.0)] for r in predictions]
    for m in (0.3, 0.5):
        assert average_precision(single_pred, single_truth, m) == pytest.approx(
            recall_at_k(single_pred, single_truth, 1, m)
        )


# --- average_precision, moment_map -----------------------------------------------------------


def test_average_precision_hand_computed():
    truths = [[(0, 10), (20, 30)]]
    predictions = [[(0, 10, 0.9), (0, 9, 0.8), (20, 25, 0.7)]]
    # IoU 0.5: (0, 10) takes (0, 10) -> TP.  (0, 9) overlaps (0, 10) by 0.9, but it is taken,
    # and (20, 30) by 0 -> FP.  (20, 25) vs (20, 30) = 0.5 -> TP.
    # Precision 1/1, 1/2, 2/3; interpolated at the TPs: 1 and 2/3.  AP = (1 + 2/3) / 2 = 5/6.
    assert average_precision(predictions, truths, 0.5) == pytest.approx(5 / 6)
    # IoU 0.7: only the first is a TP -> AP = 1 / 2.
    assert average_precision(predictions, truths, 0.7) == pytest.approx(0.5)
    # IoU 0.95: the same.
    assert average_precision(predictions, truths, 0.95) == pytest.approx(0.5)


def test_average_precision_uses_interpolated_precision():
    truths = [[(0, 10), (20, 30), (40, 50)]]
    # Ranked: TP, FP, FP, TP, TP.  Precision 1, 1/2, 1/3, 2/4, 3/5.
    # Interpolated (best at this rank or later) at the TPs: 1, 3/5, 3/5.
    # AP = (1 + 0.6 + 0.6) / 3 = 2.2 / 3  (plain precision would give (1 + 0.5 + 0.6) / 3).
    predictions = [
        [(0, 10, 0.9), (100, 110, 0.8), (60, 70, 0.7), (20, 30, 0.6), (40, 50, 0.5)],
    ]
    assert average_precision(predictions, truths, 0.5) == pytest.approx(2.2 / 3)


def test_duplicate_predictions_match_a_truth_once():
    truths = [[(0, 10), (20, 30)]]
    # TP, FP (same window, truth already taken), TP: precision 1, 1/2, 2/3.
    # AP = (1 + 2/3) / 2 = 5/6; if the duplicate matched again it would be 1.
    predictions = [[(0, 10, 0.9), (0, 10, 0.8), (20, 30, 0.7)]]
    assert average_precision(predictions, truths, 0.5) == pytest.approx(5 / 6)


def test_greedy_matching_takes_the_best_unmatched_truth():
    truths = [[(0, 10), (4, 14)]]
    # (4, 12) vs (0, 10): 6 / 12 = 0.5; vs (4, 14): 8 / 10 = 0.8 -> takes (4, 14).
    # (0, 10) vs (0, 10): 1.0 -> TP.  Both TPs: AP = 1.
    # (Taking the first truth instead would leave (0, 10) with (4, 14) at 6 / 14 < 0.5.)
    assert average_precision([[(4, 12, 0.9), (0, 10, 0.8)]], truths, 0.5) == 1.0
    # (4, 14) takes (4, 14) at IoU 1; (4, 12) falls back to (0, 10) at IoU 0.5 -> TP at 0.5,
    # FP at 0.6 (AP = 1 / 2).
    fallback = [[(4, 14, 0.9), (4, 12, 0.8)]]
    assert average_precision(fallback, truths, 0.5) == 1.0
    assert average_precision(fallback, truths, 0.6) == 0.5


def test_average_precision_ranks_by_score_and_keeps_list_order_on_ties():
    truths = [[(0, 10)]]
    # Scores put the TP first: AP = 1.
    assert average_precision([[(50, 60, 0.1), (0, 10, 0.9)]], truths, 0.5) == 1.0
    # No scores: list order, FP then TP -> precision at the TP is 1/2.
    assert average_precision([[(50, 60), (0, 10)]], truths, 0.5) == 0.5
    # Equal scores keep list order (stable sort, as in the official script).
    assert average_precision([[(50, 60, 0.5), (0, 10, 0.5)]], truths, 0.5) == 0.5
    assert average_precision([[(0, 10, 0.5), (50, 60, 0.5)]], truths, 0.5) == 1.0
    with pytest.raises(ValueError, match="score"):
        average_precision([[(50, 60, 0.5), (0, 10)]], truths, 0.5)


def test_average_precision_averages_over_queries_and_counts_empty_predictions():
    truths = [[(0, 10), (20, 30)], [(0, 10)]]
    predictions = [[(0, 10, 0.9), (0, 9, 0.8), (20, 25, 0.7)], []]
    # (5/6 + 0) / 2
    assert average_precision(predictions, truths, 0.5) == pytest.approx(5 / 12)


def test_average_precision_keeps_the_first_ten_windows():
    truths = [[(0, 10)]]
    # The hit is the 11th window in list order; the official script drops it before ranking,
    # although its score is the highest.
    predictions = [[(100 + 20 * i, 110 + 20 * i, 0.5) for i in range(10)] + [(0, 10, 0.9)]]
    assert average_precision(predictions, truths, 0.5) == 0.0
    assert average_precision(predictions, truths, 0.5, max_windows=None) == 1.0


def test_moment_map_hand_computed():
    # One query, one prediction at IoU 8 / 10 = 0.8: AP 1 at thresholds 0.5 .. 0.8 (7 of them),
    # 0 at 0.85 .. 0.95 (3).  mAP = 7 / 10.
    predictions = [[(0, 8, 1.0)]]
    truths = [[(0, 10)]]
    scores = moment_map(predictions, truths)
    assert list(scores) == ["mAP"] + [f"mAP@{m:g}" for m in QVHIGHLIGHTS_IOUS]
    assert scores["mAP"] == pytest.approx(0.7)
    assert scores["mAP@0.5"] == scores["mAP@0.75"] == scores["mAP@0.8"] == 1.0
    assert scores["mAP@0.85"] == 0.0
    # np.arange thresholds (0.8000000000000003...) give the same: IoU 0.8 still counts at 0.8.
    assert moment_map(predictions, truths, np.arange(0.5, 0.96, 0.05)) == pytest.approx(scores)


def test_moment_map_over_several_queries():
    truths = [[(0, 10), (20, 30)], [(0, 10)]]
    predictions = [[(0, 10, 0.9), (0, 9, 0.8), (20, 25, 0.7)], [(0, 8, 0.3)]]
    # Query 1: 5/6 at 0.5 (see above), 1/2 from 0.55 up ((20, 25) misses, (0, 9) is a
    # duplicate).  Query 2: 1 at 0.5 .. 0.8, 0 above.
    scores = moment_map(predictions, truths, (0.5, 0.75, 0.9))
    assert scores["mAP@0.5"] == pytest.approx((5 / 6 + 1) / 2)
    assert scores["mAP@0.75"] == pytest.approx((1 / 2 + 1) / 2)
    assert scores["mAP@0.9"] == pytest.approx((1 / 2 + 0) / 2)
    assert scores["mAP"] == pytest.approx((11 / 12 + 3 / 4 + 1 / 4) / 3)
    with pytest.raises(ValueError, match="threshold"):
        moment_map(predictions, truths, ())


# --- hit_at_1 --------------------------------------------------------------------------------

# Per clip, ratings 0-4 from 3 annotators.
CLIP_SCORES = [
    [0.1, 0.9, 0.3],  # top clip 1
    [0.8, 0.2],  # top clip 0
    [0.5, 0.5, 0.1],  # tie between clips 0 and 1: the first (0) wins, as np.argmax
    [0.0, 0.0, 0.0, 0.9],  # top clip 3, past the labels
]
CLIP_LABELS = [
    [[0, 0, 0], [4, 2, 3], [1, 1, 1]],  # clip 1: one annotator says 4 -> hit at 4, 3, 2
    [[3, 3, 3], [4, 4, 4]],  # clip 0: best rating 3 -> hit at 3 and 2 only
    [[2, 2, 2], [4, 4, 4], [0, 0, 0]],  # clip 0: best rating 2 -> hit at 2 only
    [[4, 4, 4]],  # clip 3 has no label -> miss
]


def test_hit_at_1_hand_computed():
    assert hit_at_1(CLIP_SCORES, CLIP_LABELS) == 0.25  # default: "Very Good" (4); query 1
    assert hit_at_1(CLIP_SCORES, CLIP_LABELS, threshold=3) == 0.5  # queries 1, 2
    assert hit_at_1(CLIP_SCORES, CLIP_LABELS, threshold=2) == 0.75  # queries 1, 2, 3


def test_hit_at_1_single_rating_and_empty_scores():
    # One rating per clip: (clips,) works like one annotator.
    assert hit_at_1([[0.1, 0.9, 0.3]], [[0, 4, 1]]) == 1.0
    assert hit_at_1([[0.9, 0.1, 0.3]], [[0, 4, 1]]) == 0.0
    # A query without predicted scores misses; a query without any highlight still counts.
    assert hit_at_1([[], [0.2, 0.1], [0.9]], [[4, 4], [4, 0], [0]]) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="one entry per query"):
        hit_at_1(CLIP_SCORES, CLIP_LABELS[:2])
    with pytest.raises(ValueError, match="at least one query"):
        hit_at_1([], [])
