"""The dlib face model on scikit-image's photos: where faces are, how descriptors compare,
and what the spec strings and bad inputs do."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data

from vidseek.errors import ModelError
from vidseek.models import resolve
from vidseek.models.faces import (
    DESCRIPTOR_SPACE,
    SAME_PERSON_DISTANCE,
    DlibFaces,
    descriptor_distance,
    same_person,
)
from vidseek.models.protocols import FaceBox, FaceModel, FaceModelError

ASTRONAUT_FACE = (179, 83, 267, 171)  # Eileen Collins' face in data.astronaut(), pixels
CAMERAMAN_FACE = (216, 130, 269, 183)  # the man in data.camera() (too turned for HOG)


def _iou(a, b) -> float:
    iw = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])
    return inter / (area - inter)


@pytest.fixture(scope="module")
def model() -> DlibFaces:
    return resolve("faces")


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return data.astronaut()


def test_resolves_specs_and_names_its_space(model):
    assert isinstance(model, FaceModel)
    assert model.name == "dlib:hog+resnet-v1"
    assert model.space == DESCRIPTOR_SPACE == "face:dlib-resnet-v1"
    assert model.match_distance == SAME_PERSON_DISTANCE
    assert resolve("faces", " DLIB:2x ").name == "dlib:hog-2x+resnet-v1"


@pytest.mark.parametrize("spec", ["mediapipe", "dlib:cnn", "", "dlib:68"])
def test_unknown_spec_says_which_exist(spec):
    with pytest.raises(FaceModelError, match="'dlib'.*'dlib:2x'") as caught:
        resolve("faces", spec)
    assert isinstance(caught.value, ModelError) and isinstance(caught.value, ValueError)


def test_finds_the_astronauts_face_and_nothing_else(model, astronaut):
    faces = model.detect(astronaut)
    assert len(faces) == 1, faces
    assert _iou(faces[0].box, ASTRONAUT_FACE) > 0.8
    assert faces[0].score > 1.0
    assert faces[0].side == 88


def test_finds_no_face_where_there_is_none(model):
    for name in ("coffee", "rocket", "chelsea", "brick"):
        image = getattr(data, name)()
        image = image if image.ndim == 3 else np.repeat(image[..., None], 3, axis=2)
        assert model.detect(image) == [], name
    assert model.detect(np.zeros((360, 640, 3), np.uint8)) == []


def test_boxes_are_clipped_and_strided_views_accepted(model, astronaut):
    # a crop that cuts off the face's top left: dlib's box starts at (-13, -13)
    crop = astronaut[90:290, 185:385]
    faces = model.detect(crop)
    assert [face.box for face in faces] == [(0, 0, 84, 84)]
    assert model.describe(crop, faces[0]).shape == (128,)
    mirrored = astronaut[:, ::-1]  # negative strides, which dlib itself rejects
    faces = model.detect(mirrored)
    assert len(faces) == 1
    x0, y0, x1, y1 = ASTRONAUT_FACE
    assert _iou(faces[0].box, (512 - x1, y0, 512 - x0, y1)) > 0.7
    assert model.describe(mirrored, faces[0]).shape == (128,)


def test_rejects_pictures_that_are_not_rgb(model, astronaut):
    with pytest.raises(ValueError, match="RGB"):
        model.detect(data.camera())
    with pytest.raises(ValueError, match="RGB"):
        model.describe(astronaut.astype(np.float32), FaceBox(ASTRONAUT_FACE, 1.0))


def test_descriptors_are_unit_and_tell_people_apart(model, astronaut):
    face = FaceBox(ASTRONAUT_FACE, 1.0)
    descriptor = model.describe(astronaut, face)
    assert descriptor.shape == (128,) and descriptor.dtype == np.float32
    assert abs(float(np.linalg.norm(descriptor)) - 1) < 1e-5

    # the same face larger, in another crop: the same person, by far
    bigger = cv2.resize(astronaut[20:240, 110:340], None, fx=1.5, fy=1.5)
    again = model.describe(bigger, model.detect(bigger)[0])
    assert descriptor_distance(descriptor, again) < 0.15
    assert same_person(descriptor, again)

    # the cameraman is someone else (measured 0.58)
    cameraman = np.repeat(data.camera()[..., None], 3, axis=2)
    other = model.describe(cameraman, FaceBox(CAMERAMAN_FACE, 0.0))
    assert descriptor_distance(descriptor, other) > SAME_PERSON_DISTANCE + 0.08
    assert not same_person(descriptor, other)
    assert same_person(descriptor, other, threshold=0.7)


def test_upsampling_spec_finds_smaller_faces(model, astronaut):
    small = cv2.resize(astronaut, (288, 288), interpolation=cv2.INTER_AREA)  # face ~50 px
    assert model.detect(small) == []
    faces = resolve("faces", "dlib:2x").detect(small)
    assert len(faces) == 1
    assert _iou(faces[0].box, tuple(round(v * 288 / 512) for v in ASTRONAUT_FACE)) > 0.6


def test_missing_model_files_say_what_to_do(tmp_path, astronaut):
    broken = DlibFaces(models_dir=tmp_path)
    assert broken.detect(astronaut)  # the detector is built into dlib
    with pytest.raises(FaceModelError, match="shape_predictor_5_face_landmarks.dat"):
        broken.describe(astronaut, FaceBox(ASTRONAUT_FACE, 1.0))
