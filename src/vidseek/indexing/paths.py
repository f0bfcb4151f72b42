"""Which files a list of files, folders and globs names."""

from __future__ import annotations

import glob
from collections.abc import Iterable
from pathlib import Path

__all__ = ["VIDEO_SUFFIXES", "expand_paths"]

VIDEO_SUFFIXES = frozenset({
    ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".ts", ".mts", ".m2ts", ".flv", ".wmv",
    ".mpg", ".mpeg", ".3gp", ".ogv",
})


def expand_paths(items: Iterable[str | Path]) -> list[Path]:
    """Files from files, folders (searched recursively for video suffixes) and globs, each
    once, in the order given.

    A path that does not exist is kept, so that indexing reports it rather than dropping it.
    """
    found: list[Path] = []
    for item in items:
        path = Path(item).expanduser()
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*")
                                if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file()))
        elif path.exists() or not glob.has_magic(str(item)):
            found.append(path)
        else:
            found.extend(sorted(Path(p) for p in glob.glob(str(path), recursive=True)
                                if Path(p).is_file()))
    seen: set[Path] = set()
    return [p for p in found if not (p in seen or seen.add(p))]
