"""The per-sample record: one line of a run's ``samples.jsonl``, what the runner writes, scoring
reads and every report (the task report, the needle benchmark) is made from.

A record holds the sample as the benchmark gave it (question, options, true answer and
windows) and what the method answered (choice, windows, frame times, cost), so scoring needs
nothing else and a run can be rescored later from its JSONL alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vidseek.types import Cost, Evidence

__all__ = ["Consistency", "SampleRecord", "at_threshold", "read_records", "write_record"]


class Consistency(BaseModel):
    """A multiple-choice question asked again with its options shuffled."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    order: list[int]
    """``order[k]``: the original index of the option shown k-th."""
    choice: int | None
    """The option chosen the second time, as an original index."""
    text: str = ""
    """The second reply."""
    consistent: bool
    """The same option was chosen both times."""
    cost: Cost = Field(default_factory=Cost)


class SampleRecord(BaseModel):
    """One sample of one run: the sample, the method's answer, and its status."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    id: str
    """The sample's id, unique within its task."""
    run: str = ""
    """The run's name (``uniform-8f@qwen2.5vl-7b``)."""
    task: str = ""
    kind: Literal["mc", "open", "grounding"]
    status: Literal["ok", "error", "skipped"]
    """``error``: the method failed (scored as wrong); ``skipped``: it does not apply."""
    error: str | None = None
    """Why it failed or was skipped."""
    video: str = ""
    question: str = ""
    image: str | None = None
    """A picture searched for instead of words (needle picture queries)."""
    options: list[str] | None = None
    answer: int | None = None
    answer_text: str | None = None
    windows: list[tuple[float, float]] = Field(default_factory=list)
    """True windows, timeline seconds (none for a query whose answer is absent)."""
    clip: tuple[float, float] | None = None
    category: str | None = None
    duration_group: str | None = None
    duration: float | None = None
    """The video's length, seconds (for the by-duration breakdown)."""
    clip_labels: list[list[float]] | None = None
    """QVHighlights: true saliency per 2-s clip (``clips x raters``, 0-4), for HIT@1 and
    HL-mAP."""
    extra: dict[str, Any] = Field(default_factory=dict)
    """The sample's own extra fields (needle kind and text, absent-query source...)."""
    seconds: float = 0.0
    """Wall-clock seconds the sample took."""
    prediction: str | None = None
    """The method's raw answer; None when it gave none (error, skipped)."""
    choice: int | None = None
    correct: bool | None = None
    """Multiple choice with a known answer: the choice is right."""
    found: bool | None = None
    """False when the method says the answer is not in the video."""
    confidence: float | None = None
    predicted_windows: list[tuple[float, float, float]] = Field(default_factory=list)
    """``(start, end, score)``, best first."""
    saliency_scores: list[float] | None = None
    """The method's own saliency per 2-s clip of the video (QVHighlights'
    ``pred_saliency_scores``). Without it, highlight metrics are derived from the predicted
    windows and labelled ``(window proxy)``."""
    evidence: list[list[Evidence]] = Field(default_factory=list)
    """What each predicted window rests on, in the same order (search and the agent)."""
    frame_times: list[float] = Field(default_factory=list)
    cost: Cost | None = None
    steps: int = 0
    notes: list[str] = Field(default_factory=list)
    consistency: Consistency | None = None

    @property
    def counted(self) -> bool:
        """Scored: answered or failed (a failure counts as wrong); not skipped."""
        return self.status in ("ok", "error")


def read_records(path: Path) -> list[SampleRecord]:
    """The records of a ``samples.jsonl``; a line cut short by a kill is ignored."""
    path = Path(path)
    if not path.is_file():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(SampleRecord.model_validate_json(line))
        except ValidationError:
            continue
    return records


def write_record(record: SampleRecord) -> str:
    """The JSONL line of one record (with its newline)."""
    return record.model_dump_json() + "\n"


def at_threshold(records: Sequence[SampleRecord], threshold: float) -> list[SampleRecord]:
    """The records as if the method had kept only windows scoring at least ``threshold``:
    for a search asked for every candidate (``threshold=0``), the same as searching again at
    that threshold. ``found`` becomes "a window is left"."""
    out = []
    for record in records:
        if record.status != "ok":
            out.append(record)
            continue
        kept = [i for i, w in enumerate(record.predicted_windows) if w[2] >= threshold]
        evidence = ([record.evidence[i] for i in kept]
                    if len(record.evidence) == len(record.predicted_windows) else [])
        out.append(record.model_copy(update={
            "predicted_windows": [record.predicted_windows[i] for i in kept],
            "evidence": evidence, "found": bool(kept)}))
    return out
