"""Scale-out indexing on a real local Ray cluster (2 CPUs on 127.0.0.1): the same results as
local indexing, chunked long videos stitched at their borders, retried failures, corrupt
files, and a stopped driver that resumes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from vidseek.indexing import FAULTS_ENV, RayExecutor, connect
from vidseek.library import Library
from vidseek.synth import Script, ShotSpec, SpeechSpec, TextSpec, build, random_script

pytestmark = pytest.mark.slow

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                  reason="espeak-ng is not installed (apt-get install espeak-ng)")
ANALYZERS = ["shots", "speech", "text"]  # the chunked ones; faces would only add minutes


@pytest.fixture(scope="module")
def faults(tmp_path_factory) -> Path:
    """The folder where a test drops a file to make one task fail once."""
    return tmp_path_factory.mktemp("faults")


@pytest.fixture(scope="module")
def cluster(faults):
    import ray

    if ray.is_initialized():  # another module's cluster: ours needs the faults folder
        ray.shutdown()
    connect(None, num_cpus=2, _node_ip_address="127.0.0.1",
            runtime_env={"env_vars": {FAULTS_ENV: str(faults), "HF_HUB_OFFLINE": "1"}})
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("clips")
    paths = []
    for seed in (21, 22):
        path = folder / f"clip{seed}.mp4"
        build(random_script(16, seed=seed, width=640, height=360, fps=10.0), path)
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def border_video(tmp_path_factory) -> Path:
    """70 s whose middle (35 s, the chunk border below) has a cut 0.4 s after it, a text on
    screen from 32 to 39 s and a sentence spoken from 33.5 s; speech on either side too."""
    script = Script(
        width=640, height=360, fps=10.0, seed=5,
        shots=[ShotSpec(duration=8.0), ShotSpec(duration=27.4), ShotSpec(duration=12.0),
               ShotSpec(duration=22.6)],
        texts=[TextSpec(text="FIRST SIGN HERE", start=3.0, end=7.0),
               TextSpec(text="SCALE OUT ON RAY", start=32.0, end=39.0, position="top"),
               TextSpec(text="LAST WORDS SHOWN", start=55.0, end=60.0)],
        speech=[SpeechSpec(text="The first sentence is spoken here.", start=2.0),
                SpeechSpec(text="This sentence crosses the chunk border.", start=33.5),
                SpeechSpec(text="And the last one closes the video.", start=62.0)],
    )
    path = tmp_path_factory.mktemp("border") / "border.mp4"
    build(script, path)
    return path


FRAME = 0.1  # the clips run at 10 fps


def _key(obs) -> tuple:
    return (obs.kind, obs.text, round(obs.start, 1))


def _assert_same(found, expected) -> None:
    """What must be equal between two indexings of one video: the kinds and texts, each
    observation's times within a frame, the boxes and word lists. Not the decoder's float
    diagnostics (whisper's log-probabilities move in the 2nd decimal with the thread count
    and load), nor vectors bit for bit."""
    ours, theirs = sorted(found, key=_key), sorted(expected, key=_key)
    assert [(o.kind, o.text) for o in ours] == [(o.kind, o.text) for o in theirs]
    for a, b in zip(ours, theirs):
        assert abs(a.start - b.start) <= FRAME and abs(a.end - b.end) <= FRAME, (a, b)
        assert a.source == b.source
        assert a.data.get("box") == b.data.get("box")
        assert [w[2] for w in a.data.get("words", [])] == [w[2] for w in b.data.get("words", [])]
        if b.vector is not None:
            assert np.allclose(a.vector, b.vector, atol=1e-3)


def _local(paths, folder: Path):
    with Library(folder, analyzers=ANALYZERS) as library:
        report = library.index(paths)
        return report, {r.video_id: library.observations(r.video_id) for r in report.results}


@pytest.fixture(scope="module")
def local_clips(clips, tmp_path_factory):
    return _local(clips, tmp_path_factory.mktemp("local"))


@needs_espeak
def test_ray_indexing_equals_local_indexing(cluster, clips, local_clips, tmp_path):
    local_report, local = local_clips
    with Library(tmp_path / "lib", analyzers=ANALYZERS) as library:
        report = library.index(clips, executor="ray")
        assert [r.status for r in report.results] == ["indexed", "indexed"], report
        for before, after in zip(local_report.results, report.results):
            assert after.video_id == before.video_id
            assert after.analyzers == before.analyzers
            remote = library.observations(after.video_id)
            _assert_same(remote, local[after.video_id])
            assert {o.kind for o in remote} == {"shot", "speech", "text"}
        assert len(library.store.thumbnails(report.results[0].video_id)) == sum(
            o.kind == "shot" for o in local[report.results[0].video_id])
        # Indexing again on Ray is a no-op, as locally.
        again = library.index(clips, executor="ray")
        assert [r.status for r in again.results] == ["unchanged", "unchanged"]


@needs_espeak
def test_chunked_video_matches_one_pass_at_the_border(cluster, border_video, tmp_path):
    _, local = _local([border_video], tmp_path / "local")
    [expected] = local.values()
    with Library(tmp_path / "lib", analyzers=ANALYZERS) as library:
        report = library.index([border_video],
                               executor=RayExecutor(library.models, chunk_seconds=35.0))
        [result] = report.results
        assert result.status == "indexed", result.errors
        found = library.observations(result.video_id)

    for kind in ("shot", "speech", "text"):
        ours = sorted((o for o in found if o.kind == kind), key=lambda o: o.start)
        theirs = sorted((o for o in expected if o.kind == kind), key=lambda o: o.start)
        assert len(ours) == len(theirs), (kind, ours, theirs)
        for a, b in zip(ours, theirs):
            assert abs(a.start - b.start) <= 0.2 and abs(a.end - b.end) <= 0.2, (kind, a, b)
            assert a.text == b.text
    # The border really was crossed: a shot starts, a line shows and a sentence is heard
    # within a few seconds of 35 s; and the second chunk heard the last sentence.
    assert any(o.kind == "shot" and 35 < o.start < 36 for o in found)
    assert any(o.kind == "text" and o.start < 35 < o.end and "RAY" in o.text for o in found)
    assert any(o.kind == "speech" and 33 < o.start < 35 and "border" in o.text.lower()
               for o in found)
    assert any(o.kind == "speech" and o.start > 60 for o in found)


@needs_espeak
def test_a_failed_task_is_retried(cluster, faults, clips, local_clips, tmp_path):
    _, local = local_clips
    for kind in ("audio", "frames", "shots"):
        (faults / kind).write_text("")
    with Library(tmp_path / "lib", analyzers=ANALYZERS) as library:
        report = library.index(clips[:1], executor=RayExecutor(library.models, max_retries=1))
        [result] = report.results
        assert result.status == "indexed", result.errors
        _assert_same(library.observations(result.video_id), local[result.video_id])
    for kind in ("audio", "frames", "shots"):
        assert not (faults / kind).exists()  # each fault was taken: that task failed once
        assert "clip21.mp4" in (faults / f"{kind}.failed").read_text()


def test_a_task_failing_every_time_is_reported_and_others_finish(cluster, faults, tmp_path):
    path = tmp_path / "quiet.mp4"
    build(random_script(8, seed=4, width=320, height=180, fps=10.0, audio=False), path)
    (faults / "shots").write_text("")
    with Library(tmp_path / "lib", analyzers=["shots", "text"]) as library:
        [result] = library.index([path],
                                 executor=RayExecutor(library.models, max_retries=0)).results
        assert result.status == "failed"
        assert "InjectedFault" in result.errors["shots"] and "retries" in result.errors["shots"]
        assert result.analyzers == {"text": result.analyzers["text"]}  # text still committed
        assert {r.analyzer for r in library.store.runs(result.video_id)} == {"text"}


def test_a_corrupt_file_does_not_stop_the_batch(cluster, tmp_path):
    good = []
    for seed in (1, 2):
        path = tmp_path / f"good{seed}.mp4"
        build(random_script(8, seed=seed, width=320, height=180, fps=10.0, audio=False), path)
        good.append(path)
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(good[0].read_bytes()[:5000])
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(np.random.default_rng(0).bytes(20000))
    with Library(tmp_path / "lib", analyzers=["shots", "text"]) as library:
        report = library.index([good[0], truncated, garbage, good[1]], executor="ray")
        statuses = [r.status for r in report.results]
        assert statuses == ["indexed", "failed", "failed", "indexed"], report
        for bad in report.results[1:3]:
            assert bad.errors and all(why for why in bad.errors.values())
        assert len(library.videos()) == 2


@needs_espeak
def test_a_stopped_driver_resumes_without_redoing_finished_work(cluster, clips, tmp_path):
    class Stop(Exception):
        pass

    def stop_after_first_video(path: Path, fraction: float) -> None:
        if fraction >= 1.0:
            raise Stop

    with Library(tmp_path / "lib", analyzers=ANALYZERS) as library, pytest.raises(Stop):
        library.index(clips, executor="ray", progress=stop_after_first_video)
    with Library(tmp_path / "lib", analyzers=ANALYZERS) as library:
        before = {(r.video_id, r.analyzer): r.run_id for r in library.store.runs()}
        assert len(before) >= 3  # at least one whole video committed before the stop
        report = library.index(clips, executor="ray")
        after = {(r.video_id, r.analyzer): r.run_id for r in library.store.runs()}
    assert all(after[key] == run_id for key, run_id in before.items())  # nothing redone
    assert len(after) == 6
    redone = {(r.video_id, name) for r in report.results for name in r.analyzers}
    assert not redone & set(before)
    assert redone == set(after) - set(before)


def test_cli_index_with_ray(cluster, tmp_path):
    from typer.testing import CliRunner

    from vidseek.cli import app

    path = tmp_path / "small.mp4"
    build(random_script(8, seed=6, width=320, height=180, fps=10.0, audio=False), path)
    library = tmp_path / "lib"
    result = CliRunner().invoke(app, ["index", "--library", str(library), "--analyzers",
                                      "shots,text", "--json", "--ray", str(path)])
    assert result.exit_code == 0, result.output
    [indexed] = json.loads(result.stdout[result.stdout.index("["):])
    assert indexed["status"] == "indexed" and indexed["analyzers"]["shots"] >= 1
    # An address among the paths is the cluster (here the test's, already joined).
    again = CliRunner().invoke(app, ["index", "--ray", "auto", str(path), "--library",
                                     str(library), "--analyzers", "shots,text", "--json"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout[again.stdout.index("["):])[0]["status"] == "unchanged"
