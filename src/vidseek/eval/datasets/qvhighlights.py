"""QVHighlights (github.com/jayleicn/moment_detr): queries over 150-s YouTube clips with
one or more true windows and 2-s clip saliency from three raters.

Layout::

    DATA/highlight_val_release.jsonl    {qid, query, duration, vid, relevant_windows,
                                         relevant_clip_ids, saliency_scores} per line
    DATA/videos/<vid>.mp4               the clips (named like RoripwjYFp8_60.0_210.0.mp4)

Metrics: moment-retrieval mAP (IoU 0.5:0.05:0.95), R@1 at IoU 0.5/0.7, highlight HIT@1.
"""

from __future__ import annotations

from pathlib import Path

from vidseek.eval.datasets.base import Dataset, Sample, find_file, read_jsonl, require

NAME = "qvhighlights"


def load(root: Path, split: str = "val") -> Dataset:
    """Every query of ``highlight_<split>_release.jsonl``."""
    path = find_file(root, (f"highlight_{split}_release.jsonl",),
                     f"QVHighlights highlight_{split}_release.jsonl")
    samples = []
    for n, row in enumerate(read_jsonl(path)):
        require(row, ("qid", "query", "vid"), f"{path} line {n + 1}")
        samples.append(Sample(
            id=str(row["qid"]), task=NAME, kind="grounding",
            video=root / "videos" / f"{row['vid']}.mp4", question=str(row["query"]),
            windows=[(float(s), float(e)) for s, e in row.get("relevant_windows", [])],
            duration=row.get("duration"),
            extra={"relevant_clip_ids": row.get("relevant_clip_ids", []),
                   "saliency_scores": row.get("saliency_scores", [])}))
    return Dataset(NAME, root, samples, files=[path])


def clip_labels(sample: Sample, clip_seconds: float = 2.0) -> list[list[int]]:
    """Saliency per 2-s clip of the whole video (``clips x 3`` raters; 0 where unrated), the
    form `vidseek.eval.metrics.hit_at_1` takes."""
    ids, scores = sample.extra.get("relevant_clip_ids", []), sample.extra.get(
        "saliency_scores", [])
    count = max([int((sample.duration or 0) / clip_seconds)] + [i + 1 for i in ids])
    labels = [[0, 0, 0] for _ in range(count)]
    for clip, rating in zip(ids, scores, strict=False):
        labels[clip] = list(rating)
    return labels
