"""NExT-QA (github.com/doc-doc/NExT-QA): five-option causal and temporal questions.

Layout (the repo's ``dataset/nextqa`` folder, plus the videos)::

    DATA/nextqa/val.csv                 video,frame_count,width,height,question,answer,qid,
                                        type,a0..a4 (answer: the right option's index)
    DATA/nextqa/map_vid_vidorID.json    {video: "1105/6037747123"}
    DATA/NExTVideo/1105/6037747123.mp4  videos (unzip NExTVideo.zip here)

``DATA/dataset/nextqa/...`` (the repo's own layout) is read too.
"""

from __future__ import annotations

from pathlib import Path

from vidseek.errors import DataError
from vidseek.eval.datasets.base import Dataset, Sample, find_file, read_csv, read_json, require

NAME = "nextqa"


def load(root: Path, split: str = "val") -> Dataset:
    """NExT-QA multiple choice, ``val`` (or ``test``) split."""
    path = find_file(root, (f"nextqa/{split}.csv", f"dataset/nextqa/{split}.csv"),
                     f"NExT-QA {split}.csv")
    mapping_file = find_file(path.parent, ("map_vid_vidorID.json",),
                             "NExT-QA map_vid_vidorID.json")
    mapping = read_json(mapping_file)
    samples = []
    for n, row in enumerate(read_csv(path)):
        require(row, ("video", "question", "answer", "qid", "a0"), f"{path} row {n + 2}")
        options = [row[f"a{i}"] for i in range(5) if f"a{i}" in row]
        answer = int(row["answer"])
        samples.append(Sample(
            id=f"{row['video']}_{row['qid']}", task=NAME, kind="mc",
            video=video_path(root, mapping, row["video"], mapping_file),
            question=row["question"], options=options, answer=answer,
            answer_text=options[answer], category=row.get("type")))
    return Dataset(NAME, root, samples, files=[path, mapping_file])


def video_path(root: Path, mapping: dict[str, str], video: str, mapping_file: Path) -> Path:
    """``NExTVideo/<vidor path>.mp4`` for a NExT video id."""
    if video not in mapping:
        raise DataError(f"video {video} is not in {mapping_file}; download the file again")
    return root / "NExTVideo" / f"{mapping[video]}.mp4"
