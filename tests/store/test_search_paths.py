"""Searches see committed runs only, whatever ranks first: uncommitted, aborted and replaced
runs' rows are dropped after searching (with more rows asked for when too many were dropped),
other stores' commits are seen, and compaction changes nothing that is read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vidseek.store import Store
from vidseek.store.store import _OVERFETCH
from vidseek.types import Observation

DIM = 8
QUERY = [1.0] + [0.0] * (DIM - 1)


def unit(angle: float) -> list[float]:
    """A unit vector at ``angle`` radians from QUERY (cosine similarity cos(angle))."""
    return [float(np.cos(angle)), float(np.sin(angle))] + [0.0] * (DIM - 2)


def obs(vid: str, start: float, text: str, vector: list[float] | None = None,
        kind: str = "speech") -> Observation:
    return Observation(video_id=vid, start=start, end=start + 1.0, kind=kind, text=text,
                       vector=vector, source="test:1")


def committed_rows(store: Store) -> list[Observation]:
    """Three committed speech rows about the harbor, moderately close to QUERY."""
    rows = [obs("v1", float(i), f"the harbor lights number {i} were lit late in the evening",
                unit(0.5 + 0.1 * i)) for i in range(3)]
    with store.begin("v1", "speech", "1") as run:
        run.add(rows)
    return rows


def flood(vid: str, n: int, start: float = 100.0) -> list[Observation]:
    """Rows that beat every committed row for both searches: short texts that are all the
    query word, vectors equal to QUERY."""
    return [obs(vid, start + i, "harbor harbor", QUERY) for i in range(n)]


def raw_run_ids(store: Store, limit: int) -> tuple[set[str], set[str]]:
    """Run ids of LanceDB's own best rows, unfiltered (what the store gets back first)."""
    words = store._obs.search("harbor", query_type="fts").limit(limit).to_arrow()
    near = store._obs.search(QUERY, vector_column_name="vector").distance_type("cosine")
    return (set(words["run_id"].to_pylist()),
            set(near.limit(limit).to_arrow()["run_id"].to_pylist()))


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "lib", vector_dim=DIM) as s:
        yield s


def assert_sees_exactly(store: Store, rows: list[Observation], limit: int = 3) -> None:
    words = store.text_search("harbor", limit=limit)
    assert sorted((o.video_id, o.start) for o, _ in words) == sorted(
        (o.video_id, o.start) for o in rows)
    near = store.nearest(QUERY, limit=limit)
    assert [(o.video_id, o.start) for o, _ in near] == [(o.video_id, o.start) for o in rows]
    assert [round(s, 4) for _, s in near] == [round(float(np.cos(0.5 + 0.1 * i)), 4)
                                               for i in range(len(rows))]


def test_uncommitted_rows_never_returned_even_when_they_fill_every_fetch(store):
    """Far more hidden rows than the over-fetch margin rank above the committed ones, so the
    first fetch holds no visible row at all and the search must ask again (twice)."""
    rows = committed_rows(store)
    pending = store.begin("v2", "speech", "1", batch_rows=50)
    hidden = 5 * (3 + _OVERFETCH)  # beyond the first fetch and the first refetch
    pending.add(flood("v2", hidden))
    store.build_indexes()
    words, near = raw_run_ids(store, 3 + _OVERFETCH)
    assert words == near == {pending.run_id}  # the premise: hidden rows fill the first fetch
    assert_sees_exactly(store, rows)
    assert store.text_search("harbor", video_id="v2") == []
    assert store.nearest(QUERY, video_id="v2") == []
    # Once it commits, its rows come first.
    pending.commit()
    assert {o.video_id for o, _ in store.text_search("harbor", limit=3)} == {"v2"}
    assert [o.video_id for o, _ in store.nearest(QUERY, limit=3)] == ["v2"] * 3


def test_rows_of_a_killed_run_stay_hidden_and_aborted_runs_leave_the_old_one(store):
    rows = committed_rows(store)
    killed = store.begin("v1", "text", "1", batch_rows=10)  # the process dies: never ends
    killed.add(flood("v1", 40))
    aborted = store.begin("v1", "speech", "2", batch_rows=10)
    aborted.add(flood("v1", 40, start=500.0))
    store.build_indexes()
    assert_sees_exactly(store, rows)
    aborted.abort()
    assert_sees_exactly(store, rows)  # the old speech run still stands


def test_replaced_run_left_behind_by_a_crash_is_never_returned(store):
    """A crash between a commit and its cleanup leaves the replaced run's rows in the table,
    ranking first; only the newest run of each (video, analyzer) is read."""
    with store.begin("v1", "speech", "1") as run:
        run.add(flood("v1", 60))
    run = store.begin("v1", "speech", "2")
    rows = [obs("v1", float(i), f"the harbor lights number {i} were lit late in the evening",
                unit(0.5 + 0.1 * i)) for i in range(3)]
    run.add(rows)
    store._delete = lambda table, where: 0  # the process "dies" before deleting anything
    run.commit()
    del store._delete
    store.build_indexes()
    assert store._obs.count_rows() == 63
    assert_sees_exactly(store, rows)
    assert store.cleanup() == 61  # 60 old rows and the old runs row
    assert_sees_exactly(store, rows)


def test_kinds_and_video_filters_combine_with_hidden_rows(store):
    rows = committed_rows(store)
    with store.begin("v1", "text", "1") as run:
        run.add(obs("v1", 7.0, "HARBOR MASTER", unit(0.2), kind="text"))
    store.begin("v1", "objects", "1", batch_rows=10).add(
        [obs("v1", 300.0 + i, "harbor", QUERY, kind="text") for i in range(30)])
    store.build_indexes()
    assert [o.start for o, _ in store.nearest(QUERY, kinds=["text"], limit=5)] == [7.0]
    assert [o.start for o, _ in store.text_search("harbor", kinds=["text"])] == [7.0]
    assert [o.start for o, _ in store.nearest(QUERY, video_id="v1", kinds=["speech"])] == [
        o.start for o in rows]
    assert store.nearest(QUERY, kinds=[]) == [] and store.text_search("harbor", limit=0) == []


def test_hidden_rows_under_a_vector_index(tmp_path):
    """The same with an IVF_PQ index: an approximate search, then the committed-runs filter."""
    rng = np.random.default_rng(0)
    with Store(tmp_path / "lib", vector_dim=DIM) as store:
        with store.begin("v1", "speech", "1") as run:
            for i in range(300):
                v = rng.normal(size=DIM)
                v[0] = -abs(v[0])  # pointing away from QUERY
                run.add(obs("v1", float(i), f"line {i}", (v / np.linalg.norm(v)).tolist()))
            run.add(obs("v1", 400.0, "the target line", unit(0.3)))
        pending = store.begin("v2", "speech", "1", batch_rows=50)
        pending.add(flood("v2", 100))
        assert store.build_indexes(vector_index_rows=200) == ["text", "vector"]
        hits = store.nearest(QUERY, limit=1)
        assert [(o.video_id, o.start) for o, _ in hits] == [("v1", 400.0)]
        assert hits[0][1] == pytest.approx(np.cos(0.3), abs=0.05)  # PQ approximates


def test_another_store_on_the_library_sees_commits(tmp_path):
    """A reader that cached the committed runs sees a writer's later commits, replacements
    and removals (each store has its own LanceDB connection, as another process would)."""
    path = tmp_path / "lib"
    with Store(path, vector_dim=DIM) as writer, Store(path) as reader:
        assert reader.runs() == [] and reader.text_search("harbor") == []
        rows = committed_rows(writer)
        writer.build_indexes()
        assert [r.run_id for r in reader.runs()] == [r.run_id for r in writer.runs()]
        assert_sees_exactly(reader, rows)
        with writer.begin("v1", "speech", "2") as run:
            run.add(obs("v1", 50.0, "harbor", unit(0.1)))
        assert [o.start for o, _ in reader.text_search("harbor")] == [50.0]
        assert [o.start for o, _ in reader.nearest(QUERY)] == [50.0]
        assert [o.start for o in reader.observations()] == [50.0]
        assert reader.is_complete("v1", "speech", "2")
        assert writer.remove_video("v1")
        assert reader.text_search("harbor") == [] and reader.runs() == []


def test_runs_hands_out_copies(store):
    committed_rows(store)
    store.runs()[0].run_id = "changed"
    assert store.runs()[0].run_id != "changed"
    assert store.visible_filter("v1") == f"run_id IN ('{store.runs()[0].run_id}')"
    assert store.visible_filter("nobody") == "false"


def test_compaction_keeps_what_is_read(store, monkeypatch):
    """Indexing leaves small files (one per run write) and old table versions; begin() merges
    the runs table's files once there are too many, build_indexes() every table's and drops
    old versions, and reads do not change."""
    import time
    from datetime import timedelta

    monkeypatch.setattr("vidseek.store.store._MAX_FRAGMENTS", 4)
    n = 7
    for i in range(n):
        with store.begin(f"v{i}", "speech", "1") as run:
            run.add(obs(f"v{i}", 0.0, f"harbor report {i}", unit(0.1 * i)))
    assert fragments(store._runs) <= 5 < fragments(store._obs)
    before = (store.runs(), store.observations(), store.nearest(QUERY, limit=100))
    assert len(store._obs.list_versions()) > n
    monkeypatch.setattr("vidseek.store.store._KEEP_VERSIONS", timedelta(milliseconds=1))
    time.sleep(0.01)  # every version but the latest is now older than that
    store.build_indexes()
    for table in (store._obs, store._runs, store._videos, store._thumbs):
        assert fragments(table) <= 1
    # the old versions are gone; optimize's own compaction commit may still be younger than
    # the cutoff when the machine is busy
    assert len(store._runs.list_versions()) <= 2
    assert (store.runs(), store.observations(), store.nearest(QUERY, limit=100)) == before
    assert [o.video_id for o, _ in before[2]] == [f"v{i}" for i in range(n)]
    assert len(store.text_search("harbor", limit=100)) == n


def fragments(table) -> int:
    return table.stats()["fragment_stats"]["num_fragments"]


def test_filter_indexes_change_no_result(store, monkeypatch):
    """From FILTER_INDEX_ROWS rows, kind and video_id get scalar indexes; searches filtered
    on them return the same before and after, also for rows written after the index."""
    monkeypatch.setattr("vidseek.store.store.FILTER_INDEX_ROWS", 1000)
    committed_rows(store)
    with store.begin("v2", "text", "1") as run:
        run.add([obs("v2", float(i), f"harbor sign {i}", unit(0.05 * (i + 1)), kind="text")
                 for i in range(10)])
    store.begin("v2", "speech", "1", batch_rows=5).add(flood("v2", 30))  # hidden

    def searches():
        return [
            [(o.video_id, o.start) for o, _ in call]
            for call in (
                store.nearest(QUERY, kinds=["text"], limit=4),
                store.nearest(QUERY, video_id="v1", limit=4),
                store.nearest(QUERY, video_id="v2", kinds=["text", "visual"], limit=4),
                store.text_search("harbor", kinds=["speech"], limit=4),
                store.text_search("harbor", video_id="v2", limit=20),
            )
        ]

    assert store.build_indexes() == ["text"]  # below the (patched) threshold: no filters
    before = searches()
    assert before[0] == [("v2", 0.0), ("v2", 1.0), ("v2", 2.0), ("v2", 3.0)]
    assert before[1] == [("v1", 0.0), ("v1", 1.0), ("v1", 2.0)]
    assert len(before[4]) == 10
    monkeypatch.setattr("vidseek.store.store.FILTER_INDEX_ROWS", 2)
    assert store.build_indexes() == ["text", "kind", "video_id"]
    assert store.indexes() == {"text": "FTS", "kind": "Bitmap", "video_id": "BTree"}
    assert searches() == before
    with store.begin("v3", "text", "1") as run:  # rows the indexes do not cover yet
        run.add(obs("v3", 0.0, "harbor gate", QUERY, kind="text"))
    assert [o.video_id for o, _ in store.nearest(QUERY, kinds=["text"], limit=1)] == ["v3"]
    assert [o.start for o, _ in store.text_search("gate", video_id="v3")] == [0.0]


def test_video_lookups_follow_other_stores_and_hand_out_copies(tmp_path):
    from vidseek.media.probe import MediaInfo, VideoStreamInfo

    stream = VideoStreamInfo(index=0, codec="h264", width=64, height=36, display_width=64,
                             display_height=36, rotation=0, fps=25.0,
                             variable_frame_rate=False, frame_count=250, start=0.0,
                             duration=10.0)
    info = MediaInfo(path="/v/a.mp4", size_bytes=1, container="mov,mp4", duration=10.0,
                     start_time=0.0, video=stream)
    path = tmp_path / "lib"
    with Store(path, vector_dim=DIM) as writer, Store(path) as reader:
        writer.add_video("aa00000000000001", "/v/a.mp4", info)
        assert reader.video("aa00000000000001").paths == ["/v/a.mp4"]
        reader.video("aa00000000000001").paths.append("/elsewhere.mp4")
        reader.videos()[0].paths.clear()
        assert reader.video("aa").paths == ["/v/a.mp4"]  # prefix; the cache is unchanged
        writer.add_video("aa00000000000001", "/v/b.mp4", info)  # a second path
        writer.add_video("bb00000000000002", "/v/c.mp4", info)
        assert reader.video("/v/b.mp4").id == "aa00000000000001"
        assert [v.id for v in reader.videos()] == ["aa00000000000001", "bb00000000000002"]
        writer.remove_video("bb00000000000002")
        assert [v.id for v in reader.videos()] == ["aa00000000000001"]
