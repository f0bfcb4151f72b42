"""Videos of extreme shape (2 x 2000, 2000 x 2, 1:7): every frame analyzer stays cheap in
time and memory, and text on a tall narrow video is still read.

A 2 x 2000 video used to cost the on-screen text analyzer 12-28 s and 1.3-1.4 GB for 4 s of
video: its 2 x 640 frames were scaled to a 640 x 204,800 stroke map.
"""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import cv2
import numpy as np
import pytest
from bad_media import video

from vidseek.analyzers.faces import FaceAnalyzer
from vidseek.analyzers.image_embed import ImageEmbeddingAnalyzer
from vidseek.analyzers.screen_text import ScreenTextAnalyzer
from vidseek.media import VideoReader, fit, thumbnails
from vidseek.models import resolve

SHAPES = {"tall": (2, 2000), "wide": (2000, 2), "strip": (40, 2000)}
MAX_SECONDS = 4.0  # for 4 s of video, on 2 busy cores (it took 12-28 s)
MAX_BYTES = 48 << 20  # traced peak (it was 1.3 GB)


@pytest.fixture(scope="module")
def slivers(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("shapes")
    return {name: video(folder / f"{name}.mp4", width=w, height=h, seconds=4.0)
            for name, (w, h) in SHAPES.items()}


@pytest.fixture(scope="module")
def ocr():
    reader = resolve("ocr", "rapidocr")
    reader.read(np.zeros((64, 64, 3), np.uint8))  # load the models outside the measurements
    return reader


def _run(path: Path, analyzer) -> tuple[list, float, int]:
    """Feed the analyzer its frames as indexing does; the observations, seconds and the
    traced peak of memory."""
    tracemalloc.start()
    began = time.perf_counter()
    try:
        with VideoReader(path) as reader:
            analyzer.start("video", reader.duration)
            found = []
            for frame in reader.every(analyzer.interval, size=analyzer.size):
                found += analyzer.add(fit(frame, analyzer.size))
            found += analyzer.finish()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return found, time.perf_counter() - began, peak


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_screen_text_on_extreme_shapes_is_cheap(slivers, ocr, shape):
    analyzer = ScreenTextAnalyzer(ocr)
    found, seconds, peak = _run(slivers[shape], analyzer)
    assert found == []
    assert analyzer.frames == 4
    assert seconds < MAX_SECONDS, seconds
    assert peak < MAX_BYTES, f"{peak / 2**20:.0f} MiB"


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_faces_on_extreme_shapes_are_cheap(slivers, shape):
    analyzer = FaceAnalyzer(interval=1.0)
    found, seconds, peak = _run(slivers[shape], analyzer)
    assert found == []
    assert seconds < MAX_SECONDS, seconds
    assert peak < MAX_BYTES, f"{peak / 2**20:.0f} MiB"


def test_text_on_a_tall_narrow_video_is_still_read(tmp_path, ocr):
    """1:7 (a 640 px frame 92 px wide): the stroke map is bounded at 1920 px tall and the
    line is read as on a normal video."""
    width, height = 184, 1288
    path = tmp_path / "banner.mp4"
    image = np.full((height, width, 3), 30, np.uint8)
    cv2.putText(image, "EXIT 42", (8, height // 2), cv2.FONT_HERSHEY_SIMPLEX, 1.3,
                (255, 255, 255), 3, cv2.LINE_AA)
    video(path, width=width, height=height, seconds=3.0, fps=5)
    _overlay(path, image, tmp_path / "text.mp4")
    analyzer = ScreenTextAnalyzer(ocr)
    found, _, _ = _run(tmp_path / "text.mp4", analyzer)
    assert [o.text.replace(" ", "") for o in found] == ["EXIT42"], found
    assert found[0].start == 0.0 and found[0].end == pytest.approx(3.0)


def _overlay(src: Path, image: np.ndarray, dst: Path) -> None:
    """A video of `image` alone, as long and as large as `src`."""
    import av

    with av.open(str(src)) as inp:
        frames = inp.streams.video[0].frames
        fps = int(inp.streams.video[0].average_rate)
    with av.open(str(dst), "w") as out:
        stream = out.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = image.shape[1], image.shape[0], "yuv420p"
        for _ in range(frames):
            out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        out.mux(stream.encode(None))


def test_ocr_of_slivers_reads_nothing_and_does_not_fail(ocr):
    for shape in [(1, 5000), (5000, 1), (2, 640), (640, 2), (7, 7), (4, 3000)]:
        assert ocr.read(np.full((*shape, 3), 128, np.uint8)) == [], shape


class _Recorder:
    """An image embedder that notes the shapes of the pictures it is given."""

    name = "recorder"
    image_size = 224

    def __init__(self) -> None:
        self.shapes: list[tuple[int, ...]] = []

    def embed(self, images):
        self.shapes += [image.shape for image in images]
        return np.ones((len(images), 4), np.float32) / 2


@pytest.mark.parametrize("shape", ["tall", "wide"])
def test_image_embeddings_get_the_middle_of_a_sliver(slivers, shape):
    """CLIP-style preprocessing scales the short side to 224 before its centre crop: a
    2 x 2000 frame would become 224 x 224,000. The analyzer hands over its middle, at most
    4:1."""
    embedder = _Recorder()
    analyzer = ImageEmbeddingAnalyzer(embedder)
    with VideoReader(slivers[shape]) as reader:
        found = list(analyzer.analyze("video", [(0.0, 4.0)], reader))
    assert len(found) == 1
    [(height, width, _)] = embedder.shapes
    assert max(height, width) <= 4 * min(height, width)


def test_image_embeddings_of_normal_frames_are_whole(tmp_path):
    embedder = _Recorder()
    path = video(tmp_path / "wide.mp4", width=384, height=108, seconds=1.0)  # 32:9
    with VideoReader(path) as reader:
        list(ImageEmbeddingAnalyzer(embedder).analyze("video", [(0.0, 1.0)], reader))
    assert embedder.shapes == [(108, 384, 3)]


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_thumbnails_of_extreme_shapes_are_bounded(slivers, shape):
    [thumb] = thumbnails(slivers[shape], [1.0], size=320)
    assert max(thumb.width, thumb.height) <= 320
    assert min(thumb.width, thumb.height) >= 2


@pytest.mark.shared
@pytest.mark.parametrize("shape", ["tall", "wide"])
def test_objects_on_extreme_shapes_are_cheap(slivers, shared_models, shape):
    from vidseek.analyzers.objects import ObjectsAnalyzer

    analyzer = ObjectsAnalyzer(
        detector=resolve("detector", f"yolox:{shared_models / 'yolox-nano-coco/yolox_nano.onnx'}"),
        classifier=resolve("classifier", "imagenet:" + str(
            shared_models / "mobilenet-v2-imagenet/mobilenet_v2_1.0_224_quant_qdq.onnx")))
    _, seconds, peak = _run(slivers[shape], analyzer)
    assert seconds < MAX_SECONDS and peak < MAX_BYTES
