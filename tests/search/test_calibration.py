"""Calibration: logistic fits recover known models; the shipped file loads and is sane."""

from __future__ import annotations

import numpy as np
import pytest

from vidseek.search.calibration import Calibration, ChannelModel, fit_logistic, load_calibration


def test_fit_recovers_a_known_logistic_model():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20000, 2))
    p = 1 / (1 + np.exp(-(3.0 * x[:, 0] - 2.0 * x[:, 1] + 0.5)))
    y = (rng.random(len(p)) < p).astype(int)
    weights, bias = fit_logistic(x, y, l2=0.0)
    assert weights == pytest.approx([3.0, -2.0], abs=0.15)
    assert bias == pytest.approx(0.5, abs=0.1)


def test_fit_refuses_data_without_both_outcomes():
    with pytest.raises(ValueError, match="both true and false"):
        fit_logistic([[0.1], [0.2]], [1, 1])
    with pytest.raises(ValueError, match="rows"):
        fit_logistic([0.1, 0.2], [1, 0])


def test_probability_is_a_sigmoid_of_named_features():
    model = ChannelModel(features=["a", "b"], weights=[2.0, -1.0], bias=0.5)
    assert model.probability({"a": 0.0, "b": 0.5}) == pytest.approx(0.5)
    assert model.probability({"a": 1.0}) == pytest.approx(1 / (1 + np.exp(-2.5)))
    assert model.probability({"a": 1e6}) == pytest.approx(1.0)  # no overflow


def test_the_shipped_calibration_covers_every_channel_and_rises_with_similarity():
    calibration = load_calibration()
    assert isinstance(calibration, Calibration)
    assert set(calibration.channels) == {"text", "label", "image", "clip", "face"}
    assert 0.0 < calibration.threshold < 1.0
    text = calibration.channels["text"]
    # a passage like every other candidate, and one that stands out from them
    low = text.probability({"cosine": 0.75, "relative": -0.03, "coverage": 0.0,
                            "distinct": 0.0})
    high = text.probability({"cosine": 0.86, "relative": 0.06, "coverage": 0.5,
                             "distinct": 0.06})
    assert low < calibration.threshold < high
    face = calibration.channels["face"]
    # dlib's same-person rule, rescaled to unit descriptors: 0.42
    assert face.probability({"distance": 0.3}) > 0.9 > 0.1 > face.probability({"distance": 0.6})
