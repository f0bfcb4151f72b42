"""One writer at a time: a second process that writes a library waits for the first (and
says so) or gives up with a clear error; readers never wait; a killed writer leaves no lock;
two `vidseek index` processes on one library both finish, with nothing lost or doubled; a
compaction that meets another writer's commit never costs the batch."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest
from tiny_library import ANALYZERS, content, open_library, wait_for

from vidseek.errors import StoreError
from vidseek.store import Store
from vidseek.store import lock as writer_lock
from vidseek.synth import build, random_script
from vidseek.types import Observation

# Another process tries to take a library's writer lock at once (no LanceDB import).
TRY_LOCK = [sys.executable, "-c", "import sys; from pathlib import Path\n"
            "from vidseek.store import lock\n"
            "try:\n  lock.acquire(Path(sys.argv[1]), wait=0); print('free')\n"
            "except Exception: print('held')"]


def lock_is_free(lib) -> bool:
    out = subprocess.run([*TRY_LOCK, str(lib)], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() in ("free", "held"), out.stderr[-2000:]
    return out.stdout.strip() == "free"


def obs(start: float, text: str) -> Observation:
    return Observation(video_id="v1", start=start, end=start + 1.0, kind="text", text=text,
                       source="test:1")


def test_a_second_writer_waits_and_says_for_whom(tmp_path, holder):
    lib = tmp_path / "lib"
    held = holder(lib)
    told: list[str] = []
    started = time.monotonic()
    with Store(lib) as store, pytest.raises(StoreError, match=f"pid {held.pid}.*waited 1 s"), \
            store.writing(wait=1.0, on_wait=told.append):
        pass
    assert time.monotonic() - started >= 1.0
    assert told == [f"waiting for another vidseek process writing this library (pid "
                    f"{held.pid}) to finish: {lib}"]
    held.release()
    with Store(lib) as store, store.writing(wait=0):
        assert writer_lock.holder(lib) == os.getpid()


def test_writes_wait_until_the_other_writer_is_done(tmp_path, holder, caplog):
    lib = tmp_path / "lib"
    held = holder(lib)
    with Store(lib) as store:
        caplog.set_level(logging.WARNING, "vidseek.store")
        releaser = threading.Timer(1.0, held.release)
        releaser.start()
        started = time.monotonic()
        with store.begin("v1", "text", "1") as run:  # a run is a write: it waits
            run.add(obs(0.0, "gate seven"))
        assert time.monotonic() - started >= 0.9
        releaser.join()
        assert "waiting for another vidseek process" in caplog.text
        assert [o.text for o in store.observations()] == ["gate seven"]


def test_readers_never_wait(tmp_path, holder):
    lib = tmp_path / "lib"
    with Store(lib) as store:
        with store.begin("v1", "text", "1") as run:
            run.add([obs(0.0, "gate seven boarding"), obs(2.0, "blue harbor")])
        store.build_indexes()
    holder(lib)
    started = time.monotonic()
    with Store(lib, create=False) as reader:
        assert len(reader.observations()) == 2
        assert [o.text for o, _ in reader.text_search("harbor")] == ["blue harbor"]
        assert reader.runs()[0].analyzer == "text"
    assert time.monotonic() - started < 5


def test_the_lock_of_a_killed_writer_is_gone(tmp_path, holder):
    lib = tmp_path / "lib"
    holder(lib).kill()
    with Store(lib) as store, store.writing(wait=0):
        pass


def test_a_process_takes_its_own_lock_again(tmp_path):
    """Threads and stores of one process share its hold: no deadlock, one flock."""
    lib = tmp_path / "lib"
    Store(lib).close()
    (tmp_path / "link").symlink_to(lib)  # the same library named another way
    with Store(lib) as one, Store(tmp_path / "link") as two, one.writing(wait=0):
        run = two.begin("v1", "text", "1")  # another store of this process: counted
        run.add(obs(0.0, "x"))
        run.commit()
        one.build_indexes()
        assert not lock_is_free(lib)
    assert lock_is_free(lib)  # every hold given back


def test_an_open_run_holds_the_lock_until_it_ends(tmp_path):
    lib = tmp_path / "lib"
    with Store(lib) as store:
        run = store.begin("v1", "text", "1")
        assert not lock_is_free(lib)
        run.abort()
        assert lock_is_free(lib)
        store.begin("v1", "text", "1")  # never ended: close() gives it back
        assert not lock_is_free(lib)
    assert lock_is_free(lib)


def test_index_gives_up_with_a_clear_error(tiny_video, tiny_models, tmp_path, holder):
    lib = tmp_path / "lib"
    held = holder(lib)
    told: list[str] = []
    with open_library(lib, tiny_models) as library:
        with pytest.raises(StoreError, match=f"another vidseek process \\(pid {held.pid}\\) is "
                                             "writing the library"):
            library.index([tiny_video], wait=0.5, on_wait=told.append)
        assert len(told) == 1 and f"pid {held.pid}" in told[0]
        assert library.videos() == []
        held.release()
        assert library.index([tiny_video], wait=0).results[0].status == "indexed"


class _Conflicts:
    """``optimize`` of a table that meets another writer's commit ``times`` times first."""

    def __init__(self, table, times: int) -> None:
        self.table, self.times, self.calls = table, times, 0

    def __getattr__(self, name):
        return getattr(self.table, name)

    def optimize(self, **kw):
        self.calls += 1
        if self.calls <= self.times:
            raise RuntimeError("lance error: Retryable commit conflict for version 7: This "
                               "Rewrite transaction was preempted by concurrent transaction "
                               "Delete at version 7. Please retry.")
        return self.table.optimize(**kw)


@pytest.mark.parametrize("times", [2, 100])
def test_a_compaction_conflict_never_loses_the_batch(tiny_video, tiny_models, tmp_path, caplog,
                                                     times):
    """Retried on the latest version; given up with a warning when it keeps happening."""
    with open_library(tmp_path / "lib", tiny_models) as library:
        library.store._obs = conflicts = _Conflicts(library.store._obs, times)
        [result] = library.index([tiny_video]).results
        assert result.status == "indexed" and result.analyzers["text"] == 4
        assert len(library.store.observations(kinds=["text"])) == 4
        assert library.store.missing_indexes() == []
    assert conflicts.calls == min(times + 1, 3)
    assert ("observations was not compacted" in caplog.text) == (times >= 3)


def _index_command(videos, lib):
    return [sys.executable, "-m", "vidseek", "index", *map(str, videos), "--library", str(lib),
            "--analyzers", ",".join(ANALYZERS)]


@pytest.mark.slow
def test_index_waits_for_another_writer_with_a_message(tiny_video, tmp_path, holder):
    lib = tmp_path / "lib"
    held = holder(lib)
    log = tmp_path / "stderr.txt"
    with open(log, "w") as err:
        indexer = subprocess.Popen(_index_command([tiny_video], lib), stdout=subprocess.PIPE,
                                   stderr=err, text=True)
        try:
            wait_for(lambda: "waiting for another vidseek process" in log.read_text(),
                     timeout=120, what="the waiting message")
            assert indexer.poll() is None
            held.release()
            out, _ = indexer.communicate(timeout=300)
        finally:
            if indexer.poll() is None:
                indexer.kill()
    stderr = log.read_text()
    assert indexer.returncode == 0, stderr
    assert f"this library (pid {held.pid})" in stderr and "Traceback" not in stderr
    assert "indexed" in out


@pytest.mark.slow
def test_two_indexers_on_one_library(tiny_video, tiny_models, tmp_path):
    """Two `vidseek index` at once on the same files (before the lock: one crashed in
    compaction with a raw traceback, and thumbnails were doubled)."""
    videos = [tiny_video, tmp_path / "other.mp4"]
    build(random_script(12, seed=2, width=320, height=180, fps=10.0, audio=False), videos[1])
    lib = tmp_path / "lib"
    procs = [subprocess.Popen(_index_command(order, lib), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
             for order in (videos, videos[::-1])]
    outcomes = [p.communicate(timeout=600) for p in procs]
    for proc, (_, err) in zip(procs, outcomes):
        assert proc.returncode == 0 and "Traceback" not in err, err[-3000:]
    with open_library(tmp_path / "clean", tiny_models) as clean:
        clean.index(videos)
        expected = content(clean)
    with open_library(lib, tiny_models) as library:
        store = library.store
        assert content(library) == expected
        assert store._obs.count_rows() == len(expected)
        assert store._runs.count_rows() == len(store.runs()) == 2 * len(ANALYZERS)
        thumbs = store._scan(store._thumbs, None, ["video_id", "time", "width"]).to_pylist()
        assert max(Counter(tuple(t.values()) for t in thumbs).values()) == 1
        assert len(thumbs) == len(store.observations(kinds=["shot"]))
        assert store.missing_indexes() == []
