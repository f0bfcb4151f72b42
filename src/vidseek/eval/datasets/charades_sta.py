"""Charades-STA (github.com/jiyanggao/TALL): sentence -> moment queries on Charades videos.

Layout::

    DATA/charades_sta_test.txt          "VID start end##sentence" per line (seconds)
    DATA/Charades_v1_480/<VID>.mp4      Charades videos (480p release)

R@1 and R@5 at IoU 0.3/0.5/0.7 and mIoU are its metrics.
"""

from __future__ import annotations

from pathlib import Path

from vidseek.errors import DataError
from vidseek.eval.datasets.base import Dataset, Sample, find_file

NAME = "charades_sta"


def load(root: Path, split: str = "test") -> Dataset:
    """Every query of ``charades_sta_<split>.txt``."""
    path = find_file(root, (f"charades_sta_{split}.txt",), f"Charades-STA charades_sta_{split}.txt")
    samples = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        head, sep, sentence = line.partition("##")
        parts = head.split()
        if not sep or len(parts) != 3:
            raise DataError(f"{path}:{n}: expected 'VID start end##sentence', got {line!r}")
        vid, start, end = parts[0], float(parts[1]), float(parts[2])
        samples.append(Sample(
            id=f"{vid}_{n}", task=NAME, kind="grounding",
            video=root / "Charades_v1_480" / f"{vid}.mp4", question=sentence.strip(),
            windows=[(start, max(start, end))]))
    return Dataset(NAME, root, samples, files=[path])
