"""Writing one analyzer's observations of one video into a store run, text embedded on the
way; the run commits only when the analyzer finished, so nothing half-written is read."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from vidseek.store import Store
from vidseek.types import Observation

__all__ = ["EMBED_BATCH", "RunWriter", "embed_texts"]

EMBED_BATCH = 64
"""Observations embedded together."""


def embed_texts(observations: list[Observation], embedder) -> list[Observation]:
    """Give each observation with text and no vector yet its text vector (in place, in
    batches of :data:`EMBED_BATCH`); returns the same list."""
    todo = [o for o in observations if o.vector is None and o.text.strip()]
    for i in range(0, len(todo), EMBED_BATCH):
        batch = todo[i:i + EMBED_BATCH]
        for obs, vector in zip(batch, embedder.passages([o.text for o in batch])):
            obs.vector = vector.tolist()
    return observations


class RunWriter:
    """One analyzer's observations of one video, embedded in batches and streamed into a
    store run. ``lock`` serialises the library's writes (LanceDB commits one at a time)."""

    def __init__(self, store: Store, lock: threading.Lock, video_id: str, analyzer: str,
                 version: str, embedder) -> None:
        self.store, self.lock, self.embedder = store, lock, embedder
        with lock:
            self.run = store.begin(video_id, analyzer, version)
        self.rows = 0
        self._batch: list[Observation] = []
        self._adding = threading.Lock()  # parts of one video's audio add at the same time

    def add(self, observations: Iterable[Observation]) -> None:
        with self._adding:
            for obs in observations:
                self._batch.append(obs)
                if len(self._batch) >= EMBED_BATCH:
                    self._flush()

    def commit(self) -> int:
        """Commit the run; returns the rows written."""
        with self._adding:
            self._flush()
        with self.lock:
            self.run.commit()
        return self.rows

    def abort(self) -> None:
        with self.lock:
            self.run.abort()

    def _flush(self) -> None:
        if self._batch:
            batch = embed_texts(self._batch, self.embedder)
            with self.lock:
                self.run.add(batch)
            self.rows += len(batch)
            self._batch = []
