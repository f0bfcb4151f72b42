"""The timecode strip: drawing and reading back, including after lossy changes."""

from __future__ import annotations

import numpy as np
import pytest

from vidseek.synth import read_timecode
from vidseek.synth.timecode import draw_timecode, strip_height


@pytest.mark.parametrize("size", [(180, 320), (360, 640), (720, 1280), (90, 160), (64, 96)])
def test_round_trip(size):
    rng = np.random.default_rng(0)
    for value in [0, 1, 33, 999, 3_600_000, 2**32 - 1, *rng.integers(0, 2**32, 20).tolist()]:
        frame = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
        draw_timecode(frame, int(value))
        assert read_timecode(frame) == value


def test_noise_blur_and_downscale_are_tolerated():
    rng = np.random.default_rng(1)
    frame = rng.integers(0, 256, (180, 320, 3), dtype=np.uint8)
    draw_timecode(frame, 123_456)
    noisy = np.clip(frame + rng.normal(0, 25, frame.shape), 0, 255).astype(np.uint8)
    blurred = ((noisy[:, :-1].astype(int) + noisy[:, 1:]) // 2).astype(np.uint8)
    assert read_timecode(blurred) == 123_456
    small = frame.reshape(90, 2, 160, 2, 3).mean(axis=(1, 3)).astype(np.uint8)
    assert read_timecode(small) == 123_456


def test_missing_or_damaged_strip_reads_none():
    frame = np.full((180, 320, 3), 128, np.uint8)
    assert read_timecode(frame) is None
    draw_timecode(frame, 5000)
    h = strip_height(180)
    a, b = round(20 * 320 / 48), round(21 * 320 / 48)  # one data block
    frame[-h:, a:b] = 255 - frame[-h:, a:b]  # flip its bit: the check byte catches it
    assert read_timecode(frame) is None


def test_out_of_range_values_are_refused():
    with pytest.raises(ValueError):
        draw_timecode(np.zeros((180, 320, 3), np.uint8), 2**32)
