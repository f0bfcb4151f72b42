"""Image embeddings of shots: keyframes placed per shot, the same photo at two times near
identical, different photos clearly apart."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vidseek.analyzers.base import ShotAnalyzer
from vidseek.analyzers.image_embed import ImageEmbeddingAnalyzer
from vidseek.errors import ModelError
from vidseek.media import VideoReader
from vidseek.models import resolve
from vidseek.synth import Script, ShotSpec, build

MOBILENET = "mobilenet-v2-imagenet/mobilenet_v2_1.0_224_quant_qdq.onnx"


@pytest.fixture(scope="module")
def embedded(shared_models, tmp_path_factory):
    shots = [
        ShotSpec(duration=5, content="photo", photo="astronaut", motion="static"),
        ShotSpec(duration=4, content="shapes"),
        ShotSpec(duration=6, content="photo", photo="coffee", motion="pan"),
        ShotSpec(duration=5, content="photo", photo="astronaut", motion="pan"),
        ShotSpec(duration=5, content="photo", photo="chelsea", motion="zoom"),
        ShotSpec(duration=34, content="gradient", motion="static"),
        ShotSpec(duration=5, content="photo", photo="motorcycle", motion="static"),
    ]
    path = tmp_path_factory.mktemp("image_embed") / "photos.mp4"
    truth = build(Script(width=640, height=360, fps=6, shots=shots, audio=False, seed=8), path)
    analyzer = ImageEmbeddingAnalyzer(f"mobilenet:{shared_models / MOBILENET}")
    spans = [(s.start, s.end) for s in truth.shots]
    with VideoReader(path) as reader:
        observations = list(analyzer.analyze("video", spans, reader))
    return analyzer, observations, truth


def _by_shot(observations, truth):
    return [[o for o in observations if shot.start <= o.start < shot.end] for shot in truth.shots]


@pytest.mark.shared
def test_keyframes_cover_each_shot(embedded):
    analyzer, observations, truth = embedded
    assert isinstance(analyzer, ShotAnalyzer)
    assert (analyzer.name, analyzer.version) == ("image", "1")
    per_shot = _by_shot(observations, truth)
    # one keyframe a shot, and one per ~10 s of the 34 s shot
    assert [len(parts) for parts in per_shot] == [1, 1, 1, 1, 1, 3, 1]
    for shot, parts in zip(truth.shots, per_shot):
        assert parts[0].start == pytest.approx(shot.start)
        assert parts[-1].end == pytest.approx(shot.end)
        for a, b in zip(parts, parts[1:]):
            assert a.end == pytest.approx(b.start)
        for obs in parts:
            # the frame is the one shown at the middle of the part it stands for
            middle = (obs.start + obs.end) / 2
            assert middle - 1 / 6 - 1e-6 <= obs.data["frame_time"] <= middle


@pytest.mark.shared
def test_observations_carry_unit_vectors_in_their_space(embedded):
    analyzer, observations, _ = embedded
    name = analyzer.embedder.name
    assert name == "mobilenet_v2"
    for obs in observations:
        assert obs.kind == "image" and obs.video_id == "video" and obs.source == name
        assert obs.text == "" and obs.vector is None and list(obs.vectors) == [name]
        vector = np.asarray(obs.vectors[name])
        assert vector.shape == (analyzer.embedder.dim,) == (1280,)
        assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)
        json.dumps(obs.data)


@pytest.mark.shared
def test_same_photo_at_two_times_is_near_and_other_photos_are_far(embedded):
    _, observations, truth = embedded
    per_shot = _by_shot(observations, truth)
    vectors = {}
    for shot, parts in zip(truth.shots, per_shot):
        vectors.setdefault(shot.photo or shot.content, []).append(np.asarray(parts[0].vectors[
            "mobilenet_v2"]))
    first, again = vectors["astronaut"]  # a static shot and, 10 s later, a panning one
    same = float(first @ again)
    others = [float(first @ vectors[name][0])
              for name in ("coffee", "chelsea", "motorcycle", "shapes", "gradient")]
    assert same > 0.85 and max(others) < same - 0.3, (same, others)
    # the three keyframes of the static gradient shot show the same picture (only the
    # timecode strip changes: 0.94-0.95 measured)
    gradient = [np.asarray(o.vectors["mobilenet_v2"]) for o in per_shot[5]]
    assert min(float(gradient[0] @ g) for g in gradient[1:]) > 0.9


def test_parts_and_settings():
    class Embedder:
        name, dim = "test", 4

        def embed(self, images):
            return np.zeros((len(images), 4), np.float32)

    analyzer = ImageEmbeddingAnalyzer(Embedder(), spacing=10.0)
    assert analyzer.parts(2.0, 6.0) == [(2.0, 6.0)]
    assert analyzer.parts(0.0, 300.0)[:2] == [(0.0, 10.0), (10.0, 20.0)]
    assert len(analyzer.parts(0.0, 300.0)) == 30
    assert analyzer.parts(0.0, 14.0) == [(0.0, 14.0)]  # round(1.4) = 1
    assert analyzer.parts(5.0, 5.0) == []
    with pytest.raises(ValueError, match="spacing"):
        ImageEmbeddingAnalyzer(Embedder(), spacing=0)
    with pytest.raises(ModelError, match="mobilenet:"):
        ImageEmbeddingAnalyzer("clip:/no/such/model")
    with pytest.raises(ModelError, match="does not exist"):
        resolve("image_embedder", "mobilenet:/no/such/model.onnx")
