"""ActivityNet Captions (cs.stanford.edu/people/ranjaykrishna/densevid): each sentence of
a video's paragraph is a query with its window.

Layout::

    DATA/val_1.json (or val_2.json)   {"v_<id>": {duration, timestamps: [[s, e]], sentences}}
    DATA/videos/v_<id>.mp4            ActivityNet videos (the id with or without "v_", any of
                                      .mp4/.mkv/.webm)

R@1 at IoU 0.3/0.5/0.7 and mIoU are its grounding metrics.

A few end times lie past the video's ``duration`` (134 in ``val_1``, 111 in ``val_2``, by a
float's last digits or a little more); they are cut at the duration, with a note
(``clip_to_duration=False`` keeps them as published).
"""

from __future__ import annotations

from pathlib import Path

from vidseek.errors import DataError
from vidseek.eval.datasets.base import Dataset, Sample, find_file, read_json

NAME = "activitynet_captions"
_SUFFIXES = (".mp4", ".mkv", ".webm")


def load(root: Path, split: str = "val_1", clip_to_duration: bool = True) -> Dataset:
    """Every sentence of ``<split>.json`` as one grounding query."""
    path = find_file(root, (f"{split}.json",), f"ActivityNet Captions {split}.json")
    samples, past = [], 0
    for vid, entry in read_json(path).items():
        stamps, sentences = entry.get("timestamps", []), entry.get("sentences", [])
        if len(stamps) != len(sentences):
            raise DataError(f"{path}: {vid} has {len(stamps)} timestamps but "
                            f"{len(sentences)} sentences")
        video = _video(root / "videos", vid)
        for k, ((start, end), sentence) in enumerate(zip(stamps, sentences, strict=True)):
            start, end = sorted((float(start), float(end)))
            duration = entry.get("duration")
            if duration is not None and end > float(duration):
                past += 1
                if clip_to_duration:
                    start, end = min(start, float(duration)), float(duration)
            samples.append(Sample(
                id=f"{vid}_{k}", task=NAME, kind="grounding", video=video,
                question=sentence.strip(), windows=[(start, end)], duration=duration))
    notes = ([f"{past} windows end past their video's duration; "
              + ("cut at it" if clip_to_duration else "kept as published")] if past else [])
    return Dataset(NAME, root, samples, files=[path], notes=notes)


def _video(folder: Path, vid: str) -> Path:
    names = [vid, vid.removeprefix("v_")]
    for name in names:
        for suffix in _SUFFIXES:
            if (folder / f"{name}{suffix}").is_file():
                return folder / f"{name}{suffix}"
    return folder / f"{vid}.mp4"  # missing: the runner records it
