"""QVHighlights (github.com/jayleicn/moment_detr): queries over 150-s YouTube clips with
one or more true windows and 2-s clip saliency from three raters.

Layout::

    DATA/highlight_val_release.jsonl    {qid, query, duration, vid, relevant_windows,
                                         relevant_clip_ids, saliency_scores} per line
    DATA/highlight_test_with_gt.jsonl   the test split with its windows (``split="test"``)
    DATA/videos/<vid>.mp4               the clips (named like RoripwjYFp8_60.0_210.0.mp4)

``highlight_test_release.jsonl`` withholds the test windows (the benchmark's server scores
them); it is refused rather than read as 1,542 queries whose answer is absent.

Metrics: moment-retrieval mAP (IoU 0.5:0.05:0.95), R@1 at IoU 0.5/0.7, highlight HIT@1.
"""

from __future__ import annotations

from pathlib import Path

from vidseek.errors import DataError
from vidseek.eval.datasets.base import Dataset, Sample, find_file, read_jsonl, require

NAME = "qvhighlights"


def load(root: Path, split: str = "val") -> Dataset:
    """Every query of ``highlight_<split>_release.jsonl`` (or ``_with_gt.jsonl``).

    Raises:
        DataError: the file withholds its windows (the test release).
    """
    candidates = ((f"highlight_{split}_with_gt.jsonl", f"highlight_{split}_release.jsonl")
                  if split == "test" else
                  (f"highlight_{split}_release.jsonl", f"highlight_{split}_with_gt.jsonl"))
    path = find_file(root, candidates, f"QVHighlights highlight_{split}_release.jsonl")
    samples = []
    for n, row in enumerate(read_jsonl(path)):
        require(row, ("qid", "query", "vid"), f"{path} line {n + 1}")
        if "relevant_windows" not in row:
            raise DataError(f"{path} line {n + 1} has no relevant_windows: this release "
                            "withholds its windows and cannot be scored here; use "
                            "highlight_test_with_gt.jsonl, or submit predictions to the "
                            "benchmark's server")
        samples.append(Sample(
            id=str(row["qid"]), task=NAME, kind="grounding",
            video=root / "videos" / f"{row['vid']}.mp4", question=str(row["query"]),
            windows=[(float(s), float(e)) for s, e in row["relevant_windows"]],
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
