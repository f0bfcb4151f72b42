"""On-screen text on synthetic videos with exact truth, on a video without text, with a fake
reader (tracking logic) and on a real clip."""

from __future__ import annotations

import difflib
import re
import socket

import numpy as np
import pytest

from vidseek.analyzers.base import FrameAnalyzer
from vidseek.analyzers.screen_text import ScreenTextAnalyzer
from vidseek.media import Frame, VideoReader
from vidseek.models import resolve
from vidseek.models.ocr import RapidOCRReader
from vidseek.models.protocols import OCRModelError, TextLine
from vidseek.synth import Script, ShotSpec, TextSpec, build
from vidseek.synth.overlays import text_patch
from vidseek.synth.timecode import STRIP_FRACTION

MIN_SIMILARITY = 0.8
MIN_IOU = 0.5

# (text, start, end, position, size): 3 to 8 s each, over photos, shapes, noise, a gradient,
# a flat colour, pans, a zoom and a fade.
TEXTS = [
    ("GATE 7 BOARDING", 1.3, 4.3, "top", 0.07),
    ("BLUE HARBOR CAFE", 6.4, 10.1, "center", 0.06),
    ("EXIT 42 NORTH", 12.2, 16.6, "bottom", 0.07),
    ("SALE 50% OFF", 18.7, 23.8, "top", 0.08),
    ("ROOM 1138", 25.9, 31.7, "center", 0.07),
    ("WELCOME TO OSLO", 33.8, 40.3, "bottom", 0.05),
    ("CHAPTER THREE", 42.4, 49.6, "top", 0.07),
    ("LIVE FROM MARS", 51.7, 59.6, "center", 0.06),
    ("OPEN 24 HOURS", 61.7, 65.3, "bottom", 0.07),
    ("TICKET NO 8812", 67.4, 71.7, "top", 0.05),
]


def _normal(text: str) -> str:
    """Letters and digits only, lower case: hyphens, spaces and punctuation do not count."""
    return "".join(re.findall(r"[a-z0-9]+", text.lower()))


def _similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, _normal(a), _normal(b)).ratio()


def _iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union > 0 else 0.0


def _analyze(path, analyzer: ScreenTextAnalyzer, end: float | None = None):
    """Feed the sampled frames of a video through the analyzer, as indexing does."""
    with VideoReader(path) as reader:
        analyzer.start("video", reader.duration)
        observations = []
        for frame in reader.every(analyzer.interval, end=end, size=analyzer.size):
            observations += analyzer.add(frame)
        return observations + list(analyzer.finish())


def _table(truth, observations) -> str:
    rows = [f"  truth {t.start:6.2f}-{t.end:6.2f} {t.text!r}" for t in truth]
    rows += [f"  found {o.start:6.2f}-{o.end:6.2f} {o.text!r} {o.data}" for o in observations]
    return "\n".join(rows)


@pytest.fixture(scope="module")
def reader():
    """One reader for the module: its models load once."""
    return resolve("ocr")


@pytest.fixture(scope="module")
def text_video(tmp_path_factory):
    shots = [
        ShotSpec(duration=8, content="photo", photo="astronaut"),
        ShotSpec(duration=7, content="shapes"),
        ShotSpec(duration=9, content="photo", photo="coffee"),
        ShotSpec(duration=6, content="gradient"),
        ShotSpec(duration=8, content="noise"),
        ShotSpec(duration=8, content="photo", photo="chelsea", motion="zoom"),
        ShotSpec(duration=7, content="color"),
        ShotSpec(duration=9, content="photo", photo="rocket"),
        ShotSpec(duration=8, content="shapes", transition="fade", transition_duration=1.0),
        ShotSpec(duration=5, content="photo", photo="horse"),
    ]
    texts = [TextSpec(text=t, start=a, end=b, position=p, size=s) for t, a, b, p, s in TEXTS]
    script = Script(width=640, height=360, fps=12, shots=shots, texts=texts, audio=False, seed=3)
    path = tmp_path_factory.mktemp("screen_text") / "signs.mp4"
    truth = build(script, path)
    return path, truth


@pytest.fixture(scope="module")
def text_run(text_video, reader):
    path, truth = text_video
    analyzer = ScreenTextAnalyzer(reader)
    return analyzer, _analyze(path, analyzer), truth


@pytest.mark.slow
def test_finds_burned_in_text_at_its_times(text_run):
    _, observations, truth = text_run
    found = [t for t in truth.texts
             if any(_similarity(o.text, t.text) >= MIN_SIMILARITY
                    and _iou((o.start, o.end), (t.start, t.end)) >= MIN_IOU
                    for o in observations)]
    assert len(found) >= 0.9 * len(truth.texts), _table(truth.texts, observations)


@pytest.mark.slow
def test_reports_no_junk_and_not_the_timecode_barcode(text_run):
    _, observations, truth = text_run
    strip_top = 1 - STRIP_FRACTION
    for obs in observations:
        assert obs.data["box"][1] < strip_top, _table(truth.texts, observations)
        assert max(_similarity(obs.text, t.text) for t in truth.texts) >= MIN_SIMILARITY, \
            _table(truth.texts, observations)


@pytest.mark.slow
def test_ocr_runs_only_on_changed_frames(text_run):
    analyzer, _, truth = text_run
    assert analyzer.frames == int(np.ceil(truth.duration / analyzer.interval))
    assert analyzer.ocr_calls < 0.5 * analyzer.frames, (analyzer.ocr_calls, analyzer.frames)


@pytest.mark.slow
def test_observations_are_well_formed(text_run):
    analyzer, observations, truth = text_run
    assert isinstance(analyzer, FrameAnalyzer)
    for obs in observations:
        assert obs.kind == "text" and obs.video_id == "video"
        assert obs.source == analyzer.reader.name
        assert 0 <= obs.start < obs.end <= truth.duration
        assert obs.start <= obs.data["last_seen"] < obs.end
        x0, y0, x1, y1 = obs.data["box"]
        assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1
        assert 0 < obs.data["confidence"] <= 1


def test_video_without_text_gives_no_observations(tmp_path, reader):
    shots = [
        ShotSpec(duration=5, content="photo", photo="astronaut"),
        ShotSpec(duration=4, content="shapes"),
        ShotSpec(duration=5, content="photo", photo="chelsea", motion="zoom"),
        ShotSpec(duration=4, content="noise"),
        ShotSpec(duration=4, content="photo", photo="coins", transition="dissolve",
                 transition_duration=1.0),
        ShotSpec(duration=4, content="gradient", transition="fade", transition_duration=1.0),
    ]
    path = tmp_path / "plain.mp4"
    build(Script(width=640, height=360, fps=12, shots=shots, audio=False, seed=5), path)
    analyzer = ScreenTextAnalyzer(reader)
    observations = _analyze(path, analyzer)
    assert observations == [], [(o.start, o.text, o.data) for o in observations]
    assert 0 < analyzer.ocr_calls < analyzer.frames


def test_reader_uses_bundled_models_without_network(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the OCR reader tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    reader = resolve("ocr", "rapidocr")
    assert isinstance(reader, RapidOCRReader)
    assert reader.name.startswith("rapidocr:PP-OCR")
    image = np.full((360, 640, 3), 90, np.uint8)
    patch = text_patch("PLATFORM 9", 28, 600)
    image[150:150 + patch.shape[0], 200:200 + patch.shape[1]] = patch
    lines = reader.read(image)
    assert [_normal(line.text) for line in lines] == ["platform9"], lines
    x0, y0, x1, y1 = lines[0].box
    assert x0 < 200 / 640 + 0.05 and y0 < 150 / 360 + 0.05 and 0 < lines[0].confidence <= 1


def test_unknown_specs_say_what_to_write(tmp_path):
    with pytest.raises(OCRModelError, match="rapidocr"):
        resolve("ocr", "tesseract")
    with pytest.raises(OCRModelError, match="does not exist"):
        resolve("ocr", f"rapidocr:{tmp_path / 'missing'}")
    with pytest.raises(OCRModelError, match="det"):
        resolve("ocr", f"rapidocr:{tmp_path}")


def test_a_model_directory_spec_reads_like_the_default(tmp_path):
    bundled = resolve("ocr")
    for model in (bundled.det_model, bundled.rec_model):
        (tmp_path / model.name).symlink_to(model)
    reader = resolve("ocr", f"rapidocr:{tmp_path}")
    assert reader.name == bundled.name
    assert (reader.det_model.parent, reader.rec_model.parent) == (tmp_path, tmp_path)


def test_add_before_start_is_an_error(reader):
    analyzer = ScreenTextAnalyzer(reader)
    with pytest.raises(RuntimeError, match="start"):
        analyzer.add(Frame(0.0, np.zeros((36, 64, 3), np.uint8)))


def _paste(image: np.ndarray, text: str, x: int, y: int) -> tuple[float, float, float, float]:
    """Paste boxed text at (x, y); return its box as fractions of the image."""
    patch = text_patch(text, 26, 600)
    h, w = patch.shape[:2]
    image[y:y + h, x:x + w] = patch
    height, width = image.shape[:2]
    return x / width, y / height, (x + w) / width, (y + h) / height


class _FakeReader:
    """Reads the top sign (misspelt every third call, missed on the fourth) and, when it is
    on screen, the bottom sign."""

    name = "fake:1"

    def __init__(self, top: tuple[float, ...], bottom: tuple[float, ...]) -> None:
        self.top, self.bottom = top, bottom
        self.calls = 0

    def read(self, image: np.ndarray) -> list[TextLine]:
        self.calls += 1
        lines = []
        if self.calls != 4:
            text = "GATE 7 B0ARDING" if self.calls % 3 == 0 else "GATE 7 BOARDING"
            lines.append(TextLine(text, self.top, 0.9))
        h, w = image.shape[:2]
        x0, y0, x1, y1 = self.bottom
        if image[int(y0 * h):int(y1 * h), int(x0 * w):int(x1 * w)].max() > 200:
            lines.append(TextLine("EXIT 42", self.bottom, 0.95))
        return lines


def test_tracking_merges_misreadings_and_closes_lines_that_leave():
    base = np.full((360, 640, 3), 60, np.uint8)
    top = _paste(base, "GATE 7 BOARDING", 180, 20)
    with_exit = base.copy()
    bottom = _paste(with_exit, "EXIT 42", 260, 280)
    analyzer = ScreenTextAnalyzer(_FakeReader(top, bottom), interval=1.0)
    analyzer.start("video", 10.0)
    pictures = [base, with_exit, base, with_exit, with_exit, base, base, with_exit]
    observations = []
    for t, picture in enumerate(pictures):
        observations += analyzer.add(Frame(float(t), picture))
    observations += analyzer.finish()
    spans = sorted((o.text, o.start, o.end) for o in observations)
    # the misspelling merges into the line; the miss on the fourth OCR keeps it open
    # because its box still shows the same picture
    assert spans == [("EXIT 42", 1.0, 2.0), ("EXIT 42", 3.0, 5.0), ("EXIT 42", 7.0, 8.0),
                     ("GATE 7 BOARDING", 0.0, 8.0)], spans
    assert analyzer.ocr_calls == 6  # not on the two frames equal to the one before


@pytest.mark.shared
def test_reads_the_title_of_a_real_clip(real_videos, reader):
    analyzer = ScreenTextAnalyzer(reader)
    observations = _analyze(real_videos / "videollama2_output_v_1jgsRbGzCls.mp4", analyzer,
                            end=6.0)
    read = [(o.start, o.end, o.text) for o in observations]
    assert any("taichichuan" in _normal(o.text) for o in observations), read


class _ScriptedReader:
    """Reads what a test painted: each picture's lines are looked up by its content."""

    name = "scripted:1"

    def __init__(self) -> None:
        self.pictures: list[tuple[np.ndarray, list[TextLine]]] = []
        self.calls = 0

    def add(self, image: np.ndarray, lines: list[TextLine]) -> np.ndarray:
        self.pictures.append((image, lines))
        return image

    def read(self, image: np.ndarray) -> list[TextLine]:
        self.calls += 1
        return next(lines for picture, lines in self.pictures if np.array_equal(picture, image))


def test_text_replaced_in_place_is_read_and_kept_apart():
    """A caption replaced by one of the same size at the same place puts strokes where
    strokes were; it must still be read, and "STEP 2" must not merge into "STEP 1" as a
    misreading (the picture in its box changed)."""
    reader = _ScriptedReader()
    base = np.full((360, 640, 3), 60, np.uint8)
    pictures = []
    for text in ("STEP 1 MIX", "STEP 2 MIX", "STEP 2 MIX", "STEP 3 MIX", "STEP 4 BAKE"):
        image = base.copy()
        box = _paste(image, text, 220, 280)
        pictures.append(reader.add(image, [TextLine(text, box, 0.9)]))
    analyzer = ScreenTextAnalyzer(reader, interval=1.0)
    analyzer.start("video", 5.0)
    observations = []
    for t, picture in enumerate(pictures):
        observations += analyzer.add(Frame(float(t), picture))
    observations += analyzer.finish()
    spans = [(o.text, o.start, o.end) for o in observations]
    assert spans == [("STEP 1 MIX", 0.0, 1.0), ("STEP 2 MIX", 1.0, 3.0),
                     ("STEP 3 MIX", 3.0, 4.0), ("STEP 4 BAKE", 4.0, 5.0)], spans
    assert reader.calls == 4  # not on the frame equal to the one before


def test_a_slow_pan_over_a_sign_does_not_trigger_ocr():
    """A sign moving with a textured picture 2 px a second (at 640 px) is the same line: OCR
    again only once it has moved more than the 8 px a sample may move from the last read."""
    reader = _ScriptedReader()
    rng = np.random.default_rng(0)
    backdrop = _blur(rng.integers(0, 255, (400, 720, 3)).astype(np.uint8))
    for step in range(8):
        image = np.ascontiguousarray(backdrop[20:380, 2 * step:2 * step + 640])
        box = _paste(image, "PLATFORM 9", 200 - 2 * step, 150)
        reader.add(image, [TextLine("PLATFORM 9", box, 0.9)])
    analyzer = ScreenTextAnalyzer(reader, interval=1.0)
    analyzer.start("video", 8.0)
    observations = []
    for t, (picture, _) in enumerate(reader.pictures):
        observations += analyzer.add(Frame(float(t), picture))
    observations += analyzer.finish()
    assert [(o.text, o.start, o.end) for o in observations] == [("PLATFORM 9", 0.0, 8.0)]
    assert reader.calls == 2  # at 0 s, and at 5 s (10 px from where it was read)


def _blur(image: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.normalize(cv2.GaussianBlur(image, (0, 0), 2), None, 0, 255, cv2.NORM_MINMAX)


def _slides(path, titles: list[str], seconds: float) -> list[tuple[str, float, float]]:
    """A deck on one template (header rule, three fixed bullets, a footer) whose title alone
    changes every `seconds`; returns the titles' truth."""
    import av
    from PIL import Image, ImageDraw, ImageFont

    fps = 10
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps, options={"preset": "veryfast", "g": "20"})
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        k = 0
        for title in titles:
            canvas = Image.new("RGB", (640, 360), (246, 246, 242))
            draw = ImageDraw.Draw(canvas)
            draw.text((32, 26), title, font=ImageFont.load_default(size=30), fill=(30, 30, 40))
            draw.line((32, 72, 608, 72), fill=(200, 60, 40), width=3)
            for i, line in enumerate(["Revenue up twelve percent", "New office in Lisbon",
                                      "Support backlog cleared"]):
                draw.text((62, 104 + 46 * i), line, font=ImageFont.load_default(size=22),
                          fill=(30, 30, 40))
            frame = av.VideoFrame.from_ndarray(np.asarray(canvas), format="rgb24")
            for _ in range(round(seconds * fps)):
                frame.pts = k
                k += 1
                out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return [(t, i * seconds, (i + 1) * seconds) for i, t in enumerate(titles)]


@pytest.mark.slow
def test_reads_every_title_of_a_deck_on_one_template(tmp_path, reader):
    path = tmp_path / "deck.mp4"
    truth = _slides(path, ["Quarterly results", "Market overview", "Customer growth",
                           "Product roadmap", "Hiring plan"], 2.5)
    analyzer = ScreenTextAnalyzer(reader)
    observations = _analyze(path, analyzer)
    for title, start, end in truth:
        found = [o for o in observations if _similarity(o.text, title) >= MIN_SIMILARITY]
        assert len(found) == 1, (title, [(o.text, o.start, o.end) for o in observations])
        # times within one sample: the first and first-after samples
        assert start <= found[0].start <= start + analyzer.interval
        assert end <= found[0].end <= end + analyzer.interval
    assert analyzer.ocr_calls <= len(truth) + 1
