"""Scoring predictions made by any system (``vidseek eval score``), in the official
submission formats, with the same metrics, intervals, manifest and report as ``vidseek eval``.

One JSON object per line (a JSON list of them is read too), keyed by ``qid``: the sample id
the task's loader gives (``vidseek.eval.datasets``; docs/benchmarks.md lists each task's):

- Grounding (QVHighlights, Charades-STA, ActivityNet Captions) as Moment-DETR submits it::

      {"qid": 2579, "pred_relevant_windows": [[0, 70, 0.99], [78, 146, 0.41]],
       "pred_saliency_scores": [-0.2, 0.1, ...]}

  windows ``[start, end, score]`` in seconds, best first (``[start, end]`` is read as score
  1); ``pred_saliency_scores`` (optional) one score per 2-s clip, for HIT@1 and HL-mAP.
- Multiple choice: ``{"qid": ..., "answer": "B"}`` (a letter, an option index or an option's
  text) or ``{"qid": ..., "response": "raw model reply"}`` (parsed by `parse_choice`).
  NExT-GQA adds ``pred_relevant_windows`` for its grounding metrics.

A sample with no prediction counts as wrong (status ``error``), as ``vidseek eval`` counts a
failed sample; predictions whose qid is no sample of the task are counted in the results'
``unmatched_predictions`` and named in the manifest's notes.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from vidseek.errors import DataError
from vidseek.eval.datasets import Sample, load_task
from vidseek.eval.datasets.base import LETTERS, read_json, read_jsonl
from vidseek.eval.methods import Prediction, parse_choice
from vidseek.eval.records import write_record
from vidseek.eval.runner import (
    MANIFEST_FILE,
    RESULTS_FILE,
    SAMPLES_FILE,
    EvalResult,
    make_record,
)
from vidseek.eval.scoring import score_records

__all__ = ["read_predictions", "score_predictions"]


def read_predictions(path: Path) -> dict[str, dict[str, Any]]:
    """The predictions of a file, by ``qid`` (as a string).

    Raises:
        DataError: the file is missing, not JSON lines, or a row has no ``qid``.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"predictions file {path} not found")
    text = path.read_text(encoding="utf-8").lstrip()
    rows = read_json(path) if text.startswith("[") else read_jsonl(path)
    out = {}
    for n, row in enumerate(rows, 1):
        if not isinstance(row, dict) or "qid" not in row:
            raise DataError(f"{path} entry {n} has no qid; each prediction is a JSON object "
                            'with "qid" (see docs/benchmarks.md, "Scoring predictions")')
        out[str(row["qid"])] = row
    return out


def _prediction(sample: Sample, row: dict[str, Any]) -> tuple[Prediction, list[float] | None]:
    windows = []
    for w in row.get("pred_relevant_windows") or []:
        if len(w) not in (2, 3):
            raise DataError(f"qid {row['qid']}: a window is [start, end] or [start, end, "
                            f"score], got {w!r}")
        start, end = sorted((float(w[0]), float(w[1])))
        windows.append((start, end, float(w[2]) if len(w) == 3 else 1.0))
    prediction = Prediction(windows=windows, found=bool(windows))
    if sample.kind == "mc":
        answer = row.get("answer", row.get("response"))
        if isinstance(answer, int) and not isinstance(answer, bool):
            prediction.text = LETTERS[answer] if 0 <= answer < len(LETTERS) else str(answer)
            prediction.choice = answer if 0 <= answer < len(sample.options or []) else None
        else:
            prediction.text = "" if answer is None else str(answer)
            prediction.choice = parse_choice(prediction.text, sample.options or [])
        if prediction.choice is None:
            prediction.notes.append("the reply names no option")
    elif sample.kind == "open":
        prediction.text = str(row.get("answer", row.get("response", "")))
    saliency = row.get("pred_saliency_scores")
    return prediction, [float(x) for x in saliency] if saliency is not None else None


def score_predictions(task: str, data: Path, predictions: Path, *, out: Path | None = None,
                      seed: int = 0, options: dict[str, Any] | None = None,
                      command: list[str] | None = None) -> EvalResult:
    """Score a predictions file against ``task``'s samples read from ``data``.

    Args:
        task: a task name (``qvhighlights``, ``charades_sta``, ``nextgqa``, ``videomme``...).
        data: the benchmark's folder (the annotation files are enough: no video is read).
        predictions: the predictions file (see the module docstring).
        out: the task's output folder (default ``vidseek-eval/<task>``); the run is
            ``score-<file stem>``.
        seed: seeds the bootstrap.
        options: the loader's options (``{"split": "test"}``).
        command: the command line, for the manifest.

    Returns:
        Where the samples, results, manifest and reports were written, and the results.

    Raises:
        DataError: the files are missing or malformed, or no prediction matches a sample.
    """
    dataset = load_task(task, data, **(options or {}))
    rows = read_predictions(predictions)
    ids = {s.id for s in dataset}
    unmatched = [q for q in rows if q not in ids]
    if rows and len(unmatched) == len(rows):
        raise DataError(f"no qid of {predictions} is a sample of {task} (first: "
                        f"{unmatched[0]!r}, a sample: {dataset.samples[0].id!r}); see "
                        "docs/benchmarks.md, 'Scoring predictions', for each task's ids")
    name = "score-" + re.sub(r"[^A-Za-z0-9._-]+", "-", Path(predictions).stem)
    folder = (Path(out) if out else Path("vidseek-eval") / dataset.task) / name
    folder.mkdir(parents=True, exist_ok=True)
    records = []
    for index, sample in enumerate(dataset):
        row = rows.get(sample.id)
        if row is None:
            records.append(make_record(name, index, sample, error="no prediction for this "
                                       "sample in the predictions file"))
            continue
        prediction, saliency = _prediction(sample, row)
        record = make_record(name, index, sample, prediction=prediction)
        record.saliency_scores = saliency
        records.append(record)
    (folder / SAMPLES_FILE).write_text("".join(write_record(r) for r in records))
    scores = score_records(records, seed=seed)
    summary = {"task": dataset.task, "run": name, "method": "predictions",
               "model": str(predictions), "frames": None, "fps": None, "seed": seed,
               "limit": None, "status": "complete", "unmatched_predictions": len(unmatched),
               **scores}
    (folder / RESULTS_FILE).write_text(json.dumps(summary, indent=1) + "\n")
    from vidseek.eval.manifest import build_manifest

    notes = list(dataset.notes)
    if unmatched:
        notes.append(f"{len(unmatched)} predictions name no sample of {task} (first: "
                     f"{unmatched[0]!r})")
    manifest = build_manifest(
        task=dataset.task, data=dataset.root, run=name,
        method={"method": "predictions", "file": str(predictions)}, model=None,
        settings={"seed": seed, "loader_options": options or {}}, prompts={},
        data_files=[*dataset.files, Path(predictions)], videos=[], notes=notes, library=None,
        command=command if command is not None else list(sys.argv))
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest, indent=1) + "\n")
    from vidseek.eval.report import write_reports

    report_md, report_html = write_reports(folder.parent)
    return EvalResult(run=name, folder=folder, samples=folder / SAMPLES_FILE,
                      results=folder / RESULTS_FILE, manifest=folder / MANIFEST_FILE,
                      report_md=report_md, report_html=report_html, ran=len(records), kept=0,
                      summary=summary)
