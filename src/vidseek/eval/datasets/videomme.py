"""Video-MME (lmms-lab/Video-MME on Hugging Face): 900 videos, 2,700 four-option questions.

Layout (``DATA`` is the folder given to ``--data``)::

    DATA/videomme/test-00000-of-00001.parquet   questions (from the repo's videomme/ folder)
    DATA/data/<videoID>.mp4                     videos (unzip videos_chunked_*.zip here;
                                                .MP4 and .mkv are found too, as lmms-eval)
    DATA/subtitle/<videoID>.srt                 optional subtitles (subtitle.zip)

Parquet columns: video_id, duration (short/medium/long), domain, sub_category, url, videoID,
question_id, task_type, question, options (``["A. ...", ...]``), answer (a letter).
"""

from __future__ import annotations

import re
from pathlib import Path

from vidseek.errors import DataError
from vidseek.eval.datasets.base import LETTERS, Dataset, Sample, find_file, require

NAME = "videomme"
_PARQUET = ("videomme/test-00000-of-00001.parquet", "test-00000-of-00001.parquet")
_LETTER_PREFIX = re.compile(r"^\s*\(?[A-J][.):]\s*")


def load(root: Path) -> Dataset:
    """Video-MME's questions with their videos under ``root/data``."""
    path = find_file(root, _PARQUET, "Video-MME questions (videomme/test-00000-of-00001.parquet)")
    import pyarrow.parquet as pq

    rows = pq.read_table(path).to_pylist()
    samples = []
    for n, row in enumerate(rows):
        require(row, ("videoID", "question_id", "question", "options", "answer"),
                f"{path} row {n}")
        options = [_LETTER_PREFIX.sub("", str(o)).strip() for o in row["options"]]
        letter = str(row["answer"]).strip().upper()
        if letter[:1] not in LETTERS[: len(options)]:
            raise DataError(f"{path} row {n}: answer {row['answer']!r} is not an option letter")
        samples.append(Sample(
            id=str(row["question_id"]), task=NAME, kind="mc",
            video=_video(root / "data", str(row["videoID"])), question=str(row["question"]),
            options=options, answer=LETTERS.index(letter[0]),
            answer_text=options[LETTERS.index(letter[0])],
            category=row.get("task_type"), duration_group=row.get("duration"),
            extra={"domain": row.get("domain"), "sub_category": row.get("sub_category")}))
    return Dataset(NAME, root, samples, files=[path])


def _video(folder: Path, video_id: str) -> Path:
    for suffix in (".mp4", ".MP4", ".mkv"):
        if (folder / f"{video_id}{suffix}").is_file():
            return folder / f"{video_id}{suffix}"
    return folder / f"{video_id}.mp4"  # missing: the runner records it
