"""Where a library lives on disk and the ``meta.json`` that names its schema version."""

from __future__ import annotations

import json
import os
from pathlib import Path

from vidseek.errors import StoreError

__all__ = [
    "META_FILE",
    "SCHEMA_VERSION",
    "check_schema",
    "library_path",
    "no_library",
    "read_meta",
    "write_meta",
]

SCHEMA_VERSION = 1
"""Layout of the tables this vidseek reads and writes. Bumped on any incompatible change."""

META_FILE = "meta.json"


def library_path(path: str | Path | None = None) -> Path:
    """The folder of a library.

    Args:
        path: an explicit folder; when ``None``, ``$VIDSEEK_HOME``, else ``~/.vidseek``.

    Returns:
        The folder, with ``~`` expanded (it may not exist yet).
    """
    if path is None:
        path = os.environ.get("VIDSEEK_HOME") or Path.home() / ".vidseek"
    return Path(path).expanduser()


def no_library(root: Path) -> str:
    """What to say when ``root`` holds no library, to a command that only reads one."""
    return (f"there is no library at {root} yet: `vidseek index VIDEO...` makes one there; "
            "pass --library DIR (or set VIDSEEK_HOME) to use another")


def read_meta(root: Path) -> dict | None:
    """The library's ``meta.json``, or ``None`` when there is none.

    Raises:
        StoreError: when the file exists but is not a JSON object with a ``schema`` number.
    """
    file = root / META_FILE
    if not file.exists():
        return None
    try:
        meta = json.loads(file.read_text())
    except (OSError, ValueError) as e:
        raise StoreError(
            f"{file} cannot be read ({e}); restore it from a backup, or index into a new "
            "library (pass another path or set VIDSEEK_HOME)"
        ) from e
    if not isinstance(meta, dict) or not isinstance(meta.get("schema"), int):
        raise StoreError(
            f"{file} has no schema version; it was not written by vidseek. Index into a new "
            "library (pass another path or set VIDSEEK_HOME)"
        )
    return meta


def write_meta(root: Path, meta: dict) -> None:
    """Write ``meta.json`` atomically (write a temporary file, then rename it over)."""
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".{META_FILE}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(meta, indent=2) + "\n")
    os.replace(tmp, root / META_FILE)


def check_schema(root: Path, meta: dict) -> None:
    """Raise :class:`StoreError` with advice when ``meta`` names another schema version."""
    found = meta["schema"]
    if found == SCHEMA_VERSION:
        return
    if found > SCHEMA_VERSION:
        advice = "upgrade vidseek to open it, or index into a new library"
    else:
        advice = (
            "re-index your videos into a new library (pass another path or set VIDSEEK_HOME), "
            "then delete this one"
        )
    raise StoreError(
        f"library {root} uses store schema {found}, but this vidseek reads schema "
        f"{SCHEMA_VERSION}: {advice}"
    )
