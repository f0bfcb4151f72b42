"""Shot boundaries on synthetic videos whose cuts, fades and dissolves are known exactly."""

from __future__ import annotations

import pytest

from vidseek.eval.metrics import boundary_f1
from vidseek.media import ShotDetector, VideoReader, boundaries_in, detect_shots, probe
from vidseek.synth import Script, ShotSpec, build, random_script


@pytest.mark.parametrize(
    ("seconds", "seed", "size", "fps"),
    [(180, 1, (320, 180), 15.0), (120, 2, (640, 360), 30.0), (150, 3, (320, 180), 24.0)],
)
def test_f1_on_random_scripts(tmp_path, seconds, seed, size, fps):
    script = random_script(seconds, seed=seed, width=size[0], height=size[1], fps=fps,
                           with_speech=False, audio=False)
    path = tmp_path / "video.mp4"
    truth = build(script, path)
    assert any(b.kind != "cut" for b in truth.boundaries), "script should have gradual ones"
    shots = detect_shots(path)
    score = boundary_f1([s.start for s in shots[1:]], [(b.start, b.end) for b in truth.boundaries],
                        tolerance=0.1)
    assert score.f1 >= 0.95, score
    assert shots[0].start == 0.0
    assert shots[-1].end == pytest.approx(truth.duration, abs=2 / fps)
    assert all(a.end == b.start for a, b in zip(shots, shots[1:]))


def test_parts_in_parallel_agree_with_one_pass(tmp_path):
    """Split across processes (with overlap at the seams), the shots are the same."""
    script = random_script(150, seed=6, width=320, height=180, fps=25.0, with_speech=False,
                           audio=False)
    path = tmp_path / "video.mp4"
    build(script, path)
    assert detect_shots(path, workers=2) == detect_shots(path, workers=1)


def test_boundaries_given_the_probe_result_open_the_file_once(tmp_path, monkeypatch):
    """Indexing has probed the video already; opening it again costs a long MP4 ~100 MB of
    FFmpeg's tables. The boundaries are those found without the probe result."""
    script = random_script(40, seed=5, width=320, height=180, fps=25.0, with_speech=False,
                           audio=False)
    path = tmp_path / "video.mp4"
    build(script, path)
    info = probe(path)
    alone = boundaries_in(path, 0.0, info.duration)
    assert alone

    import vidseek.media._open as media_open

    opened = []
    real_open = media_open.av.open
    monkeypatch.setattr(media_open.av, "open",
                        lambda *a, **k: opened.append(a) or real_open(*a, **k))
    assert boundaries_in(path, 0.0, info.duration, info=info) == alone
    assert len(opened) == 1


def test_cuts_are_frame_exact(tmp_path):
    """A cut lands on the first frame of the new shot, even where that frame was dropped
    from the fast pass (a non-reference frame)."""
    durations = [2.2, 3.1, 1.7, 4.0, 2.6]
    contents = ["photo", "color", "shapes", "gradient", "photo"]
    script = Script(width=320, height=180, fps=25.0, audio=False,
                    shots=[ShotSpec(duration=d, content=c) for d, c in zip(durations, contents)])
    path = tmp_path / "cuts.mp4"
    truth = build(script, path)
    cuts = [s.start for s in detect_shots(path)[1:]]
    assert cuts == pytest.approx([b.time for b in truth.boundaries], abs=1e-3)


def test_detector_on_an_existing_sampling_pass(tmp_path):
    """Indexing feeds the detector the frames it samples anyway (here 5 per second)."""
    script = random_script(60, seed=4, width=320, height=180, fps=25.0, with_speech=False,
                           audio=False)
    path = tmp_path / "video.mp4"
    truth = build(script, path)
    with VideoReader(path) as reader:
        shots = detect_shots(reader.every(0.2, size=(64, 36)), duration=reader.duration)
    cuts = [b for b in truth.boundaries if b.kind == "cut"]
    starts = [s.start for s in shots[1:]]
    for cut in cuts:  # each cut is found at the first sample after it
        assert any(0 <= s - cut.time < 0.2 + 1e-6 for s in starts), cut


def test_static_and_moving_single_shots_have_no_boundary(tmp_path):
    for motion in ("static", "pan", "zoom"):
        script = Script(width=320, height=180, fps=25.0, audio=False,
                        shots=[ShotSpec(duration=8.0, content="photo", motion=motion)])
        path = tmp_path / f"{motion}.mp4"
        build(script, path)
        assert len(detect_shots(path)) == 1, motion


def test_detector_ignores_out_of_order_frames():
    import numpy as np

    detector = ShotDetector()
    black, white = np.zeros((36, 64, 3), np.uint8), np.full((36, 64, 3), 255, np.uint8)
    for i in range(20):
        detector.add(i * 0.1, black)
    detector.add(1.0, white)  # same time as the last frame: ignored
    for i in range(20, 40):
        detector.add(i * 0.1, white)
    assert [round(b.time, 3) for b in detector.boundaries()] == [2.0]


@pytest.mark.parametrize("shape", [(36, 64), (37, 65), (5, 7), (360, 640)])
def test_features_equal_plain_numpy(shape):
    """The detector's features (computed with few numpy calls, for speed) are exactly the
    colour histogram and block means written the plain way."""
    import numpy as np

    from vidseek.media.shots import _features

    h, w = shape
    image = np.random.default_rng(h * w).integers(0, 256, (h, w, 3), dtype=np.uint8)
    hist, grey = _features(image)
    top = image.astype(np.intp) >> 6
    codes = top[..., 0] * 16 + top[..., 1] * 4 + top[..., 2]
    expected = np.bincount(codes.ravel(), minlength=64).astype(np.float32)
    assert np.array_equal(hist, expected / np.float32(h * w))
    bh, bw = max(1, h // 9), max(1, w // 16)
    crop = image[: bh * (h // bh), : bw * (w // bw)].astype(np.float32).sum(axis=2)
    means = crop.reshape(h // bh, bh, w // bw, bw).mean(axis=(1, 3)) / 3
    assert grey.dtype == np.float32
    assert np.array_equal(grey, means)
