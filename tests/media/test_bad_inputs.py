"""Every kind of unusable file gives one clear MediaError naming the file: never a hang or crash."""

from __future__ import annotations

import wave
from pathlib import Path

import av
import numpy as np
import pytest

from vidseek import MediaError
from vidseek.media import VideoReader, probe, read_audio


def _tiny_video(path: Path, *, frames: int = 48, fps: int = 24, faststart: bool = False) -> Path:
    with av.open(str(path), "w", options={"movflags": "faststart"} if faststart else {}) as out:
        stream = out.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        rng = np.random.default_rng(0)
        for _ in range(frames):
            image = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        out.mux(stream.encode(None))
    return path


def _wav(path: Path, seconds: float = 1.0) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes((np.sin(np.arange(int(16000 * seconds)) / 5) * 8000).astype("<i2").tobytes())
    return path


def _expect_media_error(path: Path, words: str) -> MediaError:
    with pytest.raises(MediaError) as caught:
        probe(path)
    error = caught.value
    assert error.path == str(path)
    assert words in error.reason, error.reason
    assert str(path) in str(error)
    assert isinstance(error, ValueError)  # catchable as a builtin too
    return error


def test_missing_file(tmp_path):
    _expect_media_error(tmp_path / "nope.mp4", "no such file")


def test_folder(tmp_path):
    _expect_media_error(tmp_path, "folder")


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.mp4"
    path.touch()
    _expect_media_error(path, "empty")


def test_text_file(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("this is not a video\n" * 50)
    _expect_media_error(path, "cannot read")


def test_random_bytes(tmp_path):
    path = tmp_path / "noise.mkv"
    path.write_bytes(np.random.default_rng(1).integers(0, 256, 200_000, dtype=np.uint8).tobytes())
    _expect_media_error(path, "cannot read")


def test_audio_only(tmp_path):
    path = _wav(tmp_path / "speech.wav")
    _expect_media_error(path, "no video stream (audio only)")
    # ...but its audio is still readable.
    chunks = list(read_audio(path))
    assert chunks and chunks[0].start == 0.0


def test_truncated_moov_at_end(tmp_path):
    whole = _tiny_video(tmp_path / "whole.mp4").read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole[: len(whole) // 2])
    _expect_media_error(cut, "truncated")


def test_truncated_faststart(tmp_path):
    """Index at the front, data cut off: the probe notices the missing bytes."""
    whole = _tiny_video(tmp_path / "whole.mp4", faststart=True).read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole[: int(len(whole) * 0.6)])
    _expect_media_error(cut, "truncated")


def _remux(src: Path, dst: Path) -> Path:
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        stream = out.add_stream_from_template(inp.streams.video[0])
        for packet in inp.demux(inp.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                out.mux(packet)
    return dst


def test_truncated_matroska(tmp_path):
    """MKV states its duration up front and indexes at the end: cut, the index is gone and
    the probe decodes near the claimed end to find nothing there."""
    mkv = _remux(_tiny_video(tmp_path / "whole.mp4", frames=240), tmp_path / "whole.mkv")
    assert probe(mkv).duration == pytest.approx(10.0, abs=0.1)
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(mkv.read_bytes()[: int(mkv.stat().st_size * 0.6)])
    _expect_media_error(cut, "truncated")


def test_unindexed_long_gop_stream_reads_to_the_end(tmp_path):
    """MPEG-TS has no index, and this stream has one keyframe: a seek near the end lands
    after it and decodes nothing; the reader must step back rather than give up."""
    ts = _remux(_tiny_video(tmp_path / "whole.mp4", frames=240), tmp_path / "whole.ts")
    info = probe(ts)
    assert info.duration == pytest.approx(10.0, abs=0.1)
    with VideoReader(ts) as reader:
        got = [f.time for f in reader.at([0.5, 9.5])]
    assert got == pytest.approx([0.5, 9.5], abs=1 / 24 + 1e-6)


def test_video_stream_without_frames(tmp_path):
    path = tmp_path / "noframes.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
    with pytest.raises(MediaError):
        probe(path)


def test_reader_reports_bad_file(tmp_path):
    path = tmp_path / "bad.mp4"
    path.write_bytes(b"\x00" * 1000)
    with pytest.raises(MediaError):
        VideoReader(path)


def test_odd_codec_still_reads(tmp_path):
    """MPEG-4 part 2 in AVI: an old codec in an old container."""
    path = tmp_path / "old.avi"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(50):
            image = np.full((48, 64, 3), i * 5, np.uint8)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        out.mux(stream.encode(None))
    info = probe(path)
    assert info.video.codec == "mpeg4"
    assert info.duration == pytest.approx(2.0, abs=0.05)
    with VideoReader(path) as reader:
        frame = next(reader.at([1.0]))
    assert frame.time == pytest.approx(1.0, abs=0.02)
    assert abs(int(frame.image.mean()) - 25 * 5) <= 3
