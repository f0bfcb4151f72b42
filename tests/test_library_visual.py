"""The visual channels end to end through the library: faces, object and scene tags, image
embeddings and VLM captions, on a synthetic video that pastes real photos at known times,
with the model files of ../shared/models and a real chat-completions server on 127.0.0.1."""

from __future__ import annotations

import numpy as np
import pytest
from chat_server import ScriptedChatServer

from vidseek.library import Library
from vidseek.synth import PictureSpec, Script, ShotSpec, build
from vidseek.synth.photos import load_photo

pytestmark = [pytest.mark.shared, pytest.mark.slow]

FACE = (3.0, 11.0)  # the astronaut's face is on screen [3, 11)
CAT = (14.0, 22.0)  # chelsea, a tabby cat


def _overlap(obs, span) -> float:
    return max(0.0, min(obs.end, span[1]) - max(obs.start, span[0]))


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    from PIL import Image

    folder = tmp_path_factory.mktemp("visual")
    path = folder / "photos.mp4"
    # head and shoulders of scikit-image's astronaut: big enough on screen for the detector
    face = folder / "astronaut_face.png"
    Image.fromarray(np.asarray(load_photo("astronaut"))[20:240, 110:340]).save(face)
    build(Script(width=640, height=360, fps=10.0, audio=False, seed=5,
                 shots=[ShotSpec(duration=12, content="gradient", motion="static"),
                        ShotSpec(duration=12, content="color", motion="static")],
                 pictures=[PictureSpec(photo=str(face), start=FACE[0], end=FACE[1],
                                       scale=0.7),
                           PictureSpec(photo="chelsea", start=CAT[0], end=CAT[1], scale=0.7)]),
          path)
    return path


@pytest.fixture(scope="module")
def models(shared_models):
    mobilenet = shared_models / "mobilenet-v2-imagenet" / "mobilenet_v2_1.0_224_quant_qdq.onnx"
    return {"detector": f"yolox:{shared_models / 'yolox-nano-coco' / 'yolox_nano.onnx'}",
            "classifier": f"imagenet:{mobilenet}", "image_embedder": f"mobilenet:{mobilenet}"}


def test_every_visual_channel_lands_in_the_library(video, models, tmp_path, monkeypatch):
    monkeypatch.setenv("VIDSEEK_MODELS", str(tmp_path / "no-models"))
    with ScriptedChatServer(lambda body: "A picture on a plain background.") as server, \
            Library(tmp_path / "lib", models={**models, "captioner": server.spec}) as lib:
        assert lib.analyzers == ["shots", "speech", "text", "faces", "objects", "image",
                                 "captions"]
        result = lib.index([video]).results[0]
        assert result.status == "indexed", result.errors
        vid = result.video_id

        faces = lib.observations(vid, kinds=["face"])
        assert faces and all(_overlap(f, FACE) > 0 for f in faces)
        assert max(_overlap(f, FACE) for f in faces) / (FACE[1] - FACE[0]) > 0.5

        # tags are found by words, in their time range
        cats = [o for o, _ in lib.store.text_search("cat", kinds=["visual"])]
        assert cats and all(_overlap(o, CAT) > 0 for o in cats)
        people = lib.observations(vid, kinds=["person"])
        assert any(_overlap(p, FACE) > 0 for p in people)

        # query by image: the cat photo finds the cat's stretch first
        from vidseek.models import resolve

        embedder = resolve("image_embedder", models["image_embedder"])
        (best, similarity), *_ = lib.store.nearest(
            embedder.embed([np.asarray(load_photo("chelsea"))])[0], space=embedder.name)
        assert CAT[0] <= best.data["frame_time"] < CAT[1] and similarity > 0.6

        # query by face: the astronaut's descriptor finds the face track
        from vidseek.models.faces import DESCRIPTOR_SPACE

        # observations() leaves other spaces' vectors out; the space table has them
        track = lib.store.space_observations(DESCRIPTOR_SPACE, vid)[0].vectors[DESCRIPTOR_SPACE]
        (match, closeness), *_ = lib.store.nearest(track, space=DESCRIPTOR_SPACE)
        assert match.kind == "face" and closeness > 0.99

        captions = lib.observations(vid, kinds=["caption"])
        shots = lib.observations(vid, kinds=["shot"])
        assert len(captions) >= len(shots) == len(server.chat_requests)
        assert all(c.text == "A picture on a plain background." for c in captions)
        assert all(len(r.image_urls) >= 1 for r in server.chat_requests)

        # indexing again does nothing
        assert lib.index([video]).results[0].status == "unchanged"


def test_a_broken_model_server_fails_only_its_analyzer(video, models, tmp_path, monkeypatch):
    monkeypatch.setenv("VIDSEEK_MODELS", str(tmp_path / "no-models"))
    with ScriptedChatServer([]) as server:
        down = server.spec  # the server stops at the end of the block: nothing listens
    with Library(tmp_path / "lib", analyzers=["shots", "faces", "captions"],
                 models={"captioner": down}) as lib:
        result = lib.index([video]).results[0]
        assert result.status == "failed" and set(result.errors) == {"captions"}
        assert "127.0.0.1" in result.errors["captions"]
        assert {r.analyzer for r in lib.store.runs(result.video_id)} == {"shots", "faces"}
