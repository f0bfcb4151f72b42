"""Frame times are exact: every sampled frame shows (in its burned-in timecode) the time it
reports, within half a frame, on constant and variable frame rates, late-starting streams,
rotated and downscaled output."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from vidseek.media import VideoReader, probe, sample_frames
from vidseek.synth import Script, ShotSpec, build, read_timecode


def _video(folder, name, *, seconds=12.0, fps=25.0, **options):
    shots = [ShotSpec(duration=seconds / 3, content=c) for c in ("photo", "shapes", "gradient")]
    script = Script(width=320, height=180, fps=fps, shots=shots, audio=False, **options)
    path = folder / name
    return path, build(script, path)


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sampling")
    return {
        "cfr": _video(folder, "cfr.mp4"),
        "vfr": _video(folder, "vfr.mp4", vfr=True),
        "late": _video(folder, "late.mp4", start_time=5.0),
        "late_ts": _video(folder, "late.ts", start_time=3.0),
        "rotated": _video(folder, "rotated.mp4", rotation=90),
        "ntsc": _video(folder, "ntsc.mkv", fps=30000 / 1001),
    }


def _assert_exact(frame, fps):
    shown = read_timecode(frame.image) / 1000.0
    assert abs(shown - frame.time) <= 0.5 / fps + 1e-3, (frame.time, shown)
    if frame.requested is not None:
        # The frame on screen at the requested time began at or before it, less than a
        # frame's display time earlier (VFR frames last up to 2 frames).
        assert frame.time <= frame.requested + 1e-6


@pytest.mark.parametrize("name", ["cfr", "vfr", "late", "late_ts", "ntsc"])
def test_frames_at_times_show_their_time(videos, name):
    path, truth = videos[name]
    rng = np.random.default_rng(3)
    wanted = np.sort(rng.uniform(0, truth.duration, 40))
    with VideoReader(path) as reader:
        frames = list(reader.at(wanted))
    assert [f.requested for f in frames] == pytest.approx(list(wanted))
    for frame in frames:
        _assert_exact(frame, truth.fps)
    if truth.frame_times:  # VFR: the frame is exactly the last one shown before the time
        times = np.array(truth.frame_times)
        for frame in frames:
            expected = times[np.searchsorted(times, frame.requested + 1e-9) - 1]
            assert frame.time == pytest.approx(expected, abs=1e-3)


def test_late_start_is_timeline_zero(videos):
    path, truth = videos["late"]
    info = probe(path)
    assert info.start_time == pytest.approx(5.0)
    assert info.duration == pytest.approx(truth.duration, abs=1 / truth.fps)
    with VideoReader(path) as reader:
        first = next(reader.at([0.0]))
    assert first.time == 0.0 and read_timecode(first.image) == 0


def test_vfr_is_detected(videos):
    assert probe(videos["vfr"][0]).video.variable_frame_rate
    assert not probe(videos["cfr"][0]).video.variable_frame_rate


@pytest.mark.parametrize("name", ["cfr", "vfr"])
def test_every_uniform_and_all_frames(videos, name):
    path, truth = videos[name]
    with VideoReader(path) as reader:
        every = list(reader.every(0.5, size=160))
        assert len(every) == int(np.ceil(truth.duration / 0.5 - 1e-9))
        uniform = list(reader.uniform(8))
        assert reader.duration == pytest.approx(truth.duration, abs=2 / truth.fps)
        assert [f.requested for f in uniform] == pytest.approx(
            [(k + 0.5) * reader.duration / 8 for k in range(8)])
        everything = list(reader.frames())
        partial = list(reader.frames(start=4.0, end=6.0))
    for frame in every + uniform + everything + partial:
        _assert_exact(frame, truth.fps)
    assert every[0].image.shape == (90, 160, 3)
    times = [f.time for f in everything]
    assert times == sorted(times) and len(times) == len(set(times))
    expected = truth.frame_times or [k / truth.fps for k in range(len(times))]
    assert times == pytest.approx(expected, abs=1e-3)
    assert all(4.0 <= f.time < 6.0 for f in partial)
    assert len(partial) == sum(4.0 <= t < 6.0 for t in expected)


def test_boundary_times(videos):
    """Exactly on a frame returns that frame; just before it returns the previous one;
    0 and the very end are valid; outside is an error."""
    path, truth = videos["cfr"]
    k = 100
    on = k / truth.fps
    with VideoReader(path) as reader:
        before, at, end = reader.at([on - 1e-4, on, truth.duration])
        assert at.time == pytest.approx(on) and read_timecode(at.image) == round(on * 1000)
        assert before.time == pytest.approx((k - 1) / truth.fps)
        assert end.time == pytest.approx(truth.duration - 1 / truth.fps)
        with pytest.raises(ValueError, match="outside"):
            list(reader.at([truth.duration + 0.5]))
        with pytest.raises(ValueError, match="decrease"):
            list(reader.at([3.0, 2.0]))


def test_repeated_time_and_same_frame_twice(videos):
    path, truth = videos["cfr"]
    with VideoReader(path) as reader:
        a, b = reader.at([2.0, 2.0 + 0.2 / truth.fps])
    assert a.time == b.time and np.array_equal(a.image, b.image)


def test_overview_reads_keyframes_only(videos):
    path, truth = videos["cfr"]
    with VideoReader(path) as reader:
        frames = list(reader.overview(6))
        decoded = reader.stats.frames_decoded
    assert frames and all(f.keyframe for f in frames)
    assert decoded <= 2 * len(frames)
    for frame in frames:
        _assert_exact(frame, truth.fps)


@pytest.mark.parametrize("name", ["cfr", "vfr", "late_ts"])
def test_near_reads_keyframes_within_tolerance(videos, name):
    """Within a tolerance, keyframes stand in where they are close enough: one decoded picture
    each, every frame still showing the exact time it reports."""
    path, truth = videos[name]
    with VideoReader(path) as reader:
        frames = list(reader.every(2.0, start=0.5, tolerance=1.0))
        decoded = reader.stats.frames_decoded
    assert len(frames) == int(np.ceil((truth.duration - 0.5) / 2.0 - 1e-9))
    for frame in frames:
        assert abs(frame.time - frame.requested) <= 1.0 + 1e-6
        assert abs(read_timecode(frame.image) / 1000 - frame.time) <= 0.5 / truth.fps + 1e-3
    if name != "late_ts":  # MPEG-TS has no keyframe index: exact frames instead
        assert all(f.keyframe for f in frames)
        assert decoded <= 2 * len(frames)


def test_rotation_is_applied(videos):
    path, truth = videos["rotated"]
    info = probe(path)
    assert info.video.rotation == 90
    assert (info.video.display_width, info.video.display_height) == (180, 320)
    with VideoReader(path) as reader:
        frame = next(reader.at([1.0]))
    assert frame.image.shape == (320, 180, 3)
    # Turn it back to the stored orientation: the timecode reads again.
    turns = info.video.rotation // 90
    assert read_timecode(np.rot90(frame.image, turns)) == round(frame.time * 1000)


def test_sparse_sampling_skips_work(videos):
    path, truth = videos["cfr"]
    total = round(truth.duration * truth.fps)
    with VideoReader(path) as reader:
        list(reader.at([1.0, 7.0]))
        assert reader.stats.frames_decoded < total / 2


def test_sample_frames_function(videos):
    path, truth = videos["cfr"]
    assert len(list(sample_frames(path, count=5))) == 5
    assert len(list(sample_frames(path, fps=1.0))) == int(np.ceil(truth.duration))
    with pytest.raises(ValueError, match="exactly one"):
        list(sample_frames(path, fps=1.0, count=3))


def test_memory_stays_flat(tmp_path):
    """Peak Python memory while sampling does not grow with video length."""
    peaks = []
    for seconds in (10.0, 60.0):
        path, _ = _video(tmp_path, f"len{seconds:g}.mp4", seconds=seconds, fps=15.0)
        with VideoReader(path) as reader:
            tracemalloc.start()
            for _ in reader.every(0.5):
                pass
            peaks.append(tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
    assert peaks[1] < 1.5 * peaks[0] + 256 * 1024, peaks


def test_passes_do_not_leak_into_each_other(videos):
    """A pass left half-way (an unfinished generator) must not change how the next decodes."""
    path, truth = videos["cfr"]
    with VideoReader(path) as reader:
        everything = [f.time for f in reader.frames()]
        for _ in range(2):
            next(reader.at([9.0]))  # left suspended while dropping non-reference frames
            next(reader.frames(reference_only=True))
            list(reader.near([3.0, 7.0], 1.0))
            assert [f.time for f in reader.frames()] == everything
