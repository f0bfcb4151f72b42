"""The common record every benchmark loader produces, and small helpers the loaders share."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from vidseek.errors import DataError

__all__ = [
    "LETTERS", "Dataset", "Sample", "find_file", "read_csv", "read_json", "read_jsonl", "require",
]

LETTERS = "ABCDEFGHIJ"
"""Option letters, in option order."""


class Sample(BaseModel):
    """One question (or one query to ground) about one video, as a benchmark released it."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    id: str
    """Unique within its task (the benchmark's own question id where it has one)."""
    task: str
    kind: Literal["mc", "open", "grounding"]
    """``mc``: pick one of ``options``; ``open``: answer in words; ``grounding``: find
    ``windows`` for the query in ``question`` (no window: the answer is not in the video)."""
    video: Path
    """The video file (it may be missing on disk: the runner records that sample as failed)."""
    question: str
    """The question, or the query for a grounding sample."""
    image: Path | None = None
    """A picture to find instead of words (a query by example); ``question`` then says in
    words what it shows. Methods that take words only skip such a sample."""
    options: list[str] | None = None
    """Multiple-choice options, without their letters."""
    answer: int | None = None
    """Index of the right option; None where the benchmark keeps its answers hidden; -1 where
    the published answer is none of the options (scored wrong whatever the reply)."""
    answer_text: str | None = None
    """The reference answer in words (open-ended questions, or the right option's text)."""
    windows: list[tuple[float, float]] = Field(default_factory=list)
    """True windows, timeline seconds: the moments a grounding query describes, or the
    evidence a grounded question rests on (NExT-GQA)."""
    clip: tuple[float, float] | None = None
    """The part of the video the question is about (MVBench's ``start``/``end``); None for
    the whole video."""
    duration: float | None = None
    """Video length in seconds when the benchmark states it."""
    category: str | None = None
    """Question type or sub-task, for per-category accuracy."""
    duration_group: str | None = None
    """The benchmark's own duration bucket (Video-MME short/medium/long, LongVideoBench 15/60/
    600/3600 s), when it has one."""
    extra: dict[str, Any] = Field(default_factory=dict)
    """Anything else a metric needs (QVHighlights saliency, needle kinds)."""


@dataclass
class Dataset:
    """What a loader read: the samples, the files they came from, and what it left out.

    Attributes:
        task: the task name (``videomme``, ``nextgqa``, ...).
        root: the data folder given.
        samples: in the benchmark's own order.
        files: annotation files read (the manifest records their checksums).
        notes: plain statements of what was skipped and why.
    """

    task: str
    root: Path
    samples: list[Sample]
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __iter__(self) -> Iterator[Sample]:
        return iter(self.samples)

    def __len__(self) -> int:
        return len(self.samples)


def find_file(root: Path, candidates: Sequence[str], what: str) -> Path:
    """The first of ``candidates`` (paths relative to ``root``) that exists.

    Raises:
        DataError: none exists; the message names every place looked at and ``what`` to get.
    """
    for candidate in candidates:
        path = root / candidate
        if path.is_file():
            return path
    tried = ", ".join(str(root / c) for c in candidates)
    raise DataError(f"{what} not found (looked for {tried}); see docs/benchmarks.md, "
                    "'Evaluation harness', for what to download and where to put it")


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path} is not JSON ({exc}); download the file again") from None


def read_jsonl(path: Path) -> list[Any]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}:{n} is not a JSON line ({exc}); download the file "
                                "again") from None
    return rows


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def require(row: dict[str, Any], keys: Sequence[str], where: str) -> None:
    """Raise a DataError naming the missing keys of one annotation row."""
    missing = [k for k in keys if k not in row]
    if missing:
        raise DataError(f"{where}: missing {', '.join(missing)}; is this the official "
                        "release of the file? (see docs/benchmarks.md)")
