"""Charades-STA (github.com/jiyanggao/TALL): sentence -> moment queries on Charades videos.

Layout::

    DATA/charades_sta_test.txt          "VID start end##sentence" per line (seconds)
    DATA/Charades_v1_test.csv           optional: Charades' video lengths (``length``)
    DATA/Charades_v1_480/<VID>.mp4      Charades videos (480p release)

R@1 and R@5 at IoU 0.3/0.5/0.7 and mIoU are its metrics.

Windows are read as published (562 of the 3,720 test windows end past their video's length
in ``Charades_v1_test.csv``), as lmms-eval and most papers score them; ``clip_to_video=True``
cuts them at the video's length, as 2D-TAN does (it needs ``Charades_v1_test.csv``).
"""

from __future__ import annotations

from pathlib import Path

from vidseek.errors import DataError
from vidseek.eval.datasets.base import Dataset, Sample, find_file, read_csv

NAME = "charades_sta"


def load(root: Path, split: str = "test", clip_to_video: bool = False) -> Dataset:
    """Every query of ``charades_sta_<split>.txt``; with ``clip_to_video`` its windows end at
    the video's length from ``Charades_v1_<split>.csv``."""
    path = find_file(root, (f"charades_sta_{split}.txt",), f"Charades-STA charades_sta_{split}.txt")
    lengths_file = root / f"Charades_v1_{split}.csv"
    lengths = ({r["id"]: float(r["length"]) for r in read_csv(lengths_file) if r.get("length")}
               if lengths_file.is_file() else {})
    if clip_to_video and not lengths:
        raise DataError(f"clip_to_video needs the video lengths of {lengths_file} (Charades' "
                        "own annotations)")
    samples, past = [], 0
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        head, sep, sentence = line.partition("##")
        parts = head.split()
        if not sep or len(parts) != 3:
            raise DataError(f"{path}:{n}: expected 'VID start end##sentence', got {line!r}")
        vid, start, end = parts[0], float(parts[1]), float(parts[2])
        end = max(start, end)
        length = lengths.get(vid)
        if length is not None and end > length:
            past += 1
            if clip_to_video:
                start, end = min(start, length), length
        samples.append(Sample(
            id=f"{vid}_{n}", task=NAME, kind="grounding",
            video=root / "Charades_v1_480" / f"{vid}.mp4", question=sentence.strip(),
            windows=[(start, end)], duration=length))
    notes = []
    if past:
        notes.append(f"{past} windows end past their video's length; "
                     + ("cut at it (clip_to_video, as 2D-TAN)" if clip_to_video
                        else "kept as published (clip_to_video=True cuts them, as 2D-TAN)"))
    files = [path] + ([lengths_file] if lengths else [])
    return Dataset(NAME, root, samples, files=files, notes=notes)
