"""LongVideoBench (longvideobench/LongVideoBench on Hugging Face): 6,678 questions over
3,763 videos up to an hour long, with subtitles.

Layout::

    DATA/lvb_val.json            questions with answers (lvb_test_wo_gt.json: no answers)
    DATA/videos/<video_path>     videos (untar videos.tar.part.* here)
    DATA/subtitles/...           subtitles (subtitles.tar)

Each entry: id, video_id, video_path, question, candidates, correct_choice (index),
duration, duration_group (15/60/600/3600), question_category, level, subtitle_path.
"""

from __future__ import annotations

from pathlib import Path

from vidseek.eval.datasets.base import Dataset, Sample, find_file, read_json, require

NAME = "longvideobench"


def load(root: Path, split: str = "val") -> Dataset:
    """LongVideoBench's ``val`` split (``test``: questions without answers)."""
    name = "lvb_val.json" if split == "val" else "lvb_test_wo_gt.json"
    path = find_file(root, (name,), f"LongVideoBench {split} questions ({name})")
    samples = []
    for n, row in enumerate(read_json(path)):
        require(row, ("id", "video_path", "question", "candidates"), f"{path} entry {n}")
        options = [str(c) for c in row["candidates"]]
        answer = row.get("correct_choice")
        samples.append(Sample(
            id=str(row["id"]), task=NAME, kind="mc", video=root / "videos" / row["video_path"],
            question=str(row["question"]), options=options, answer=answer,
            answer_text=options[answer] if answer is not None else None,
            duration=row.get("duration"), category=row.get("question_category"),
            duration_group=str(row["duration_group"]) if "duration_group" in row else None,
            extra={"level": row.get("level"), "subtitle_path": row.get("subtitle_path")}))
    return Dataset(NAME, root, samples, files=[path])
