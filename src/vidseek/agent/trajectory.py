"""Asks saved as JSONL trajectories: one line per ask, with each step's tool call and what it
returned, the answer and its cost, so tool-using policies can be trained on them later."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from vidseek.types import Answer

__all__ = ["append_trajectory", "read_trajectories"]


def append_trajectory(path: str | Path, answer: Answer, *, error: str | None = None) -> None:
    """Append one ask to a JSONL file (created with its folder if missing).

    Args:
        path: the file.
        answer: the answer, or the partial answer of a failed ask.
        error: why the ask failed, if it did.
    """
    from vidseek import __version__

    record = {"saved_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "vidseek": __version__, "error": error, **answer.model_dump(mode="json")}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(record, ensure_ascii=False) + "\n")


def read_trajectories(path: str | Path) -> list[dict]:
    """The asks saved in a JSONL file, oldest first."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]
