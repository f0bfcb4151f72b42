"""Joining what the chunks of one video found into what one pass would have found.

- audio: each chunk analyzed the windows that start in it, so the pieces concatenate;
- frames: a thing still on screen at a border is closed by the left chunk and seen again
  from the right chunk's first frame; the two are one observation when the analyzer's own
  ``same`` rule says so (the rule it tracks things with from frame to frame);
- shots: the boundaries of all chunks, joined by the shot detection.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from vidseek.indexing.plan import Chunk
from vidseek.types import Observation

__all__ = ["stitch_audio", "stitch_frames"]


def stitch_audio(pieces: Sequence[list[Observation]]) -> list[Observation]:
    """Concatenation in time order."""
    return sorted((o for piece in pieces for o in piece), key=lambda o: (o.start, o.end))


def stitch_frames(analyzer: Any, pieces: Sequence[list[Observation]],
                  chunks: Sequence[Chunk], *, step: float) -> list[Observation]:
    """Join the observations of consecutive chunks of a frame analyzer.

    An observation of the right chunk that starts on its first sampled frame is joined to
    an observation of the left one that was still seen within a step of that frame when
    ``analyzer.same`` says they are one: the joined observation runs from the left start to
    the right end, with the reading seen longer and surer (``data["confidence"]``).

    Args:
        analyzer: the frame analyzer (its ``same(a, b)`` decides).
        pieces: each chunk's observations, in chunk order.
        chunks: the chunks.
        step: seconds between sampled frames.

    Returns:
        The observations, sorted by start.
    """
    merged: list[Observation] = list(pieces[0]) if pieces else []
    for chunk, piece in zip(chunks[1:], pieces[1:]):
        first_frame = math.ceil(chunk.start / step - 1e-9) * step
        open_left = [o for o in merged if _last_seen(o) >= first_frame - step - 1e-6
                     and o.end >= first_frame - 1e-6]
        for obs in sorted(piece, key=lambda o: o.start):
            twins = ([o for o in open_left if analyzer.same(o, obs)]
                     if obs.start <= first_frame + 1e-6 else [])
            if not twins:
                merged.append(obs)
                continue
            twin = min(twins, key=lambda o: abs(_last_seen(o) - first_frame))
            open_left.remove(twin)
            merged[merged.index(twin)] = _joined(twin, obs)
    return sorted(merged, key=lambda o: (o.start, o.end))


def _last_seen(obs: Observation) -> float:
    return obs.data.get("last_seen", obs.end)


def _joined(left: Observation, right: Observation) -> Observation:
    def weight(o: Observation) -> float:
        return (_last_seen(o) - o.start + 1.0) * o.data.get("confidence", 1.0)

    best = left if weight(left) >= weight(right) else right
    data = {**best.data, "last_seen": _last_seen(right)} if "last_seen" in best.data else best.data
    return best.model_copy(update={"start": left.start, "end": right.end, "data": data})
