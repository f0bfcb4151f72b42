"""Reading text in pictures (OCR), behind the small `TextReader` protocol.

Spec strings (see DESIGN.md, "models behind small protocols"; resolve them with
``vidseek.models.resolve("ocr", spec)``):

    rapidocr          the default: RapidOCR with the PP-OCR ONNX models that ship inside the
                      ``rapidocr`` wheel (``rapidocr/models/``: detection + recognition)
    rapidocr:/a/dir   RapidOCR with the ONNX models in a local directory: one ``*det*.onnx``
                      and one ``*rec*.onnx`` (whose character list is embedded in its
                      metadata, as in RapidOCR's own exports, or given by one ``*.txt`` beside it)

Nothing is downloaded: the model files are always passed to RapidOCR by path, so its
download-on-first-use code never runs. ``rapidocr`` is imported on the first `read`, so
resolving a spec is cheap.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import Any

import numpy as np

from vidseek.models.protocols import DEFAULT_SPECS, OCRModelError, TextLine

__all__ = ["DEFAULT_SPEC", "RapidOCRReader"]

DEFAULT_SPEC = DEFAULT_SPECS["ocr"]
"""The embedded default, ``rapidocr``: the PP-OCR models inside the ``rapidocr`` wheel."""

_INSTALL_HINT = "pip install 'rapidocr>=3.4' onnxruntime 'opencv-python-headless<5'"
# A picture whose shorter side is under this many pixels once the detector has scaled it
# (a 1 x 5000 strip becomes 0 x 960, which RapidOCR fails on) holds no readable line.
_MIN_SIDE = 8


def _bundled_dir() -> Path:
    """``rapidocr/models`` of the installed wheel, found without importing the package."""
    found = importlib.util.find_spec("rapidocr")
    if found is None or not found.submodule_search_locations:
        raise OCRModelError(f"on-screen text needs the package 'rapidocr': {_INSTALL_HINT}")
    return Path(next(iter(found.submodule_search_locations))) / "models"


def _model_files(directory: Path, spec: str) -> tuple[Path, Path, Path | None]:
    """The detection model, recognition model and optional character list in `directory`."""
    det = sorted(directory.glob("*det*.onnx"))
    rec = sorted(directory.glob("*rec*.onnx"))
    keys = sorted(directory.glob("*.txt"))
    if len(det) != 1 or len(rec) != 1:
        raise OCRModelError(
            f"{spec!r}: {directory} must hold exactly one *det*.onnx and one *rec*.onnx "
            f"(found {len(det)} and {len(rec)}); reinstall rapidocr ({_INSTALL_HINT}) or "
            "point the spec at a directory with one model of each")
    return det[0], rec[0], keys[0] if len(keys) == 1 else None


def _check_embedded_keys(rec_model: Path, spec: str) -> None:
    """Fail unless `rec_model` embeds its character list: without one RapidOCR downloads it."""
    try:
        from onnxruntime import InferenceSession
    except ImportError as exc:
        raise OCRModelError(f"RapidOCR needs onnxruntime: {_INSTALL_HINT} ({exc})") from exc
    metadata = InferenceSession(str(rec_model)).get_modelmeta().custom_metadata_map
    if "character" not in metadata:
        raise OCRModelError(f"{spec!r}: {rec_model.name} does not embed its character list; "
                            "put the model's dictionary (one *.txt) beside it")


def _model_name(rec_model: Path) -> str:
    """A short model name from a recognition model file: ``PP-OCRv6_rec_small.onnx`` gives
    ``PP-OCRv6-small``."""
    parts = [p for p in rec_model.stem.split("_") if p.lower() != "rec"]
    return "-".join(parts) or rec_model.stem


class RapidOCRReader:
    """A `TextReader` over RapidOCR (PP-OCR detection + recognition, ONNX Runtime on CPU).

    The text-direction classifier is off: text burned into video is upright, and the
    classifier only tells 0 from 180 degrees. Detection runs on the picture as given, scaled
    down only when its longest side exceeds `max_side`; recognition reads crops of the
    picture as given. Measured on 2 cores: a 640 x 360 frame takes about 0.2 s (0.13 to
    0.3 s; 1.2 s with RapidOCR's default of scaling the short side up to 736 px) and lines
    down to 9 px tall (2.5 % of the height) are read; at 480 x 270 such lines are lost.

    Args:
        det_model: the PP-OCR detection model (``.onnx``).
        rec_model: the PP-OCR recognition model (``.onnx``).
        keys: its character list, when the model does not embed one.
        max_side: longest side, in pixels, of the picture the detector sees.
        threads: ONNX Runtime threads per model; None lets it use every core.
    """

    def __init__(self, det_model: str | Path, rec_model: str | Path, *,
                 keys: str | Path | None = None, max_side: int = 960,
                 threads: int | None = None) -> None:
        if max_side < 32:
            raise ValueError(f"max_side must be at least 32 pixels, got {max_side}")
        self.det_model = Path(det_model)
        self.rec_model = Path(rec_model)
        self.keys = Path(keys) if keys is not None else None
        self.max_side = max_side
        self.threads = threads
        self.name = f"rapidocr:{_model_name(self.rec_model)}"
        self._engine: Any = None

    @classmethod
    def from_spec(cls, spec: str, **options: Any) -> RapidOCRReader:
        """The reader a spec names; models load on its first `read`.
        ``vidseek.models.resolve("ocr", spec)`` calls this.

        Args:
            spec: ``rapidocr`` (embedded models) or ``rapidocr:/path/to/model-dir``.
            **options: passed to `RapidOCRReader` (``max_side``, ``threads``).

        Raises:
            OCRModelError: the spec is not an OCR spec, ``rapidocr`` is not installed, or the
                model files are missing.
        """
        kind, sep, rest = spec.strip().partition(":")
        if kind != "rapidocr":
            raise OCRModelError(f"{spec!r} is not an OCR spec; write {DEFAULT_SPEC!r} "
                                "(embedded models) or 'rapidocr:/path/to/onnx-model-dir'")
        rest = rest.strip() if sep else ""
        if rest:
            directory = Path(rest).expanduser()
            if not directory.is_dir():
                raise OCRModelError(f"{spec!r}: model directory {directory} does not exist; "
                                    "give a directory holding one *det*.onnx and one *rec*.onnx")
            det, rec, keys = _model_files(directory, spec)
            if keys is None:
                _check_embedded_keys(rec, spec)
        else:
            # RapidOCR's own exports, which embed their character list
            det, rec, keys = _model_files(_bundled_dir(), spec)
        return cls(det, rec, keys=keys, **options)

    def read(self, image: np.ndarray) -> list[TextLine]:
        """Read the lines of text in a picture.

        Args:
            image: ``H x W x 3`` uint8 RGB.

        Returns:
            The lines, top to bottom then left to right; empty when there is no text, and
            for a picture too narrow or too low to hold a line (under 8 px on a side once
            scaled to `max_side`).

        Raises:
            ValueError: `image` is not an RGB uint8 picture.
            OCRModelError: the models cannot be loaded.
        """
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"expected an H x W x 3 uint8 RGB image, got {image.dtype} "
                             f"{image.shape}")
        height, width = image.shape[:2]
        if min(height, width) * min(1.0, self.max_side / max(height, width)) < _MIN_SIDE:
            return []
        # RapidOCR takes arrays as OpenCV does: BGR
        result = self._load()(np.ascontiguousarray(image[..., ::-1]))
        boxes = getattr(result, "boxes", None)
        if boxes is None or not getattr(result, "txts", None):
            return []
        lines = [_line(text, box, score, width, height)
                 for text, box, score in zip(result.txts, boxes, result.scores)
                 if text.strip()]
        return sorted(lines, key=lambda line: (round(line.box[1], 2), line.box[0]))

    def _load(self) -> Any:
        """The RapidOCR engine, created on first use."""
        if self._engine is None:
            self._engine = _rapidocr_engine(self._params())
        return self._engine

    def _params(self) -> dict[str, Any]:
        for path in (self.det_model, self.rec_model):
            if not path.is_file():
                raise OCRModelError(f"OCR model {path} does not exist; reinstall rapidocr "
                                    f"({_INSTALL_HINT})")
        params: dict[str, Any] = {
            "Global.log_level": "error",  # it logs every model load and every empty frame
            "Global.use_cls": False,
            "Det.model_path": str(self.det_model),
            "Rec.model_path": str(self.rec_model),
            # "max" only ever scales down; RapidOCR's default ("min", 736) scales a 640 x 360
            # frame up to 1312 x 736, which costs 5x the time and reads nothing more
            "Det.limit_type": "max",
            "Det.limit_side_len": self.max_side,
        }
        if self.keys is not None:
            params["Rec.rec_keys_path"] = str(self.keys)
        if self.threads:
            params["EngineConfig.onnxruntime.intra_op_num_threads"] = self.threads
        return params

    def __repr__(self) -> str:
        return f"RapidOCRReader({self.name!r}, max_side={self.max_side})"


def _rapidocr_engine(params: dict[str, Any]) -> Any:
    try:
        from rapidocr import RapidOCR
    except ImportError as exc:
        raise OCRModelError(f"on-screen text needs the package 'rapidocr': {_INSTALL_HINT} "
                            f"({exc})") from exc
    logging.getLogger("RapidOCR").setLevel(logging.ERROR)
    return RapidOCR(params=params)


def _line(text: str, box: np.ndarray, score: float, width: int, height: int) -> TextLine:
    """A RapidOCR result (a 4-point polygon in pixels) as a `TextLine`."""
    points = np.asarray(box, dtype=np.float64).reshape(-1, 2)
    x0, y0 = points.min(axis=0)
    x1, y1 = points.max(axis=0)
    rel = (x0 / width, y0 / height, x1 / width, y1 / height)
    clipped = tuple(round(float(min(max(v, 0.0), 1.0)), 4) for v in rel)
    return TextLine(text.strip(), clipped, float(score))  # type: ignore[arg-type]
