"""The persistent library: videos, observations and runs in LanceDB tables on local disk.

    >>> from vidseek.store import Store, video_id
    >>> with Store.open("/tmp/lib") as store:                      # doctest: +SKIP
    ...     vid = video_id("talk.mp4")
    ...     store.add_video(vid, "talk.mp4", probe("talk.mp4"))
    ...     if not store.is_complete(vid, "speech", "1"):
    ...         with store.begin(vid, "speech", "1") as run:
    ...             run.add(observations)                         # any iterable, streamed
    ...     store.observations(vid, kinds=["speech"])

Rows of a run become visible only when it commits; a crash at any point leaves the previous
committed run in view and never a partial one.

Names load lazily: ``vidseek.store.snapshot`` (the read cache of ``vidseek list`` and
``show``) and ``vidseek.store.layout`` import neither LanceDB nor the media layer.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from vidseek.errors import StoreError, UnknownVideoError
from vidseek.store.layout import SCHEMA_VERSION, library_path

__all__ = [
    "DEFAULT_VECTOR_DIM",
    "SCHEMA_VERSION",
    "Run",
    "RunRecord",
    "Store",
    "StoreError",
    "UnknownVideoError",
    "VideoRecord",
    "find_video",
    "library_path",
    "video_id",
]

_LAZY = {
    "DEFAULT_VECTOR_DIM": "vidseek.store.schema",
    "Run": "vidseek.store.run",
    "RunRecord": "vidseek.store.records",
    "Store": "vidseek.store.store",
    "VideoRecord": "vidseek.store.records",
    "find_video": "vidseek.store.lookup",
    "video_id": "vidseek.store.ids",
}

if TYPE_CHECKING:
    from vidseek.store.ids import video_id
    from vidseek.store.lookup import find_video
    from vidseek.store.records import RunRecord, VideoRecord
    from vidseek.store.run import Run
    from vidseek.store.schema import DEFAULT_VECTOR_DIM
    from vidseek.store.store import Store


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'vidseek.store' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
