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
"""

from vidseek.errors import StoreError, UnknownVideoError
from vidseek.store.ids import video_id
from vidseek.store.layout import SCHEMA_VERSION, library_path
from vidseek.store.records import RunRecord, VideoRecord
from vidseek.store.run import Run
from vidseek.store.schema import DEFAULT_VECTOR_DIM
from vidseek.store.store import Store

__all__ = [
    "DEFAULT_VECTOR_DIM",
    "SCHEMA_VERSION",
    "Run",
    "RunRecord",
    "Store",
    "StoreError",
    "UnknownVideoError",
    "VideoRecord",
    "library_path",
    "video_id",
]
