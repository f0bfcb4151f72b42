"""Kill points: indexing killed at each write it makes to the library, then indexed again.

Every write of the store to LanceDB (an append, a delete, a merge, a compaction, an index
build) is a point where a process can die. Each case lets an index run up to write N and
kills it there, before or after that write lands (`tiny_library.Writes`: that write and
every later one raise `Killed`, so nothing a dead process would not have written reaches
the disk; its writer lock goes, as the kernel drops a dead process's flock). Then a new
library object indexes again, as the next process would, and the library must equal one
indexed cleanly: the same observations, no row lost, none duplicated, no hidden leftovers,
one thumbnail per shot, every search index there.

Two scenarios: the first index of a video, and its re-index after a version bump of shots
and text, which replaces committed runs (a kill between a commit and its cleanup). The full
sweep is slow; a few chosen points run always. One real process killed with ``os._exit``
checks that the in-process kill is faithful.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest
from tiny_library import Killed, Writes, content, open_library, watch

from vidseek.analyzers.screen_text import ScreenTextAnalyzer
from vidseek.analyzers.shots import ShotsAnalyzer


def index_killed(path: Path, video: Path, models, writes: Writes) -> None:
    library = open_library(path, models)
    watch(library, writes)
    try:
        library.index([video])
    except Killed:
        pass
    finally:
        library.close()  # what the kernel does for a dead process: its lock goes


def problems(library, expected: list[tuple]) -> dict[str, int]:
    """What differs from a clean index, as counts (empty: nothing)."""
    store = library.store
    got = content(library)
    found = {
        "rows lost": sum((Counter(expected) - Counter(got)).values()),
        "rows duplicated": sum((Counter(got) - Counter(expected)).values()),
        "hidden rows left": store._obs.count_rows() - store.count_observations(),
        "run records left": store._runs.count_rows() - len(store.runs()),
        "video rows": store._videos.count_rows() - len(store.videos()),
        "missing indexes": len(store.missing_indexes()),
    }
    for video in store.videos():
        shots = store.count_observations(video.id, ["shot"])
        found["thumbnail rows"] = store._thumbs.count_rows(f"video_id = '{video.id}'") - shots
    if "text" in store.indexes():
        found["search misses"] = int(not store.text_search("harbor"))
    return {k: v for k, v in found.items() if v}


def reindex(path: Path, video: Path, models, expected: list[tuple]) -> dict[str, int]:
    """Index again after the kill; what differs from a clean index."""
    with open_library(path, models) as library:
        [result] = library.index([video]).results
        assert result.status in ("indexed", "unchanged") and not result.errors, result
        # and once more: now it is complete
        assert library.index([video]).results[0].status == "unchanged"
        return problems(library, expected)


@pytest.fixture(scope="module")
def clean(tiny_video, tiny_models, tmp_path_factory):
    """A clean index of the tiny video: its folder, its content and its writes."""
    path = tmp_path_factory.mktemp("clean") / "library"
    writes = Writes()
    index_killed(path, tiny_video, tiny_models, writes)
    with open_library(path, tiny_models) as library:
        expected = content(library)
        assert {o[1] for o in expected} == {"shot", "text"} and not problems(library, expected)
    return path, expected, writes.log


@pytest.fixture
def bumped(monkeypatch):
    """New versions of shots and text: indexing replaces their committed runs."""
    monkeypatch.setattr(ShotsAnalyzer, "version", ShotsAnalyzer.version + "-bumped")
    monkeypatch.setattr(ScreenTextAnalyzer, "version", ScreenTextAnalyzer.version + "-bumped")


def bumped_writes(clean, tiny_video, tiny_models, tmp_path) -> list[str]:
    path = tmp_path / "count"
    shutil.copytree(clean[0], path)
    writes = Writes()
    index_killed(path, tiny_video, tiny_models, writes)
    return writes.log


def sweep(points, start, tiny_video, tiny_models, expected, tmp_path) -> dict[str, dict]:
    """Kill at each point (write number, after?) and index again; the problems found."""
    found = {}
    for n, after in points:
        path = tmp_path / f"kill-{n}-{'after' if after else 'before'}"
        start(path)
        writes = Writes(n, after=after)
        index_killed(path, tiny_video, tiny_models, writes)
        assert writes.dead, f"write {n} never came"
        issues = reindex(path, tiny_video, tiny_models, expected)
        if issues:
            found[f"{'after' if after else 'before'} write {n}"] = issues
        shutil.rmtree(path)
    return found


def chosen(log: list[str], *wanted: tuple[str, bool]) -> list[tuple[int, bool]]:
    """The write number of the first write named ``what`` in ``log``, for each wanted."""
    return [(log.index(what) + 1, after) for what, after in wanted]


def test_first_index_killed_at_chosen_points(clean, tiny_video, tiny_models, tmp_path):
    _, expected, log = clean
    points = chosen(log, ("runs.add", True), ("thumbnails.merge_insert", True),
                    ("observations.create_index", False))
    assert sweep(points, lambda path: None, tiny_video, tiny_models, expected, tmp_path) == {}


def test_reindex_killed_between_commit_and_cleanup(clean, bumped, tiny_video, tiny_models,
                                                   tmp_path):
    path, expected, _ = clean
    log = bumped_writes(clean, tiny_video, tiny_models, tmp_path)
    # each commit (runs.add) is followed by the deletes of what it replaces
    commits = [i + 1 for i, what in enumerate(log) if what == "runs.add"]
    assert len(commits) == 2 and log[commits[0]] == "observations.delete", log
    found = sweep([(n, True) for n in commits], lambda p: shutil.copytree(path, p),
                  tiny_video, tiny_models, expected, tmp_path)
    assert found == {}


@pytest.mark.slow
def test_first_index_killed_at_every_write(clean, tiny_video, tiny_models, tmp_path):
    _, expected, log = clean
    points = [(n, after) for n in range(1, len(log) + 1) for after in (False, True)]
    found = sweep(points, lambda path: None, tiny_video, tiny_models, expected, tmp_path)
    print(f"\nfirst index: {len(log)} writes, {len(points)} kill points: {log}")
    assert found == {}


@pytest.mark.slow
def test_reindex_killed_at_every_write(clean, bumped, tiny_video, tiny_models, tmp_path):
    path, expected, _ = clean
    log = bumped_writes(clean, tiny_video, tiny_models, tmp_path)
    points = [(n, after) for n in range(1, len(log) + 1) for after in (False, True)]
    found = sweep(points, lambda p: shutil.copytree(path, p), tiny_video, tiny_models,
                  expected, tmp_path)
    print(f"\nre-index: {len(log)} writes, {len(points)} kill points: {log}")
    assert found == {}


KILLED_CHILD = textwrap.dedent(
    """
    import os, sys
    from tiny_library import ANALYZERS, Writes, watch
    from vidseek.library import Library
    library = Library(sys.argv[1], analyzers=ANALYZERS)
    watch(library, Writes(int(sys.argv[3]), after=sys.argv[4] == "after",
                          die=lambda: os._exit(9)))
    library.index([sys.argv[2]])
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("what", ["observations.add", "runs.add", "observations.create_index"])
def test_a_process_killed_at_a_write_resumes_to_a_clean_index(clean, tiny_video, tiny_models,
                                                               tmp_path, what):
    """The same with a real process that dies (os._exit) after the write lands."""
    _, expected, log = clean
    [(n, after)] = chosen(log, (what, True))
    path = tmp_path / "library"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])}
    child = subprocess.run([sys.executable, "-c", KILLED_CHILD, str(path), str(tiny_video),
                            str(n), "after"], env=env, capture_output=True, text=True,
                           timeout=300)
    assert child.returncode == 9, child.stderr[-3000:]
    assert reindex(path, tiny_video, tiny_models, expected) == {}


def test_an_index_after_a_killed_index_build_builds_it(clean, tiny_video, tiny_models,
                                                       tmp_path):
    """The kill of item 4: everything committed, the full-text index not built. The next
    index has nothing to do, and still builds it."""
    _, expected, log = clean
    [(n, after)] = chosen(log, ("observations.create_index", False))
    path = tmp_path / "library"
    index_killed(path, tiny_video, tiny_models, Writes(n, after=after))
    with open_library(path, tiny_models) as library:
        assert library.store.missing_indexes() == ["text"]
        assert library.index([tiny_video]).results[0].status == "unchanged"
        assert library.store.missing_indexes() == []
        assert [o.text for o, _ in library.store.text_search("harbor")] == ["BLUE HARBOR CAFE"]
