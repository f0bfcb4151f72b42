"""A NExT-QA dataset folder in its released layout, for the eval harness's tests (import as
``tests.nextqa_layout``)."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path


def nextqa_layout(root: Path, clip: Path, rows: Iterable[tuple[str, int, str]],
                  options: Sequence[str]) -> Path:
    """val.csv, map_vid_vidorID.json and NExTVideo/<dir>/<id>.mp4 under ``root``: one video
    (a copy of ``clip``) and a question per ``(question, answer index, type)`` row, each
    with the same five ``options``."""
    folder = root / "nextqa"
    folder.mkdir(parents=True)
    with (folder / "val.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["video", "frame_count", "width", "height", "question", "answer", "qid",
                         "type", "a0", "a1", "a2", "a3", "a4"])
        for qid, (question, answer, kind) in enumerate(rows):
            writer.writerow(["100", "60", "320", "180", question, str(answer), str(qid), kind,
                             *options])
    (folder / "map_vid_vidorID.json").write_text(json.dumps({"100": "0001/100"}))
    (root / "NExTVideo/0001").mkdir(parents=True)
    shutil.copyfile(clip, root / "NExTVideo/0001/100.mp4")
    return root
