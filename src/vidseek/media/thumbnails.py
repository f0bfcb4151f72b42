"""Thumbnails (JPEG or WebP) of the frames on screen at given times."""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image

from vidseek.media.frames import VideoReader

__all__ = ["Thumbnail", "encode_image", "thumbnails"]

ImageFormat = Literal["jpeg", "webp"]


@dataclass(frozen=True, slots=True)
class Thumbnail:
    requested: float
    """The time asked for (timeline seconds)."""
    time: float
    """Exact time of the frame shown."""
    data: bytes
    """Encoded image."""
    format: ImageFormat
    width: int
    height: int


def encode_image(image: np.ndarray, format: ImageFormat = "jpeg", *, quality: int = 80) -> bytes:
    """Encode an H x W x 3 uint8 RGB array as JPEG or WebP."""
    if format not in ("jpeg", "webp"):
        raise ValueError(f"format must be 'jpeg' or 'webp', got {format!r}")
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format=format.upper(), quality=quality)
    return buffer.getvalue()


def thumbnails(
    path: str | Path,
    times: Iterable[float],
    *,
    size: int = 320,
    format: ImageFormat = "jpeg",
    quality: int = 80,
    reader: VideoReader | None = None,
) -> list[Thumbnail]:
    """Thumbnails at ``times`` (any order), each at most ``size`` pixels on its longer side.

    Returns:
        One :class:`Thumbnail` per requested time, in the order given.
    """
    wanted = list(times)
    order = sorted(range(len(wanted)), key=wanted.__getitem__)
    own = reader is None
    reader = reader or VideoReader(path)
    try:
        made: dict[int, Thumbnail] = {}
        frames = reader.at((wanted[i] for i in order), size=size)
        for i, frame in zip(order, frames):
            h, w = frame.image.shape[:2]
            data = encode_image(frame.image, format, quality=quality)
            made[i] = Thumbnail(wanted[i], frame.time, data, format, w, h)
    finally:
        if own:
            reader.close()
    return [made[i] for i in range(len(wanted))]
