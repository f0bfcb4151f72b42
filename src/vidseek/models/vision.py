"""Objects, scene tags and image embeddings from small ONNX models, behind three protocols.

Spec strings (see DESIGN.md, "models behind small protocols"; ``vidseek models`` lists them;
resolve them with ``vidseek.models.resolve(role, spec)``):

    yolox:/path/yolox_nano.onnx       `ObjectDetector`: YOLOX (COCO, 80 classes); labels
                                      from ``coco80_names.txt`` beside the model, else the
                                      standard COCO names built in
    imagenet:/path/mobilenet.onnx     `ImageClassifier` and `ImageEmbedder`: MobileNetV2
    mobilenet:/path/mobilenet.onnx    (ImageNet, 1001 classes; ``imagenet_labels.txt`` beside
                                      it) whose 1280-d pooled feature is the image embedding

Both forms of the last two name the same model; the ``classifier`` and ``image_embedder``
roles accept either.

Sessions are created on first use (``onnxruntime`` is imported then), under a lock, and
``InferenceSession.run`` is thread-safe, so one model object may serve several threads.
Each session runs on one ONNX Runtime thread by default: indexing runs decoding, speech, OCR
and these models side by side on few cores, so a second intra-op thread mostly competes with
them. Measured on 2 cores busy with other work, a YOLOX frame took 15 ms (median) on one
thread and 22 ms on two; MobileNetV2 10 and 11 ms. Spin-waiting (ONNX Runtime's default,
which keeps idle pool threads busy) is off for the same reason: with it one YOLOX inference
took 17 ms instead of 14.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from vidseek.errors import ModelError
from vidseek.models.protocols import Detection

__all__ = ["COCO_LABELS", "ImageNetClassifier", "YoloxDetector"]

_LIST_HINT = "`vidseek models` lists the model specs"
_DETECTOR_FORMS = "'yolox:/path/to/yolox_nano.onnx'"
_IMAGENET_FORMS = ("'imagenet:/path/to/mobilenet_v2_1.0_224_quant_qdq.onnx' (or the same path "
                   "after 'mobilenet:')")

COCO_LABELS: tuple[str, ...] = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat",
    "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack",
    "umbrella", "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball",
    "kite", "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket",
    "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
    "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair",
    "couch", "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse",
    "remote", "keyboard", "cell phone", "microwave", "oven", "toaster", "sink",
    "refrigerator", "book", "clock", "vase", "scissors", "teddy bear", "hair drier",
    "toothbrush",
)
"""The 80 COCO detection classes, in the class-id order of COCO-trained detectors."""


# -- spec parsing ----------------------------------------------------------------------------


def _split(spec: str, kinds: tuple[str, ...], role: str, forms: str) -> tuple[str, str]:
    kind, sep, rest = spec.strip().partition(":")
    if kind.lower() not in kinds or not rest.strip():
        raise ModelError(f"{spec!r} is not an {role} spec; write {forms} ({_LIST_HINT})")
    return kind.lower(), rest.strip()


def _model_file(path: str, spec: str, forms: str) -> Path:
    file = Path(path).expanduser()
    if not file.is_file():
        raise ModelError(f"{spec!r}: model file {file} does not exist; write {forms} with the "
                         f"path of an existing .onnx file ({_LIST_HINT})")
    return file


# -- ONNX sessions ---------------------------------------------------------------------------


class _Session:
    """An ONNX Runtime session created on first use (thread-safe), on the CPU."""

    def __init__(self, path: Path, threads: int) -> None:
        if threads < 1:
            raise ValueError(f"threads must be at least 1, got {threads}")
        self.path = path
        self.threads = threads
        self._session: Any = None
        self._input_name = ""
        self._lock = threading.Lock()

    def get(self) -> Any:
        if self._session is None:
            with self._lock:
                if self._session is None:
                    session = self._create()
                    self._input_name = session.get_inputs()[0].name
                    self._session = session
        return self._session

    def run(self, feed: np.ndarray) -> list[np.ndarray]:
        session = self.get()
        return session.run(None, {self._input_name: feed})

    @property
    def input_shape(self) -> list:
        return self.get().get_inputs()[0].shape

    def _create(self) -> Any:
        if not self.path.is_file():
            raise ModelError(f"model file {self.path} does not exist ({_LIST_HINT})")
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise ModelError(f"{self.path.name} needs onnxruntime: pip install onnxruntime "
                             f"({exc})") from exc
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3  # quantized graphs log harmless warnings on load
        try:
            return ort.InferenceSession(str(self.path), options,
                                        providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001 - ONNX Runtime raises its own types
            raise ModelError(f"{self.path} cannot be loaded as an ONNX model: {exc}") from exc


def _check_image(image: np.ndarray) -> None:
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an H x W x 3 uint8 RGB image, got {image.dtype} "
                         f"{image.shape}")


def _resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    if (width, height) == (image.shape[1], image.shape[0]):
        return image
    import cv2

    shrinking = width < image.shape[1] or height < image.shape[0]
    # area averaging when shrinking: plain bilinear aliases on large reductions
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return cv2.resize(image, (width, height), interpolation=interpolation)


def _read_labels(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]


# -- YOLOX -----------------------------------------------------------------------------------


class YoloxDetector:
    """An `ObjectDetector` over a YOLOX ONNX export (e.g. YOLOX-Nano, COCO 80 classes).

    The picture is letterboxed into the model's square input (scaled to fit, pasted at the
    top left of a canvas of grey 114, BGR, raw 0..255), the anchor-free grid of strides 8, 16
    and 32 is decoded, and greedy per-class non-maximum suppression keeps the best box of
    each overlapping group. Measured on 2 cores (busy machine): 13-14 ms an inference
    (YOLOX-Nano, one thread), 14-15 ms a 416 x 234 frame end to end.

    Args:
        path: the ``.onnx`` file.
        min_score: detections scoring less (objectness x class probability) are dropped.
        iou_threshold: a box overlapping a better one of its class more than this is dropped.
        threads: ONNX Runtime intra-op threads.

    Raises:
        ModelError: the label file beside the model does not have one line per class.
    """

    def __init__(self, path: str | Path, *, min_score: float = 0.25,
                 iou_threshold: float = 0.45, threads: int = 1) -> None:
        self.path = Path(path)
        self.min_score = min_score
        self.iou_threshold = iou_threshold
        self.name = f"yolox:{self.path.stem}"
        self.labels: tuple[str, ...] = self._labels()
        self._session = _Session(self.path, threads)
        self._side: int | None = None
        self._grid: tuple[int, np.ndarray, np.ndarray] | None = None

    @classmethod
    def from_spec(cls, spec: str, **options: Any) -> YoloxDetector:
        """The detector a spec names; the model loads on its first `detect`.
        ``vidseek.models.resolve("detector", spec)`` calls this.

        Args:
            spec: ``yolox:/path/to/model.onnx``.
            **options: passed to `YoloxDetector`.

        Raises:
            ModelError: not a detector spec, or the model file does not exist.
        """
        _, path = _split(spec, ("yolox",), "object-detector", _DETECTOR_FORMS)
        return cls(_model_file(path, spec, _DETECTOR_FORMS), **options)

    def _labels(self) -> tuple[str, ...]:
        """COCO-80 names beside the model (``coco80_names.txt``), else the built-in ones."""
        file = self.path.with_name("coco80_names.txt")
        if not file.is_file():
            return COCO_LABELS
        labels = [name for name in _read_labels(file) if name]
        if len(labels) != len(COCO_LABELS):
            raise ModelError(f"{file} has {len(labels)} names; a COCO detector needs "
                             f"{len(COCO_LABELS)}, one per line in class-id order (or remove "
                             "the file to use the built-in COCO names)")
        return tuple(labels)

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Objects in a picture.

        Args:
            image: ``H x W x 3`` uint8 RGB, any size (416 on the longest side is the model's
                own resolution: larger pictures are scaled down, smaller ones up).

        Returns:
            Detections scoring at least `min_score`, best first.

        Raises:
            ValueError: `image` is not an RGB uint8 picture.
            ModelError: the model cannot be loaded.
        """
        _check_image(image)
        side = self._input_side()
        height, width = image.shape[:2]
        scale = min(side / height, side / width)
        small = _resize(image, max(1, round(width * scale)), max(1, round(height * scale)))
        canvas = np.full((1, 3, side, side), 114, np.float32)
        for channel in range(3):  # planar BGR
            canvas[0, channel, : small.shape[0], : small.shape[1]] = small[:, :, 2 - channel]
        output = self._session.run(canvas)[0][0]
        return self._decode(output, scale, width, height)

    def _input_side(self) -> int:
        if self._side is None:
            shape = self._session.input_shape
            self._side = int(shape[-1]) if isinstance(shape[-1], int) else 416
        return self._side

    def _decode(self, output: np.ndarray, scale: float, width: int,
                height: int) -> list[Detection]:
        scores = output[:, 4:5] * output[:, 5:]
        classes = scores.argmax(1)
        best = scores[np.arange(len(scores)), classes]
        keep = np.flatnonzero(best >= self.min_score)
        if keep.size == 0:
            return []
        cells, strides = self._anchors(len(output))
        centre = (output[keep, :2] + cells[keep]) * strides[keep]
        size = np.exp(output[keep, 2:4]) * strides[keep]
        boxes = np.hstack([centre - size / 2, centre + size / 2]) / scale
        boxes /= np.array([width, height, width, height], np.float32)
        np.clip(boxes, 0.0, 1.0, out=boxes)
        chosen = _nms(boxes, best[keep], classes[keep], self.iou_threshold)
        return [Detection(self.labels[classes[keep[i]]], round(float(best[keep[i]]), 4),
                          tuple(round(float(v), 4) for v in boxes[i]))  # type: ignore[arg-type]
                for i in chosen]

    def _anchors(self, rows: int) -> tuple[np.ndarray, np.ndarray]:
        """Grid cell offsets and strides of the output rows (strides 8, 16, 32)."""
        if self._grid is None or self._grid[0] != rows:
            side = self._input_side()
            cells, strides = [], []
            for stride in (8, 16, 32):
                n = side // stride
                xs, ys = np.meshgrid(np.arange(n), np.arange(n))
                cells.append(np.stack([xs, ys], -1).reshape(-1, 2))
                strides.append(np.full((n * n, 1), stride))
            grid = np.concatenate(cells).astype(np.float32)
            if len(grid) != rows:
                raise ModelError(f"{self.path} gives {rows} rows; a YOLOX model with a "
                                 f"{side} px input gives {len(grid)} (strides 8, 16, 32)")
            self._grid = (rows, grid, np.concatenate(strides).astype(np.float32))
        return self._grid[1], self._grid[2]

    def __repr__(self) -> str:
        return f"YoloxDetector({str(self.path)!r}, min_score={self.min_score})"


def _nms(boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray,
         iou_threshold: float) -> list[int]:
    """Greedy per-class non-maximum suppression: indices kept, best first."""
    order = list(np.argsort(-scores, kind="stable"))
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    kept: list[int] = []
    while order:
        i, rest = order[0], np.asarray(order[1:], dtype=np.intp)
        kept.append(int(i))
        if rest.size == 0:
            break
        x0 = np.maximum(boxes[rest, 0], boxes[i, 0])
        y0 = np.maximum(boxes[rest, 1], boxes[i, 1])
        x1 = np.minimum(boxes[rest, 2], boxes[i, 2])
        y1 = np.minimum(boxes[rest, 3], boxes[i, 3])
        inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
        iou = inter / np.maximum(areas[rest] + areas[i] - inter, 1e-12)
        order = list(rest[(iou <= iou_threshold) | (classes[rest] != classes[i])])
    return kept


# -- MobileNetV2 (ImageNet) ------------------------------------------------------------------


class ImageNetClassifier:
    """An `ImageClassifier` and `ImageEmbedder` over one ImageNet ONNX model (MobileNetV2).

    One session gives both: the 1001-way softmax (``probs``; index 0 is "background") and
    the 1280-d pooled feature (``embedding``), L2-normalised into the image embedding.
    Pictures are centre-cropped to a square and scaled to the model's 224 x 224 input,
    ``x = (pixel - 128) / 128``, as the model was trained. Measured on 2 cores: 9-10 ms a
    picture on one thread (busy machine), both outputs included.

    Args:
        path: the ``.onnx`` file, with outputs ``probs`` and ``embedding``.
        name: the vector space of its embeddings; by default ``mobilenet_v2`` for a
            MobileNetV2 file and the file's stem otherwise.
        threads: ONNX Runtime intra-op threads.

    Raises:
        ModelError: ``imagenet_labels.txt`` is not beside the model.
    """

    def __init__(self, path: str | Path, *, name: str | None = None, threads: int = 1) -> None:
        self.path = Path(path)
        self.name = name or ("mobilenet_v2" if self.path.stem.lower().startswith("mobilenet_v2")
                             else self.path.stem)
        labels = self.path.with_name("imagenet_labels.txt")
        if not labels.is_file():
            raise ModelError(f"{labels} does not exist: put the model's ImageNet labels (1001 "
                             "lines, 0 = background) beside it")
        self.labels: tuple[str, ...] = tuple(_read_labels(labels))
        self.dim = 1280
        self._session = _Session(self.path, threads)
        self._outputs: tuple[int, int] | None = None

    @classmethod
    def from_spec(cls, spec: str, **options: Any) -> ImageNetClassifier:
        """The model a spec names; it loads on first use. ``vidseek.models.resolve`` calls
        this for the ``classifier`` and ``image_embedder`` roles.

        Args:
            spec: ``imagenet:/path/to/model.onnx`` or ``mobilenet:/path/to/model.onnx`` (the
                same).
            **options: passed to `ImageNetClassifier`.

        Raises:
            ModelError: not an ImageNet model spec, or the model file does not exist.
        """
        _, path = _split(spec, ("imagenet", "mobilenet"), "ImageNet-model", _IMAGENET_FORMS)
        return cls(_model_file(path, spec, _IMAGENET_FORMS), **options)

    def classify(self, image: np.ndarray, k: int = 5) -> list[tuple[str, float]]:
        """The likeliest ImageNet labels of a picture.

        Args:
            image: ``H x W x 3`` uint8 RGB; its centre square is classified.
            k: how many labels.

        Returns:
            Up to `k` ``(label, probability)``, likeliest first; a label is the line of the
            label file, synonyms included (``"tiger cat"``, ``"tabby, tabby cat"``); the
            "background" class is left out.
        """
        probs, _ = self.run(image)
        return self.top(probs, k)

    def top(self, probs: np.ndarray, k: int = 5) -> list[tuple[str, float]]:
        """The `k` likeliest labels of one softmax row, without "background"."""
        order = np.argsort(-probs, kind="stable")
        picks = [int(i) for i in order[: k + 1] if int(i) != 0][:k]
        return [(self.labels[i], round(float(probs[i]), 4)) for i in picks]

    def embed(self, images: list[np.ndarray]) -> np.ndarray:
        """Unit-length embeddings of pictures.

        Args:
            images: ``H x W x 3`` uint8 RGB pictures.

        Returns:
            ``(len(images), dim)`` float32, each row of length 1.
        """
        vectors = np.zeros((len(images), self.dim), np.float32)
        for row, image in enumerate(images):
            vectors[row] = self.run(image)[1]
        return vectors

    def run(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Both outputs for one picture: the softmax over the labels and the unit embedding.

        Raises:
            ValueError: `image` is not an RGB uint8 picture.
            ModelError: the model cannot be loaded or lacks an output.
        """
        _check_image(image)
        outputs = self._session.run(_imagenet_input(image))
        probs_at, embedding_at = self._output_positions()
        embedding = outputs[embedding_at][0].astype(np.float32)
        embedding /= max(float(np.linalg.norm(embedding)), 1e-12)
        return outputs[probs_at][0], embedding

    def _output_positions(self) -> tuple[int, int]:
        if self._outputs is None:
            names = [o.name for o in self._session.get().get_outputs()]
            missing = [n for n in ("probs", "embedding") if n not in names]
            if missing:
                raise ModelError(f"{self.path} has no output {' or '.join(missing)} (it has "
                                 f"{', '.join(names)}); use the MobileNetV2 export with "
                                 f"outputs probs and embedding ({_LIST_HINT})")
            self._outputs = names.index("probs"), names.index("embedding")
        return self._outputs

    def __repr__(self) -> str:
        return f"ImageNetClassifier({str(self.path)!r}, name={self.name!r})"


_IMAGENET_SIDE = 224


def _imagenet_input(image: np.ndarray) -> np.ndarray:
    """Centre square, scaled to 224 x 224, as ``(1, 3, 224, 224)`` float32 in [-1, 1)."""
    height, width = image.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    square = _resize(image[top : top + side, left : left + side], _IMAGENET_SIDE,
                     _IMAGENET_SIDE)
    x = (square.astype(np.float32) - 128.0) / 128.0
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])
