"""Speech around a damaged stretch of audio: the rest is transcribed on its own times and the
stretch is reported (a run of 32 or more undecodable packets used to fail the whole
transcript)."""

from __future__ import annotations

import difflib
import shutil

import pytest
from bad_media import damage_audio

from vidseek.analyzers.speech import SpeechAnalyzer
from vidseek.media import probe, read_audio
from vidseek.synth import Script, ShotSpec, SpeechSpec, build
from vidseek.synth.randomize import SENTENCES

STARTS = (0.5, 6.0, 12.0)
BROKEN = (6.3, 7.5)  # inside the second sentence: about 56 AAC packets


@pytest.fixture(scope="module")
def spoken(tmp_path_factory):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    folder = tmp_path_factory.mktemp("damaged_speech")
    shots = [ShotSpec(duration=6.0, content="color", color=c, motion="static")
             for c in ("#203040", "#406080", "#806040")]
    speech = [SpeechSpec(text=SENTENCES[i], start=s) for i, s in enumerate(STARTS)]
    truth = build(Script(width=96, height=64, fps=5, shots=shots, speech=speech),
                  folder / "clean.mp4")
    damaged = folder / "damaged.mp4"
    assert damage_audio(folder / "clean.mp4", damaged, *BROKEN) >= 32
    return damaged, truth


@pytest.fixture(scope="module")
def analyzer():
    return SpeechAnalyzer()


def _similar(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a.lower(), b.lower()).ratio()


def test_the_rest_is_transcribed_and_the_gap_reported(spoken, analyzer):
    path, truth = spoken
    transcript = analyzer.analyze("video", read_audio(path), probe(path).duration)
    found = list(transcript)
    for said in (truth.speech[0], truth.speech[2]):  # the sentences the damage spared
        heard = [o for o in found if _similar(o.text, said.text) >= 0.6]
        assert heard, (said, found)
        assert heard[0].start == pytest.approx(said.start, abs=0.6)
        assert heard[0].end == pytest.approx(said.end, abs=0.6)
    [(start, end)] = transcript.gaps
    assert start == pytest.approx(BROKEN[0], abs=0.05)
    assert end == pytest.approx(BROKEN[1], abs=0.05)
    assert transcript.warnings == [
        f"audio from {start:.2f} to {end:.2f} s cannot be decoded: not transcribed"]


def test_each_gap_is_reported_by_the_range_it_starts_in(spoken, analyzer):
    """Scale-out transcribes ranges separately: the gap is reported once."""
    path, _ = spoken
    duration = probe(path).duration
    ranges = [(0.0, 5.0), (5.0, 10.0), (10.0, float("inf"))]
    reported = []
    for since, until in ranges:
        transcript = analyzer.analyze("video", read_audio(path, chunk_seconds=7.0), duration,
                                      since=since, until=until)
        list(transcript)
        reported.append(transcript.gaps)
    assert [len(gaps) for gaps in reported] == [0, 1, 0]
    # cut by the chunk border at 7 s, it is still one stretch
    assert reported[1][0][1] == pytest.approx(BROKEN[1], abs=0.05)
