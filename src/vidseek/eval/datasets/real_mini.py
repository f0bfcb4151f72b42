"""A mini set from the real annotated clips in ``../shared/data/real``: the NExT-QA clip's 9
five-option questions (6 with NExT-GQA grounding windows) and the Charades clip's windows
(2 Charades-STA queries and 7 action segments).

Layout (``DATA`` is ``../shared/data/real``)::

    DATA/annotations/nextqa_6037747123.json   {"video", "qa": [{qid, question, options,
                                              answer_idx, type, grounding_windows_s}]}
    DATA/annotations/charades_Y1HGC.json      {"video", "moments": [{query, windows_s,
                                              source}]} (queries and action segments)
    DATA/videos/...                           the clips

`load_annotation` reads one annotation file of either layout; the ``search`` method scores
its grounding queries and the windows of its grounded questions (the grounding benchmark,
``benchmarks/grounding_real.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from vidseek.errors import DataError
from vidseek.eval.datasets.base import Dataset, Sample, find_file, read_json

__all__ = ["NAME", "load", "load_annotation"]

NAME = "real-mini"


def load(root: Path) -> Dataset:
    """The NExT-QA clip's questions, then the Charades clip's queries."""
    nextqa = find_file(root, ("annotations/nextqa_6037747123.json",), "the NExT-QA clip's "
                       "annotation")
    charades = find_file(root, ("annotations/charades_Y1HGC.json",), "the Charades clip's "
                         "annotation")
    samples = load_annotation(nextqa) + load_annotation(charades)
    return Dataset(NAME, root, samples, files=[nextqa, charades])


def load_annotation(path: str | Path, *, task: str = NAME,
                    duration: float | None = None) -> list[Sample]:
    """The samples of one annotation file, in file order.

    Two layouts are read:

    - Charades: ``{"video": "videos/x.mp4", "moments": [{"query", "windows_s", "source"}]}``
      (Charades-STA queries and Charades action segments): grounding samples
      ``charades/<n>``, category ``Charades-STA`` or ``Charades action``.
    - NExT-QA / NExT-GQA: ``{"video", "qa": [{"qid", "question", "options", "answer_idx",
      "type", "grounding_windows_s"}]}``: multiple-choice samples ``nextqa/<qid>`` with
      their NExT-GQA windows (none for the questions NExT-GQA did not keep); a question
      without options is a grounding query, kept only when it has windows.

    The ``video`` path is relative to the data folder that holds ``annotations/`` (or to
    the file's own folder). Windows are clipped to the video, since Charades ends may run
    past the file (32.0 s on a 30.7-s clip, by Charades convention); a grounding query left
    with no window is dropped (there is nothing to find).

    Args:
        path: the annotation JSON file.
        task: the samples' task.
        duration: the video's length in seconds; default: probed from the video file.

    Raises:
        DataError: the file is missing, is not JSON, or has neither layout; an entry lacks a
            key; a window ends before it starts; or the video it names is not there.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"annotation file {path} not found; pass the path of a Charades "
                        "or NExT-GQA annotation JSON file")
    annotation = read_json(path)
    if not isinstance(annotation, dict) or not isinstance(annotation.get("video"), str):
        raise DataError(f"{path} names no video: an annotation file has a \"video\" key "
                        "with the clip's path relative to its data folder")
    video = _video_path(path, annotation["video"])
    if "moments" not in annotation and "qa" not in annotation:
        raise DataError(f"{path} has neither \"moments\" (Charades layout) nor \"qa\" "
                        "(NExT-GQA layout); nothing to load")
    if duration is None:
        from vidseek.media import probe

        duration = probe(video).duration
    try:
        if "moments" in annotation:
            return _charades(path, annotation["moments"], video, duration, task)
        return _nextqa(path, annotation["qa"], video, duration, task)
    except (KeyError, TypeError) as exc:
        raise DataError(f"{path}: an entry lacks {exc}; Charades moments have \"query\" and "
                        "\"windows_s\", NExT-GQA qa entries \"question\" and "
                        "\"grounding_windows_s\"") from None


def _charades(path: Path, moments: list[dict[str, Any]], video: Path, duration: float,
              task: str) -> list[Sample]:
    samples = []
    for n, m in enumerate(moments):
        query, source = m["query"], m.get("source", "moments")
        windows = _clipped(m["windows_s"], duration, where=f"{path} ({query!r})")
        if not windows:
            continue
        # "moments" holds the Charades-STA queries and the action segments, by source
        category = "Charades-STA" if "Charades-STA" in source else "Charades action"
        samples.append(Sample(id=f"charades/{n}", task=task, kind="grounding", video=video,
                              question=query, windows=windows, duration=duration,
                              category=category, extra={"source": source}))
    return samples


def _nextqa(path: Path, qa: list[dict[str, Any]], video: Path, duration: float,
            task: str) -> list[Sample]:
    samples = []
    for q in qa:
        question = q["question"]
        windows = _clipped(q.get("grounding_windows_s") or [], duration,
                           where=f"{path} ({question!r})")
        common = {"id": f"nextqa/{q['qid']}", "task": task, "video": video,
                  "question": question, "windows": windows, "duration": duration,
                  "category": f"NExT-QA {q.get('type', '')}".strip(),
                  "extra": {"source": f"NExT-GQA qid {q['qid']}"}}
        if q.get("options"):
            answer = q.get("answer_idx")
            samples.append(Sample(
                kind="mc", options=list(q["options"]),
                answer=None if answer is None else int(answer),
                answer_text=None if answer is None else q["options"][int(answer)], **common))
        elif windows:
            samples.append(Sample(kind="grounding", **common))
    return samples


def _video_path(annotation: Path, relative: str) -> Path:
    # "videos/x.mp4" is relative to the data folder that holds annotations/.
    candidates = [annotation.parent.parent / relative, annotation.parent / relative]
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    raise DataError(f"{annotation} names video {relative!r}, found at neither "
                    f"{candidates[0]} nor {candidates[1]}; put the clip there")


def _clipped(windows: Iterable[Sequence[float]], duration: float,
             where: str) -> list[tuple[float, float]]:
    clipped = []
    for window in windows:
        if len(window) != 2:
            raise DataError(f"{where}: a window is [start, end] in seconds, got {window!r}")
        start, end = float(window[0]), float(window[1])
        if end < start:
            raise DataError(f"{where}: window {window!r} ends before it starts; "
                            "windows are [start, end]")
        start, end = max(start, 0.0), min(end, duration)
        if end > start:
            clipped.append((start, end))
    return clipped
