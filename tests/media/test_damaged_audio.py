"""Audio with undecodable packets: read as silence of the same length, the rest on its exact
time, the stretch reported (it used to fail the whole audio after 32 bad packets, or at the
first packet the decoder rejected with another error than "invalid data")."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from bad_media import audio_packets, damage_audio, video

from vidseek import MediaError
from vidseek.media import SAMPLE_RATE, read_audio

SECONDS = 6.0
PACKET = 1024 / 48_000  # seconds of audio per AAC packet


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    path = video(tmp_path_factory.mktemp("audio") / "clean.mp4", seconds=SECONDS, audio=True)
    return path, _samples(path)[0]


def _samples(path, chunk_seconds: float = 1.0):
    chunks = list(read_audio(path, chunk_seconds=chunk_seconds))
    for a, b in zip(chunks, chunks[1:]):
        assert b.start == pytest.approx(a.end, abs=1e-9)
    return np.concatenate([c.samples for c in chunks]), chunks


def _lag(a: np.ndarray, b: np.ndarray, reach: int = 40) -> int:
    """The shift of `b` against `a` (samples) that matches them best."""
    core = a[reach:-reach]
    return min(range(-reach, reach + 1),
               key=lambda k: float(np.abs(core - b[reach + k : len(b) - reach + k]).mean()))


def _at(samples: np.ndarray, start: float, end: float) -> np.ndarray:
    return samples[round(start * SAMPLE_RATE) : round(end * SAMPLE_RATE)]


@pytest.mark.parametrize("fill", [b"\x00", b"\xff", b"\x5a\xc3"])
def test_damaged_stretch_is_silence_and_the_rest_keeps_its_time(clean, tmp_path, fill, caplog):
    path, good = clean
    damaged = tmp_path / "damaged.mp4"
    assert damage_audio(path, damaged, 2.0, 3.0, fill) >= 40  # more than the 32 once allowed
    with caplog.at_level(logging.WARNING, logger="vidseek.media.audio"):
        bad, chunks = _samples(damaged)
    assert len(bad) == len(good)
    gaps = [g for c in chunks for g in c.gaps]
    # one stretch, cut in two by the chunk border at 3 s when it reaches past it
    start, end = gaps[0][0], gaps[-1][1]
    assert start == pytest.approx(2.0, abs=2 * PACKET)
    assert end == pytest.approx(3.0, abs=2 * PACKET)
    assert all(a < b for a, b in gaps)
    assert not _at(bad, start, end).any()  # silence there
    before, after = _at(bad, 0.2, start - 0.1), _at(bad, end + 0.1, SECONDS - 0.2)
    np.testing.assert_array_equal(before, _at(good, 0.2, start - 0.1))
    # after the gap the audio decodes afresh (no overlap from the packet before): a sample's
    # worth of difference, no shift
    assert _lag(_at(good, end + 0.1, SECONDS - 0.2), after) == 0
    assert np.corrcoef(_at(good, end + 0.1, SECONDS - 0.2), after)[0, 1] > 0.95
    [record] = [r for r in caplog.records if "cannot be decoded" in r.getMessage()]
    assert str(damaged) in record.getMessage() and f"{start:.2f} to {end:.2f} s" in (
        record.getMessage())


def test_damage_at_the_start_and_at_the_end(clean, tmp_path):
    path, good = clean
    first = tmp_path / "first.mp4"
    damage_audio(path, first, 0.0, 0.8)
    second = tmp_path / "both.mp4"
    damage_audio(first, second, SECONDS - 0.8, SECONDS + 1)
    bad, chunks = _samples(second)
    assert chunks[0].start == 0.0
    assert len(bad) == pytest.approx(len(good), abs=2 * PACKET * SAMPLE_RATE)
    gaps = [g for c in chunks for g in c.gaps]
    assert gaps[0][0] == 0.0 and gaps[0][1] == pytest.approx(0.8, abs=2 * PACKET)
    assert gaps[-1][0] == pytest.approx(SECONDS - 0.8, abs=2 * PACKET)
    assert gaps[-1][1] == pytest.approx(SECONDS, abs=2 * PACKET)
    middle = _at(bad, 1.0, SECONDS - 1.0)
    assert _lag(_at(good, 1.0, SECONDS - 1.0), middle) == 0


def test_audio_of_which_nothing_decodes_is_an_error(clean, tmp_path):
    path, _ = clean
    damaged = tmp_path / "dead.mp4"
    assert damage_audio(path, damaged, -1.0, SECONDS + 1) == len(audio_packets(path))
    with pytest.raises(MediaError, match="none of its .* packets decode"):
        list(read_audio(damaged))


def test_clean_audio_has_no_gaps(clean):
    _, good = clean
    assert len(good) == pytest.approx(SECONDS * SAMPLE_RATE, abs=2 * PACKET * SAMPLE_RATE)
