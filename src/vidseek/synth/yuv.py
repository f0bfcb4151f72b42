"""yuv420p images held in one contiguous buffer, the layout the encoder takes as is.

Frames are composed directly in yuv420p: bases and overlays are converted from RGB once
(with FFmpeg's converter, the same BT.601 limited-range matrix decoders invert), and each
frame is then only slices and blends. That saves a full-frame colour conversion per frame,
which at 720p costs more than the rest of the rendering.
"""

from __future__ import annotations

import av
import numpy as np

__all__ = ["BLACK", "Yuv", "rgb_to_yuv_color"]

BLACK = (16, 128, 128)
"""Limited-range black: Y, U, V."""


class Yuv:
    """A yuv420p image: full-size Y plane, half-size U and V planes, one buffer.

    Args:
        height: rows (even).
        width: columns (even).
        buffer: a flat uint8 array of ``height * width * 3 // 2`` to wrap, or None for a
            new uninitialised one.
    """

    def __init__(self, height: int, width: int, buffer: np.ndarray | None = None) -> None:
        if height % 2 or width % 2:
            raise ValueError(f"yuv420p needs even sizes, got {width}x{height}")
        n = height * width
        self.height, self.width = height, width
        self.buffer = np.empty(n * 3 // 2, np.uint8) if buffer is None else buffer
        self.y = self.buffer[:n].reshape(height, width)
        self.u = self.buffer[n:n * 5 // 4].reshape(height // 2, width // 2)
        self.v = self.buffer[n * 5 // 4:].reshape(height // 2, width // 2)

    @classmethod
    def from_rgb(cls, image: np.ndarray) -> Yuv:
        """Convert an RGB image, cropping a trailing odd row or column.

        Args:
            image: ``(H, W, 3)`` uint8.

        Returns:
            The converted image.
        """
        h, w = image.shape[0] // 2 * 2, image.shape[1] // 2 * 2
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image[:h, :w]), format="rgb24")
        planes = frame.reformat(format="yuv420p").to_ndarray()
        return cls(h, w, planes.reshape(-1).copy())

    def planes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The Y, U and V planes (views)."""
        return self.y, self.u, self.v

    def paste(self, patch: Yuv, x: int, y: int) -> None:
        """Copy `patch` over this image with its top-left corner at (x, y), both even.

        Args:
            patch: the image to paste; parts outside this image are dropped.
            x: left column (rounded down to even).
            y: top row (rounded down to even).
        """
        x, y = x // 2 * 2, y // 2 * 2
        h, w = min(patch.height, self.height - y), min(patch.width, self.width - x)
        if h <= 0 or w <= 0:
            return
        self.y[y:y + h, x:x + w] = patch.y[:h, :w]
        for dst, src in ((self.u, patch.u), (self.v, patch.v)):
            dst[y // 2:(y + h) // 2, x // 2:(x + w) // 2] = src[:h // 2, :w // 2]

    def paste_from(self, source: Yuv, x: int, y: int) -> None:
        """Fill this whole image with the window of `source` whose top-left is (x, y).

        Args:
            source: a larger image.
            x: left column in `source` (even).
            y: top row in `source` (even).
        """
        h, w = self.height, self.width
        self.y[:] = source.y[y:y + h, x:x + w]
        self.u[:] = source.u[y // 2:(y + h) // 2, x // 2:(x + w) // 2]
        self.v[:] = source.v[y // 2:(y + h) // 2, x // 2:(x + w) // 2]

    def fill(self, x: int, y: int, w: int, h: int, color: tuple[int, int, int]) -> None:
        """Fill a rectangle (even corners) with a YUV colour.

        Args:
            x: left column.
            y: top row.
            w: width.
            h: height.
            color: ``(Y, U, V)``.
        """
        x, y = x // 2 * 2, y // 2 * 2
        self.y[y:y + h, x:x + w] = color[0]
        self.u[y // 2:(y + h) // 2, x // 2:(x + w) // 2] = color[1]
        self.v[y // 2:(y + h) // 2, x // 2:(x + w) // 2] = color[2]

    def to_frame(self) -> av.VideoFrame:
        """A PyAV frame sharing nothing with this buffer."""
        return av.VideoFrame.from_ndarray(self.buffer.reshape(-1, self.width), format="yuv420p")

    def to_rgb(self) -> np.ndarray:
        """Convert back to ``(H, W, 3)`` RGB (for inspection and tests)."""
        return self.to_frame().to_ndarray(format="rgb24")


def rgb_to_yuv_color(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    """BT.601 limited-range YUV of one RGB colour.

    Args:
        rgb: ``(r, g, b)`` in 0..255.

    Returns:
        ``(Y, U, V)``.
    """
    r, g, b = rgb
    y = 16 + (65.738 * r + 129.057 * g + 25.064 * b) / 256
    u = 128 + (-37.945 * r - 74.494 * g + 112.439 * b) / 256
    v = 128 + (112.439 * r - 94.154 * g - 18.285 * b) / 256
    return round(y), round(u), round(v)
