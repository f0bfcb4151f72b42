"""The media layer on real clips from ../shared/data/real (skipped where ../shared is absent)."""

from __future__ import annotations

import bisect

import av
import numpy as np
import pytest

from vidseek.media import VideoReader, detect_shots, probe, read_audio

pytestmark = pytest.mark.shared


def _decode_all(path):
    """Reference: every frame, decoded in order, with its timeline time."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        origin = (container.start_time or 0) / 1_000_000
        frames = [
            (float(f.pts * stream.time_base) - origin, f.to_ndarray(format="rgb24"))
            for f in container.decode(stream)
        ]
    frames.sort(key=lambda item: item[0])
    return frames


@pytest.mark.parametrize(
    "name",
    [
        "pyscenedetect_goldeneye-vfr-drop3.mp4",  # variable frame rate
        "nextqa_6037747123.mp4",  # 29.97 fps, B-frames, 1 s GOP
        "askanything_making_cake.mp4",
    ],
)
def test_sampled_frames_equal_decode_all(real_videos, name):
    """Seeking, skipping non-reference frames and decoding on must give exactly the frame a
    full decode shows at each time: same time, same pixels."""
    path = real_videos / name
    reference = _decode_all(path)
    times = [t for t, _ in reference]
    rng = np.random.default_rng(7)
    with VideoReader(path) as reader:
        for count in (3, 25, 120):
            wanted = np.sort(rng.uniform(0, reader.duration, count))
            for frame in reader.at(wanted):
                i = max(0, bisect.bisect_right(times, frame.requested + 1e-9) - 1)
                assert frame.time == pytest.approx(times[i], abs=1e-6)
                assert np.array_equal(frame.image, reference[i][1])
        # Sparse requests do not decode every frame.
        assert reader.stats.frames_decoded < 3 * len(reference)


def test_vfr_clip_is_reported_variable(real_videos):
    info = probe(real_videos / "pyscenedetect_goldeneye-vfr-drop3.mp4")
    assert info.video.variable_frame_rate
    assert info.video.fps == pytest.approx(16.05, abs=0.01)
    assert not probe(real_videos / "charades_Y1HGC.mp4").video.variable_frame_rate


def test_goldeneye_cuts(real_videos):
    """PySceneDetect's own test expects cuts at 3.754 s and 8.759 s in this VFR clip."""
    shots = detect_shots(real_videos / "pyscenedetect_goldeneye-vfr-drop3.mp4")
    cuts = [s.start for s in shots[1:]]
    assert len(cuts) == 2
    assert cuts == pytest.approx([3.754, 8.759], abs=0.1)


@pytest.mark.parametrize("name", ["charades_Y1HGC.mp4", "mmaction2_test_video_structuralize.mp4",
                                  "askanything_yoga.mp4", "videollama_dog_barking.mp4"])
def test_single_shot_clips(real_videos, name):
    path = real_videos / name
    shots = detect_shots(path)
    assert len(shots) == 1
    assert shots[0].start == 0.0
    assert shots[0].end == pytest.approx(probe(path).duration)


def test_clip_with_many_cuts(real_videos):
    """A 3 fps TV clip whose cuts the shared probe estimated from frame differences."""
    shots = detect_shots(real_videos / "tvqa_house_sevila_demo3.mp4")
    starts = [s.start for s in shots[1:]]
    for expected in (4.0, 5.333, 11.333, 14.667, 30.0, 45.0):
        assert min(abs(s - expected) for s in starts) <= 0.34  # one frame at 3 fps


def test_pixel_aspect_ratio_is_applied(real_videos):
    """704x576 stored with 16:11 pixels is shown 1024 wide."""
    path = real_videos / "pyscenedetect_issue-195-aspect-ratio.mp4"
    assert probe(path).video.display_width == 1024
    with VideoReader(path) as reader:
        frame = next(reader.at([1.0]))
    assert frame.image.shape == (576, 1024, 3)


def test_audio_of_real_clip(real_videos):
    path = real_videos / "charades_Y1HGC.mp4"
    chunks = list(read_audio(path, chunk_seconds=10))
    assert [c.start for c in chunks] == [0.0, 10.0, 20.0, 30.0]
    assert all(c.samples.dtype == np.float32 and c.sample_rate == 16000 for c in chunks)
    total = sum(len(c.samples) for c in chunks) / 16000
    assert total == pytest.approx(probe(path).duration, abs=0.1)
