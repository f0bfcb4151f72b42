"""Real photos for synthetic videos, loaded from scikit-image's bundled data.

Only images that ship inside the scikit-image wheel are listed, so nothing here touches the
network. (``skimage.data.cat`` is left out: it is the same picture as ``chelsea``.)
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

__all__ = ["COLOR_PHOTOS", "PHOTOS", "load_photo"]

#: Colour photos: the most distinctive needles.
COLOR_PHOTOS: tuple[str, ...] = (
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "immunohistochemistry",
    "hubble_deep_field",
    "retina",
    "colorwheel",
    "logo",
    "motorcycle",
)

#: Every photo name a script may use (colour first, then greyscale).
PHOTOS: tuple[str, ...] = COLOR_PHOTOS + (
    "camera",
    "coins",
    "moon",
    "clock",
    "horse",
    "page",
    "text",
    "brick",
    "grass",
    "gravel",
    "cell",
)


@lru_cache(maxsize=8)
def _load(name: str) -> np.ndarray:
    if name not in PHOTOS:  # a picture file of the caller's own
        from PIL import Image

        with Image.open(name) as image:
            return _to_rgb(np.asarray(image.convert("RGB")))
    from skimage import data

    if name == "motorcycle":  # the left view of a stereo pair
        return _to_rgb(np.asarray(data.stereo_motorcycle()[0]))
    return _to_rgb(np.asarray(getattr(data, name)()))


def load_photo(name: str) -> np.ndarray:
    """Load one bundled photo as RGB.

    Args:
        name: one of `PHOTOS`, or the path of a picture file.

    Returns:
        A read-only ``(H, W, 3)`` uint8 array.

    Raises:
        ValueError: the name is not in `PHOTOS`.
    """
    check_photo(name)
    image = _load(name)
    image.flags.writeable = False  # shared through the cache: callers must copy to edit
    return image


def check_photo(name: str) -> str:
    """``name`` if it is one of `PHOTOS` or an existing picture file, else ValueError."""
    if name not in PHOTOS and not Path(name).is_file():
        raise ValueError(
            f"unknown photo {name!r}; choose one of {', '.join(PHOTOS)} or give a picture file"
        )
    return name


def _to_rgb(image: np.ndarray) -> np.ndarray:
    """Turn greyscale, boolean, float or RGBA images into uint8 RGB."""
    if image.dtype == bool:
        image = image.astype(np.uint8) * 255
    elif image.dtype != np.uint8:
        lo, hi = float(image.min()), float(image.max())
        image = ((image - lo) / max(hi - lo, 1e-9) * 255).astype(np.uint8)
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    if image.shape[2] == 4:
        # composite transparent logos on white so they stay visible
        alpha = image[:, :, 3:4].astype(np.float32) / 255
        image = (image[:, :, :3] * alpha + 255 * (1 - alpha)).astype(np.uint8)
    return np.ascontiguousarray(image[:, :, :3])
