"""What killed processes and concurrent writers leave behind, and who repairs it: a search
index that a kill kept from being built (or whose files are gone) is rebuilt, never searched
around; rows of runs that never committed or were replaced, orphan and doubled thumbnails,
doubled videos are deleted by the cleanup each index starts with; thumbnail writes are
idempotent."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from media_info import make_info

from vidseek.media import Thumbnail
from vidseek.search.channels import text_hits
from vidseek.store import Store, StoreError
from vidseek.types import Observation

DIM = 8


def obs(vid: str, start: float, text: str, kind: str = "text") -> Observation:
    return Observation(video_id=vid, start=start, end=start + 1.0, kind=kind, text=text,
                       source="test:1")


def thumb(time: float, width: int = 320) -> Thumbnail:
    return Thumbnail(time, time, b"\xff\xd8" + bytes([int(time)]), "jpeg", width, 180)


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "lib", vector_dim=DIM) as s:
        yield s


def committed(store: Store) -> None:
    with store.begin("v1", "text", "1") as run:
        run.add([obs("v1", 0.0, "GATE SEVEN BOARDING"), obs("v1", 4.0, "BLUE HARBOR CAFE")])


# ---- search indexes ----------------------------------------------------------------------

KILLED_BUILD = textwrap.dedent(
    """
    import os, sys
    from vidseek.store import Store
    from vidseek.store.store import Store as Impl
    from vidseek.types import Observation
    Impl._build = lambda self, wanted: os._exit(9)  # the process dies building the index
    store = Store(sys.argv[1], vector_dim=8)
    with store.begin("v1", "text", "1") as run:
        run.add(Observation(video_id="v1", start=4.0, end=5.0, kind="text",
                            text="BLUE HARBOR CAFE", source="test:1"))
    store.build_indexes()
    """
)


def test_an_index_build_killed_is_rebuilt_by_the_next_search(tmp_path):
    lib = tmp_path / "lib"
    child = subprocess.run([sys.executable, "-c", KILLED_BUILD, str(lib)], capture_output=True,
                           text=True, timeout=120)
    assert child.returncode == 9, child.stderr[-2000:]
    with Store(lib) as store:
        assert store.missing_indexes() == ["text"]
        assert [o.text for o, _ in store.text_search("harbor")] == ["BLUE HARBOR CAFE"]
        assert store.missing_indexes() == [] and store.indexes() == {"text": "FTS"}


def test_deleted_index_files_are_rebuilt(store):
    committed(store)
    store.build_indexes()
    for folder in (store.path / "observations.lance" / "_indices").iterdir():
        shutil.rmtree(folder)
    with Store(store.path) as again:
        assert again.missing_indexes() == ["text"]
        assert [o.text for o, _ in again.text_search("harbor")] == ["BLUE HARBOR CAFE"]
        assert again.missing_indexes() == []


class _Background:
    def query_level(self, vector):
        return 0.0

    def passage_levels(self, passages):
        return np.zeros(len(passages))


def test_a_missing_index_is_never_searched_around(store, holder):
    """While another process writes the library (and will build the index), a search says
    so; it never runs on vectors alone as if nothing had matched the words."""
    committed(store)  # committed, but the batch's index build has not run
    held = holder(store.path)
    with Store(store.path, create=False) as reader:
        with pytest.raises(StoreError, match=f"search index .* missing.*pid {held.pid}"):
            reader.text_search("harbor")
        with pytest.raises(StoreError, match="search index"):
            text_hits(reader, "harbor", lambda: np.ones(DIM, np.float32), _Background(),
                      video_id=None, kinds=["text"], limit=5)
        held.release()
        assert [o.text for o, _ in reader.text_search("harbor")] == ["BLUE HARBOR CAFE"]


def test_an_empty_library_searches_to_nothing(store):
    assert store.text_search("harbor") == []
    with store.begin("v1", "text", "1") as run:  # rows, but nothing committed
        run.add(obs("v1", 0.0, "harbor"))
        run._flush()
        assert store.text_search("harbor") == []


# ---- leftovers -----------------------------------------------------------------------------

def _versions(store: Store) -> dict[str, int]:
    return {t.name: t.version for t in [store._videos, store._thumbs, store._obs, store._runs]}


def test_cleanup_removes_what_kills_and_unlocked_writers_left(store):
    store.add_video("v1", "/v/one.mp4", make_info())
    committed(store)
    # a run killed before its commit: rows without a run record
    store.write_rows([obs("v1", 9.0, "never committed")], analyzer="speech", version="1",
                     run_id="dead")
    # a commit killed before its cleanup: the replaced run's rows and record stay
    with store.begin("v1", "text", "2") as run:
        run.add(obs("v1", 1.0, "GATE SEVEN"))
        store._delete = lambda table, where: 0
    del store._delete
    # what two writers without the lock left: a video and thumbnails twice; thumbnails of a
    # removed video
    store.put_thumbnails("v1", [thumb(0.5), thumb(4.5)])
    store._thumbs.add(store._scan(store._thumbs, None))
    store._videos.add(store._scan(store._videos, None))
    store.put_thumbnails("gone", [thumb(1.0)])
    assert store._obs.count_rows() == 4 and store._runs.count_rows() == 2
    assert [o.text for o in store.observations()] == ["GATE SEVEN"]

    # 1 uncommitted + 2 replaced rows, 1 run record, 1 orphan + 2 doubled thumbnails, 1 video
    assert store.cleanup() == 8
    assert store._obs.count_rows() == 1 and store._runs.count_rows() == 1
    assert store._videos.count_rows() == 1 and store.videos()[0].paths == ["/v/one.mp4"]
    assert store._thumbs.count_rows() == 2
    assert [t.time for t in store.thumbnails("v1")] == [0.5, 4.5]
    assert [o.text for o in store.observations()] == ["GATE SEVEN"]
    before = _versions(store)
    assert store.cleanup() == 0
    assert _versions(store) == before  # nothing to delete: nothing written


def test_thumbnail_writes_are_idempotent(store):
    assert store.put_thumbnails("v1", [thumb(0.5), thumb(4.5)]) == 2
    assert store.put_thumbnails("v1", [thumb(0.5), thumb(4.5), thumb(4.5)]) == 2
    assert store._thumbs.count_rows() == 2
    store.put_thumbnails("v2", [thumb(1.0)])
    store.put_thumbnails("v1", [thumb(4.5), thumb(8.0), thumb(8.0, width=160)])  # replaced
    assert [(t.time, t.width) for t in store.thumbnails("v1")] == [(4.5, 320), (8.0, 160),
                                                                   (8.0, 320)]
    assert [t.time for t in store.thumbnails("v2")] == [1.0]
    store._thumbs.add(store._scan(store._thumbs, "video_id = 'v2'"))  # an old double
    assert [t.time for t in store.thumbnails("v2")] == [1.0]
    store.put_thumbnails("v1", [])
    assert store.thumbnails("v1") == [] and store._thumbs.count_rows() == 2
