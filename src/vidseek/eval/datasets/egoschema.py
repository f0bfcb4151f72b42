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

from vidseek.eval.datasets.base import Dataset, Sample, find_file, read_json, require

NAME = "egoschema"


def load(root: Path, subset: bool = True) -> Dataset:
    """The questions with public answers (``subset=True``), or all of them."""
    path = find_file(root, ("questions.json",), "EgoSchema questions (questions.json)")
    answers_file = root / "subset_answers.json"
    answers = read_json(answers_file) if answers_file.is_file() else {}
    files = [path] + ([answers_file] if answers else [])
    samples, notes = [], []
    for n, row in enumerate(read_json(path)):
        require(row, ("q_uid", "question", "option 0"), f"{path} entry {n}")
        uid = str(row["q_uid"])
        if subset and uid not in answers:
            continue
        options = [str(row[f"option {i}"]) for i in range(5) if f"option {i}" in row]
        answer = answers.get(uid)
        samples.append(Sample(
            id=uid, task=NAME, kind="mc", video=root / "videos" / f"{uid}.mp4",
            question=str(row["question"]), options=options, answer=answer,
            answer_text=options[answer] if answer is not None else None, duration=180.0))
    if subset:
        notes.append("the public subset only (questions with an answer in "
                     "subset_answers.json); the full set is scored on Kaggle")
    return Dataset(NAME, root, samples, files=files, notes=notes)
