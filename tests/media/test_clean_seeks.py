"""Seeks that land on keyframes which are not clean places to start decoding.

Every way of reading a frame after a seek (`at`, `near`, `overview`, `frames(start=...)`,
`thumbnails`) must give the picture a decode from the start shows at that time:

- an open-GOP x264 stream (keyframes are recovery points, not IDR pictures);
- a stream spliced from two encodings whose second part sends its parameter sets in-band at
  its first keyframe only (its later keyframes decode damaged after a seek until decoding
  starts from that first one: the restart path);
- ``imageio_cockatoo.mp4`` (old x264, 4:4:4: FFmpeg needs the encoder's SEI from the first
  frame to decode any keyframe; seeking first gave solid green pictures).
"""

from __future__ import annotations

import io
from fractions import Fraction

import av
import numpy as np
import pytest
from PIL import Image

from vidseek.media import VideoReader, thumbnails

_FPS = 25
_SIZE = (320, 180)


def _picture(i: int) -> np.ndarray:
    """Frame ``i``: moving shapes, a gradient and per-frame noise (so that every frame
    differs and a wrong reference shows)."""
    width, height = _SIZE
    image = np.zeros((height, width, 3), np.uint8)
    image[..., 0] = (i * 7) % 256
    image[..., 1] = np.linspace(0, 255, width, dtype=np.uint8)[None, :]
    x = (i * 3) % (width - 40)
    image[60:120, x:x + 40] = 255
    image[140:170, 10:300] = np.random.default_rng(i).integers(0, 255, (30, 290, 3))
    return image


def _encode(first: int, count: int, params: str) -> tuple[list[av.Packet], bytes]:
    """Frames ``first ..`` encoded by libx264 with ``params``: packets and the parameter sets
    (Annex B)."""
    codec = av.CodecContext.create("libx264", "w")
    codec.width, codec.height, codec.pix_fmt = *_SIZE, "yuv420p"
    codec.time_base = Fraction(1, _FPS)
    codec.framerate = _FPS
    codec.flags |= int(av.codec.context.Flags.global_header)
    codec.options = {"preset": "veryfast", "crf": "23", "x264-params": params}
    packets = []
    for i in range(first, first + count):
        frame = av.VideoFrame.from_ndarray(_picture(i), format="rgb24")
        frame.pts, frame.time_base = i, codec.time_base
        packets += codec.encode(frame)
    packets += codec.encode(None)
    return packets, bytes(codec.extradata)


def _write(path, parts: list[tuple[list[av.Packet], bytes]]) -> None:
    """Mux encoded parts into one MP4 whose header carries the first part's parameter sets;
    each part's first packet carries its own in-band."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("h264", rate=_FPS)
        stream.width, stream.height, stream.pix_fmt = *_SIZE, "yuv420p"
        stream.codec_context.extradata = parts[0][1]
        stream.time_base = Fraction(1, _FPS)
        for packets, headers in parts:
            for k, packet in enumerate(packets):
                copy = av.Packet((headers if k == 0 else b"") + bytes(packet))
                copy.pts, copy.dts, copy.is_keyframe = packet.pts, packet.dts, packet.is_keyframe
                copy.time_base, copy.stream = Fraction(1, _FPS), stream
                out.mux(copy)


@pytest.fixture(scope="module")
def open_gop(tmp_path_factory):
    path = tmp_path_factory.mktemp("seeks") / "open_gop.mp4"
    _write(path, [_encode(0, 200, "keyint=25:min-keyint=25:scenecut=0:open-gop=1:bframes=3:"
                                  "b-pyramid=normal")])
    return path


@pytest.fixture(scope="module")
def spliced(tmp_path_factory):
    path = tmp_path_factory.mktemp("seeks") / "spliced.mp4"
    common = "keyint=25:min-keyint=25:scenecut=0:bframes=0"
    _write(path, [_encode(0, 100, f"{common}:weightp=0"),
                  _encode(100, 100, f"{common}:weightp=2")])
    return path


def _sequential(path, size) -> dict[float, np.ndarray]:
    with VideoReader(path) as reader:
        return {f.time: f.image for f in reader.frames(size=size)}


def _assert_same(frames, reference) -> int:
    count = 0
    for frame in frames:
        assert frame.time in reference, f"{frame.time} is not a frame time"
        difference = np.abs(frame.image.astype(int) - reference[frame.time]).mean()
        assert difference == 0, f"frame at {frame.time:.3f} s differs by {difference:.1f}"
        count += 1
    return count


def _check_every_way(path, size=160, step=0.37) -> int:
    """Read ``path`` every way that seeks, fresh readers every ``step`` seconds; return how
    often a restart was needed."""
    reference = _sequential(path, size)
    times = sorted(reference)
    duration = times[-1]
    restarts = 0
    # one fresh reader per far request (a seek before anything was decoded), then pairs
    for t in np.arange(0.3, duration, step):
        with VideoReader(path) as reader:
            pair = [float(t), min(duration, float(t) + 2.1)]
            assert _assert_same(reader.at(pair, size=size), reference) == 2
            restarts += reader.stats.restarts
    with VideoReader(path) as reader:  # backwards in one reader: each pass starts again
        for t in (duration - 0.5, duration / 2, 1.3):
            _assert_same(reader.at([t], size=size), reference)
        _assert_same(reader.near(np.arange(0, duration, 1.0), 1.0, size=size), reference)
        _assert_same(reader.overview(8, size=size), reference)
        starts = [f.time for f in reader.frames(start=duration / 2, end=duration / 2 + 1,
                                                size=size)]
        _assert_same(reader.frames(start=duration / 2, end=duration / 2 + 1, size=size),
                     reference)
        assert starts and starts[0] >= duration / 2 - 1e-9
        assert starts == [t for t in times if duration / 2 - 1e-9 <= t < duration / 2 + 1]
        restarts += reader.stats.restarts
    return restarts


def test_open_gop_seeks_equal_sequential_decode(open_gop):
    with av.open(str(open_gop)) as container:
        keyframes = [e for e in container.streams.video[0].index_entries if e.is_keyframe]
    assert len(keyframes) >= 7  # the stream really has mid-stream restart points
    _check_every_way(open_gop)


def test_unclean_keyframes_restart_from_an_earlier_one(spliced):
    restarts = _check_every_way(spliced)
    # seeks into the second part land on keyframes that decode damaged: the restart path ran
    assert restarts > 0


@pytest.mark.shared
@pytest.mark.slow
def test_cockatoo_frames_at_exact_times_equal_sequential_decode(real_videos):
    path = real_videos / "imageio_cockatoo.mp4"
    reference = _sequential(path, 320)
    with VideoReader(path) as reader:
        frames = list(reader.at([5, 7, 9, 11, 13], size=320))
    assert [f.time for f in frames] == [5, 7, 9, 11, 13]  # 20 fps: frames start there
    _assert_same(frames, reference)
    for frame in frames:  # not a flat green picture
        assert frame.image[..., 0].mean() > 50 and frame.image.std() > 20
    _check_every_way(path, step=3.1)


@pytest.mark.shared
def test_cockatoo_thumbnails_show_the_picture(real_videos):
    path = real_videos / "imageio_cockatoo.mp4"
    reference = _sequential(path, 320)
    for thumb in thumbnails(path, [11.0, 5.0, 9.0], size=320):
        image = np.asarray(Image.open(io.BytesIO(thumb.data)).convert("RGB")).astype(int)
        # JPEG changes pixels a little, a green picture a lot
        assert np.abs(image - reference[thumb.time]).mean() < 4
