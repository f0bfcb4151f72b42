"""Which files a list of files, folders and globs names."""

from __future__ import annotations

import errno
import glob
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

__all__ = ["VIDEO_SUFFIXES", "Expansion", "expand", "expand_paths"]

VIDEO_SUFFIXES = frozenset({
    ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".ts", ".mts", ".m2ts", ".flv", ".wmv",
    ".mpg", ".mpeg", ".3gp", ".ogv",
})

_LOOP = "is a symbolic link loop (following its links leads back to them, never to a file)"


class Expansion(NamedTuple):
    """What a list of files, folders and globs names."""

    files: list[Path]
    """Each file once, in the order given; a plain path that does not exist is kept (indexing
    reports it), a symbolic link loop is not."""
    unmatched: dict[str, str]
    """Each argument (or file found in a folder or by a glob) that names nothing to index,
    with why: a glob that matched no file, a folder with no video file in it, a symbolic
    link loop."""


def expand(items: Iterable[str | Path]) -> Expansion:
    """The files that files, folders (searched recursively for video suffixes) and globs
    name, and the arguments that name none, with why.

    Args:
        items: files, folders and globs, as a user gives them.
    """
    found: list[Path] = []
    unmatched: dict[str, str] = {}
    for item in items:
        path = Path(item).expanduser()
        if _loops(path):
            unmatched[str(item)] = _LOOP
        elif path.is_dir():
            files, loops = _videos_in(path)
            unmatched.update((str(p), _LOOP) for p in loops)
            if not files and not loops:
                unmatched[str(item)] = _empty_folder(path)
            found.extend(files)
        elif path.exists() or not glob.has_magic(str(item)):
            found.append(path)
        else:
            matched = sorted(Path(p) for p in glob.glob(str(path), recursive=True))
            files = [p for p in matched if p.is_file()]
            loops = [p for p in matched if _loops(p)]
            unmatched.update((str(p), _LOOP) for p in loops)
            if not files and not loops:
                unmatched[str(item)] = ("matched no file" if not matched else
                                        f"matched no file, only {len(matched)} folder(s) or "
                                        "other entries (a folder is searched when given by "
                                        "its name)")
            found.extend(files)
    seen: set[Path] = set()
    return Expansion([p for p in found if not (p in seen or seen.add(p))], unmatched)


def expand_paths(items: Iterable[str | Path]) -> list[Path]:
    """Files from files, folders (searched recursively for video suffixes) and globs, each
    once, in the order given (`expand` also says which arguments named nothing).

    A path that does not exist is kept, so that indexing reports it rather than dropping it.
    """
    return expand(items).files


def _loops(path: Path) -> bool:
    """Whether resolving `path` runs into a symbolic link loop."""
    try:
        path.stat()
    except OSError as exc:
        return exc.errno == errno.ELOOP
    return False


def _videos_in(folder: Path) -> tuple[list[Path], list[Path]]:
    """The video files in `folder` and its subfolders, and the links named as videos there
    that loop; both sorted."""
    files, loops = [], []
    for p in sorted(folder.rglob("*")):
        if p.suffix.lower() not in VIDEO_SUFFIXES:
            continue
        if p.is_file():
            files.append(p)
        elif _loops(p):
            loops.append(p)
    return files, loops


def _empty_folder(folder: Path) -> str:
    others = sum(1 for p in folder.rglob("*") if p.is_file())
    held = (f"it holds {others} other file{'s' * (others != 1)}" if others else "it is empty")
    return (f"is a folder with no video file in it or its subfolders ({held}; videos end in "
            ".mp4, .mkv, .mov, .webm, .avi, .ts, ...)")
