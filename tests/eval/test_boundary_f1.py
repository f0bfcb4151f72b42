import pytest

from vidseek.eval.metrics import boundary_f1


def test_hand_computed_example():
    # Truth: cuts at 2.0 and 5.0, a dissolve over [8.0, 9.0].
    truth = [(2.0, 2.0), (5.0, 5.0), (8.0, 9.0)]
    # 2.05 matches 2.0; 5.2 misses (0.2 > 0.1); 8.5 is inside the dissolve; 12.0 is extra.
    score = boundary_f1([2.05, 5.2, 8.5, 12.0], truth, tolerance=0.1)
    assert (score.matched, score.detected, score.expected) == (2, 4, 3)
    assert score.precision == pytest.approx(0.5)
    assert score.recall == pytest.approx(2 / 3)
    assert score.f1 == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))


def test_one_to_one_matching():
    # Two detections near one cut count once.
    score = boundary_f1([3.0, 3.05], [(3.02, 3.02)], tolerance=0.1)
    assert (score.matched, score.precision, score.recall) == (1, 0.5, 1.0)


def test_tolerance_edges_are_inclusive():
    assert boundary_f1([1.1], [(1.0, 1.0)], tolerance=0.1 + 1e-12).matched == 1
    assert boundary_f1([1.1001], [(1.0, 1.0)], tolerance=0.1).matched == 0


def test_empty_cases():
    assert boundary_f1([], []).f1 == 1.0
    assert boundary_f1([1.0], []).f1 == 0.0
    assert boundary_f1([], [(1.0, 1.0)]).f1 == 0.0
