"""Finding faces in pictures and describing them, behind the small `FaceModel` protocol.

Spec strings (see DESIGN.md, "models behind small protocols"; resolve them with
``vidseek.models.resolve("faces", spec)``):

    dlib       the default: dlib's HOG frontal face detector on the picture as given, then
               dlib's ResNet face descriptor (128 numbers; 99.38 % on LFW) of each face,
               aligned with dlib's 5-point landmark model
    dlib:2x    the same, but the detector also looks at the picture upsampled once: faces
               from about 40 px instead of 70 px, at about four times the detection cost

The weights ship inside the ``face_recognition_models`` wheel (dlib's CC0 models, packaged
MIT) and are found on disk without importing that package, whose ``__init__`` needs
``pkg_resources``. dlib's 68-point landmark model, in the same wheel, is never used: the
data it was trained on is licensed for non-commercial use only.

Measured on 2 cores (dlib 20): detection takes about 25 ms a 640 x 360 picture (15 ms at
480 x 270, 63 ms at 960 x 540, about 100 ms with ``dlib:2x``) and finds faces whose box is
at least about 70 px (a fifth of a 360 px tall frame); a descriptor takes 100 to 150 ms a
face, the first one included.

Descriptors are unit length. dlib's rule for "same person" is a Euclidean distance below 0.6
between its raw descriptors, whose length is about 1.3 to 1.6 (1.42 typical); on unit
descriptors that is about 0.42 (`SAME_PERSON_DISTANCE`). On 95 faces of 12 people from the
real test clips, 0.42 accepted 94 % of same-person pairs and no pair of different people
(raw 0.6: 96 % and 0.3 %).
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any

import numpy as np

from vidseek.models.protocols import DEFAULT_SPECS, FaceBox, FaceModelError

__all__ = [
    "DEFAULT_SPEC",
    "DESCRIPTOR_SPACE",
    "SAME_PERSON_DISTANCE",
    "DlibFaces",
    "descriptor_distance",
    "same_person",
]

DEFAULT_SPEC = DEFAULT_SPECS["faces"]
"""The embedded default, ``dlib``: dlib's HOG detector and ResNet descriptor."""

DESCRIPTOR_SPACE = "face:dlib-resnet-v1"
"""Vector-space name of dlib's face descriptors (`Observation.vectors` key)."""

SAME_PERSON_DISTANCE = 0.42
"""Euclidean distance between two unit dlib descriptors below which they are taken to be the
same person (dlib's 0.6 on raw descriptors, divided by their typical length, 1.42)."""

_SPECS = {"dlib": 0, "dlib:2x": 1}  # spec -> times the detector upsamples the picture
_INSTALL_HINT = "pip install dlib-bin face-recognition-models"
_SHAPE_MODEL = "shape_predictor_5_face_landmarks.dat"
_DESCRIPTOR_MODEL = "dlib_face_recognition_resnet_model_v1.dat"


def descriptor_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between two unit descriptors (0 same, 2 opposite)."""
    return float(np.linalg.norm(np.asarray(a, np.float32) - np.asarray(b, np.float32)))


def same_person(a: np.ndarray, b: np.ndarray, *,
                threshold: float = SAME_PERSON_DISTANCE) -> bool:
    """Whether two unit dlib face descriptors show the same person.

    Args:
        a, b: descriptors from `FaceModel.describe` (or averages of them, renormalised).
        threshold: the largest distance still taken as the same person.

    Returns:
        True when their Euclidean distance is below `threshold`.
    """
    return descriptor_distance(a, b) < threshold


class DlibFaces:
    """A `FaceModel` over dlib: HOG frontal face detector and ResNet face descriptor.

    The detector loads on the first `detect`, the landmark and descriptor models (about
    30 MB) on the first `describe`. Loading and calls hold a lock, so a model shared by
    threads is safe, though its calls then run one at a time.

    Args:
        upsample: times the detector upsamples the picture first (each halves the smallest
            face found and costs about four times as much).
        min_score: detections scoring below this are dropped (dlib's default is 0).
        models_dir: directory holding the ``.dat`` models; default: the one inside the
            installed ``face_recognition_models`` package.
    """

    space = DESCRIPTOR_SPACE
    match_distance = SAME_PERSON_DISTANCE

    def __init__(self, *, upsample: int = 0, min_score: float = 0.0,
                 models_dir: str | Path | None = None) -> None:
        if upsample not in (0, 1, 2):
            raise ValueError(f"upsample must be 0, 1 or 2, got {upsample}")
        self.upsample = upsample
        self.min_score = min_score
        self.models_dir = Path(models_dir) if models_dir is not None else None
        detector = "hog" if upsample == 0 else f"hog-{2 ** upsample}x"
        self.name = f"dlib:{detector}+resnet-v1"
        self._lock = threading.RLock()
        self._detector: Any = None
        self._shapes: Any = None
        self._descriptor: Any = None

    @classmethod
    def from_spec(cls, spec: str, **options: Any) -> DlibFaces:
        """The face model a spec names; weights load on first use.
        ``vidseek.models.resolve("faces", spec)`` calls this.

        Args:
            spec: ``dlib`` or ``dlib:2x`` (see the module docstring).
            **options: passed to `DlibFaces` (``min_score``, ``models_dir``).

        Raises:
            FaceModelError: the spec is not a face model spec.
        """
        key = spec.strip().lower()
        if key not in _SPECS:
            raise FaceModelError(
                f"{spec!r} is not a face model spec; write 'dlib' (faces from about 70 px, the "
                "default) or 'dlib:2x' (faces from about 40 px, four times the detection cost)")
        return cls(upsample=_SPECS[key], **options)

    def detect(self, image: np.ndarray) -> list[FaceBox]:
        """Find the faces in a picture.

        Args:
            image: ``H x W x 3`` uint8 RGB.

        Returns:
            The faces, highest score first; empty when there are none.

        Raises:
            ValueError: `image` is not an RGB uint8 picture.
            FaceModelError: dlib is not installed.
        """
        image = _rgb(image)
        height, width = image.shape[:2]
        with self._lock:
            if self._detector is None:
                self._detector = _dlib().get_frontal_face_detector()
            rects, scores, _ = self._detector.run(image, self.upsample, self.min_score)
        faces = []
        for rect, score in zip(rects, scores):
            box = (max(0, rect.left()), max(0, rect.top()),
                   min(width, rect.right() + 1), min(height, rect.bottom() + 1))
            if box[2] > box[0] and box[3] > box[1]:
                faces.append(FaceBox(box, float(score)))
        return sorted(faces, key=lambda face: -face.score)

    def describe(self, image: np.ndarray, box: FaceBox) -> np.ndarray:
        """Describe one face: landmarks, alignment to a 150 px chip, then the ResNet.

        Args:
            image: ``H x W x 3`` uint8 RGB, with some room around the face (the chip takes
                a quarter of the face's size on each side; missing room is filled black).
            box: where the face is, in pixels of `image`.

        Returns:
            128 float32 numbers of unit length.

        Raises:
            ValueError: `image` is not an RGB uint8 picture.
            FaceModelError: dlib or the model files are missing.
        """
        image = _rgb(image)
        dlib = _dlib()
        x0, y0, x1, y1 = box.box
        with self._lock:
            if self._descriptor is None:
                folder = self.models_dir or _bundled_dir()
                self._shapes = dlib.shape_predictor(str(_model_file(folder, _SHAPE_MODEL)))
                self._descriptor = dlib.face_recognition_model_v1(
                    str(_model_file(folder, _DESCRIPTOR_MODEL)))
            shape = self._shapes(image, dlib.rectangle(x0, y0, x1 - 1, y1 - 1))
            raw = np.asarray(self._descriptor.compute_face_descriptor(image, shape),
                             dtype=np.float32)
        return raw / max(float(np.linalg.norm(raw)), 1e-12)

    def __repr__(self) -> str:
        return f"DlibFaces({self.name!r}, min_score={self.min_score})"


def _rgb(image: np.ndarray) -> np.ndarray:
    """`image` as a C-contiguous H x W x 3 uint8 array (dlib rejects strided views)."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an H x W x 3 uint8 RGB image, got {image.dtype} "
                         f"{image.shape}")
    return np.ascontiguousarray(image)


def _dlib() -> Any:
    try:
        import dlib
    except ImportError as exc:
        raise FaceModelError(f"faces need the package 'dlib-bin': {_INSTALL_HINT} "
                             f"({exc})") from exc
    return dlib


def _bundled_dir() -> Path:
    """``face_recognition_models/models`` of the installed wheel, found without importing it
    (its ``__init__`` imports ``pkg_resources``, which new setuptools no longer has)."""
    found = importlib.util.find_spec("face_recognition_models")
    if found is None or not found.submodule_search_locations:
        raise FaceModelError("face descriptors need the package 'face-recognition-models': "
                             f"{_INSTALL_HINT}")
    return Path(next(iter(found.submodule_search_locations))) / "models"


def _model_file(folder: Path, name: str) -> Path:
    path = folder / name
    if not path.is_file():
        raise FaceModelError(f"face model {path} does not exist; reinstall "
                             f"face-recognition-models ({_INSTALL_HINT}) or pass models_dir= "
                             f"a directory holding {name}")
    return path
