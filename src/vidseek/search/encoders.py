"""How a query picture (or words, for image-text models) is put into each vector space that
indexing can make: face descriptors, image embeddings and CLIP / SigLIP vectors."""

from __future__ import annotations

import numpy as np

from vidseek.analyzers.registry import LoadedModels
from vidseek.search.searcher import SpaceEncoder

__all__ = ["FACE_QUERY_SIDE", "face_descriptor", "query_encoders"]

FACE_QUERY_SIDE = 800
"""Longer side a query picture is searched for faces at: HOG's cost grows with the pixels,
and faces stay large enough."""


def query_encoders(models: LoadedModels) -> list[SpaceEncoder]:
    """An encoder per vector space the library's models make (faces always)."""
    from vidseek.models.faces import DESCRIPTOR_SPACE

    encoders = [SpaceEncoder(DESCRIPTOR_SPACE, "face",
                             image=lambda picture: face_descriptor(models, picture))]
    if models.specs.image_embedder:
        embedder = models.analyzer("image").embedder
        encoders.append(SpaceEncoder(embedder.name, "image",
                                     image=lambda pic: embedder.embed([pic])[0]))
    if models.specs.clip:
        model = models.analyzer("clip").embedder
        encoders.append(SpaceEncoder(model.name, "clip",
                                     image=lambda pic: model.images([pic])[0],
                                     text=lambda words: model.texts([words])[0]))
    return encoders


def face_descriptor(models: LoadedModels, picture: np.ndarray) -> np.ndarray | None:
    """The descriptor of the largest face in a picture (None without a face)."""
    model = models.analyzer("faces").model
    side = max(picture.shape[:2])
    if side > FACE_QUERY_SIDE:
        import cv2

        scale = FACE_QUERY_SIDE / side
        picture = cv2.resize(picture, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    faces = model.detect(picture)
    if not faces:
        return None
    return model.describe(picture, max(faces, key=lambda f: f.side))
