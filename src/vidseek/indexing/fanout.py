"""One pass over an iterator, read by several consumers at once, each in its own thread.

The audio analyzers (speech, sounds) each take an iterator of audio chunks. Decoding the
track once for all of them instead of once each saves a full decode and resample of the
audio (about as much CPU as the sound tagger itself on the lecture benchmark). Each consumer
gets every item, in order; the producer runs at most `AHEAD` items ahead of the slowest
consumer that is still reading, so memory stays flat however long the video. A consumer
that stops reading (it finished early, or failed) no longer holds the others back; an error
of the producer reaches every consumer that is still reading, where it is raised.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

__all__ = ["AHEAD", "fan_out"]

T = TypeVar("T")
AHEAD = 4
"""Items a consumer may lag behind the producer (30 s audio chunks: ~2 MB each)."""
_END = object()
_POLL = 0.1  # seconds between checks that a full consumer is still reading


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class _Reader:
    """One consumer's view of the items."""

    def __init__(self) -> None:
        self.items: queue.Queue[Any] = queue.Queue(maxsize=AHEAD)
        self.reading = True

    def __iter__(self) -> Iterator[Any]:
        while True:
            item = self.items.get()
            if item is _END:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item

    def offer(self, item: Any) -> bool:
        """Hand `item` over, waiting while the queue is full; False once not reading."""
        while self.reading:
            try:
                self.items.put(item, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False


def fan_out(items: Iterable[T], consumers: list[Callable[[Iterable[T]], None]]) -> None:
    """Run each consumer on its own thread over the same items, produced once here; return
    when every consumer has returned. A consumer's exception is its own to handle: let it
    escape and it is lost (wrap each consumer to record what went wrong)."""
    readers = [_Reader() for _ in consumers]

    def consume(consumer: Callable[[Iterable[T]], None], reader: _Reader) -> None:
        try:
            consumer(reader)
        except BaseException as exc:
            if isinstance(exc, Exception):
                raise
            # the producer's Ctrl-C, handed over to stop this thread: the caller raises it
        finally:
            reader.reading = False

    threads = [threading.Thread(target=consume, args=pair, daemon=True,
                                name="vidseek-fan-out") for pair in zip(consumers, readers)]
    for thread in threads:
        thread.start()
    failure: BaseException | None = None
    try:
        for item in items:
            if not any([reader.offer(item) for reader in readers if reader.reading]):
                break  # nobody reads any more: stop producing
    except BaseException as exc:  # noqa: BLE001 - handed to every consumer still reading
        failure = exc
    for reader in readers:
        reader.offer(_END if failure is None else _Failed(failure))
    for thread in threads:
        thread.join()
    if failure is not None and not isinstance(failure, Exception):
        raise failure  # Ctrl-C stops the caller too, once the consumers have stopped
