"""The library store: content ids, videos, atomic per-analyzer runs, crashes, schema checks."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from media_info import make_info

from vidseek.store import Store, StoreError, UnknownVideoError, library_path, video_id
from vidseek.types import Observation

DIM = 8


def obs(vid: str, start: float, kind: str = "speech", text: str = "", **kw) -> Observation:
    return Observation(video_id=vid, start=start, end=start + 1.0, kind=kind,
                       text=text or f"{kind} at {start}", source="test:1", **kw)


@pytest.fixture
def store(tmp_path: Path):
    with Store.open(tmp_path / "lib", vector_dim=DIM) as s:
        yield s


# ---- ids and paths ---------------------------------------------------------------------------


def test_library_path_order(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDSEEK_HOME", str(tmp_path / "home"))
    assert library_path(tmp_path / "x") == tmp_path / "x"
    assert library_path() == tmp_path / "home"
    monkeypatch.delenv("VIDSEEK_HOME")
    assert library_path() == Path.home() / ".vidseek"


@pytest.mark.parametrize("size", [1000, 5 * 2**20 + 7])
def test_video_id_follows_content_not_name(tmp_path, size):
    a = tmp_path / "a.mp4"
    a.write_bytes(os.urandom(size))
    b = tmp_path / "sub" / "renamed.mkv"
    b.parent.mkdir()
    shutil.copyfile(a, b)
    assert video_id(a) == video_id(b)
    assert len(video_id(a)) == 16 and int(video_id(a), 16) >= 0
    # One byte changed at the start, the middle or the end gives a different id.
    for offset in (0, size // 2, size - 1):
        data = bytearray(a.read_bytes())
        data[offset] ^= 0xFF
        b.write_bytes(bytes(data))
        assert video_id(b) != video_id(a)
    b.write_bytes(a.read_bytes() + b"\0")
    assert video_id(b) != video_id(a)


def test_video_id_is_fast_on_huge_file(tmp_path):
    big = tmp_path / "big.mp4"
    with open(big, "wb") as f:
        f.truncate(2**31)  # sparse: 2 GiB that would take seconds to read in full
    t0 = time.perf_counter()
    vid = video_id(big)
    assert time.perf_counter() - t0 < 0.5
    assert len(vid) == 16


# ---- videos ----------------------------------------------------------------------------------


def test_add_list_get_remove_videos(store, tmp_path):
    f = tmp_path / "clip.mp4"
    f.write_bytes(b"fake video bytes")
    vid = video_id(f)
    rec = store.add_video(vid, f, make_info(str(f)))
    assert rec.id == vid and rec.paths == [f.resolve().as_posix()]
    store.add_video("abcdef0123456789", "/videos/other.mp4", make_info())

    # Same content seen at a second path: one video, two paths.
    moved = tmp_path / "moved.mp4"
    shutil.copyfile(f, moved)
    store.add_video(vid, moved, make_info(str(moved)))
    assert [v.id for v in store.videos()] == [vid, "abcdef0123456789"]
    got = store.video(vid)
    assert got.paths == [f.resolve().as_posix(), moved.resolve().as_posix()]
    assert got.info == make_info(str(f))

    assert store.video(vid[:6]).id == vid  # prefix
    assert store.video(moved).id == vid  # known path
    copy = tmp_path / "third.mp4"
    shutil.copyfile(f, copy)
    assert store.video(copy).id == vid  # unknown path, known content
    with pytest.raises(UnknownVideoError, match="vidseek list"):
        store.video("/nowhere.mp4")
    assert store.video("moved.mp4").id == vid  # a file name it was indexed under

    with store.begin(vid, "speech", 1) as run:
        run.add([obs(vid, 0.0), obs(vid, 1.0)])
    with store.begin("abcdef0123456789", "speech", 1) as run:
        run.add(obs("abcdef0123456789", 0.0))
    assert store.remove_video(vid)
    assert [v.id for v in store.videos()] == ["abcdef0123456789"]
    assert store.observations(vid) == [] and store.runs(vid) == []
    assert store._obs.count_rows(f"video_id = '{vid}'") == 0
    assert store._runs.count_rows(f"video_id = '{vid}'") == 0
    assert store.count_observations() == 1
    assert not store.remove_video(vid)


def test_ambiguous_prefix(store):
    store.add_video("aa00000000000001", "/v/1.mp4", make_info())
    store.add_video("aa00000000000002", "/v/2.mp4", make_info())
    with pytest.raises(UnknownVideoError, match="start of the ids of 2 videos") as raised:
        store.video("aa")
    assert raised.value.candidates == ["aa00000000000001", "aa00000000000002"]


def test_videos_are_named_by_file_name(store, tmp_path, monkeypatch):
    store.add_video("aa00000000000001", "/talks/llavanext_jobs.mp4", make_info())
    store.add_video("bb00000000000002", "/a/tour.mp4", make_info())
    store.add_video("cc00000000000003", "/b/tour.mp4", make_info())
    monkeypatch.chdir(tmp_path)  # another folder: the name is not a path that exists here
    assert store.video("llavanext_jobs.mp4").id == "aa00000000000001"
    assert store.video("llavanext_jobs").id == "aa00000000000001"  # without the suffix
    assert store.video("/talks/llavanext_jobs.mp4", open_files=False).id == "aa00000000000001"
    # two files of one name: an error that lists both, with their paths
    with pytest.raises(UnknownVideoError, match="names 2 videos") as raised:
        store.video("tour.mp4")
    assert "bb00000000000002 (/a/tour.mp4)" in str(raised.value)
    assert raised.value.candidates == ["bb00000000000002", "cc00000000000003"]
    assert store.video("/b/tour.mp4").id == "cc00000000000003"  # the path tells them apart
    with pytest.raises(UnknownVideoError, match="file name; `vidseek list`"):
        store.video("other.mp4")
    # a folder in the query makes it a path, never a name
    with pytest.raises(UnknownVideoError):
        store.video("elsewhere/llavanext_jobs.mp4")


def test_reading_never_creates_a_library(tmp_path):
    with pytest.raises(StoreError, match="no library at .*`vidseek index VIDEO"):
        Store(tmp_path / "none", create=False)
    assert not (tmp_path / "none").exists()


def test_snapshot_answers_until_a_table_changes(store, tmp_path):
    from vidseek.store.snapshot import read_observations, read_runs, read_videos

    root = store.path
    store.add_video("v1", tmp_path / "one.mp4", make_info())
    assert read_videos(root) is None  # nothing saved yet
    with store.begin("v1", "speech", 1) as run:
        run.add([obs("v1", 0.0), obs("v1", 2.0)])
    store.snapshot(["v1"])
    [video] = read_videos(root)
    assert video["id"] == "v1" and video["paths"] == [(tmp_path / "one.mp4").as_posix()]
    assert [r["analyzer"] for r in read_runs(root)] == ["speech"]
    assert [o["start"] for o in read_observations(root, "v1")] == [0.0, 2.0]
    # a new path of the video, a new run: the saved files no longer answer
    store.add_video("v1", tmp_path / "moved.mp4", make_info())
    assert read_videos(root) is None
    with store.begin("v1", "speech", 2) as run:
        run.add([obs("v1", 5.0)])
    assert read_runs(root) is None and read_observations(root, "v1") is None
    store.snapshot()  # the runs again, but not this video's observations
    assert read_runs(root) is not None and read_observations(root, "v1") is None
    store.snapshot(["v1"])
    assert [o["start"] for o in read_observations(root, "v1")] == [5.0]
    assert len(read_videos(root)[0]["paths"]) == 2


@pytest.mark.filterwarnings("ignore:optimize.cleanup_older_than=0")
def test_compaction_keeps_only_recent_versions(tmp_path, monkeypatch):
    """Indexing compacts after each batch (build_indexes): the versions the batch made are
    removed once older than the store's retention (ten seconds; zero here)."""
    from datetime import timedelta

    import vidseek.store.store as module

    def versions(root: Path) -> int:
        return sum(len(list((t / "_versions").iterdir())) for t in root.glob("*.lance"))

    with Store.open(tmp_path / "lib", vector_dim=DIM) as store:
        for i in range(6):
            store.add_video(f"v{i}", f"/v/{i}.mp4", make_info())
            with store.begin(f"v{i}", "speech", 1) as run:
                run.add([obs(f"v{i}", 0.0)])
        before = versions(store.path)
        monkeypatch.setattr(module, "_KEEP_VERSIONS", timedelta(0))
        store.build_indexes()
        after = versions(store.path)
        assert before >= 20 and after <= 10, (before, after)  # 4 tables, 1-3 versions each
        assert len(store.observations()) == 6 and len(store.videos()) == 6


# ---- runs ------------------------------------------------------------------------------------


def test_uncommitted_rows_are_invisible_until_commit(store):
    run = store.begin("v1", "speech", "1", batch_rows=2)
    run.add(obs("v1", float(t)) for t in range(5))  # two batches written, one buffered
    assert store._obs.count_rows() == 4
    assert store.observations() == []
    assert not store.is_complete("v1", "speech", "1")
    record = run.commit()
    assert record.rows == 5
    assert [o.start for o in store.observations("v1")] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert store.is_complete("v1", "speech", "1")
    with pytest.raises(StoreError, match="begin a new run"):
        run.add(obs("v1", 9.0))


def test_abort_leaves_nothing(store):
    with store.begin("v1", "speech", "1") as run:
        run.add(obs("v1", 0.0))
    run = store.begin("v1", "speech", "2", batch_rows=1)
    run.add([obs("v1", 5.0), obs("v1", 6.0)])
    run.abort()
    assert [o.start for o in store.observations()] == [0.0]  # the old run still stands
    assert store._obs.count_rows() == 1

    with pytest.raises(RuntimeError), store.begin("v1", "speech", "3", batch_rows=1) as run:
        run.add(obs("v1", 7.0))
        raise RuntimeError("analyzer failed")
    assert run.state == "aborted"
    assert store.is_complete("v1", "speech", "1")
    assert store._obs.count_rows() == 1


def test_version_bump_replaces_only_that_analyzer(store):
    for analyzer, kind in (("text", "text"), ("speech", "speech")):
        with store.begin("v1", analyzer, "1") as run:
            run.add([obs("v1", 0.0, kind, f"{kind} v1"), obs("v1", 2.0, kind, f"{kind} v1")])
    with store.begin("v1", "text", "2") as run:
        run.add(obs("v1", 1.0, "text", "text v2"))
    assert [o.text for o in store.observations("v1", kinds=["text"])] == ["text v2"]
    assert [o.text for o in store.observations("v1", kinds=["speech"])] == ["speech v1"] * 2
    assert store.is_complete("v1", "text", "2")
    assert not store.is_complete("v1", "text", "1")
    assert store.is_complete("v1", "speech", 1)  # int versions compare as strings
    assert store._obs.count_rows("version = '1' AND analyzer = 'text'") == 0
    assert [(r.analyzer, r.version) for r in store.runs("v1")] == [("speech", "1"), ("text", "2")]


def test_recommit_same_version_replaces(store):
    for _ in range(3):
        with store.begin("v1", "speech", "1") as run:
            run.add([obs("v1", 0.0), obs("v1", 1.0)])
    assert len(store.observations()) == 2
    assert store._obs.count_rows() == 2 and store._runs.count_rows() == 1


def test_other_videos_and_kinds_filter(store):
    with store.begin("v2", "speech", "1") as run:
        run.add([obs("v2", 3.0), obs("v2", 1.0, "speech", "it's \"quoted\"")])
    with store.begin("v1", "shots", "1") as run:
        run.add([obs("v1", 0.5, "shot"), obs("v1", 0.0, "shot")])
    got = store.observations()
    assert [(o.video_id, o.start) for o in got] == [("v1", 0.0), ("v1", 0.5), ("v2", 1.0),
                                                    ("v2", 3.0)]
    assert store.count_observations("v2") == 2
    assert store.count_observations(kinds=["shot"]) == 2
    assert store.observations("x'); DELETE") == []  # quotes cannot escape the filter
    assert store.observations(kinds=[]) == []


def test_vectors_and_data_round_trip(store):
    vec = [0.1 * i - 0.3 for i in range(DIM)]
    with store.begin("v1", "visual", "1") as run:
        run.add([
            obs("v1", 0.0, "visual", vector=vec, data={"box": [1, 2, 3, 4], "conf": 0.5}),
            obs("v1", 1.0, "shot"),
        ])
    with_vec, without = store.observations("v1")
    assert with_vec.vector == pytest.approx(vec, abs=1e-6)
    assert with_vec.data == {"box": [1, 2, 3, 4], "conf": 0.5}
    assert without.vector is None and without.data == {}
    with pytest.raises(StoreError, match="8-float"), store.begin("v1", "bad", "1") as run:
        run.add(obs("v1", 0.0, vector=[1.0, 2.0]))
        run.commit()
    assert store.observations(kinds=["speech"]) == []


def test_observation_for_other_video_is_refused(store):
    run = store.begin("v1", "speech", "1")
    with pytest.raises(StoreError, match="one run per video"):
        run.add(obs("v2", 0.0))
    run.abort()


def test_crash_between_commit_and_cleanup(store):
    """After the runs row is written, readers follow the newest run even if the old rows
    were not yet deleted; cleanup() then removes them."""
    with store.begin("v1", "speech", "1") as run:
        run.add(obs("v1", 0.0, text="old"))
    run = store.begin("v1", "speech", "2")
    run.add(obs("v1", 1.0, text="new"))
    store._delete = lambda table, where: 0  # the process "dies" before deleting anything
    run.commit()
    del store._delete
    assert [o.text for o in store.observations()] == ["new"]
    assert store.is_complete("v1", "speech", "2") and not store.is_complete("v1", "speech", "1")
    assert store.cleanup() == 2  # the old observation and its runs row
    assert store._obs.count_rows() == 1 and store._runs.count_rows() == 1


# ---- crash of a writer process -----------------------------------------------------------------

WRITER = textwrap.dedent(
    """
    import sys, time
    from vidseek.store import Store
    from vidseek.types import Observation
    store = Store.open(sys.argv[1], vector_dim=8)
    run = store.begin("v1", "speech", "1", batch_rows=10)
    run.add(
        Observation(video_id="v1", start=float(i), end=i + 1.0, kind="speech",
                    text=f"partial {i}", vector=[float(i)] * 8, source="test:1")
        for i in range(35)
    )
    print("ready", flush=True)
    time.sleep(60)
    """
)


def test_killed_writer_exposes_nothing_and_resume_has_no_duplicates(tmp_path):
    lib = tmp_path / "lib"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(lib)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.strip() == "ready", proc.stderr.read() if proc.poll() is not None else line
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    with Store.open(lib) as store:
        assert store._obs.count_rows() == 30  # three batches reached the disk...
        assert store.observations() == []  # ...but none is visible
        assert not store.is_complete("v1", "speech", "1")
        with store.begin("v1", "speech", "1") as run:  # begin() drops the orphans
            run.add(obs("v1", float(i), text=f"full {i}") for i in range(35))
        got = store.observations()
        assert [o.text for o in got] == [f"full {i}" for i in range(35)]
        assert store._obs.count_rows() == 35
        assert store.is_complete("v1", "speech", "1")


# ---- schema ------------------------------------------------------------------------------------


def test_schema_version_written_and_checked(tmp_path):
    lib = tmp_path / "lib"
    Store.open(lib).close()
    meta = json.loads((lib / "meta.json").read_text())
    assert meta == {"schema": 1, "vector_dim": 384}

    (lib / "meta.json").write_text(json.dumps({**meta, "schema": 99}))
    with pytest.raises(StoreError, match="upgrade vidseek"):
        Store.open(lib)
    (lib / "meta.json").write_text(json.dumps({**meta, "schema": 0}))
    with pytest.raises(StoreError, match="re-index"):
        Store.open(lib)
    (lib / "meta.json").unlink()
    with pytest.raises(StoreError, match="no meta.json"):
        Store.open(lib)


def test_vector_dim_is_fixed_per_library(tmp_path):
    Store.open(tmp_path / "lib", vector_dim=16).close()
    assert Store.open(tmp_path / "lib").vector_dim == 16
    with pytest.raises(StoreError, match="16-float"):
        Store.open(tmp_path / "lib", vector_dim=384)


def test_text_search_sees_committed_rows_only(tmp_path):
    from vidseek.types import Observation

    def obs(text, start):
        return Observation(video_id="v1", start=start, end=start + 1, kind="text", text=text,
                           source="test")

    with Store(tmp_path / "lib") as store:
        with store.begin("v1", "text", "1") as run:
            run.add([obs("GATE 7 BOARDING", 1.0), obs("BLUE HARBOR CAFE", 5.0)])
        assert store.build_indexes() == ["text"]  # too few vectors for a vector index
        hits = store.text_search("boarding")
        assert [(o.text, o.start) for o, _ in hits] == [("GATE 7 BOARDING", 1.0)]
        assert hits[0][1] > 0
        pending = store.begin("v1", "speech", "1", batch_rows=1)  # written at once
        pending.add(Observation(video_id="v1", start=9.0, end=10.0, kind="speech",
                                text="now boarding at gate seven", source="test"))
        assert [o.kind for o, _ in store.text_search("boarding")] == ["text"]
        pending.commit()
        assert sorted(o.kind for o, _ in store.text_search("boarding")) == ["speech", "text"]
        assert store.text_search("boarding", kinds=["speech"])[0][0].start == 9.0


def test_vector_index_once_there_are_enough_vectors(tmp_path):
    """With a low threshold the IVF_PQ index is really built, on a table where some rows
    (shots) have no vector."""
    import numpy as np

    from vidseek.types import Observation

    rng = np.random.default_rng(0)
    with Store(tmp_path / "lib", vector_dim=16) as store:
        with store.begin("v1", "text", "1") as run:
            for i in range(300):
                run.add(Observation(video_id="v1", start=i, end=i + 1, kind="text",
                                    text=f"line {i}", vector=rng.random(16).tolist(),
                                    source="test"))
            run.add(Observation(video_id="v1", start=0, end=300, kind="shot", source="test"))
        assert store.build_indexes(vector_index_rows=200) == ["text", "vector"]
        assert store.build_indexes() == ["text"]  # the default threshold is far higher
        assert store.indexes() == {"text": "FTS", "vector": "IvfPq"}


# ---- vector spaces ---------------------------------------------------------------------------


def test_vector_spaces_belong_to_runs(tmp_path):
    """Image vectors live in their own space table: searched by cosine, replaced with their
    run, invisible before commit, gone with the video, and listed after reopening."""
    unit = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.6, 0.8, 0.0]]
    lib = tmp_path / "lib"
    with Store(lib, vector_dim=DIM) as store:
        run = store.begin("v1", "image", "1")
        run.add([obs("v1", float(i), "image", vectors={"emb": v}) for i, v in enumerate(unit)])
        run.add(obs("v1", 9.0, "shot"))  # no vector of that space: no row there
        run._flush()
        assert store.nearest([1.0, 0.0, 0.0], space="emb") == []  # not committed yet
        run.commit()
        hits = store.nearest([1.0, 0.0, 0.0], space="emb")
        assert [o.start for o, _ in hits] == [0.0, 2.0, 1.0]
        assert [round(s, 3) for _, s in hits] == [1.0, 0.6, 0.0]
        assert hits[0][0].vectors == {"emb": [1.0, 0.0, 0.0]}
        assert store.nearest([1.0, 0.0, 0.0], space="unknown") == []
        wrong_width = "2-float 'emb' vector, but that space holds 3"
        with pytest.raises(StoreError, match=wrong_width), store.begin("v1", "x", "1") as bad:
            bad.add(obs("v1", 0.0, "image", vectors={"emb": [1.0, 0.0]}))
            bad.commit()
        # a new version replaces the space rows of the old one
        with store.begin("v1", "image", "2") as run:
            run.add(obs("v1", 5.0, "image", vectors={"emb": [0.0, 0.0, 1.0]}))
    with Store(lib) as store:
        assert store.spaces() == {"emb": 3}
        assert [o.start for o in store.space_observations("emb")] == [5.0]
        assert store.remove_video("v1")
        assert store.space_observations("emb") == []


def test_text_vectors_nearest(store):
    with store.begin("v1", "speech", "1") as run:
        run.add([obs("v1", 0.0, vector=[1.0] + [0.0] * (DIM - 1)),
                 obs("v1", 1.0, vector=[0.0, 1.0] + [0.0] * (DIM - 2))])
    (best, score), _ = store.nearest([0.0, 1.0] + [0.0] * (DIM - 2))
    assert best.start == 1.0 and score == pytest.approx(1.0)
