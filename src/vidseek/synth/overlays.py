"""Burned-in text and pasted photos, painted over the shot content frame by frame."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from vidseek.synth.photos import load_photo
from vidseek.synth.script import PictureSpec, Script, TextSpec
from vidseek.synth.timecode import strip_height
from vidseek.synth.yuv import Yuv

__all__ = ["Overlays", "picture_patch", "text_patch"]

_EPS = 1e-9
_MARGIN = 0.04  # gap to the frame edges, as a fraction of the height


def _wrap(text: str, font: ImageFont.FreeTypeFont, max_width: float) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines() or [text]:
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}".strip()
            if line and font.getlength(candidate) > max_width:
                lines.append(line)
                line = word
            else:
                line = candidate
        lines.append(line)
    return lines


def text_patch(text: str, font_px: int, max_width: int) -> np.ndarray:
    """White text on a black box, wrapped to fit.

    Args:
        text: the words.
        font_px: font size in pixels.
        max_width: widest the box may be.

    Returns:
        ``(h, w, 3)`` uint8 image of the boxed text.
    """
    # Pillow's built-in scalable font (FreeType), so no system font is needed
    font = ImageFont.load_default(size=font_px)
    pad = max(2, round(font_px * 0.35))
    lines = _wrap(text, font, max_width - 2 * pad)
    ascent, descent = font.getmetrics()
    line_h = ascent + descent
    width = int(max(font.getlength(line) for line in lines)) + 2 * pad
    height = line_h * len(lines) + 2 * pad
    canvas = Image.new("RGB", (width, height), (0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    for k, line in enumerate(lines):
        draw.text((pad, pad + k * line_h), line, font=font, fill=(255, 255, 255))
    if width > max_width:  # one word wider than the frame: shrink rather than crop
        canvas = canvas.resize((max_width, max(1, height * max_width // width)),
                               Image.Resampling.LANCZOS)
    return np.asarray(canvas)


def picture_patch(photo: str, height: int, max_width: int) -> np.ndarray:
    """A photo resized to `height` (or narrower to fit `max_width`), with a white border.

    Args:
        photo: photo name.
        height: wanted height in pixels, border included.
        max_width: widest the patch may be.

    Returns:
        ``(h, w, 3)`` uint8 image.
    """
    image = load_photo(photo)
    border = max(1, height // 60)
    ph, pw = image.shape[:2]
    inner_h = max(1, height - 2 * border)
    inner_w = max(1, round(pw * inner_h / ph))
    if inner_w + 2 * border > max_width:
        inner_w = max(1, max_width - 2 * border)
        inner_h = max(1, round(ph * inner_w / pw))
    resized = Image.fromarray(image).resize((inner_w, inner_h), Image.Resampling.BILINEAR)
    patch = np.full((inner_h + 2 * border, inner_w + 2 * border, 3), 255, np.uint8)
    patch[border:border + inner_h, border:border + inner_w] = np.asarray(resized)
    return patch


@dataclass
class _Item:
    spec: TextSpec | PictureSpec
    layer: int  # pictures (0) are painted under texts (1)
    patch: Yuv | None = field(default=None, repr=False)
    xy: tuple[int, int] = (0, 0)


class Overlays:
    """Paints the overlays active at each frame; patches exist only while they are shown.

    Frames must be painted in increasing time order.

    Args:
        script: the script whose texts and pictures to paint.
    """

    def __init__(self, script: Script) -> None:
        self.width, self.height = script.width, script.height
        self.floor = self.height - (strip_height(self.height) if script.timecode else 0)
        items = [_Item(p, 0) for p in script.pictures] + [_Item(t, 1) for t in script.texts]
        self._pending = sorted(items, key=lambda it: it.spec.start, reverse=True)
        self._active: list[_Item] = []

    def _prepare(self, item: _Item) -> None:
        w, h, margin = self.width, self.height, round(_MARGIN * self.height)
        spec = item.spec
        if isinstance(spec, TextSpec):
            patch = text_patch(spec.text, max(6, round(spec.size * h)), w - 2 * margin)
            patch = patch[: self.floor - 2 * margin]  # never over the timecode strip
            x = (w - patch.shape[1]) // 2
            y = {"top": margin, "center": (h - patch.shape[0]) // 2,
                 "bottom": self.floor - margin - patch.shape[0]}[spec.position]
        else:
            max_w = int(w * (0.9 if spec.position == "center" else 0.45))
            patch = picture_patch(spec.photo, round(spec.scale * h), max_w)
            patch = patch[: self.floor]
            x = {"center": (w - patch.shape[1]) // 2, "left": margin,
                 "right": w - margin - patch.shape[1]}[spec.position]
            y = (self.floor - patch.shape[0]) // 2
        item.patch, item.xy = Yuv.from_rgb(patch), (max(0, x), max(0, y))

    def paint(self, frame: Yuv, t: float) -> None:
        """Paint every overlay shown at `t` onto `frame`, in place.

        Args:
            frame: the content frame.
            t: the frame's timeline time.
        """
        while self._pending and self._pending[-1].spec.start <= t + _EPS:
            self._active.append(self._pending.pop())
        # an overlay is shown on frames with start <= t < end
        self._active = [it for it in self._active if t + _EPS < it.spec.end]
        for item in sorted(self._active, key=lambda it: it.layer):
            if item.patch is None:
                self._prepare(item)
            frame.paste(item.patch, *item.xy)
