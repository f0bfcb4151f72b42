from __future__ import annotations

import io
import shutil

import numpy as np
import pytest
from PIL import Image

from vidseek.media import read_audio, thumbnails
from vidseek.synth import Script, ShotSpec, SpeechSpec, build


@pytest.fixture(scope="module")
def spoken(tmp_path_factory):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    script = Script(
        width=320, height=180, fps=25.0, start_time=2.0,
        shots=[ShotSpec(duration=6.0, content="photo"), ShotSpec(duration=6.0, content="color")],
        speech=[SpeechSpec(text="The red kettle is on the stove.", start=2.0),
                SpeechSpec(text="Seven blue boats left the harbour.", start=8.0)],
    )
    path = tmp_path_factory.mktemp("audio") / "spoken.mp4"
    return path, build(script, path)


def test_audio_chunks_are_contiguous_and_timed(spoken):
    path, truth = spoken
    chunks = list(read_audio(path, chunk_seconds=2.5))
    assert chunks[0].start == pytest.approx(0.0, abs=0.03)
    for a, b in zip(chunks, chunks[1:]):
        assert b.start == pytest.approx(a.end, abs=1e-9)
        assert len(a.samples) == 2.5 * 16000
    samples = np.concatenate([c.samples for c in chunks])
    assert samples.dtype == np.float32 and np.abs(samples).max() <= 1.0
    assert len(samples) / 16000 == pytest.approx(truth.duration, abs=0.1)

    # Speech starts where the truth says (timeline seconds, despite the 2 s late start).
    loud = np.abs(samples) > 0.02
    for spoken_item in truth.speech:
        first = np.argmax(loud[int(spoken_item.start * 16000) - 8000 :]) / 16000
        onset = spoken_item.start - 0.5 + first
        assert onset == pytest.approx(spoken_item.start, abs=0.05)
    assert not loud[: int(truth.speech[0].start * 16000) - 800].any()


def test_thumbnails(spoken):
    path, truth = spoken
    made = thumbnails(path, [7.0, 1.0, 3.3], size=160, format="webp")
    assert [t.requested for t in made] == [7.0, 1.0, 3.3]
    for thumb in made:
        image = Image.open(io.BytesIO(thumb.data))
        assert image.format == "WEBP"
        assert image.size == (thumb.width, thumb.height) == (160, 90)
        assert thumb.time <= thumb.requested < thumb.time + 1 / truth.fps + 1e-6
    jpeg = thumbnails(path, [0.0])[0]
    assert jpeg.data[:2] == b"\xff\xd8" and jpeg.width == 320
    with pytest.raises(ValueError):
        thumbnails(path, [0.0], format="gif")
