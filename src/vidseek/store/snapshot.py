"""A read cache of the library for commands that only read it (``vidseek list``, ``show``):
plain JSON files that answer without importing LanceDB.

Opening LanceDB costs 1.5-2 s of imports on a quiet 2-core machine (its namespace client
alone is most of that), twenty times what listing a library takes. The store therefore keeps,
in ``LIBRARY/.snapshot/``:

- ``videos.json``: every video as :class:`~vidseek.store.VideoRecord`'s JSON form;
- ``runs.json``: the committed run of each ``(video, analyzer)``;
- ``observations/VIDEO.json``: a video's visible observations (without vectors).

Each file records what it was read from, and a reader uses it only while that still holds:

- ``videos.json`` and ``runs.json`` record the *state* of their LanceDB table: the number of
  version manifests in ``TABLE.lance/_versions/`` and the first and last of their names.
  Every write to a table adds a manifest whose name sorts before or after all others (Lance
  numbers versions upwards), and cleaning up old versions removes some, so any change to the
  table changes the state. The state is taken *before* the table is read, so a write that
  lands during the read makes the snapshot look old, never new.
- ``observations/VIDEO.json`` records the run ids it holds. The rows of a committed run never
  change, so a video's observations are the same as long as its committed runs are (checked
  against a fresh ``runs.json``).

Anything unexpected (a missing or unreadable file, an unknown layout) reads as "no
snapshot", and the caller reads the tables instead (see :meth:`vidseek.store.Store.snapshot`).
Nothing here imports LanceDB, PyArrow or the media layer.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from vidseek.store.layout import check_schema, read_meta

__all__ = [
    "SNAPSHOT_DIR",
    "read_observations",
    "read_runs",
    "read_videos",
    "table_state",
    "write_observations",
    "write_table_rows",
]

SNAPSHOT_DIR = ".snapshot"


def table_state(root: Path, table: str) -> str | None:
    """The state of a LanceDB table in the library at ``root``: ``"COUNT:FIRST:LAST"`` of its
    version manifests, or None when it has none (or another layout)."""
    try:
        names = [e.name for e in os.scandir(root / f"{table}.lance" / "_versions")
                 if e.name.endswith(".manifest")]
    except OSError:
        return None
    if not names:
        return None
    return f"{len(names)}:{min(names)}:{max(names)}"


def read_videos(root: Path) -> list[dict[str, Any]] | None:
    """Every video (``VideoRecord`` JSON: ``id``, ``paths``, ``info``, ``added_at``), oldest
    first, when the snapshot is current; else None.

    Raises:
        StoreError: the library's ``meta.json`` names another schema (as opening it would).
    """
    return _read_table_rows(root, "videos")


def read_runs(root: Path) -> list[dict[str, Any]] | None:
    """The committed runs (``video_id``, ``analyzer``, ``version``, ``run_id``) when the
    snapshot is current; else None."""
    return _read_table_rows(root, "runs")


def read_observations(root: Path, video_id: str) -> list[dict[str, Any]] | None:
    """A video's observations (JSON form without vectors), sorted by start, end and kind, when
    the snapshot is current; else None."""
    runs = read_runs(root)
    if runs is None:
        return None
    saved = _load(root / SNAPSHOT_DIR / "observations" / f"{video_id}.json")
    wanted = sorted(r["run_id"] for r in runs if r["video_id"] == video_id)
    if saved is None or saved.get("run_ids") != wanted:
        return None
    return saved["rows"]


def write_table_rows(root: Path, table: str, state: str | None,
                     rows: list[dict[str, Any]]) -> None:
    """Save what was read from ``table`` when it was in ``state`` (taken before reading)."""
    if state is not None:
        _save(root / SNAPSHOT_DIR / f"{table}.json", {"state": state, "rows": rows})


def write_observations(root: Path, video_id: str, run_ids: list[str],
                       rows: list[dict[str, Any]]) -> None:
    """Save a video's observations, read while its committed runs were ``run_ids``."""
    _save(root / SNAPSHOT_DIR / "observations" / f"{video_id}.json",
          {"run_ids": sorted(run_ids), "rows": rows})


def _read_table_rows(root: Path, table: str) -> list[dict[str, Any]] | None:
    meta = read_meta(root)
    if meta is None:
        return None
    check_schema(root, meta)
    saved = _load(root / SNAPSHOT_DIR / f"{table}.json")
    state = table_state(root, table)
    if saved is None or state is None or saved.get("state") != state:
        return None
    return saved["rows"]


def _load(file: Path) -> dict[str, Any] | None:
    try:
        saved = json.loads(file.read_text())
    except (OSError, ValueError):
        return None
    return saved if isinstance(saved, dict) and isinstance(saved.get("rows"), list) else None


def _save(file: Path, content: dict[str, Any]) -> None:
    """Write atomically (a temporary file renamed over); a read-only library stays as it
    is (the snapshot is only a cache)."""
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp = file.with_name(f".{file.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(content, separators=(",", ":")))
        os.replace(tmp, file)
    except OSError:
        pass
