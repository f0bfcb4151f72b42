"""MLVU (MLVU/MVLU on Hugging Face, dev set): multiple-choice tasks over 3 min - 2 h videos.

Layout (``DATA`` may also be the ``MLVU`` folder itself)::

    DATA/MLVU/json/1_plotQA.json ... 7_topic_reasoning.json   multiple choice
    DATA/MLVU/json/8_sub_scene.json, 9_summary.json           open-ended (generation)
    DATA/MLVU/video/<same stem>/<video>                       videos, one folder per task

Each entry: video, duration, question, candidates, answer (the right candidate's text),
question_type. Open-ended entries have no candidates.
"""

from __future__ import annotations

from pathlib import Path

from vidseek.errors import DataError
from vidseek.eval.datasets.base import Dataset, Sample, read_json, require

NAME = "mlvu"


def load(root: Path) -> Dataset:
    """Every task file of MLVU's ``json`` folder, in file-name order."""
    base = root / "MLVU" if (root / "MLVU" / "json").is_dir() else root
    folder = base / "json"
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []
    if not files:
        raise DataError(f"MLVU task files not found in {folder}; download MLVU/json and "
                        "MLVU/video (see docs/benchmarks.md, 'Evaluation harness')")
    samples, notes = [], []
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
                if row.get("answer") not in options:
                    raise DataError(f"{path} entry {n}: answer {row.get('answer')!r} is not "
                                    "one of its candidates")
                samples.append(Sample(id=f"{task}/{n}", kind="mc", options=options,
                                      answer=options.index(row["answer"]),
                                      answer_text=row["answer"], **common))
            else:
                samples.append(Sample(id=f"{task}/{n}", kind="open",
                                      answer_text=row.get("answer"), **common))
    if any(s.kind == "open" for s in samples):
        notes.append("open-ended MLVU tasks are run but not scored: their official metric "
                     "needs an LLM judge")
    return Dataset(NAME, root, samples, files=files, notes=notes)
