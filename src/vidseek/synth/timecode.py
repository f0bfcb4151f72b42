"""A barcode of each frame's own timeline time, drawn along the bottom of the frame.

Layout, left to right across the full frame width, in 48 equal-width blocks (white = 1):

    start guard 1010 | 32 bits of integer milliseconds, big-endian | 8-bit check | guard 0101

The strip covers the bottom 1/12 of the frame height. Reading samples the middle of every
block and thresholds halfway between the guards' white and black levels, so it survives
lossy encoding and downscaling to about 160 px wide. Rotation metadata never rotates the
pixels, so read the frame as decoded (before applying any display rotation).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "STRIP_FRACTION",
    "draw_timecode",
    "draw_timecode_yuv",
    "read_timecode",
    "strip_height",
    "timecode_row",
]

STRIP_FRACTION = 1 / 12
"""Height of the strip as a fraction of the frame height."""

_START = (1, 0, 1, 0)
_END = (0, 1, 0, 1)
_DATA_BITS = 32
_CHECK_BITS = 8
_BLOCKS = len(_START) + _DATA_BITS + _CHECK_BITS + len(_END)
_MIN_CONTRAST = 60.0  # grey levels between guard white and black; less means no strip


def strip_height(height: int) -> int:
    """Rows the strip takes at the bottom of a frame.

    Args:
        height: frame height in pixels.

    Returns:
        The strip's height in pixels, even so it starts on a chroma row of yuv420p.
    """
    return 2 * max(2, round(height * STRIP_FRACTION / 2))


def _check(value: int) -> int:
    # xor of the four bytes, mixed with a constant so time 0 is not an all-black code
    b = value.to_bytes(4, "big")
    return b[0] ^ b[1] ^ b[2] ^ b[3] ^ 0xA5


def _bits(value: int) -> np.ndarray:
    data = [(value >> (31 - i)) & 1 for i in range(_DATA_BITS)]
    check = [(_check(value) >> (7 - i)) & 1 for i in range(_CHECK_BITS)]
    return np.array([*_START, *data, *check, *_END], dtype=np.uint8)


def timecode_row(width: int, milliseconds: int) -> np.ndarray:
    """One row of the barcode: 1 for white columns, 0 for black.

    Args:
        width: frame width in pixels.
        milliseconds: the frame's timeline time in integer milliseconds, 0 <= value < 2**32.

    Returns:
        ``(width,)`` uint8 array of 0 and 1.
    """
    if not 0 <= milliseconds < 2**32:
        raise ValueError(f"timecode out of range: {milliseconds} ms")
    edges = np.round(np.arange(_BLOCKS + 1) * width / _BLOCKS).astype(int)
    return np.repeat(_bits(milliseconds), np.diff(edges))


def draw_timecode(frame: np.ndarray, milliseconds: int) -> None:
    """Paint the barcode of `milliseconds` over the bottom strip of an RGB frame, in place.

    Args:
        frame: ``(H, W, 3)`` uint8 RGB image.
        milliseconds: the frame's timeline time in integer milliseconds.
    """
    h, w = frame.shape[:2]
    frame[h - strip_height(h):, :, :] = (timecode_row(w, milliseconds) * 255)[None, :, None]


def draw_timecode_yuv(frame, milliseconds: int) -> None:
    """Paint the barcode over the bottom strip of a yuv420p frame, in place.

    Args:
        frame: anything with ``y``, ``u`` and ``v`` plane arrays (a `vidseek.synth.yuv.Yuv`).
        milliseconds: the frame's timeline time in integer milliseconds.
    """
    h, w = frame.y.shape
    sh = strip_height(h)
    # limited-range black (16) and white (235), no colour
    frame.y[h - sh:] = (16 + timecode_row(w, milliseconds) * 219).astype(np.uint8)[None, :]
    frame.u[(h - sh) // 2:] = 128
    frame.v[(h - sh) // 2:] = 128


def read_timecode(image: np.ndarray) -> int | None:
    """Decode the timecode strip of a decoded frame.

    Args:
        image: ``(H, W, 3)`` uint8 RGB frame as decoded (any size; not display-rotated).

    Returns:
        The frame's timeline time in integer milliseconds, or None when no valid strip is
        found (no strip, a guard or the check byte does not match).
    """
    if image.ndim != 3 or image.shape[1] < _BLOCKS:
        return None
    h, w = image.shape[:2]
    strip = h * STRIP_FRACTION
    # middle half of the strip's rows: away from the content edge and chroma bleeding
    top = int(round(h - 0.75 * strip))
    bottom = max(top + 1, int(round(h - 0.25 * strip)))
    profile = image[top:bottom].astype(np.float32).mean(axis=(0, 2))
    levels = np.empty(_BLOCKS, dtype=np.float32)
    for i in range(_BLOCKS):
        lo = int((i + 0.3) * w / _BLOCKS)
        hi = max(lo + 1, int(np.ceil((i + 0.7) * w / _BLOCKS)))
        levels[i] = profile[lo:hi].mean()
    guards = np.array([*_START, *_END], dtype=bool)
    guard_levels = np.concatenate([levels[: len(_START)], levels[-len(_END):]])
    white, black = guard_levels[guards].mean(), guard_levels[~guards].mean()
    if white - black < _MIN_CONTRAST:
        return None
    bits = levels > (white + black) / 2
    if tuple(bits[: len(_START)]) != _START or tuple(bits[-len(_END):]) != _END:
        return None
    data = bits[len(_START): len(_START) + _DATA_BITS]
    check = bits[len(_START) + _DATA_BITS: -len(_END)]
    value = int("".join("1" if b else "0" for b in data), 2)
    if int("".join("1" if b else "0" for b in check), 2) != _check(value):
        return None
    return value
