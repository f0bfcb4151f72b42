"""Resolve the colour or photo of every shot, so that no two consecutive shots look alike."""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import numpy as np

from vidseek.synth.photos import PHOTOS
from vidseek.synth.script import ShotSpec

__all__ = ["Look", "hex_to_rgb", "random_color", "resolve_looks"]

_MIN_HUE_STEP = 1 / 6  # 60 degrees between consecutive random colours


@dataclass(frozen=True)
class Look:
    """The resolved appearance of one shot.

    Attributes:
        color: ``#rrggbb`` for non-photo shots, else None.
        photo: photo name for photo shots, else None.
    """

    color: str | None
    photo: str | None


def hex_to_rgb(color: str) -> tuple[int, int, int]:
    """Parse ``#rrggbb``.

    Args:
        color: the hex colour.

    Returns:
        ``(r, g, b)`` in 0..255.
    """
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def _hue(color: str) -> float:
    r, g, b = (c / 255 for c in hex_to_rgb(color))
    return colorsys.rgb_to_hsv(r, g, b)[0]


def random_color(rng: np.random.Generator, avoid: str | None = None) -> str:
    """A saturated random colour whose hue is far from `avoid`'s.

    Args:
        rng: the random source.
        avoid: a colour to stay at least 60 degrees of hue away from.

    Returns:
        ``#rrggbb``.
    """
    hue = float(rng.random())
    if avoid is not None:
        # pick within the arc that excludes +-60 degrees around the avoided hue
        hue = (_hue(avoid) + _MIN_HUE_STEP + hue * (1 - 2 * _MIN_HUE_STEP)) % 1.0
    sat = 0.55 + 0.4 * float(rng.random())
    val = 0.55 + 0.4 * float(rng.random())
    r, g, b = colorsys.hsv_to_rgb(hue, sat, val)
    return f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"


def resolve_looks(shots: list[ShotSpec], seed: int) -> list[Look]:
    """Fill in the colours and photos a script left open.

    Args:
        shots: the script's shots.
        seed: the script's seed.

    Returns:
        One `Look` per shot; open choices never repeat the previous shot's colour or photo.
    """
    rng = np.random.default_rng([seed, 0x100C])
    looks: list[Look] = []
    prev_color: str | None = None
    prev_photo: str | None = None
    for shot in shots:
        if shot.content == "photo":
            photo = shot.photo
            if photo is None:
                choices = [p for p in PHOTOS if p != prev_photo]
                photo = choices[int(rng.integers(len(choices)))]
            looks.append(Look(None, photo))
            prev_photo, prev_color = photo, None
        else:
            color = shot.color or random_color(rng, prev_color)
            looks.append(Look(color, None))
            prev_color, prev_photo = color, None
    return looks
