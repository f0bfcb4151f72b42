"""What indexing reports: one result per file, and the report of one call."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

__all__ = ["IndexReport", "IndexResult"]


class IndexResult(BaseModel):
    """What indexing one path did."""

    path: str
    video_id: str | None = None
    status: Literal["indexed", "unchanged", "failed"]
    analyzers: dict[str, int] = Field(default_factory=dict)
    """Observations written per analyzer that ran."""
    errors: dict[str, str] = Field(default_factory=dict)
    """Why an analyzer (or ``file`` for the whole file) failed."""
    warnings: dict[str, list[str]] = Field(default_factory=dict)
    """What an analyzer could not do on a file it still indexed, e.g. a damaged stretch of
    audio left untranscribed."""
    analyzer_seconds: dict[str, float] = Field(default_factory=dict)
    """Wall-clock seconds each analyzer took (they run side by side)."""
    seconds: float = 0.0
    duration: float | None = None
    """Length of the video, seconds."""


class IndexReport(BaseModel):
    """What one call of indexing did, one result per file."""

    results: list[IndexResult]
    seconds: float
