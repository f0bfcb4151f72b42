"""MLVU (MLVU/MVLU on Hugging Face, dev set): multiple-choice tasks over 3 min - 2 h videos.

Layout (``DATA`` may also be the ``MLVU`` folder itself)::

    DATA/MLVU/json/1_plotQA.json ... 7_topic_reasoning.json   multiple choice
    DATA/MLVU/json/8_sub_scene.json, 9_summary.json           open-ended (generation)
    DATA/MLVU/video/<same stem>/<video>                       videos, one folder per task

The GitHub repository ships the same files under ``data/`` (``DATA/data/1_plotQA.json``);
that folder, or the task files directly in ``DATA``, are read too.

Each entry: video, duration, question, candidates, answer (the right candidate's text),
question_type. Open-ended entries have no candidates. A few published entries give an answer
that is none of their candidates (``2_needle.json`` entries 34 and 338): they are kept with
``answer = -1`` and always count as wrong, as the official scorer counts them (it gives them
no answer letter any reply could match).
"""

from __future__ import annotations

from pathlib import Path

from vidseek.errors import DataError
from vidseek.eval.datasets.base import Dataset, Sample, read_json, require

NAME = "mlvu"


def load(root: Path) -> Dataset:
    """Every task file of MLVU's ``json`` folder, in file-name order."""
    base = root / "MLVU" if (root / "MLVU" / "json").is_dir() else root
    files: list[Path] = []
    for folder in (base / "json", base / "data", base):
        files = sorted(f for f in folder.glob("*.json") if f.stem[:1].isdigit())
        if files:
            break
    if not files:
        raise DataError(f"MLVU task files (1_plotQA.json ...) not found in {base / 'json'}, "
                        f"{base / 'data'} or {base}; download MLVU/json and MLVU/video (see "
                        "docs/benchmarks.md, 'Evaluation harness')")
    samples, notes, unanswerable = [], [], []
    for path in files:
        task = path.stem
        for n, row in enumerate(read_json(path)):
            require(row, ("video", "question"), f"{path} entry {n}")
            options = row.get("candidates")
            video = base / "video" / task / row["video"]
            common = {"task": NAME, "video": video, "question": str(row["question"]),
                      "duration": row.get("duration"),
                      "category": row.get("question_type") or task}
            if options:
                options = [str(o) for o in options]
                answer = row.get("answer")
                if answer not in options:
                    unanswerable.append(f"{path.name} entry {n}")
                samples.append(Sample(id=f"{task}/{n}", kind="mc", options=options,
                                      answer=options.index(answer) if answer in options else -1,
                                      answer_text=None if answer is None else str(answer),
                                      **common))
            else:
                samples.append(Sample(id=f"{task}/{n}", kind="open",
                                      answer_text=row.get("answer"), **common))
    if unanswerable:
        notes.append(f"{len(unanswerable)} questions whose answer is none of their candidates "
                     f"({', '.join(unanswerable)}) count as wrong, as in the official scorer")
    if any(s.kind == "open" for s in samples):
        notes.append("open-ended MLVU tasks are run but not scored: their official metric "
                     "needs an LLM judge")
    return Dataset(NAME, root, samples, files=files, notes=notes)
