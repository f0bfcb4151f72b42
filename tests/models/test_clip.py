"""Image-text embedders (CLIP, SigLIP) and the shot analyzer that uses them.

No real CLIP or SigLIP weights can be had here, so tiny randomly initialised models are built
with transformers and saved with ``save_pretrained``; every test then goes through the real
loading and inference path (``resolve("image_text_embedder", "clip:" + folder)``) and checks it
against transformers' own ``get_image_features`` / ``get_text_features``.
"""

from __future__ import annotations

import gzip
import importlib.util
import sys

import numpy as np
import pytest

from vidseek.errors import ModelError
from vidseek.models import clip, resolve
from vidseek.models.clip import HFClip, OnnxClip, clip_bpe_tokenizer, export_onnx
from vidseek.models.hub import ALLOW_DOWNLOADS_ENV
from vidseek.models.protocols import ImageTextEmbedder

SOT, EOT = "<|startoftext|>", "<|endoftext|>"
# a few merges on top of the 512 byte-level characters, so some words are single tokens
TINY_MERGES = [("c", "a"), ("ca", "t</w>"), ("d", "o"), ("do", "g</w>"), ("t", "h"),
               ("th", "e</w>"), ("r", "e"), ("re", "d</w>")]
TEXTS = ["a photo of a cat", "the red dog", "", "Ünïcödé, isn't it? 123 " * 3,
         "a long caption " * 40]
ONNX_MISSING = ("torch's ONNX exporter needs the 'onnx' package (and 'onnxscript' for its "
                "newer exporter), which is not installed")


def _images(count: int, seed: int = 0) -> list[np.ndarray]:
    """Random RGB pictures of different sizes and shapes (wide, tall, tiny)."""
    rng = np.random.default_rng(seed)
    sizes = [(48, 64), (64, 40), (20, 30), (33, 33), (90, 160), (32, 32), (17, 71)]
    return [rng.integers(0, 256, (*sizes[i % len(sizes)], 3), dtype=np.uint8)
            for i in range(count)]


def _unit(vectors) -> np.ndarray:
    vectors = np.asarray(vectors, np.float64)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _clip_tokenizer(transformers, merges, **kwargs):
    """transformers' CLIPTokenizer over CLIP's vocabulary layout: 256 byte characters, the
    same with ``</w>``, one token per merge, then the start and end tokens."""
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    chars = list(bytes_to_unicode().values())
    tokens = chars + [c + "</w>" for c in chars] + ["".join(m) for m in merges] + [SOT, EOT]
    vocab = {token: i for i, token in enumerate(tokens)}
    return transformers.CLIPTokenizer(vocab=vocab, merges=list(merges), **kwargs), vocab


def _image_processor(transformers, family: str, side: int):
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil
    from transformers.models.siglip.image_processing_pil_siglip import SiglipImageProcessorPil

    if family == "siglip":
        return SiglipImageProcessorPil(size={"height": side, "width": side})
    return CLIPImageProcessorPil(size={"shortest_edge": side},
                                 crop_size={"height": side, "width": side})


def _save_tiny(transformers, family: str, directory) -> None:
    """A tiny random CLIP (hidden 32, 2 layers, 32 px pictures, 8 px patches) or SigLIP,
    with its processor, saved as a Hugging Face folder.

    SigLIP's own tokenizer needs the sentencepiece package; a CLIP tokenizer stands in (the
    backend treats SigLIP by its model type, not by its tokenizer)."""
    context = 77 if family == "clip" else 16
    tokenizer, vocab = _clip_tokenizer(transformers, TINY_MERGES, model_max_length=context)
    tower = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                 num_attention_heads=2)
    text = dict(tower, vocab_size=len(vocab), max_position_embeddings=context,
                bos_token_id=vocab[SOT], eos_token_id=vocab[EOT], pad_token_id=vocab[EOT])
    vision = dict(tower, image_size=32, patch_size=8)
    if family == "clip":
        config = transformers.CLIPConfig(text_config=text, vision_config=vision,
                                         projection_dim=16)
        model, processor_class = transformers.CLIPModel(config), transformers.CLIPProcessor
    else:
        config = transformers.SiglipConfig(text_config=text, vision_config=vision)
        model, processor_class = transformers.SiglipModel(config), transformers.SiglipProcessor
    processor = processor_class(image_processor=_image_processor(transformers, family, 32),
                                tokenizer=tokenizer)
    model.save_pretrained(directory)
    processor.save_pretrained(directory)


@pytest.fixture(scope="module")
def transformers():
    pytest.importorskip("torch", reason="needs the clip extra: pip install 'vidseek[clip]'")
    return pytest.importorskip("transformers",
                               reason="needs the clip extra: pip install 'vidseek[clip]'")


@pytest.fixture(scope="module")
def tiny_dirs(transformers, tmp_path_factory):
    """{"clip": folder, "siglip": folder}, each named after its family."""
    root = tmp_path_factory.mktemp("tiny-models")
    dirs = {}
    for family in ("clip", "siglip"):
        dirs[family] = root / f"tiny-{family}"
        _save_tiny(transformers, family, dirs[family])
    return dirs


@pytest.fixture(scope="module")
def reference(transformers, tiny_dirs):
    """transformers' own outputs, normalised: reference(family, images=..., texts=...)."""
    import torch

    loaded = {}

    def outputs(family: str, *, images=None, texts=None, padding=None) -> np.ndarray:
        if family not in loaded:
            folder = tiny_dirs[family]
            loaded[family] = (transformers.AutoProcessor.from_pretrained(folder),
                              transformers.AutoModel.from_pretrained(folder).eval())
        processor, model = loaded[family]
        with torch.no_grad():
            if images is not None:
                out = model.get_image_features(**processor(images=images, return_tensors="pt"))
            else:
                siglip = family == "siglip"
                padding = padding or ("max_length" if siglip else True)
                encoded = processor.tokenizer(texts, padding=padding, truncation=True,
                                              max_length=77 if not siglip else 16,
                                              return_tensors="pt")
                inputs = {"input_ids": encoded["input_ids"]}
                if not siglip:
                    inputs["attention_mask"] = encoded["attention_mask"]
                out = model.get_text_features(**inputs)
        return _unit(getattr(out, "pooler_output", out).numpy())

    return outputs


@pytest.fixture(scope="module")
def embedders(tiny_dirs):
    return {family: resolve("image_text_embedder", f"{family}:{folder}")
            for family, folder in tiny_dirs.items()}


# -- the transformers backend ----------------------------------------------------------------


@pytest.mark.torch
@pytest.mark.parametrize("family", ["clip", "siglip"])
def test_outputs_equal_transformers_features(family, embedders, reference):
    embedder = embedders[family]
    assert isinstance(embedder, HFClip) and isinstance(embedder, ImageTextEmbedder)
    assert embedder.name == f"{family}:tiny-{family}"
    images = _images(5)
    image_vectors = embedder.images(images)
    text_vectors = embedder.texts(TEXTS)
    # texts and pictures land in one space
    assert image_vectors.shape == (5, embedder.dim)
    assert text_vectors.shape == (len(TEXTS), embedder.dim)
    assert embedder.dim == (16 if family == "clip" else 32)
    for vectors in (image_vectors, text_vectors):
        assert vectors.dtype == np.float32
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(image_vectors, reference(family, images=images), atol=1e-5)
    np.testing.assert_allclose(text_vectors, reference(family, texts=TEXTS), atol=1e-5)
    assert embedder.image_size == 32


@pytest.mark.torch
@pytest.mark.parametrize("family", ["clip", "siglip"])
def test_batches_equal_one_by_one_and_repeat_exactly(family, tiny_dirs):
    embedder = resolve("image_text_embedder", f"{family}:{tiny_dirs[family]}", batch_size=3)
    images = _images(7, seed=1)
    together = embedder.images(images)
    alone = np.concatenate([embedder.images([image]) for image in images])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    np.testing.assert_array_equal(embedder.images(images), together)
    texts = embedder.texts(TEXTS)
    np.testing.assert_allclose(texts, np.concatenate([embedder.texts([t]) for t in TEXTS]),
                               atol=1e-5)
    np.testing.assert_array_equal(embedder.texts(TEXTS), texts)
    # different inputs, different vectors
    assert np.abs(together[0] - together[1]).max() > 1e-3
    assert np.abs(texts[0] - texts[1]).max() > 1e-3


@pytest.mark.torch
def test_siglip_texts_are_padded_to_the_full_context(embedders, reference):
    """SigLIP has no attention mask in training: its texts must be padded to the full
    context, and padding to the longest text in the batch gives other vectors."""
    texts = ["a cat", "the red dog"]
    ours = embedders["siglip"].texts(texts)
    np.testing.assert_allclose(ours, reference("siglip", texts=texts), atol=1e-5)
    shorter = reference("siglip", texts=texts, padding=True)
    assert np.abs(ours - shorter).max() > 1e-3


@pytest.mark.torch
def test_empty_input_and_bad_pictures(embedders):
    embedder = embedders["clip"]
    assert embedder.images([]).shape == (0, embedder.dim)
    assert embedder.texts([]).shape == (0, embedder.dim)
    for bad in (np.zeros((8, 8), np.uint8), np.zeros((8, 8, 4), np.uint8),
                np.zeros((8, 8, 3), np.float32)):
        with pytest.raises(ValueError, match="uint8 RGB"):
            embedder.images([bad])


# -- the ONNX backend ------------------------------------------------------------------------


@pytest.mark.torch
@pytest.mark.parametrize("family", ["clip", "siglip"])
def test_torch_free_preprocessing_equals_the_image_processor(family, embedders, transformers):
    """What OnnxClip feeds its visual model is what transformers' processor makes."""
    embedder = embedders[family]
    embedder.images(_images(1))  # loads the model
    config = clip._export_config(embedder, embedder._processor.image_processor, "tiny")
    images = _images(7, seed=2)
    ours = np.stack([clip.preprocess(image, config) for image in images])
    theirs = embedder._processor.image_processor(images=images, return_tensors="np")
    np.testing.assert_allclose(ours, theirs["pixel_values"], atol=1e-5)


@pytest.mark.torch
@pytest.mark.slow
@pytest.mark.parametrize("family", ["clip", "siglip"])
def test_onnx_export_matches_torch(family, tiny_dirs, embedders, tmp_path):
    if importlib.util.find_spec("onnx") is None:
        pytest.skip(ONNX_MISSING)
    out = export_onnx(tiny_dirs[family], tmp_path / f"tiny-{family}-onnx",
                      name=f"tiny-{family}")
    assert {p.name for p in out.iterdir()} >= {"visual.onnx", "textual.onnx",
                                               "tokenizer.json", "config.json"}
    onnx = resolve("image_text_embedder", f"{family}:{out}")
    torch_side = embedders[family]
    assert isinstance(onnx, OnnxClip) and isinstance(onnx, ImageTextEmbedder)
    assert (onnx.name, onnx.dim, onnx.image_size) == (torch_side.name, torch_side.dim, 32)
    images = _images(7, seed=3)
    np.testing.assert_allclose(onnx.images(images), torch_side.images(images), atol=1e-4)
    np.testing.assert_allclose(onnx.texts(TEXTS), torch_side.texts(TEXTS), atol=1e-4)
    one_by_one = np.concatenate([onnx.texts([t]) for t in TEXTS])
    np.testing.assert_allclose(one_by_one, onnx.texts(TEXTS), atol=1e-5)


@pytest.mark.torch
def test_export_without_onnx_says_what_to_install(tiny_dirs, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # find_spec then says it is absent
    with pytest.raises(ModelError, match="pip install onnx"):
        export_onnx(tiny_dirs["clip"], tmp_path / "out")


@pytest.mark.torch
@pytest.mark.shared
def test_clip_bpe_tokenizer_matches_transformers(shared_models, transformers):
    """The tokenizer built from CLIP's merges file gives transformers' CLIPTokenizer ids."""
    merges_file = shared_models / "clip-bpe-tokenizer" / "bpe_simple_vocab_16e6.txt.gz"
    ours = clip_bpe_tokenizer(merges_file)
    with gzip.open(merges_file, "rt", encoding="utf-8") as f:
        lines = f.read().split("\n")
    merges = [tuple(line.split()) for line in lines[1:48895]]
    theirs, vocab = _clip_tokenizer(transformers, merges, model_max_length=77)
    assert len(vocab) == 49408 and vocab[SOT] == 49406 and vocab[EOT] == 49407
    texts = TEXTS + ["A PHOTO of  two\tdogs!!", "naïve café — 5 km/h", "emoji 🐈 cat",
                     "they'll've it's", "日本語のテキスト", "x" * 300]
    for text in texts:
        assert ours.encode(text).ids == theirs(text)["input_ids"], text
    assert ours.encode("a photo of a cat").ids == [49406, 320, 1125, 539, 320, 2368, 49407]


# -- errors ----------------------------------------------------------------------------------


def test_unknown_spec_forms_say_what_is_valid(tmp_path):
    for spec in ("openclip:ViT-B-32", "clip:", "clip", "whisper:tiny.en"):
        with pytest.raises(ModelError, match="clip:/path/to/model-dir"):
            resolve("image_text_embedder", spec)
    with pytest.raises(ModelError, match="does not exist"):
        resolve("image_text_embedder", f"clip:{tmp_path / 'nothing-here'}")
    with pytest.raises(ModelError, match="neither a Hugging Face model folder"):
        resolve("image_text_embedder", f"clip:{tmp_path}")


def test_onnx_folder_without_its_files(tmp_path):
    (tmp_path / "visual.onnx").write_bytes(b"")
    (tmp_path / "textual.onnx").write_bytes(b"")
    with pytest.raises(ModelError, match="no config.json"):
        resolve("image_text_embedder", f"clip:{tmp_path}")
    (tmp_path / "config.json").write_text('{"model_type": "clip"}')
    with pytest.raises(ModelError, match="export_onnx"):
        resolve("image_text_embedder", f"clip:{tmp_path}")


def test_hub_name_needs_downloads_allowed(monkeypatch):
    monkeypatch.delenv(ALLOW_DOWNLOADS_ENV, raising=False)
    with pytest.raises(ModelError, match="VIDSEEK_ALLOW_DOWNLOADS=1") as caught:
        resolve("image_text_embedder", "clip:vidseek-tests/no-such-model")
    assert "hf download vidseek-tests/no-such-model" in str(caught.value)


def test_hub_name_with_downloads_allowed_but_offline(monkeypatch):
    constants = pytest.importorskip("huggingface_hub.constants")
    if not constants.HF_HUB_OFFLINE:
        pytest.skip("HF_HUB_OFFLINE was not set when huggingface_hub was imported")
    monkeypatch.setenv(ALLOW_DOWNLOADS_ENV, "1")
    with pytest.raises(ModelError, match="could not download"):
        resolve("image_text_embedder", "clip:vidseek-tests/no-such-model")


@pytest.mark.torch
def test_folder_without_weights_says_what_it_needs(tiny_dirs, tmp_path):
    for part in tiny_dirs["clip"].glob("*.json"):  # everything but the weights
        (tmp_path / part.name).write_bytes(part.read_bytes())
    embedder = resolve("image_text_embedder", f"clip:{tmp_path}")
    with pytest.raises(ModelError, match="needs config.json, weights"):
        embedder.images(_images(1))


@pytest.mark.torch
def test_missing_extra_says_what_to_install(tiny_dirs, monkeypatch):
    embedder = resolve("image_text_embedder", f"clip:{tiny_dirs['clip']}")  # resolves lazily
    monkeypatch.setitem(sys.modules, "torch", None)  # as if torch were not installed
    with pytest.raises(ModelError, match=r"pip install 'vidseek\[clip\]'"):
        embedder.texts(["a cat"])


# -- the analyzer ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shot_video(tmp_path_factory):
    from vidseek.synth import Script, ShotSpec, build

    shots = [ShotSpec(duration=3, content="photo", photo="astronaut", motion="static"),
             ShotSpec(duration=2, content="color", color="#2255cc", motion="static"),
             ShotSpec(duration=13, content="photo", photo="coffee", motion="pan")]
    script = Script(width=320, height=180, fps=10, shots=shots, audio=False, seed=1)
    path = tmp_path_factory.mktemp("clip-analyzer") / "shots.mp4"
    return path, build(script, path)


@pytest.mark.torch
def test_analyzer_embeds_one_frame_per_stretch_of_each_shot(shot_video, embedders):
    from vidseek.analyzers.base import ShotAnalyzer
    from vidseek.analyzers.clip import ClipAnalyzer
    from vidseek.media import VideoReader

    path, truth = shot_video
    embedder = embedders["clip"]
    analyzer = ClipAnalyzer(embedder, spacing=5.0, batch=2)
    assert isinstance(analyzer, ShotAnalyzer)
    assert (analyzer.name, analyzer.version) == ("clip", "1")
    shots = [(shot.start, shot.end) for shot in truth.shots]
    with VideoReader(path) as reader:
        observations = list(analyzer.analyze("video", shots, reader))
        # the 13 s shot is cut into round(13 / 5) = 3 stretches of 4.333 s
        expected = [(0.0, 3.0), (3.0, 5.0), (5.0, 5 + 13 / 3), (5 + 13 / 3, 5 + 26 / 3),
                    (5 + 26 / 3, 18.0)]
        found = [(o.start, o.end) for o in observations]
        assert np.allclose(found, expected, atol=1e-6), found
        for obs, (start, end) in zip(observations, expected):
            assert obs.kind == "image" and obs.video_id == "video" and obs.vector is None
            assert obs.source == embedder.name and list(obs.vectors) == [embedder.name]
            assert len(obs.vectors[embedder.name]) == embedder.dim
            frame_time = obs.data["frame_time"]
            # the frame on screen at the middle of the stretch
            assert (start + end) / 2 - 0.1 - 1e-6 <= frame_time <= (start + end) / 2 + 1e-6
        # each vector is the embedding of the frame it names, read as the analyzer reads
        times = [o.data["frame_time"] for o in observations]
        frames = list(reader.at(times, size=analyzer._read_size(reader)))
    assert all(min(f.image.shape[:2]) == 32 for f in frames)  # the model's side, not the video's
    vectors = np.array([o.vectors[embedder.name] for o in observations])
    np.testing.assert_allclose(vectors, embedder.images([f.image for f in frames]), atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.abs(vectors[0] - vectors[1]).max() > 1e-3  # a photo and a flat colour differ
