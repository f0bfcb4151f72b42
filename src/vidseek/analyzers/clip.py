"""Image-text vectors of each shot (CLIP, SigLIP), so that a text query finds the shots that
show it.

A shot gets one frame at its middle; a shot longer than `max_gap` seconds is cut into equal
stretches no longer than that, one frame at the middle of each. Each frame becomes one
``image`` observation covering the stretch it stands for, with the frame's vector in the
embedder's space. Frames are read at about the model's input size (a picture's short side
at the model's side), in time order through one reader, and embedded in batches, so memory
stays flat however long the video is.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

from vidseek.media import Frame, VideoReader
from vidseek.models.clip import ImageTextEmbedder, resolve_image_text_embedder
from vidseek.types import Observation

__all__ = ["ClipAnalyzer"]

_DEFAULT_SIDE = 224  # the input side of most CLIP and SigLIP models


class ClipAnalyzer:
    """A `ShotAnalyzer` that embeds keyframes of every shot with an image-text model.

    Each observation has ``kind="image"``, ``start``/``end`` the stretch of the shot its
    frame stands for, no text, ``vectors={embedder.name: [...]}`` (unit length),
    ``source=embedder.name`` and ``data={"frame_time": t}`` (the exact time of the frame
    embedded).

    Args:
        embedder: an `ImageTextEmbedder`, or a spec for `resolve_image_text_embedder`
            (e.g. ``clip:/path/to/model``).
        max_gap: longest stretch, in seconds, one frame stands for.
        batch_size: frames embedded together.
        size: side in pixels the short side of frames is read at; default the embedder's
            ``image_size`` (224 when it has none).

    Raises:
        ModelError: `embedder` is a spec that cannot be used.
    """

    name = "clip"
    version = "1"

    def __init__(self, embedder: ImageTextEmbedder | str, *, max_gap: float = 10.0,
                 batch_size: int = 16, size: int | None = None) -> None:
        if max_gap <= 0:
            raise ValueError(f"max_gap must be positive, got {max_gap}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if isinstance(embedder, str):
            embedder = resolve_image_text_embedder(embedder)
        self.embedder = embedder
        self.max_gap = float(max_gap)
        self.batch_size = batch_size
        self.size = size

    def analyze(self, video_id: str, shots: Sequence[tuple[float, float]],
                reader: VideoReader) -> Iterator[Observation]:
        """One observation per frame embedded, in time order, lazily.

        Args:
            video_id: the video's id.
            shots: ``(start, end)`` timeline seconds, in time order.
            reader: the video, to read the frames from.

        Yields:
            ``image`` observations (see the class docstring).
        """
        stretches = list(self._stretches(shots, reader.duration))
        if not stretches:
            return
        times = (t for _, _, t in stretches)
        frames = reader.at(times, size=self._read_size(reader))
        batch: list[tuple[tuple[float, float, float], Frame]] = []
        for stretch, frame in zip(stretches, frames):
            batch.append((stretch, frame))
            if len(batch) == self.batch_size:
                yield from self._embed(video_id, batch)
                batch = []
        if batch:
            yield from self._embed(video_id, batch)

    def _stretches(self, shots: Sequence[tuple[float, float]],
                   duration: float) -> Iterator[tuple[float, float, float]]:
        """``(start, end, frame time)`` of each stretch a frame will stand for."""
        last = 0.0
        for start, end in shots:
            start, end = max(0.0, float(start)), min(float(end), duration)
            if end < start:
                continue
            parts = max(1, math.ceil((end - start) / self.max_gap - 1e-9))
            step = (end - start) / parts
            for k in range(parts):
                a, b = start + k * step, start + (k + 1) * step if k + 1 < parts else end
                # the reader wants times that never go back
                last = max(last, min((a + b) / 2, duration))
                yield a, b, last

    def _read_size(self, reader: VideoReader) -> int:
        """Longest side to read frames at: the short side at the model's input side."""
        side = self.size or int(getattr(self.embedder, "image_size", 0) or _DEFAULT_SIDE)
        video = reader.info.video
        width, height = video.display_width, video.display_height
        return math.ceil(side * max(width, height) / max(1, min(width, height)))

    def _embed(self, video_id: str,
               batch: list[tuple[tuple[float, float, float], Frame]]) -> list[Observation]:
        vectors = self.embedder.images([frame.image for _, frame in batch])
        space = self.embedder.name
        return [Observation(video_id=video_id, start=a, end=b, kind="image",
                            vectors={space: vector.tolist()}, source=space,
                            data={"frame_time": float(frame.time)})
                for ((a, b, _), frame), vector in zip(batch, vectors)]
