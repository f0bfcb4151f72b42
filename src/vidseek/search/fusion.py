"""Temporal fusion: scored hits become moments.

1. The best hit not yet used anchors a moment, with the anchor's own span: a sentence, a
   text's time on screen, a tag's stretch, a shot's keyframe part.
2. Hits of the anchor's kind that touch that span (within `MERGE_GAP` seconds) and score at
   least half as well (and at least `MERGE_FLOOR`) extend it: an answer said in two
   sentences, or a sign read twice with a blink between.
3. Every other hit that overlaps the span is absorbed: it never becomes a moment of its own
   (greedy temporal non-maximum suppression, best first, so a video's moments never overlap).
   Absorbed hits at least `EVIDENCE_FLOOR` likely are listed as evidence (speech and screen
   text saying the same thing); they do not move the span.
4. The moment's score is its best hit's calibrated score (CombMAX: corroboration is shown as
   evidence, not added to the probability, so scores stay calibrated).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

from vidseek.search.channels import Hit
from vidseek.types import Evidence, Moment, Observation

__all__ = ["EVIDENCE_FLOOR", "MERGE_FLOOR", "MERGE_GAP", "frame_times", "fuse"]

MERGE_GAP = 1.0
"""Seconds between two hits of one kind that still makes them one moment."""
MERGE_FLOOR = 0.3
"""A neighbouring hit extends a moment only when it is itself this likely a match."""
EVIDENCE_FLOOR = 0.1
"""An absorbed hit is listed as evidence only when at least this likely."""
_MAX_FRAME_TIMES = 8


def fuse(hits: Sequence[Hit], *, threshold: float, k: int,
         path_of: Callable[[str], str]) -> list[Moment]:
    """Moments from scored hits, best first: at most ``k``, each scoring >= ``threshold``.

    Args:
        hits: hits with their calibrated ``score``.
        threshold: the score a moment needs.
        k: how many moments at most.
        path_of: a video's file path, by id.
    """
    by_video: dict[str, list[Hit]] = defaultdict(list)
    for hit in hits:
        by_video[hit.video_id].append(hit)
    moments = [m for video_hits in by_video.values() for m in _moments_of_video(video_hits)]
    moments.sort(key=lambda m: (-m.score, m.video_id, m.start))
    kept = [m for m in moments if m.score >= threshold][:k]
    for moment in kept:
        moment.path = path_of(moment.video_id)
    return kept


def _moments_of_video(hits: list[Hit]) -> list[Moment]:
    ordered = sorted(hits, key=lambda h: (-h.score, h.start))
    used: set[int] = set()
    out = []
    for i, anchor in enumerate(ordered):
        if i in used:
            continue
        used.add(i)
        start, end = anchor.start, anchor.end
        members = [anchor]
        grew = True
        while grew:  # neighbours of one kind chain: sentence after sentence
            grew = False
            for j, hit in enumerate(ordered):
                if j in used or hit.observation.kind != anchor.observation.kind:
                    continue
                if hit.score < max(MERGE_FLOOR, anchor.score / 2):
                    continue
                if hit.start <= end + MERGE_GAP and hit.end >= start - MERGE_GAP:
                    used.add(j)
                    members.append(hit)
                    start, end = min(start, hit.start), max(end, hit.end)
                    grew = True
        for j, hit in enumerate(ordered):
            if j not in used and hit.start < end and hit.end > start:
                used.add(j)  # inside this moment: never a moment of its own
                if hit.score >= EVIDENCE_FLOOR:
                    members.append(hit)
        members.sort(key=lambda h: -h.score)
        moment = Moment(video_id=anchor.video_id, path="", start=start, end=end,
                        score=round(anchor.score, 4), evidence=[_evidence(h) for h in members],
                        thumbnail=_thumbnail_time(anchor, start, end))
        out.append(moment)
    return out


def _evidence(hit: Hit) -> Evidence:
    obs = hit.observation
    return Evidence(channel=hit.channel, kind=obs.kind, start=hit.start, end=hit.end,
                    text=obs.text, score=round(hit.score, 4), frame_times=frame_times(obs))


def frame_times(obs: Observation) -> list[float]:
    """Exact times of frames an observation was seen on, as far as its data records them."""
    data = obs.data
    times = [data[key] for key in ("frame_time", "first_seen", "last_seen") if key in data]
    if obs.kind == "text":  # screen text starts on the first sampled frame that showed it
        times.append(obs.start)
    times += list(data.get("frames", []))
    times += [box[0] for box in data.get("boxes", []) if len(box) == 5]  # [t, x0, y0, x1, y1]
    unique = sorted({round(float(t), 4) for t in times})
    if len(unique) > _MAX_FRAME_TIMES:
        step = (len(unique) - 1) / (_MAX_FRAME_TIMES - 1)
        unique = [unique[round(i * step)] for i in range(_MAX_FRAME_TIMES)]
    return unique


def _thumbnail_time(anchor: Hit, start: float, end: float) -> float:
    """A frame that shows the moment: the one the anchor was seen on nearest the middle,
    else the middle."""
    middle = (start + end) / 2
    seen = [t for t in frame_times(anchor.observation) if start <= t <= end]
    return min(seen, key=lambda t: abs(t - middle)) if seen else round(middle, 4)
