"""What the agent needs of an index: the small protocol its tools read through.

`vidseek.Library` satisfies it (it is what ``Library.ask`` passes), and so does any object
with these two methods, such as a fake in a test. The agent never imports the library.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from vidseek.types import Moment, Observation

__all__ = ["VideoIndex"]


@runtime_checkable
class VideoIndex(Protocol):
    """An index of videos the agent's tools can search and read."""

    def search(self, query: str | None = None, *, videos: Iterable[str | Path] | None = None,
               kinds: Iterable[str] | None = None, k: int = 10,
               image: str | Path | np.ndarray | None = None,
               threshold: float | None = None) -> list[Moment]:
        """Moments that match ``query`` (words) and/or ``image``, best first.

        Args:
            query: what to look for, in words.
            videos: ids of the videos to search; None searches all.
            kinds: observation kinds to search (``speech``, ``text``, ...); None for all.
            k: moments at most.
            image: a picture to look for.
            threshold: the calibrated score (0..1) a moment must reach; None for the
                index's own, 0 for every candidate.
        """
        ...

    def observations(self, video: str, kinds: Iterable[str] | None = None,
                     ) -> Sequence[Observation]:
        """The observations of one video (by id), of ``kinds`` (None for all), in time order."""
        ...
