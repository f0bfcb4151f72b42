"""Image-text vectors of each shot (CLIP, SigLIP), so that a text query finds the shots that
show it.

The same keyframes as `ImageEmbeddingAnalyzer` (one per ~10 s of each shot, at its middle),
read at about the model's input size and embedded by the image tower, as ``image``
observations whose vectors live in the embedder's space (``clip:<model>``).
"""

from __future__ import annotations

from vidseek.analyzers.image_embed import ImageEmbeddingAnalyzer
from vidseek.models import resolve
from vidseek.models.protocols import ImageTextEmbedder

__all__ = ["ClipAnalyzer"]


class ClipAnalyzer(ImageEmbeddingAnalyzer):
    """A `ShotAnalyzer` that embeds keyframes of every shot with an image-text model.

    Args:
        embedder: an `ImageTextEmbedder`, or a spec for `resolve("image_text_embedder", ...)`
            (e.g. ``clip:/path/to/model``).
        spacing, batch, side: as for `ImageEmbeddingAnalyzer` (the side defaults to the
            model's ``image_size``).

    Raises:
        ModelError: `embedder` is a spec that cannot be used.
    """

    name = "clip"

    def __init__(self, embedder: ImageTextEmbedder | str, *, spacing: float = 10.0,
                 batch: int = 16, side: int | None = None) -> None:
        if isinstance(embedder, str):
            embedder = resolve("image_text_embedder", embedder)
        super().__init__(embedder, spacing=spacing, batch=batch, side=side)
