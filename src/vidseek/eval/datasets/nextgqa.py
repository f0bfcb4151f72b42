"""NExT-GQA (github.com/doc-doc/NExT-GQA): NExT-QA questions with human grounding windows;
an answer counts as grounded when its evidence overlaps the window.

Layout (the repo's ``datasets/nextgqa`` folder, plus NExT-QA's videos)::

    DATA/nextgqa/val.csv                 video_id,frame_count,width,height,question,answer,
                                         qid,type,a0..a4 (answer: the right option's text)
    DATA/nextgqa/gsub_val.json           {video_id: {duration, fps, location: {qid: [[s, e]]}}}
    DATA/nextgqa/map_vid_vidorID.json    {video_id: "1105/6037747123"}
    DATA/NExTVideo/1105/6037747123.mp4   videos

``DATA/datasets/nextgqa/...`` (the repo's own layout) is read too.
"""

from __future__ import annotations

from pathlib import Path

from vidseek.errors import DataError
from vidseek.eval.datasets.base import Dataset, Sample, find_file, read_csv, read_json, require
from vidseek.eval.datasets.nextqa import video_path

NAME = "nextgqa"


def load(root: Path, split: str = "val") -> Dataset:
    """NExT-GQA's ``val`` (or ``test``) questions with their grounding windows."""
    path = find_file(root, (f"nextgqa/{split}.csv", f"datasets/nextgqa/{split}.csv"),
                     f"NExT-GQA {split}.csv")
    gsub_file = find_file(path.parent, (f"gsub_{split}.json",), f"NExT-GQA gsub_{split}.json")
    mapping_file = find_file(path.parent, ("map_vid_vidorID.json",),
                             "NExT-GQA map_vid_vidorID.json")
    gsub, mapping = read_json(gsub_file), read_json(mapping_file)
    samples, skipped = [], 0
    for n, row in enumerate(read_csv(path)):
        where = f"{path} row {n + 2}"
        require(row, ("video_id", "question", "answer", "qid", "a0"), where)
        options = [row[f"a{i}"] for i in range(5) if f"a{i}" in row]
        if row["answer"] not in options:
            raise DataError(f"{where}: answer {row['answer']!r} is not one of a0..a4")
        video = gsub.get(row["video_id"], {})
        windows = video.get("location", {}).get(str(row["qid"]))
        if not windows:
            skipped += 1
            continue
        samples.append(Sample(
            id=f"{row['video_id']}_{row['qid']}", task=NAME, kind="mc",
            video=video_path(root, mapping, row["video_id"], mapping_file),
            question=row["question"], options=options, answer=options.index(row["answer"]),
            answer_text=row["answer"], windows=[(float(s), float(e)) for s, e in windows],
            duration=video.get("duration"), category=row.get("type")))
    notes = [f"{skipped} questions without a grounding window left out"] if skipped else []
    return Dataset(NAME, root, samples, files=[path, gsub_file, mapping_file], notes=notes)
