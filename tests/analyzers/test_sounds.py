"""Sound events: YAMNet tags on generated audio and on real clips whose sounds are known,
hysteresis that makes one event one observation, and the analyzer in the library."""

from __future__ import annotations

import shutil
import subprocess
import wave

import numpy as np
import pytest

from vidseek.analyzers.sounds import SoundAnalyzer
from vidseek.errors import ModelError
from vidseek.media import AudioChunk, probe, read_audio
from vidseek.models import resolve
from vidseek.models.registry import discovered
from vidseek.models.sounds import SoundModelError, YamnetTagger, log_mel

RATE = 16_000


@pytest.fixture(scope="module")
def tagger():
    spec = discovered().sounds
    if spec is None:
        pytest.skip("the sound tagger is not installed (vidseek models install sounds)")
    return resolve("sounds", spec)


def _chunks(samples: np.ndarray, size: int = 8000) -> list[AudioChunk]:
    return [AudioChunk(i / RATE, samples[i:i + size]) for i in range(0, samples.size, size)]


def _seconds(n: float) -> np.ndarray:
    return np.arange(round(n * RATE)) / RATE


def _top(tagger, samples: np.ndarray, n: int = 3) -> list[str]:
    mean = tagger.tag(samples).mean(axis=0)
    return [tagger.classes[i].name for i in np.argsort(-mean)[:n]]


def test_log_mel_has_yamnet_frames():
    frames = log_mel(np.zeros(RATE, np.float32))
    assert frames.shape == (98, 64)  # 1 s: (16000 - 400) / 160 + 1 frames of 10 ms
    assert np.allclose(frames, np.log(0.001))  # silence is the log offset
    tone = log_mel(0.5 * np.sin(2 * np.pi * 1000 * _seconds(1)).astype(np.float32))
    assert tone.mean(axis=0).argmax() not in (0, 63)  # a 1 kHz tone lands mid-band


def test_generated_sounds_get_their_classes(tagger, tmp_path):
    noise = np.random.default_rng(0).normal(0, 0.3, 3 * RATE)
    assert "White noise" in _top(tagger, noise)
    assert _top(tagger, np.zeros(3 * RATE))[0] == "Silence"
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    wav = subprocess.run(["espeak-ng", "--stdout", "Good morning, this sentence is spoken "
                          "by a synthetic voice for the sound tagger."],
                         capture_output=True, check=True).stdout
    path = tmp_path / "speech.wav"
    path.write_bytes(wav)
    with wave.open(str(path)) as w:
        rate = w.getframerate()
        speech = np.frombuffer(w.readframes(w.getnframes()), np.int16) / 32768.0
    from scipy.signal import resample_poly

    assert _top(tagger, resample_poly(speech, RATE, rate))[0] == "Speech"


def test_one_event_is_one_observation(tagger):
    """A 6 s noise burst, 4 s of silence, another burst: two observations of the label, with
    times within a patch (0.96 s) of the truth, not one per patch."""
    rng = np.random.default_rng(1)
    audio = np.concatenate([rng.normal(0, 0.3, 6 * RATE), np.zeros(4 * RATE),
                            rng.normal(0, 0.3, 6 * RATE)]).astype(np.float32)
    found = list(SoundAnalyzer(tagger).analyze("v", _chunks(audio), 16.0))
    noise = sorted((o for o in found if o.text == "White noise"), key=lambda o: o.start)
    assert len(noise) == 2, found
    for obs, (start, end) in zip(noise, [(0.0, 6.0), (10.0, 16.0)]):
        assert abs(obs.start - start) <= 0.96 and abs(obs.end - end) <= 0.96 + 1e-9, obs
        assert obs.kind == "sound" and obs.data["label"] == "White noise"
        assert 0.5 <= obs.data["confidence"] <= 1.0
    assert all(o.end <= 16.0 for o in found)
    assert not [o for o in found if o.text == "Silence"]  # silence is no event


@pytest.mark.shared
@pytest.mark.parametrize("clip, label", [
    ("videollama_applausing.mp4", "Applause"),
    ("musicavqa_00003491.mp4", "Ukulele"),
    ("videollava_sample_demo_22.mp4", "Drum"),
    ("videollama_boat.mp4", "Wind"),
])
def test_real_clips_sound_as_they_do(tagger, real_videos, clip, label):
    path = real_videos / clip
    found = SoundAnalyzer(tagger).analyze("v", read_audio(path), probe(path).duration)
    assert label in {o.text for o in found}


@pytest.mark.shared
def test_silent_clips_have_no_events(tagger, real_videos):
    for clip in ("imageio_cockatoo.mp4", "videollava_sample_demo_9.mp4"):
        path = real_videos / clip
        assert list(SoundAnalyzer(tagger).analyze("v", read_audio(path),
                                                  probe(path).duration)) == []


def test_a_wrong_model_file_is_refused(tmp_path):
    for name in ("model.onnx", "model.data", "yamnet_class_map.csv"):
        (tmp_path / name).write_bytes(b"not a model")
    with pytest.raises(SoundModelError, match="models install sounds"):
        YamnetTagger(tmp_path / "model.onnx")
    with pytest.raises(SoundModelError, match="models install sounds"):
        YamnetTagger(tmp_path / "missing" / "model.onnx")
    with pytest.raises(ModelError, match="yamnet:"):
        resolve("sounds", "whisper:tiny.en")
