"""One analyzer's output for one video, written so that readers see all of it or none of it."""

from __future__ import annotations

from collections.abc import Iterable
from types import TracebackType
from typing import Literal, Protocol

from vidseek.errors import StoreError
from vidseek.store.records import RunRecord
from vidseek.store.schema import now
from vidseek.types import Observation


class RunTarget(Protocol):
    """Where a run writes (the store): rows tagged with the run, made visible or dropped."""

    def write_rows(self, observations: list[Observation], *, analyzer: str, version: str,
                   run_id: str) -> None: ...

    def record_run(self, record: RunRecord) -> None: ...

    def drop_run(self, run_id: str) -> None: ...

__all__ = ["Run"]

DEFAULT_BATCH_ROWS = 1000


class Run:
    """A run in progress: observations are written as they come, tagged with ``run_id``, and
    become visible only when :meth:`commit` records the run in the ``runs`` table.

    Made by :meth:`Store.begin`. As a context manager it commits when the block ends normally
    and aborts when it raises. Only one run per ``(video, analyzer)`` may be open at a time.

    Attributes:
        video_id, analyzer, version: what the run is for.
        run_id: random id that tags its rows.
        rows: observations handed to :meth:`add` so far.
        state: ``open``, ``committed`` or ``aborted``.
    """

    def __init__(
        self,
        store: RunTarget,
        video_id: str,
        analyzer: str,
        version: str,
        run_id: str,
        *,
        batch_rows: int = DEFAULT_BATCH_ROWS,
    ) -> None:
        self._store = store
        self.video_id = video_id
        self.analyzer = analyzer
        self.version = version
        self.run_id = run_id
        self.rows = 0
        self.state: Literal["open", "committed", "aborted"] = "open"
        self._batch_rows = batch_rows
        self._buffer: list[Observation] = []

    def __repr__(self) -> str:
        return (
            f"Run(video_id={self.video_id!r}, analyzer={self.analyzer!r}, "
            f"version={self.version!r}, rows={self.rows}, state={self.state!r})"
        )

    def add(self, observations: Observation | Iterable[Observation]) -> None:
        """Buffer observations and write them in batches, so memory stays flat for long videos.

        Args:
            observations: one observation or any iterable (a generator is consumed lazily).

        Raises:
            StoreError: when the run is no longer open, an observation belongs to another
                video, or a row cannot be stored (wrong vector width, non-JSON data).
        """
        self._check_open("add to")
        if isinstance(observations, Observation):
            observations = [observations]
        for obs in observations:
            if obs.video_id != self.video_id:
                raise StoreError(
                    f"observation for video {obs.video_id} added to a run for video "
                    f"{self.video_id}: begin one run per video"
                )
            self._buffer.append(obs)
            self.rows += 1
            if len(self._buffer) >= self._batch_rows:
                self._flush()

    def commit(self) -> RunRecord:
        """Make the run's rows visible and drop the rows it replaces.

        Order matters for crash safety: (1) write the remaining rows, (2) append the run to
        ``runs`` (the commit point: one atomic LanceDB append), (3) delete rows of every other
        run of this ``(video, analyzer)``, (4) delete those runs' records. A crash before (2)
        leaves only invisible rows; after (2) readers already follow the newest run, and
        :meth:`Store.cleanup` finishes (3) and (4).

        Returns:
            The committed run.
        """
        self._check_open("commit")
        self._flush()
        record = RunRecord(
            video_id=self.video_id,
            analyzer=self.analyzer,
            version=self.version,
            run_id=self.run_id,
            rows=self.rows,
            completed_at=now(),
        )
        self._store.record_run(record)
        self.state = "committed"
        return record

    def abort(self) -> None:
        """Drop everything this run wrote. The previous committed run, if any, stays visible.

        Aborting a run that already ended does nothing.
        """
        if self.state != "open":
            return
        self._buffer.clear()
        self.state = "aborted"
        self._store.drop_run(self.run_id)

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            if self.state == "open":
                self.commit()
        else:
            self.abort()

    def _flush(self) -> None:
        if not self._buffer:
            return
        self._store.write_rows(self._buffer, analyzer=self.analyzer, version=self.version,
                               run_id=self.run_id)
        self._buffer.clear()

    def _check_open(self, what: str) -> None:
        if self.state != "open":
            raise StoreError(
                f"cannot {what} a run that is {self.state}: begin a new run with Store.begin()"
            )
