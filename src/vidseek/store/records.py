"""Records the store hands back besides :class:`~vidseek.types.Observation`."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from vidseek.media.probe import MediaInfo

__all__ = ["RunRecord", "VideoRecord"]


class VideoRecord(BaseModel):
    """A video in the library."""

    id: str
    """Content-derived id (see :func:`vidseek.store.video_id`)."""
    paths: list[str]
    """Every absolute path the file was indexed from, oldest first (copies and moves)."""
    info: MediaInfo
    """What probing the file found."""
    added_at: datetime
    """When the video was first added (UTC)."""


class RunRecord(BaseModel):
    """A committed run: one analyzer's complete output for one video."""

    video_id: str
    analyzer: str
    """Analyzer name, e.g. ``speech``."""
    version: str
    """Analyzer version (settings and model included); a new version replaces the old rows."""
    run_id: str
    """Random id that tags this run's observation rows."""
    rows: int
    """Observations the run wrote."""
    completed_at: datetime
    """When the run committed (UTC)."""
