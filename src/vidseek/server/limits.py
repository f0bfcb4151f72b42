"""How much heavy work the server takes on at once: searches and answers each have a few
slots; a request that finds them all taken is refused at once with 503 and ``Retry-After``,
instead of queueing behind the others while it holds a thread and the cores."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from vidseek.server.errors import ApiError

__all__ = ["MAX_ASKS", "MAX_SEARCHES", "RETRY_AFTER", "Slots"]

MAX_SEARCHES = 4
"""Searches the server runs at once (a search takes well under a second of CPU)."""
MAX_ASKS = 2
"""Answers the server works out at once (one may take minutes with a chat model)."""
RETRY_AFTER = 2
"""Seconds a refused client is told to wait before it tries again."""


class Slots:
    """At most ``size`` requests of one kind at once.

    Args:
        size: how many at once (at least 1).
        what: the requests, in words (``searches``), for the refusal.
    """

    def __init__(self, size: int, what: str) -> None:
        if size < 1:
            raise ValueError(f"{what}: at least one at a time, not {size}")
        self.size, self.what = size, what
        self._free = threading.BoundedSemaphore(size)

    def take(self) -> None:
        """Take a slot; :meth:`give` it back when done.

        Raises:
            ApiError: 503 ``busy`` with ``Retry-After`` when every slot is taken.
        """
        if not self._free.acquire(blocking=False):
            raise ApiError(503, "busy",
                           f"the server is already running {self.size} {self.what}, as many as "
                           f"it takes at once; try again in {RETRY_AFTER} s",
                           headers={"Retry-After": str(RETRY_AFTER)})

    def give(self) -> None:
        """Give back a slot taken with :meth:`take`."""
        self._free.release()

    @contextmanager
    def held(self) -> Iterator[None]:
        """A slot for the time of the ``with`` block."""
        self.take()
        try:
            yield
        finally:
            self.give()
