"""Shot captions on a synthetic video with exact shot times, against a real OpenAI-compatible
HTTP server on loopback that answers from a script (chat_server.py)."""

from __future__ import annotations

import base64
import io
import re
import socket

import numpy as np
import pytest
from chat_server import IMAGE_TOKENS, Reply, ScriptedChatServer, texts
from PIL import Image

from vidseek.analyzers.base import ShotAnalyzer
from vidseek.analyzers.captions import INSTRUCTION, CaptionAnalyzer
from vidseek.errors import ModelError
from vidseek.media import VideoReader
from vidseek.models.chat import OpenAIChat
from vidseek.models.protocols import ChatModelError
from vidseek.synth import Script, ShotSpec, build, read_timecode

CAPTIONS = ["An astronaut in a white suit poses in front of a flag.",
            "Coloured shapes on a plain background.",
            "A cup of coffee with latte art on a saucer."]
FRAME_TEXT = re.compile(r"^Frame at (\d+\.\d\d) s$")


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    """Three shots: 4 s, 3 s and 5 s, cut at exactly known times."""
    shots = [ShotSpec(duration=4, content="photo", photo="astronaut", motion="static"),
             ShotSpec(duration=3, content="shapes"),
             ShotSpec(duration=5, content="photo", photo="coffee")]
    path = tmp_path_factory.mktemp("captions") / "three_shots.mp4"
    truth = build(Script(width=640, height=360, fps=12, shots=shots, audio=False, seed=2), path)
    return path, [(shot.start, shot.end) for shot in truth.shots]


def _run(analyzer: CaptionAnalyzer, path, shots):
    with VideoReader(path) as reader:
        return list(analyzer.analyze("video", shots, reader))


def _client(server: ScriptedChatServer, **options) -> OpenAIChat:
    return OpenAIChat(server.url, server.model, backoff=0.01, **options)


def _stated_times(body) -> list[float]:
    """The times the text parts of a request body state, in order."""
    return [float(m.group(1)) for text in texts(body) if (m := FRAME_TEXT.match(text))]


def _picture(url: str) -> np.ndarray:
    prefix = "data:image/jpeg;base64,"
    assert url.startswith(prefix)
    image = Image.open(io.BytesIO(base64.b64decode(url[len(prefix):])))
    assert image.format == "JPEG"
    return np.asarray(image.convert("RGB"))


def test_one_request_per_shot_with_timed_frames_and_the_captions_stored(video):
    path, shots = video
    with ScriptedChatServer(CAPTIONS) as server, _client(server) as model:
        analyzer = CaptionAnalyzer(model, frames_per_shot=3, size=320)
        observations = _run(analyzer, path, shots)
    assert isinstance(analyzer, ShotAnalyzer)
    assert (analyzer.name, analyzer.version) == ("captions", "1")
    assert len(server.requests) == len(shots) == analyzer.calls == 3
    assert analyzer.frames_sent == 9
    assert [o.text for o in observations] == CAPTIONS
    for observation, request, (start, end) in zip(observations, server.requests, shots):
        assert (observation.kind, observation.video_id) == ("caption", "video")
        assert (observation.start, observation.end) == (start, end)
        assert observation.source == "openai:scripted-vlm"
        assert observation.vector is None
        # each picture follows the text stating its time; the instruction comes last
        parts = request.parts
        assert [p["type"] for p in parts] == ["text", "image_url"] * 3 + ["text"]
        assert parts[-1]["text"] == INSTRUCTION
        frames = observation.data["frames"]
        assert _stated_times(request.body) == [round(t, 2) for t in frames]
        assert all(start <= t < end for t in frames), (frames, start, end)
        assert frames == sorted(frames) and frames[-1] - frames[0] > (end - start) / 2
        # the pictures sent are the frames at the stated times (their timecode barcode)
        for url, time in zip(request.image_urls, frames):
            picture = _picture(url)
            assert max(picture.shape[:2]) == 320
            assert read_timecode(picture) == round(time * 1000)
        words = sum(len(text.split()) for text in request.texts)
        assert observation.data["prompt_tokens"] == words + 3 * IMAGE_TOKENS
        assert observation.data["completion_tokens"] == len(observation.text.split())
        assert observation.data["model"] == "scripted-vlm"
        assert 0 < observation.data["seconds"] < 5
        assert request.body["temperature"] == 0.0 and request.body["max_tokens"] > 0


def test_long_shots_are_split_into_segments(video):
    path, shots = video
    def answer(request):
        return f"Frames from {_stated_times(request)[0]:.2f} s."

    with ScriptedChatServer(answer) as server, _client(server) as model:
        analyzer = CaptionAnalyzer(model, frames_per_shot=2, max_segment=2.0, size=160)
        observations = _run(analyzer, path, shots)
    # 4 s -> 2 segments of 2 s, 3 s -> 2 of 1.5 s, 5 s -> 3 of 1.667 s
    spans = [(round(o.start, 3), round(o.end, 3)) for o in observations]
    assert spans == [(0, 2), (2, 4), (4, 5.5), (5.5, 7), (7, 8.667), (8.667, 10.333),
                     (10.333, 12)], spans
    assert len(server.requests) == 7
    for observation, request in zip(observations, server.requests):
        frames = observation.data["frames"]
        assert len(frames) == 2 and len(request.image_urls) == 2
        assert all(observation.start <= t < observation.end for t in frames)
        assert observation.text == f"Frames from {frames[0]:.2f} s."


def test_empty_replies_are_skipped(video):
    path, shots = video
    with ScriptedChatServer([CAPTIONS[0], "   \n", Reply(f"  {CAPTIONS[2]}\n")]) as server, \
            _client(server) as model:
        observations = _run(CaptionAnalyzer(model, frames_per_shot=1, size=160), path, shots)
    assert len(server.requests) == 3
    assert [(o.text, o.start) for o in observations] == [(CAPTIONS[0], shots[0][0]),
                                                         (CAPTIONS[2], shots[2][0])]


def test_concurrent_requests_keep_captions_in_order(video):
    path, shots = video

    def answer(request):
        first = _stated_times(request)[0]
        # the first request (frame at 1 s) answers after the two sent with it
        return Reply(f"Starts at {first:.2f} s.", delay=0.4 if first < 1.5 else 0.0)

    with ScriptedChatServer(answer) as server, _client(server) as model:
        analyzer = CaptionAnalyzer(model, frames_per_shot=1, max_segment=2.0, size=160,
                                   concurrency=3)
        observations = _run(analyzer, path, shots)
    assert len(observations) == len(server.requests) == 7
    assert [o.start for o in observations] == sorted(o.start for o in observations)
    for observation in observations:
        assert observation.text == f"Starts at {observation.data['frames'][0]:.2f} s."
    assert len({_stated_times(r.body)[0] for r in server.requests}) == 7  # none sent twice
    # the second and third were sent before the first was answered
    assert server.requests[2].received - server.requests[0].received < 0.4


def test_a_model_spec_works_and_a_server_that_is_down_raises(video):
    path, shots = video
    with ScriptedChatServer(CAPTIONS) as server:
        analyzer = CaptionAnalyzer(server.spec, frames_per_shot=1, size=160)
        assert [o.text for o in _run(analyzer, path, shots)] == CAPTIONS
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    down = CaptionAnalyzer(OpenAIChat(f"http://127.0.0.1:{port}/v1", "m", retries=0),
                           frames_per_shot=1, size=160)
    with pytest.raises(ChatModelError, match=f"127.0.0.1:{port}") as caught:
        _run(down, path, shots)
    assert isinstance(caught.value, ModelError)


def test_a_server_error_fails_the_analyzer(video):
    path, shots = video
    script = [CAPTIONS[0], Reply.failure(400, "image too large for this model")]
    with ScriptedChatServer(script) as server, _client(server) as model:
        analyzer = CaptionAnalyzer(model, frames_per_shot=1, size=160)
        with VideoReader(path) as reader:
            captions = analyzer.analyze("video", shots, reader)
            assert next(captions).text == CAPTIONS[0]  # lazily: the first caption comes first
            with pytest.raises(ChatModelError, match="image too large"):
                next(captions)


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="frames_per_shot"):
        CaptionAnalyzer(OpenAIChat("http://127.0.0.1:9/v1", "m"), frames_per_shot=0)
    with pytest.raises(ValueError, match="max_segment"):
        CaptionAnalyzer(OpenAIChat("http://127.0.0.1:9/v1", "m"), max_segment=0)
    with pytest.raises(ModelError, match="openai:"):
        CaptionAnalyzer("blip:base")
