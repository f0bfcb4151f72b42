"""Temporal grounding on annotated clips: load query -> window annotations, run a library's
search on each query and score the moments it returns.

Two annotation layouts are read (the files in ``../shared/data/real/annotations/``):

- Charades: ``{"video": "videos/x.mp4", "moments": [{"query", "windows_s", "source"}, ...]}``
  (Charades-STA queries and Charades action segments);
- NExT-QA / NExT-GQA: ``{"video": ..., "qa": [{"qid", "question", "grounding_windows_s"}]}``,
  where the question text is the query and ``grounding_windows_s`` is null for the questions
  NExT-GQA did not keep (those are skipped: there is nothing to find).

The ``video`` path is relative to the data folder that holds ``annotations/`` (or to the
annotation file's own folder). Windows are clipped to the video's duration, since Charades
ends may run past the file (32.0 s on a 30.7-s clip, by Charades convention).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel

from vidseek.errors import DataError
from vidseek.eval.metrics import grounding_report, moment_map, temporal_iou
from vidseek.types import Moment

__all__ = [
    "BlindGuess",
    "GroundingQuery",
    "MomentSearcher",
    "evaluate_grounding",
    "load_grounding",
]


class GroundingQuery(BaseModel):
    """One query to ground in one video, with its true windows."""

    video: Path
    """The video file."""
    query: str
    """The text searched for (a description, an action label or a question)."""
    windows: list[tuple[float, float]]
    """True windows, timeline seconds, clipped to the video."""
    source: str
    """Where the query and its windows come from (dataset, split, id)."""


class MomentSearcher(Protocol):
    """What :func:`evaluate_grounding` needs: ``Library.search``'s signature."""

    def search(self, query: str | None = None, *, videos: list[str] | None = None,
               k: int = 10, threshold: float | None = None) -> list[Moment]: ...


def load_grounding(path: str | Path, *, duration: float | None = None) -> list[GroundingQuery]:
    """The grounding queries of one annotation file (Charades or NExT-GQA layout).

    Args:
        path: the annotation JSON file.
        duration: the video's length in seconds; default: probed from the video file.

    Returns:
        The queries in file order, their windows clipped to ``[0, duration]``. A window that
        lies wholly past the end is dropped, and so is a query left with no window.

    Raises:
        DataError: the file is missing, is not JSON, or has neither layout; or a window
            ends before it starts; or the video it names is not there.
    """
    path = Path(path)
    try:
        annotation = json.loads(path.read_text())
    except FileNotFoundError:
        raise DataError(f"annotation file {path} not found; pass the path of a Charades "
                         "or NExT-GQA annotation JSON file") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"{path} is not JSON ({exc}); pass an annotation JSON file") from None
    if not isinstance(annotation, dict) or not isinstance(annotation.get("video"), str):
        raise DataError(f"{path} names no video: an annotation file has a \"video\" key "
                         "with the clip's path relative to its data folder")
    video = _video_path(path, annotation["video"])
    try:
        if "moments" in annotation:
            raw = [(m["query"], m["windows_s"], m.get("source", "moments"))
                   for m in annotation["moments"]]
        elif "qa" in annotation:
            raw = [(q["question"], q["grounding_windows_s"], f"NExT-GQA qid {q.get('qid')}")
                   for q in annotation["qa"] if q.get("grounding_windows_s") is not None]
        else:
            raise DataError(f"{path} has neither \"moments\" (Charades layout) nor \"qa\" "
                             "(NExT-GQA layout); nothing to load")
    except (KeyError, TypeError) as exc:
        raise DataError(f"{path}: an entry lacks {exc}; Charades moments have \"query\" and "
                         "\"windows_s\", NExT-GQA qa entries \"question\" and "
                         "\"grounding_windows_s\"") from None
    if duration is None:
        from vidseek.media import probe

        duration = probe(video).duration
    queries = []
    for text, windows, source in raw:
        clipped = _clipped(windows, duration, where=f"{path} ({text!r})")
        if clipped:
            queries.append(GroundingQuery(video=video, query=text, windows=clipped,
                                          source=source))
    return queries


def evaluate_grounding(library: MomentSearcher, queries: Sequence[GroundingQuery], k: int = 5,
                       threshold: float | None = None) -> dict[str, Any]:
    """Search every query in its own video and score the moments found.

    Args:
        library: a :class:`~vidseek.library.Library` (anything with its ``search``) in
            which the queries' videos are indexed.
        queries: what to search for, e.g. from :func:`load_grounding`.
        k: moments asked for per query (R@5 sees only ``k`` of them when ``k < 5``).
        threshold: passed to ``search``: None for its calibrated default, 0.0 for every
            candidate moment.

    Returns:
        ``{"queries": n, "answered": queries with at least one moment, "k", "threshold",
        "metrics": {"R@1,IoU=0.3", ..., "R@5,IoU=0.7", "mIoU", "mAP", "mAP@0.5", ...},
        "per_query": [{"query", "video", "source", "windows", "predictions":
        [[start, end, score], ...], "top_iou", "best_iou"}, ...]}``. Metrics are fractions
        in [0, 1]; a query with no moment counts as a miss (IoU 0, AP 0).
    """
    if not queries:
        raise DataError("evaluate_grounding needs at least one query; load some with "
                         "load_grounding(annotation_file)")
    predictions = []
    per_query = []
    for q in queries:
        moments = library.search(q.query, videos=[str(q.video)], k=k, threshold=threshold)
        ranked = [(m.start, m.end, m.score) for m in moments]
        predictions.append(ranked)
        ious = [max(temporal_iou(p, w) for w in q.windows) for p in ranked]
        per_query.append({
            "query": q.query, "video": str(q.video), "source": q.source,
            "windows": [list(w) for w in q.windows],
            "predictions": [list(p) for p in ranked],
            "top_iou": ious[0] if ious else 0.0,
            "best_iou": max(ious, default=0.0),
        })
    truths = [q.windows for q in queries]
    metrics = grounding_report(predictions, truths, ks=(1, 5), ious=(0.3, 0.5, 0.7))
    metrics.update(moment_map(predictions, truths))
    return {"queries": len(queries), "answered": sum(bool(p) for p in predictions),
            "k": k, "threshold": threshold, "metrics": metrics, "per_query": per_query}


class BlindGuess:
    """A baseline that never looks at the video, scored like a library to show what search
    has to beat: ``"whole"`` answers every query with the whole clip, ``"uniform"`` with
    ``n`` equal windows tiling it (in time order, equal scores).

    Args:
        mode: ``"whole"`` or ``"uniform"``.
        n: windows for ``"uniform"``.
    """

    def __init__(self, mode: Literal["whole", "uniform"] = "whole", n: int = 5) -> None:
        if mode not in ("whole", "uniform") or n < 1:
            raise DataError(f"BlindGuess takes mode 'whole' or 'uniform' and n >= 1, got "
                             f"{mode!r}, {n}")
        self.mode, self.n = mode, n
        self._videos: dict[str, tuple[str, float]] = {}

    def search(self, query: str | None = None, *, videos: list[str] | None = None,
               k: int = 10, threshold: float | None = None) -> list[Moment]:
        if not videos:
            raise DataError("BlindGuess needs videos=[path]: it guesses within one clip")
        path = videos[0]
        if path not in self._videos:
            from vidseek.media import probe
            from vidseek.store import video_id

            self._videos[path] = (video_id(path), probe(path).duration)
        vid, duration = self._videos[path]
        n = 1 if self.mode == "whole" else self.n
        edges = [duration * i / n for i in range(n + 1)]
        return [Moment(video_id=vid, path=path, start=a, end=b, score=1.0 / n, evidence=[])
                for a, b in zip(edges, edges[1:])][:k]


def _video_path(annotation: Path, relative: str) -> Path:
    # "videos/x.mp4" is relative to the data folder that holds annotations/.
    candidates = [annotation.parent.parent / relative, annotation.parent / relative]
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    raise DataError(f"{annotation} names video {relative!r}, found at neither "
                     f"{candidates[0]} nor {candidates[1]}; put the clip there")


def _clipped(windows: Iterable[Sequence[float]], duration: float,
             where: str) -> list[tuple[float, float]]:
    clipped = []
    for window in windows:
        if len(window) != 2:
            raise DataError(f"{where}: a window is [start, end] in seconds, got {window!r}")
        start, end = float(window[0]), float(window[1])
        if end < start:
            raise DataError(f"{where}: window {window!r} ends before it starts; "
                             "windows are [start, end]")
        start, end = max(start, 0.0), min(end, duration)
        if end > start:
            clipped.append((start, end))
    return clipped
