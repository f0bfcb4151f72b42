"""Build short synthetic videos and check them against their ground truth by decoding."""

from __future__ import annotations

import math
from fractions import Fraction

import av
import numpy as np
import pytest

from vidseek.synth import (
    PictureSpec,
    Script,
    ShotSpec,
    SpeechSpec,
    TextSpec,
    build,
    load_truth,
    read_timecode,
    truth_path,
)

SENTENCE = "The quick brown fox jumps over the lazy dog."


def decode(path):
    """Every video frame as (timeline seconds, RGB array, rotation), plus the container."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        start = container.start_time / 1e6
        frames = [(float(f.pts * stream.time_base) - start, f.to_ndarray(format="rgb24"),
                   f.rotation) for f in container.decode(stream)]
    return frames


def assert_timecodes(frames):
    """Each frame shows its own timeline time (ms, halves rounded up)."""
    for t, image, _ in frames:
        shown = read_timecode(image)
        assert shown is not None, f"no timecode at {t}"
        assert abs(shown - t * 1000) <= 0.5 + 1e-3, (shown, t)


def four_shots(**options) -> Script:
    return Script(
        width=320, height=180, fps=30,
        shots=[
            ShotSpec(duration=2, content="photo", photo="astronaut", label="first"),
            ShotSpec(duration=2, content="shapes", color="#3366cc"),
            ShotSpec(duration=2, content="gradient", motion="zoom", transition="dissolve",
                     transition_duration=0.8),
            ShotSpec(duration=2, content="photo", photo="coffee", transition="fade",
                     transition_duration=1.0),
        ],
        texts=[TextSpec(text="GATE 7 BOARDING", start=1.0, end=3.0, position="bottom")],
        speech=[SpeechSpec(text=SENTENCE, start=2.5)],
        pictures=[PictureSpec(photo="rocket", start=6.5, end=7.5, position="left")],
        **options,
    )


@pytest.fixture(scope="module")
def short_video(tmp_path_factory):
    path = tmp_path_factory.mktemp("synth") / "short.mp4"
    seen: list[float] = []
    truth = build(four_shots(), path, progress=seen.append)
    return path, truth, decode(path), seen


def test_file_matches_script(short_video):
    path, truth, frames, _ = short_video
    with av.open(str(path)) as container:
        assert abs(container.duration / 1e6 - 8.0) <= 1 / 30
        assert len(container.streams.audio) == 1
    assert len(frames) == truth.frame_count == 240
    assert [t for t, _, _ in frames] == pytest.approx([k / 30 for k in range(240)], abs=1e-6)
    assert load_truth(truth_path(path)) == truth == load_truth(path)
    assert truth.video == "short.mp4" and truth.start_time == 0 and truth.frame_times is None


def test_every_frame_shows_its_time(short_video):
    assert_timecodes(short_video[2])


def test_timecode_survives_downscaling(short_video):
    _, _, frames, _ = short_video
    for t, image, _ in frames[::7]:
        frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        small = frame.reformat(width=160, height=90).to_ndarray(format="rgb24")
        assert read_timecode(small) == read_timecode(image), t


def test_shots_and_boundaries(short_video):
    _, truth, frames, _ = short_video
    assert [b.kind for b in truth.boundaries] == ["cut", "dissolve", "fade"]
    cut, dissolve, fade = truth.boundaries
    assert cut.time == cut.start == cut.end == pytest.approx(2.0)
    # gradual transitions: first/last frames strictly inside, centred on the nominal start
    assert dissolve.start == pytest.approx(3.6 + 1 / 30) and dissolve.end == pytest.approx(
        4.4 - 1 / 30)
    assert fade.start == pytest.approx(5.5 + 1 / 30) and fade.end == pytest.approx(6.5 - 1 / 30)
    for b, nominal in ((dissolve, 4.0), (fade, 6.0)):
        assert b.time == pytest.approx((b.start + b.end) / 2)
        assert abs(b.time - nominal) <= 1 / 60
    edges = [s.start for s in truth.shots] + [truth.shots[-1].end]
    assert edges == [0.0, cut.time, dissolve.time, fade.time, 8.0]
    assert truth.shots[0].label == "first" and truth.shots[0].photo == "astronaut"
    assert truth.shots[1].color == "#3366cc"
    # a cut is a real cut: the change across it dwarfs the change between frames of a shot
    images = {round(t * 30): image.astype(np.int16) for t, image, _ in frames}
    across = np.abs(images[60] - images[59]).mean()
    within = np.abs(images[59] - images[58]).mean()
    assert across > 5 * within and across > 20
    # the fade passes through black (the timecode strip aside)
    darkest = min(image[:150].mean() for t, image, _ in frames if fade.start <= t <= fade.end)
    assert darkest < 10


def test_text_and_picture_are_on_screen_only_in_their_interval(short_video):
    _, truth, frames, _ = short_video
    assert [(x.text, x.start, x.end) for x in truth.texts] == [("GATE 7 BOARDING", 1.0, 3.0)]
    assert [(x.photo, x.start, x.end) for x in truth.pictures] == [("rocket", 6.5, 7.5)]
    band = (slice(120, 150), slice(100, 220))  # where the bottom text box sits

    def has_text(image):
        region = image[band].astype(int).sum(axis=2)
        return (region < 60).mean() > 0.3 and (region > 700).mean() > 0.02

    for t, image, _ in frames:
        assert has_text(image) == (1.0 - 1e-6 <= t < 3.0 - 1e-6), t


def test_speech_truth_is_measured_and_aligned(short_video):
    path, truth, _, _ = short_video
    (speech,) = truth.speech
    assert speech.text == SENTENCE
    assert 2.5 <= speech.start <= 2.8 and speech.end > speech.start + 1.5
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        frames = list(container.decode(stream))
        first = float(frames[0].pts * stream.time_base) - container.start_time / 1e6
        rate = frames[0].sample_rate
        samples = np.concatenate([f.to_ndarray().reshape(-1) for f in frames])
    loud = np.flatnonzero(np.abs(samples) > 0.01)
    # the decoded track is voiced exactly where the truth says (AAC is lossy: a few ms)
    assert abs(first + loud[0] / rate - speech.start) < 0.005
    assert abs(first + (loud[-1] + 1) / rate - speech.end) < 0.02


def test_progress_reports_fractions(short_video):
    seen = short_video[3]
    assert seen == sorted(seen) and seen[0] == 0 and seen[-1] == 1.0


def test_variable_frame_rate(tmp_path):
    script = Script(width=192, height=108, fps=20, vfr=True, audio=False,
                    shots=[ShotSpec(duration=1.5), ShotSpec(duration=1.5, content="noise")])
    truth = build(script, tmp_path / "vfr.mp4")
    frames = decode(tmp_path / "vfr.mp4")
    times = [t for t, _, _ in frames]
    assert truth.vfr and truth.frame_times is not None
    assert times == pytest.approx(truth.frame_times, abs=1e-3)
    steps = {round(b - a, 6) for a, b in zip(times, times[1:], strict=False)}
    assert steps == {0.025, 0.05, 0.1}  # 1/(2 fps), 1/fps, 2/fps
    assert_timecodes(frames)


@pytest.mark.parametrize("suffix", [".mp4", ".mkv", ".ts"])
def test_late_start(tmp_path, suffix):
    script = Script(width=192, height=108, fps=25, start_time=5.0,
                    shots=[ShotSpec(duration=1.0), ShotSpec(duration=1.0, content="color")])
    path = tmp_path / f"late{suffix}"
    truth = build(script, path)
    with av.open(str(path)) as container:
        assert container.start_time / 1e6 == pytest.approx(5.0)
        for stream in container.streams:  # audio starts with the video, not before
            assert float(stream.start_time * stream.time_base) == pytest.approx(5.0)
    assert truth.start_time == pytest.approx(5.0)
    frames = decode(path)
    assert [t for t, _, _ in frames] == pytest.approx([k / 25 for k in range(50)], abs=1e-6)
    assert_timecodes(frames)


@pytest.mark.parametrize(("rotation", "reported"), [(90, -90), (270, 90), (180, -180)])
def test_rotation_metadata(tmp_path, rotation, reported):
    script = Script(width=192, height=108, rotation=rotation, audio=False,
                    shots=[ShotSpec(duration=0.5)])
    truth = build(script, tmp_path / "rot.mp4")
    frames = decode(tmp_path / "rot.mp4")
    assert truth.rotation == rotation
    # PyAV reads the display matrix counter-clockwise, normalised to (-180, 180]
    assert {r for _, _, r in frames} == {reported}
    assert frames[0][1].shape == (108, 192, 3)  # pixels are not rotated
    assert_timecodes(frames)


def test_ts_cannot_carry_rotation(tmp_path):
    script = Script(width=192, height=108, rotation=90, shots=[ShotSpec(duration=0.5)])
    with pytest.raises(ValueError, match="rotation"):
        build(script, tmp_path / "rot.ts")


def test_no_audio(tmp_path):
    truth = build(Script(width=192, height=108, audio=False, shots=[ShotSpec(duration=0.5)]),
                  tmp_path / "silent.mkv")
    with av.open(str(tmp_path / "silent.mkv")) as container:
        assert not container.streams.audio
    assert not truth.has_audio and truth.speech == []


def test_missing_espeak_warns_and_leaves_speech_out(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no espeak-ng anywhere
    script = Script(width=192, height=108, shots=[ShotSpec(duration=2.0)],
                    speech=[SpeechSpec(text="hello there", start=0.2)])
    with pytest.warns(RuntimeWarning, match="apt-get install espeak-ng"):
        truth = build(script, tmp_path / "mute.mp4")
    assert truth.speech == [] and truth.has_audio


def test_overlapping_speech_is_rejected(tmp_path):
    script = Script(width=192, height=108, shots=[ShotSpec(duration=6.0)],
                    speech=[SpeechSpec(text=SENTENCE, start=0.5),
                            SpeechSpec(text="Hello again.", start=1.5)])
    with pytest.raises(ValueError, match="overlaps"):
        build(script, tmp_path / "clash.mp4")
    assert not (tmp_path / "clash.mp4").exists()


def test_speech_past_the_end_is_rejected(tmp_path):
    script = Script(width=192, height=108, shots=[ShotSpec(duration=2.0)],
                    speech=[SpeechSpec(text=SENTENCE, start=1.0)])
    with pytest.raises(ValueError, match="after the video ends"):
        build(script, tmp_path / "long.mp4")


def test_gop_is_respected(tmp_path):
    script = Script(width=192, height=108, fps=10, gop_seconds=1.0, audio=False,
                    shots=[ShotSpec(duration=4.0, content="noise", motion="static")])
    build(script, tmp_path / "gop.mp4")
    with av.open(str(tmp_path / "gop.mp4")) as container:
        stream = container.streams.video[0]
        keys = [float(p.pts * stream.time_base) for p in container.demux(stream)
                if p.is_keyframe]
    gaps = np.diff(keys)
    assert keys[0] == 0 and len(keys) >= 4 and gaps.max() <= 1.0 + 1e-9


def test_ntsc_rate_in_ts_is_rounded_to_the_container_clock(tmp_path):
    fps = 30000 / 1001
    script = Script(width=192, height=108, fps=fps, audio=False, shots=[ShotSpec(duration=1.0)])
    truth = build(script, tmp_path / "ntsc.ts")
    frames = decode(tmp_path / "ntsc.ts")
    assert len(frames) == truth.frame_count == math.ceil(fps)
    expected = [float(Fraction(1001 * k, 30000)) for k in range(len(frames))]
    assert [t for t, _, _ in frames] == pytest.approx(expected, abs=1e-5)
    assert_timecodes(frames)
