"""The writer lock of a library: one process writes a library at a time; readers never wait.

LanceDB lets several processes append to a table at once, but not much else: a compaction
that meets another process's delete fails ("Retryable commit conflict ... Rewrite
transaction was preempted"), and a process that begins a run deletes the rows of an
unfinished run of the same video and analyzer, which another process may be writing. So
every write (indexing, removing a video, compacting, rebuilding the search indexes) happens
while its process holds an exclusive ``flock`` on ``LIBRARY/write.lock``. The holder writes
its pid into the file, so that a second writer can say whom it waits for. The kernel drops
the lock when its process ends, however it ends (a kill included), so a crash never leaves a
library locked. Readers (search, list, show, ask) never take it.

The lock belongs to the process, not to a thread or an object: the threads of one indexing
call write under the lock their call took, and taking it again in the same process only
counts (the writes within a process are serialised by their callers, see
``vidseek.library.Library``).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from vidseek.errors import StoreError

__all__ = ["LOCK_FILE", "WRITE_WAIT", "acquire", "holder", "release"]

LOCK_FILE = "write.lock"
WRITE_WAIT = 600.0
"""Seconds a writer waits for another process writing the same library before it gives up
with a :class:`StoreError` (None: wait as long as it takes)."""
_POLL = 0.2  # seconds between tries while waiting
_NAME_WAIT = 1.0  # seconds a waiter waits for the holder's pid before it says it waits

log = logging.getLogger("vidseek.store")


class _Held:
    """This process's hold of one lock file: its descriptor and how many holds."""

    def __init__(self) -> None:
        self.mutex = threading.Lock()  # one thread at a time takes or gives back this file
        self.fd: int | None = None
        self.count = 0


_registry = threading.Lock()  # guards _held only, never held while waiting
_held: dict[Path, _Held] = {}


def acquire(root: Path, *, wait: float | None = WRITE_WAIT,
            on_wait: Callable[[str], None] | None = None) -> None:
    """Take the writer lock of the library at ``root`` (again, when this process holds it).

    Args:
        root: the library folder (created when missing).
        wait: seconds to wait for another process that holds it; 0 fails at once, None
            waits as long as it takes.
        on_wait: told once, in words, that this process waits and for whom (default: a
            warning on the ``vidseek.store`` logger).

    Raises:
        StoreError: another process still held it after ``wait`` seconds (the message names
            its pid), or the lock file cannot be opened.
    """
    file = _file(root)
    with _registry:
        held = _held.setdefault(file, _Held())
    with held.mutex:
        if held.count:
            held.count += 1
            return
        try:
            root.mkdir(parents=True, exist_ok=True)
            fd = os.open(file, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise StoreError(f"cannot open the writer lock {file} ({exc}): a library that is "
                             "written needs a folder this user can write") from exc
        try:
            _lock(fd, root, wait, on_wait or log.warning)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except BaseException:
            os.close(fd)  # closing drops the flock too
            raise
        held.fd, held.count = fd, 1


def release(root: Path) -> None:
    """Give back one hold of the writer lock; the last one unlocks the file."""
    with _registry:
        held = _held.get(_file(root))
    if held is None:
        return
    with held.mutex:
        if held.count == 0:
            return
        held.count -= 1
        if held.count == 0 and held.fd is not None:
            os.close(held.fd)  # the flock goes with the last descriptor of this process
            held.fd = None


def _file(root: Path) -> Path:
    """The lock file, by its real path: one library named two ways is one lock."""
    return root.resolve() / LOCK_FILE


def holder(root: Path) -> int | None:
    """The pid that holds (or last held) the writer lock of the library at ``root``."""
    try:
        return int((root / LOCK_FILE).read_text().strip())
    except (OSError, ValueError):
        return None


def _lock(fd: int, root: Path, wait: float | None, on_wait: Callable[[str], None]) -> None:
    began = time.monotonic()
    deadline = None if wait is None else began + wait
    told = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        pid = holder(root)
        if pid is not None and not _alive(pid):
            pid = None  # the last holder's pid: the new one has not written its own yet
        who = f"pid {pid}" if pid else "pid unknown"
        if deadline is not None and time.monotonic() >= deadline:
            waited = f"waited {wait:.0f} s; " if wait else ""
            raise StoreError(
                f"another vidseek process ({who}) is writing the library {root}: {waited}"
                "run this again when it is done, or stop that process (a library has one "
                "writer at a time; searching and listing never wait)")
        # say it once, with the pid (a holder writes it just after it took the lock)
        if not told and (pid is not None or time.monotonic() - began > _NAME_WAIT):
            on_wait(f"waiting for another vidseek process writing this library ({who}) to "
                    f"finish: {root}")
            told = True
        remaining = _POLL if deadline is None else deadline - time.monotonic()
        time.sleep(max(0.0, min(_POLL, remaining)))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _forget_in_child() -> None:
    """A forked child does not hold its parent's lock: forget the descriptors (closing them
    would not unlock the parent's, but the child must not count itself a holder)."""
    global _registry
    _registry = threading.Lock()
    for held in _held.values():
        if held.fd is not None:
            with contextlib.suppress(OSError):
                os.close(held.fd)
    _held.clear()


os.register_at_fork(after_in_child=_forget_in_child)
