"""EgoSchema (github.com/egoschema/EgoSchema): 5,031 five-option questions over 3-minute
egocentric clips; answers are public for a 500-question subset only.

Layout::

    DATA/questions.json         [{q_uid, question, "option 0" .. "option 4"}, ...]
    DATA/subset_answers.json    {q_uid: right option index} (the public subset)
    DATA/videos/<q_uid>.mp4     clips (download with the repo's instructions, unzip here)

The full set is scored by the benchmark's Kaggle page: a full run writes predictions, and
only subset questions count locally.
"""

from __future__ import annotations

from pathlib import Path

from vidseek.errors import DataError
from vidseek.eval.datasets.base import Dataset, Sample, find_file, read_json

NAME = "egoschema"


def load(root: Path, subset: bool = True) -> Dataset:
    """The questions with public answers (``subset=True``), or all of them."""
    path = find_file(root, ("questions.json",), "EgoSchema questions (questions.json)")
    answers_file = root / "subset_answers.json"
    if subset and not answers_file.is_file():
        raise DataError(f"{answers_file} not found: the public subset is scored from it; get "
                        "subset_answers.json from github.com/egoschema/EgoSchema, or load with "
                        "subset=False (every question, none scored locally)")
    answers = read_json(answers_file) if answers_file.is_file() else {}
    files = [path] + ([answers_file] if answers else [])
    rows = read_json(path)
    samples, notes = [], []
    for n, row in enumerate(rows):
        missing = [k for k in ("q_uid", "question", "option 0") if k not in row]
        if missing:
            raise DataError(f"{path} entry {n}: missing {', '.join(missing)}; this looks like "
                            "an early EgoSchema release (its first questions.json has no "
                            "'question' key): use the current questions.json of "
                            "github.com/egoschema/EgoSchema ({q_uid, question, 'option 0'.."
                            "'option 4'} per entry)")
        uid = str(row["q_uid"])
        if subset and uid not in answers:
            continue
        options = [str(row[f"option {i}"]) for i in range(5) if f"option {i}" in row]
        answer = answers.get(uid)
        samples.append(Sample(
            id=uid, task=NAME, kind="mc", video=root / "videos" / f"{uid}.mp4",
            question=str(row["question"]), options=options, answer=answer,
            answer_text=options[answer] if answer is not None else None, duration=180.0))
    if subset and not samples:
        raise DataError(f"none of the {len(rows)} questions in {path} has an answer in "
                        f"{answers_file} ({len(answers)} answers): the subset would be empty; "
                        "use the full questions.json of github.com/egoschema/EgoSchema, or "
                        "load with subset=False")
    if subset:
        notes.append("the public subset only (questions with an answer in "
                     "subset_answers.json); the full set is scored on Kaggle")
    return Dataset(NAME, root, samples, files=files, notes=notes)
