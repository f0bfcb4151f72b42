"""Indexing end to end: a synthetic video with known speech and text overlays, re-indexing,
version bumps, a bad file in a batch, and a run killed with SIGKILL."""

from __future__ import annotations

import math
import shutil
import signal
import subprocess
import sys
import time
from difflib import SequenceMatcher

import pytest

from vidseek.analyzers.shots import ShotsAnalyzer
from vidseek.library import Library
from vidseek.synth import build, random_script

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                  reason="espeak-ng is not installed (apt-get install espeak-ng)")


def _similar(a: str, b: str) -> float:
    norm = lambda s: " ".join("".join(c for c in s.lower() if c.isalnum() or c == " ").split())  # noqa: E731
    return SequenceMatcher(None, norm(a), norm(b)).ratio()


def _iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union > 0 else 0.0


def _content(observations):
    return sorted((o.kind, round(o.start, 3), round(o.end, 3), o.text) for o in observations)


@pytest.fixture(scope="module")
def lecture(tmp_path_factory):
    folder = tmp_path_factory.mktemp("index")
    path = folder / "lecture.mp4"
    truth = build(random_script(150, seed=11, width=640, height=360, fps=10.0), path)
    return path, truth


@pytest.fixture(scope="module")
def indexed(lecture, tmp_path_factory):
    path, truth = lecture
    library = Library(tmp_path_factory.mktemp("library"))
    report = library.index([path])
    return library, report


@needs_espeak
def test_speech_and_text_are_found(lecture, indexed):
    path, truth = lecture
    library, report = indexed
    [result] = report.results
    assert result.status == "indexed", result.errors
    found = library.observations(result.video_id)
    speech = [o for o in found if o.kind == "speech"]
    texts = [o for o in found if o.kind == "text"]

    heard = [s for s in truth.speech
             if any(abs(o.start - s.start) <= 1.0 and _similar(o.text, s.text) >= 0.6
                    for o in speech)]
    assert len(truth.speech) >= 4
    assert len(heard) >= math.ceil(0.9 * len(truth.speech)), (truth.speech, speech)

    read = [t for t in truth.texts
            if any(_iou((o.start, o.end), (t.start, t.end)) >= 0.5
                   and _similar(o.text, t.text) >= 0.8 for o in texts)]
    assert len(truth.texts) >= 5
    assert len(read) >= math.ceil(0.9 * len(truth.texts)), (truth.texts, texts)

    # The full-text index finds what was read on screen.
    first = truth.texts[0]
    hits = library.store.text_search(first.text.split()[-1], video_id=result.video_id)
    assert any(_similar(o.text, first.text) >= 0.8 for o, _ in hits)

    shots = [o for o in found if o.kind == "shot"]
    assert len(shots) == len(truth.shots)
    assert all(o.vector is not None and len(o.vector) == 384 for o in speech + texts)


def test_reindexing_unchanged_video_is_a_no_op(lecture, indexed):
    path, _ = lecture
    library, first = indexed
    runs = library.store.runs(first.results[0].video_id)
    again = library.index([path])
    assert [r.status for r in again.results] == ["unchanged"]
    assert library.store.runs(first.results[0].video_id) == runs


def test_version_bump_recomputes_only_that_analyzer(lecture, indexed, monkeypatch):
    path, _ = lecture
    library, first = indexed
    vid = first.results[0].video_id
    before = {r.analyzer: r.run_id for r in library.store.runs(vid)}
    shots_before = _content(library.observations(vid, kinds=["shot"]))
    monkeypatch.setattr(ShotsAnalyzer, "version", "2")
    result = library.index([path]).results[0]
    assert result.status == "indexed" and list(result.analyzers) == ["shots"]
    after = {r.analyzer: r for r in library.store.runs(vid)}
    assert after["shots"].run_id != before["shots"] and after["shots"].version == "2"
    assert all(after[a].run_id == before[a] for a in before if a != "shots")
    assert _content(library.observations(vid, kinds=["shot"])) == shots_before


def test_a_bad_file_does_not_stop_the_batch(tmp_path):
    good = []
    for seed in (1, 2):
        path = tmp_path / f"good{seed}.mp4"
        build(random_script(12, seed=seed, width=320, height=180, fps=10.0, audio=False), path)
        good.append(path)
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(good[0].read_bytes()[:5000])
    with Library(tmp_path / "library") as library:
        report = library.index([good[0], bad, good[1]])
        assert [r.status for r in report.results] == ["indexed", "failed", "indexed"]
        assert "broken.mp4" in report.results[1].errors["file"]
        assert len(library.videos()) == 2
        for result in (report.results[0], report.results[2]):
            shots = library.observations(result.video_id, kinds=["shot"])
            assert shots
            # one JPEG thumbnail per shot, from inside it
            pictures = library.store.thumbnails(result.video_id)
            assert len(pictures) == len(shots)
            for shot, picture in zip(shots, pictures):
                assert shot.start <= picture.time < shot.end
                assert picture.data[:2] == b"\xff\xd8" and picture.width == 320
        library.remove(report.results[0].video_id)
        assert library.store.thumbnails(report.results[0].video_id) == []


@needs_espeak
def test_killed_index_resumes_to_the_same_content(lecture, indexed, tmp_path):
    path, _ = lecture
    reference, first = indexed
    vid = first.results[0].video_id
    expected = _content(reference.observations(vid))
    target = tmp_path / "library"
    writer = subprocess.Popen([sys.executable, "-m", "vidseek", "index", str(path),
                               "--library", str(target)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # Kill once something has been committed but not everything (shots finish first).
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and writer.poll() is None:
            if (target / "runs.lance").exists():
                with Library(target) as peek:
                    if peek.store.runs(vid):
                        break
            time.sleep(0.2)
        assert writer.poll() is None, "indexing finished before it could be killed"
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    with Library(target) as library:
        done = {r.analyzer for r in library.store.runs(vid)}
        assert done and done != set(library.analyzers)
        # Only committed analyzers are visible, never part of one.
        visible = {o.kind for o in library.observations(vid)}
        kinds = {"shots": {"shot"}, "speech": {"speech"}, "text": {"text"},
                 "faces": {"face", "person"}, "sounds": {"sound"}}
        assert visible <= set().union(*(kinds[a] for a in done))
        result = library.index([path]).results[0]
        assert result.status == "indexed"
        assert set(result.analyzers) == set(library.analyzers) - done
        assert _content(library.observations(vid)) == expected


def test_a_name_too_long_for_the_file_system_is_an_unknown_video(tmp_path):
    from vidseek.errors import UnknownVideoError

    with Library(tmp_path / "lib") as library, pytest.raises(UnknownVideoError):
        library.video("x" * 300 + ".mp4")
