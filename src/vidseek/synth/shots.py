"""Pixels of one shot: a base image built once, then a cheap camera move per frame."""

from __future__ import annotations

import colorsys

import numpy as np
from PIL import Image, ImageDraw

from vidseek.synth.looks import Look, hex_to_rgb
from vidseek.synth.photos import load_photo
from vidseek.synth.script import ShotSpec
from vidseek.synth.yuv import Yuv, rgb_to_yuv_color

__all__ = ["ShotImage"]

_MARGIN = 1.2  # the base image is this much larger than the frame: room for pan and zoom


def _texture(rng: np.random.Generator, size: tuple[int, int], cells: int) -> np.ndarray:
    """Smooth random field in [-1, 1], shape (h, w): blurry blobs that pan visibly."""
    w, h = size
    grid = rng.random((max(2, cells * h // w), cells)).astype(np.float32)
    field = Image.fromarray(grid, mode="F").resize((w, h), Image.Resampling.BICUBIC)
    return np.clip(np.asarray(field) * 2 - 1, -1, 1)


def _shift_hue(rgb: tuple[int, int, int], turn: float) -> tuple[int, int, int]:
    h, s, v = colorsys.rgb_to_hsv(*(c / 255 for c in rgb))
    r, g, b = colorsys.hsv_to_rgb((h + turn) % 1.0, s, v)
    return round(r * 255), round(g * 255), round(b * 255)


def _cover(photo: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize and centre-crop a photo to fill `size` (w, h) without distortion."""
    w, h = size
    ph, pw = photo.shape[:2]
    scale = max(w / pw, h / ph)
    rw, rh = max(w, round(pw * scale)), max(h, round(ph * scale))
    resized = np.asarray(Image.fromarray(photo).resize((rw, rh), Image.Resampling.BILINEAR))
    x0, y0 = (rw - w) // 2, (rh - h) // 2
    return resized[y0:y0 + h, x0:x0 + w]


def _base(spec: ShotSpec, look: Look, size: tuple[int, int],
          rng: np.random.Generator) -> np.ndarray:
    w, h = size
    if spec.content == "photo":
        return np.ascontiguousarray(_cover(load_photo(look.photo), size))
    color = np.array(hex_to_rgb(look.color), dtype=np.float32)
    if spec.content == "color":
        image = color + 28 * _texture(rng, size, 6)[:, :, None]
    elif spec.content == "gradient":
        other = np.array(_shift_hue(hex_to_rgb(look.color), 0.4), dtype=np.float32)
        angle = rng.random() * 2 * np.pi
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        ramp = xx * np.cos(angle) + yy * np.sin(angle)
        ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1.0)
        image = color + (other - color) * ramp[:, :, None]
        image += 12 * _texture(rng, size, 8)[:, :, None]
    elif spec.content == "noise":
        cells = max(8, w // 12)
        noise = np.stack([_texture(rng, size, cells) for _ in range(3)], axis=2)
        image = color * 0.6 + 100 * noise + 40
    else:  # shapes
        image = _shapes(look.color, size, rng)
    return np.clip(image, 0, 255).astype(np.uint8)


def _shapes(color: str, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    w, h = size
    canvas = Image.new("RGB", size, hex_to_rgb(color))
    draw = ImageDraw.Draw(canvas)
    for _ in range(int(rng.integers(6, 11))):
        fill = _shift_hue(hex_to_rgb(color), 0.2 + 0.6 * float(rng.random()))
        fill = tuple(int(c * (0.5 + 0.5 * rng.random())) for c in fill)
        side = h * (0.1 + 0.25 * rng.random())
        x, y = rng.random() * (w - side), rng.random() * (h - side)
        box = (x, y, x + side * (0.6 + 0.8 * rng.random()), y + side)
        kind = int(rng.integers(3))
        if kind == 0:
            draw.ellipse(box, fill=fill)
        elif kind == 1:
            draw.rectangle(box, fill=fill)
        else:
            draw.polygon([(box[0], box[3]), ((box[0] + box[2]) / 2, box[1]), (box[2], box[3])],
                         fill=fill)
    return np.asarray(canvas, dtype=np.float32)


class ShotImage:
    """Frames of one shot, composed in yuv420p.

    Args:
        spec: the shot.
        look: its resolved colour or photo.
        width: frame width (even).
        height: frame height (even).
        seed: seed of this shot's random layout and camera path.
    """

    def __init__(self, spec: ShotSpec, look: Look, width: int, height: int, seed: list[int]):
        rng = np.random.default_rng(seed)
        self.spec = spec
        self.width, self.height = width, height
        bw, bh = round(width * _MARGIN / 2) * 2, round(height * _MARGIN / 2) * 2
        self.base = Yuv.from_rgb(_base(spec, look, (bw, bh), rng))
        slack = np.array([bw - width, bh - height], dtype=np.float64)
        # pan: from a random point of the slack to the mirrored one
        a = rng.random(2)
        self._pan_from, self._pan_to = a * slack, (1 - a) * slack
        self._zoom_in = bool(rng.random() < 0.5)
        self._square = max(4, height // 7 // 2 * 2)
        square = _shift_hue(hex_to_rgb(look.color), 0.5) if look.color else (255, 255, 255)
        self._square_yuv = rgb_to_yuv_color(square)

    def frame(self, progress: float) -> Yuv:
        """The shot at `progress` of its duration.

        Args:
            progress: 0 at the shot's start, 1 at its end (clipped to that range).

        Returns:
            A new frame the caller may draw on.
        """
        p = min(max(progress, 0.0), 1.0)
        out = Yuv(self.height, self.width)
        if self.spec.motion == "zoom":
            self._zoom(out, p if self._zoom_in else 1 - p)
        else:
            bw, bh = self.base.width, self.base.height
            if self.spec.motion == "pan":
                x0, y0 = self._pan_from + (self._pan_to - self._pan_from) * p
            else:
                x0, y0 = (bw - self.width) / 2, (bh - self.height) / 2
            # even offsets keep the half-size chroma planes aligned with luma
            x0, y0 = int(round(x0 / 2)) * 2, int(round(y0 / 2)) * 2
            out.paste_from(self.base, x0, y0)
        if self.spec.content == "shapes":
            self._moving_square(out, p)
        return out

    def _zoom(self, out: Yuv, z: float) -> None:
        # the window shrinks from the whole base to one frame's worth: nearest-pixel resize
        bw, bh = self.base.width, self.base.height
        win_w, win_h = bw - z * (bw - self.width), bh - z * (bh - self.height)
        x0, y0 = (bw - win_w) / 2, (bh - win_h) / 2
        for dst, src, f in ((out.y, self.base.y, 1), (out.u, self.base.u, 2),
                            (out.v, self.base.v, 2)):
            h, w = dst.shape
            xs = ((x0 + (np.arange(w) + 0.5) * f * (win_w / self.width)) / f).astype(np.intp)
            ys = ((y0 + (np.arange(h) + 0.5) * f * (win_h / self.height)) / f).astype(np.intp)
            dst[:] = src[np.minimum(ys, src.shape[0] - 1)][:, np.minimum(xs, src.shape[1] - 1)]

    def _moving_square(self, out: Yuv, p: float) -> None:
        # a square crossing the frame, so even a static shapes shot has motion
        s = self._square
        x = int((0.05 + 0.9 * p) * (self.width - s))
        y = int((0.5 + 0.35 * np.sin(4 * np.pi * p)) * (self.height - s))
        out.fill(x, y, s, s, self._square_yuv)
