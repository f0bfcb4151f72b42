"""Standard metrics, with the definitions their benchmarks use."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["BoundaryScore", "boundary_f1"]


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
