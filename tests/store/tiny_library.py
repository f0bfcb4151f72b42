"""Helpers of the store tests: libraries that index the tiny video (see conftest.py) with
shared models, what they learned, and another process that holds a library's writer lock."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

ANALYZERS = ["shots", "speech", "text"]
"""Shots (with thumbnails), speech (no audio: an empty run) and on-screen text (embedded)."""


def open_library(path: Path, models):
    """A library at ``path`` indexing :data:`ANALYZERS` with the shared models."""
    from vidseek.library import Library

    library = Library(path, analyzers=ANALYZERS)
    library.loaded = models
    return library


def content(library) -> list[tuple]:
    """What a library learned, comparable across libraries."""
    return sorted((o.video_id, o.kind, round(o.start, 3), round(o.end, 3), o.text)
                  for o in library.store.observations())


HOLDER = textwrap.dedent(
    """
    import sys
    from vidseek.store import Store
    store = Store(sys.argv[1])
    with store.writing():
        print("held", flush=True)
        sys.stdin.readline()
    """
)


class Holder:
    """Another process holding a library's writer lock until :meth:`release`."""

    def __init__(self, library: Path) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(library)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        assert line.strip() == "held", self.proc.stderr.read()
        self.pid = self.proc.pid

    def release(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.write("\n")
            self.proc.stdin.flush()
        self.proc.wait(timeout=30)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=30)


def wait_for(condition, timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


# ---- kill points ---------------------------------------------------------------------------

class Killed(BaseException):
    """The process "died" here (a BaseException: nothing in vidseek catches it)."""


class Writes:
    """Counts a library's writes to LanceDB and "kills" the process at write ``kill_at``:
    before it lands, or just after (``after``). From then on every write raises
    :class:`Killed` without landing, so nothing a dead process would not have written reaches
    the disk. ``die`` replaces the raise (a subprocess passes ``os._exit``).

    Attributes:
        log: the writes that landed, as ``table.operation``.
    """

    def __init__(self, kill_at: int | None = None, *, after: bool = False, die=None) -> None:
        self.kill_at, self.after, self.die = kill_at, after, die
        self.log: list[str] = []
        self.dead = False

    def write(self, what: str, write):
        if self.dead:
            raise Killed(f"dead before {what}")
        n = len(self.log) + 1
        if n == self.kill_at and not self.after:
            self._kill(f"killed before write {n} ({what})")
        result = write()
        self.log.append(what)
        if n == self.kill_at:
            self._kill(f"killed after write {n} ({what})")
        return result

    def _kill(self, why: str) -> None:
        self.dead = True
        if self.die is not None:
            self.die()
        raise Killed(why)


_WRITES = ("add", "delete", "update", "optimize", "create_index")


class _Table:
    """A LanceDB table whose writes go through :class:`Writes`."""

    def __init__(self, table, writes: Writes) -> None:
        self._table, self._writes = table, writes

    def __getattr__(self, name):
        attr = getattr(self._table, name)
        what = f"{self._table.name}.{name}"
        if name in _WRITES:
            return lambda *a, **k: self._writes.write(what, lambda: attr(*a, **k))
        if name == "merge_insert":
            def merge(*a, **k):
                builder = attr(*a, **k)
                execute = builder.execute
                builder.execute = lambda *b, **c: self._writes.write(
                    what, lambda: execute(*b, **c))
                return builder
            return merge
        return attr


def watch(library, writes: Writes) -> None:
    """Send every LanceDB write of ``library``'s store through ``writes``."""
    store = library.store
    for attr in ("_videos", "_thumbs", "_obs", "_runs"):
        setattr(store, attr, _Table(getattr(store, attr), writes))
    store._spaces = {k: (_Table(t, writes), s) for k, (t, s) in store._spaces.items()}
    make = store._table
    store._table = lambda name, schema: _Table(make(name, schema), writes)
