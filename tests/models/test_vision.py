"""YOLOX objects, ImageNet tags and MobileNetV2 embeddings on scikit-image photos; spec strings
and their errors."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from vidseek.errors import ModelError
from vidseek.models import resolve
from vidseek.models.protocols import ImageClassifier, ImageEmbedder, ObjectDetector
from vidseek.models.vision import COCO_LABELS, ImageNetClassifier, YoloxDetector
from vidseek.synth.photos import load_photo

pytestmark = pytest.mark.shared

YOLOX = "yolox-nano-coco/yolox_nano.onnx"
MOBILENET = "mobilenet-v2-imagenet/mobilenet_v2_1.0_224_quant_qdq.onnx"


@pytest.fixture(scope="module")
def detector(shared_models) -> YoloxDetector:
    return resolve("detector", f"yolox:{shared_models / YOLOX}")


@pytest.fixture(scope="module")
def classifier(shared_models) -> ImageNetClassifier:
    return resolve("classifier", f"imagenet:{shared_models / MOBILENET}")


def _labels(detections, min_score=0.4) -> set[str]:
    return {d.label for d in detections if d.score >= min_score}


def test_detector_finds_the_objects_of_photos(detector):
    assert isinstance(detector, ObjectDetector)
    assert detector.name == "yolox:yolox_nano"
    # names from coco80_names.txt beside the model, not the VOC-style names of coco_classes.txt
    assert "motorcycle" in detector.labels and "motorbike" not in detector.labels
    expected = {"astronaut": "person", "coffee": "cup", "chelsea": "cat",
                "motorcycle": "motorcycle"}
    for photo, label in expected.items():
        detections = detector.detect(load_photo(photo))
        assert label in _labels(detections), (photo, detections)
        scores = [d.score for d in detections]
        assert scores == sorted(scores, reverse=True)
        for d in detections:
            x0, y0, x1, y1 = d.box
            assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1 and 0 < d.score <= 1
    assert _labels(detector.detect(load_photo("rocket"))) == set()  # COCO has no rocket


def test_boxes_are_fractions_of_the_picture_whatever_its_shape(detector):
    """The cat pasted at a known place in a wide and in a tall canvas: the letterbox scale
    and offsets are undone, so its box lands on the paste."""
    cat = load_photo("chelsea")  # 451 x 300
    for width, height, x, y in ((1280, 540, 700, 200), (500, 900, 30, 520)):
        canvas = np.full((height, width, 3), 40, np.uint8)
        canvas[y:y + cat.shape[0], x:x + cat.shape[1]] = cat
        cats = [d for d in detector.detect(canvas) if d.label == "cat"]
        assert cats, detector.detect(canvas)
        x0, y0, x1, y1 = cats[0].box
        paste = (x / width, y / height, (x + cat.shape[1]) / width, (y + cat.shape[0]) / height)
        # the cat fills most of the photo: its box lies inside the paste and covers much of it
        assert x0 >= paste[0] - 0.03 and y0 >= paste[1] - 0.03, (cats[0].box, paste)
        assert x1 <= paste[2] + 0.03 and y1 <= paste[3] + 0.03, (cats[0].box, paste)
        area = (x1 - x0) * (y1 - y0) / ((paste[2] - paste[0]) * (paste[3] - paste[1]))
        assert area > 0.4, (cats[0].box, paste)


def test_built_in_coco_names_when_no_label_file(shared_models, tmp_path, detector):
    (tmp_path / "yolox_nano.onnx").symlink_to(shared_models / YOLOX)
    bare = resolve("detector", f"yolox:{tmp_path / 'yolox_nano.onnx'}")
    assert bare.labels == COCO_LABELS == detector.labels
    image = load_photo("coffee")
    assert bare.detect(image) == detector.detect(image)
    (tmp_path / "coco80_names.txt").write_text("person\ncar\n")
    with pytest.raises(ModelError, match="80"):
        resolve("detector", f"yolox:{tmp_path / 'yolox_nano.onnx'}")


def test_classifier_names_photos_with_imagenet_labels(classifier):
    assert isinstance(classifier, ImageClassifier)
    # The int8 kernels differ between onnxruntime versions and CPUs: Chelsea is a tiger cat
    # with onnxruntime 1.32 and an Egyptian cat with 1.23 (the last for Python 3.10) on a
    # machine with AVX-512 VNNI; either names her.
    cats = {"tiger cat", "Egyptian cat", "tabby, tabby cat"}
    expected = {"coffee": {"espresso"}, "chelsea": cats, "rocket": {"missile"},
                "motorcycle": {"moped"}}
    for photo, labels in expected.items():
        top = classifier.classify(load_photo(photo), k=3)
        assert len(top) == 3 and top[0][0] in labels, (photo, top)
        probs = [p for _, p in top]
        assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1.001
    top = classifier.classify(load_photo("chelsea"), k=5)
    # labels keep their synonyms, so text search finds "tabby" and "tabby cat"
    assert "tabby, tabby cat" in [label for label, _ in top]
    assert all(label != "background" for label, _ in classifier.classify(load_photo("moon"), 20))


def test_embeddings_match_the_same_photo_and_tell_photos_apart(shared_models):
    embedder = resolve("image_embedder", f"mobilenet:{shared_models / MOBILENET}")
    assert isinstance(embedder, ImageEmbedder)
    assert embedder.name == "mobilenet_v2" and embedder.dim == 1280
    names = ["astronaut", "coffee", "chelsea", "rocket", "motorcycle"]
    originals = embedder.embed([load_photo(n) for n in names])
    # each photo again, mirrored and at two thirds of its size
    variants = embedder.embed([_mirrored_smaller(load_photo(n)) for n in names])
    assert originals.shape == (5, 1280) and originals.dtype == np.float32
    assert np.allclose(np.linalg.norm(originals, axis=1), 1.0, atol=1e-5)
    similarity = variants @ originals.T
    same, other = np.diag(similarity), similarity[~np.eye(5, dtype=bool)]
    assert same.min() > 0.8 and other.max() < 0.6, similarity.round(2)
    assert embedder.embed([]).shape == (0, 1280)


def _mirrored_smaller(image: np.ndarray) -> np.ndarray:
    import cv2

    height, width = image.shape[:2]
    return cv2.resize(np.ascontiguousarray(image[:, ::-1]), (width * 2 // 3, height * 2 // 3),
                      interpolation=cv2.INTER_AREA)


def test_one_model_serves_several_threads(detector):
    photos = [load_photo(n) for n in ("astronaut", "coffee", "chelsea", "motorcycle")]
    expected = [detector.detect(p) for p in photos]
    results: dict[int, list] = {}

    def work(i: int) -> None:
        results[i] = [detector.detect(p) for p in photos]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(results[i] == expected for i in range(4))


def test_specs_resolve_lazily(shared_models):
    detector = resolve("detector", f"yolox:{shared_models / YOLOX}")
    classifier = resolve("classifier", f"mobilenet:{shared_models / MOBILENET}")
    embedder = resolve("image_embedder", f"imagenet:{shared_models / MOBILENET}")
    for model in (detector, classifier, embedder):
        assert model._session._session is None  # nothing loaded until first use
    assert isinstance(embedder, ImageNetClassifier) and embedder.name == classifier.name


def test_bad_specs_say_what_to_write(shared_models, tmp_path):
    for role, good in (("detector", "yolox:"), ("classifier", "imagenet:"),
                       ("image_embedder", "mobilenet:")):
        for spec in ("ssd:/models/ssd.onnx", "yolox", "", str(shared_models / YOLOX)):
            with pytest.raises(ModelError, match="vidseek models") as error:
                resolve(role, spec)
            assert good in str(error.value)
        with pytest.raises(ModelError, match="does not exist"):
            resolve(role, f"{good}{tmp_path / 'missing.onnx'}")
    (tmp_path / "mobilenet_v2.onnx").symlink_to(shared_models / MOBILENET)
    with pytest.raises(ModelError, match="imagenet_labels.txt"):
        resolve("classifier", f"imagenet:{tmp_path / 'mobilenet_v2.onnx'}")
    (tmp_path / "broken.onnx").write_bytes(b"not a model")
    broken = resolve("detector", f"yolox:{tmp_path / 'broken.onnx'}")
    with pytest.raises(ModelError, match="cannot be loaded"):
        broken.detect(load_photo("coffee"))


def test_pictures_must_be_rgb_uint8(detector, classifier):
    grey = np.zeros((100, 100), np.uint8)
    floats = np.zeros((100, 100, 3), np.float32)
    for call in (detector.detect, classifier.classify, lambda im: classifier.embed([im])):
        for image in (grey, floats):
            with pytest.raises(ValueError, match="RGB"):
                call(image)
