"""What counts as "the same" across frames, shared by the analyzers and by stitching.

- :func:`changed_with_slack`: the frame-change gate. Two grey thumbnails are compared pixel
  by pixel against the range of a small neighbourhood in the other, so a shift of a pixel or
  two (a slow pan, a zoom, encoder noise) is not a change, but something appearing or
  leaving is. The on-screen text and face analyzers gate their expensive models on it.
- :func:`same_line`: two readings of one line of on-screen text: alike text (case, spaces and
  Unicode forms folded) in overlapping boxes. The text analyzer tracks lines with it, and
  indexing joins the pieces of a line cut by a chunk border with it, so both follow one rule.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Sequence

import cv2
import numpy as np

__all__ = ["box_iou", "changed_with_slack", "normalise", "same_line", "similarity"]


def changed_with_slack(a: np.ndarray, b: np.ndarray, slack: np.ndarray,
                       level: float) -> np.ndarray:
    """Pixels of either grey thumbnail (same shape, uint8) more than ``level`` grey levels
    outside the range that the ``slack`` neighbourhood (a structuring element) of the same
    place spans in the other."""
    def outside(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        low, high = cv2.erode(y, slack), cv2.dilate(y, slack)
        return np.maximum(cv2.subtract(x, high), cv2.subtract(low, x))

    return np.maximum(outside(a, b), outside(b, a)) > level


def normalise(text: str) -> str:
    """Text for comparing readings: Unicode-compatible forms, case and spaces folded."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def similarity(a: str, b: str) -> float:
    """How alike two normalised readings are, 0..1 (``difflib`` ratio, no junk heuristic)."""
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two ``[x0, y0, x1, y1]`` boxes (0 when either is empty)."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def same_line(text_a: str, box_a: Sequence[float] | None, text_b: str,
              box_b: Sequence[float] | None, *, min_similarity: float,
              min_iou: float) -> bool:
    """Whether two readings are one line: texts at least ``min_similarity`` alike and boxes
    overlapping at least ``min_iou`` (a reading without a box is never the same line)."""
    if not box_a or not box_b:
        return False
    return (similarity(normalise(text_a), normalise(text_b)) >= min_similarity
            and box_iou(box_a, box_b) >= min_iou)
