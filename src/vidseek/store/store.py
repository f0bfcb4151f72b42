"""The library store: videos, observations, runs and thumbnails in LanceDB tables on disk."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from vidseek.errors import StoreError, UnknownVideoError
from vidseek.media import Thumbnail
from vidseek.media.probe import MediaInfo
from vidseek.store import _sql
from vidseek.store import lock as writer_lock
from vidseek.store.ids import video_id as content_id
from vidseek.store.lancedb_import import import_lancedb
from vidseek.store.layout import (
    SCHEMA_VERSION,
    check_schema,
    library_path,
    no_library,
    read_meta,
    write_meta,
)
from vidseek.store.lock import WRITE_WAIT
from vidseek.store.lookup import find_video
from vidseek.store.records import RunRecord, VideoRecord
from vidseek.store.run import DEFAULT_BATCH_ROWS, Run
from vidseek.store.schema import (
    DEFAULT_VECTOR_DIM,
    RUNS,
    THUMBNAILS,
    VIDEOS,
    now,
    observation_rows,
    observations_schema,
    row_to_observation,
    space_rows,
    space_schema,
)
from vidseek.store.snapshot import table_state, write_observations, write_table_rows
from vidseek.types import Observation

__all__ = ["Store"]

lancedb = import_lancedb()
log = logging.getLogger("vidseek.store")

VECTOR_INDEX_ROWS = 10_000
"""Rows with vectors from which `Store.build_indexes` builds a vector index."""
FILTER_INDEX_ROWS = 20_000
"""Rows from which `Store.build_indexes` indexes the columns searches filter on."""
# Above this many committed runs, filter run ids in Arrow rather than in one long SQL IN list.
_MAX_SQL_IN = 1000
# Searches ask LanceDB for this many more rows than wanted, since rows of uncommitted and
# replaced runs are dropped afterwards (normally there are none: commits delete what they
# replace), and ask again for four times as many when too many were dropped.
_OVERFETCH = 16
_REFETCH_GROWTH = 4
# Each commit adds a one-row file to the runs table, and reading thousands of small files
# costs ten times more than the same rows in one: begin() merges them once there are this many.
_MAX_FRAGMENTS = 32
# Compaction removes the files of table versions older than this. Every version keeps its
# files, and every read looks up the latest version in a listing of all of them (measured on
# 1000 one-hour videos: 2.3 ms a lookup with 4000 versions, 0.2 ms after pruning; 18 GB on
# disk before, 2.8 GB after). Readers here move to the latest version before every read, so
# only a read that began on a version replaced just then can miss its files; reads take
# milliseconds. Ten minutes kept a whole batch's versions (33 real clips: 348 versions,
# 6.9 MB), a minute still 91 of them on a busy machine (see docs/decisions.md).
_KEEP_VERSIONS = timedelta(seconds=10)
# A compaction or index build that meets a commit of another writer (one that does not take
# the writer lock: an older vidseek) is tried this many times before it is given up.
_CONFLICT_TRIES = 3
_CONFLICT = re.compile(r"commit conflict|preempted", re.IGNORECASE)
# What LanceDB says when a search needs an index that is not there (never built, a build
# that was killed) or whose files are gone.
_NO_INDEX = re.compile(r"INVERTED index|_indices", re.IGNORECASE)
_UNSET: Any = object()


class Store:
    """A vidseek library on disk.

    Four LanceDB tables live in the library folder beside ``meta.json``:

    - ``videos``: one row per video (id, known paths, probe info).
    - ``observations``: every :class:`Observation`, tagged with analyzer, version and run id.
    - ``runs``: one row per committed ``(video, analyzer, version)`` run.
    - ``thumbnails``: small pictures of each video (one per shot).

    Plus one table per vector space (``Observation.vectors``: image embeddings, face
    descriptors...), made when the first vector of that space arrives and listed in
    ``meta.json``; its rows belong to runs exactly as observations do.

    Readers see only rows whose run id is the newest committed run of its
    ``(video, analyzer)``, so an interrupted or uncommitted run is never read. The committed
    runs are read once per version of the ``runs`` table, whose latest version every read
    looks up, so a store also sees what other processes commit.

    One process writes a library at a time: every write takes the library's writer lock
    (``write.lock``, see :mod:`vidseek.store.lock` and :meth:`writing`); a run holds it from
    :meth:`begin` until it commits or aborts. Reads never take it.

    Args:
        path: the library folder; default ``$VIDSEEK_HOME``, else ``~/.vidseek``. Created
            when missing, unless ``create`` is False.
        vector_dim: width of observation vectors. Fixed when the library is created (default
            384); when given for an existing library it must match.
        create: make a new library when there is none; False (commands that only read)
            raises :class:`StoreError` instead.

    Raises:
        StoreError: when the folder holds a library of another schema version, another
            vector width, or tables that vidseek did not write; or holds no library and
            ``create`` is False.
    """

    def __init__(self, path: str | Path | None = None, *, vector_dim: int | None = None,
                 create: bool = True) -> None:
        self.path = library_path(path)
        self._holds = 0  # holds of the writer lock taken through this store
        self._holds_lock = threading.Lock()
        self._run_holds: set[str] = set()  # open runs, each holding the writer lock
        meta = read_meta(self.path)
        if meta is None and not create:
            raise StoreError(no_library(self.path))
        if meta is None:
            # Making a library is a write: two processes making the same one take turns.
            writer_lock.acquire(self.path)
            try:
                meta = self._create(vector_dim)
            finally:
                writer_lock.release(self.path)
        check_schema(self.path, meta)
        self.vector_dim: int = int(meta.get("vector_dim", DEFAULT_VECTOR_DIM))
        if vector_dim is not None and vector_dim != self.vector_dim:
            raise StoreError(
                f"library {self.path} stores {self.vector_dim}-float vectors, not {vector_dim}: "
                f"use an embedder of width {self.vector_dim}, or index into a new library"
            )
        self._obs_schema = observations_schema(self.vector_dim)
        self._db = lancedb.connect(str(self.path))
        self._videos = self._table("videos", VIDEOS)
        self._thumbs = self._table("thumbnails", THUMBNAILS)
        self._obs = self._table("observations", self._obs_schema)
        self._runs = self._table("runs", RUNS)
        self._spaces: dict[str, tuple[Any, pa.Schema]] = {}
        self._open_spaces(meta)
        self._runs_seen: _Committed | None = None
        self._videos_seen: tuple[int, dict[str, VideoRecord]] | None = None

    def _create(self, vector_dim: int | None) -> dict:
        """Write meta.json and the tables of a new library (under the writer lock)."""
        meta = read_meta(self.path)  # made meanwhile by the process this one waited for
        if meta is not None:
            return meta
        if self.path.is_dir() and any(self.path.glob("*.lance")):
            raise StoreError(
                f"{self.path} holds tables but no meta.json, so its schema is unknown: "
                "index into a new library (pass another path or set VIDSEEK_HOME)"
            )
        meta = {"schema": SCHEMA_VERSION, "vector_dim": vector_dim or DEFAULT_VECTOR_DIM}
        # meta.json first: tables without it would make the folder unopenable.
        write_meta(self.path, meta)
        db = lancedb.connect(str(self.path))
        schema = observations_schema(int(meta["vector_dim"]))
        for name, table_schema in (("videos", VIDEOS), ("thumbnails", THUMBNAILS),
                                   ("observations", schema), ("runs", RUNS)):
            db.create_table(name, schema=table_schema, exist_ok=True)
        return meta

    @classmethod
    def open(cls, path: str | Path | None = None, *, vector_dim: int | None = None,
             create: bool = True) -> Store:
        """Open or create a library; the same as ``Store(path, vector_dim=..., create=...)``."""
        return cls(path, vector_dim=vector_dim, create=create)

    def close(self) -> None:
        """Release the tables, and the writer lock if this store still holds it (a run that
        was neither committed nor aborted)."""
        with self._holds_lock:
            holds, self._holds = self._holds, 0
            self._run_holds.clear()
        for _ in range(holds):
            writer_lock.release(self.path)
        self._db = self._videos = self._obs = self._runs = self._thumbs = None  # type: ignore[assignment]
        self._spaces = {}
        self._runs_seen = self._videos_seen = None

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r}, vector_dim={self.vector_dim})"

    # ---- the writer lock ------------------------------------------------------------------

    @contextmanager
    def writing(self, *, wait: float | None = _UNSET,
                on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
        """Hold the library's writer lock for a block of writes (see :mod:`vidseek.store.lock`).

        Every write method takes it by itself; hold it around several of them to keep other
        processes out in between (indexing holds it for the whole batch). Taking it again in
        the same process (any thread, any store) only counts.

        Args:
            wait: seconds to wait for another process writing the library (default
                :data:`~vidseek.store.lock.WRITE_WAIT`; None: as long as it takes).
            on_wait: told once that this process waits, and for whom (default: a warning on
                the ``vidseek.store`` logger).

        Raises:
            StoreError: another process still wrote the library after ``wait`` seconds.
        """
        self._hold(WRITE_WAIT if wait is _UNSET else wait, on_wait)
        try:
            yield
        finally:
            self._unhold()

    def _hold(self, wait: float | None = WRITE_WAIT,
              on_wait: Callable[[str], None] | None = None) -> None:
        writer_lock.acquire(self.path, wait=wait, on_wait=on_wait)
        with self._holds_lock:
            self._holds += 1
            first = self._holds == 1
        if first and self._db is not None:
            # What other writers committed before this one took the lock: write on top of it.
            self._open_new_spaces()
            for table in [self._videos, self._thumbs, self._runs, *self._run_tables()]:
                table.checkout_latest()

    def _unhold(self) -> None:
        with self._holds_lock:
            if self._holds == 0:
                return
            self._holds -= 1
        writer_lock.release(self.path)

    def _end_run(self, run_id: str) -> None:
        """A run committed or aborted: give back the hold :meth:`begin` took for it."""
        with self._holds_lock:
            if run_id not in self._run_holds:
                return
            self._run_holds.discard(run_id)
        self._unhold()

    # ---- videos -------------------------------------------------------------------------

    def add_video(self, video_id: str, path: str | Path, info: MediaInfo) -> VideoRecord:
        """Add a video, or record one more path for a video already in the library.

        Args:
            video_id: the content id (see :func:`vidseek.store.video_id`).
            path: where the file is now; stored as an absolute path.
            info: what probing it found.

        Returns:
            The video as stored now.
        """
        with self.writing():
            return self._add_video(video_id, Path(path).expanduser().resolve().as_posix(),
                                   info)

    def _add_video(self, video_id: str, where: str, info: MediaInfo) -> VideoRecord:
        found = self._video_rows(_sql.eq("video_id", video_id))
        if found:
            record = found[0]
            if where not in record.paths:
                record.paths.append(where)
                self._videos.update(
                    where=_sql.eq("video_id", video_id),
                    values={"paths": json.dumps(record.paths)},
                )
            return record
        record = VideoRecord(id=video_id, paths=[where], info=info, added_at=now())
        row = {
            "video_id": video_id,
            "paths": json.dumps(record.paths),
            "info": info.model_dump_json(),
            "added_at": record.added_at,
        }
        self._videos.add(pa.Table.from_pylist([row], schema=VIDEOS))
        return record

    def videos(self) -> list[VideoRecord]:
        """Every video in the library, oldest first."""
        return [v.model_copy(deep=True) for v in self._videos_by_id().values()]

    def video_paths(self) -> dict[str, str]:
        """Each video's newest path, by id: what a search shows with its moments (one lookup
        per search, not one per moment)."""
        return {video_id: v.paths[-1] for video_id, v in self._videos_by_id().items()}

    def video(self, query: str | Path, *, open_files: bool = True) -> VideoRecord:
        """Find one video by id, path, file name or unique id prefix (see
        :func:`vidseek.store.lookup.find_video` for the order).

        Args:
            query: an id, the start of one, a path, or a file name (``talk.mp4`` or ``talk``).
            open_files: also try an existing file whose content is in the library (a copy or
                a moved file); False never opens a file (servers, for names clients give).

        Returns:
            The video.

        Raises:
            UnknownVideoError: when nothing matches, or a name or prefix matches several
                videos (listed in the error).
        """
        try:
            found = find_video(list(self._videos_by_id().values()), query,
                               content_id=content_id if open_files else None,
                               where=str(self.path))
        except UnknownVideoError as exc:
            if exc.candidates:
                raise
            raise exc.advised("`vidseek list` (Library.videos()) shows the library, "
                              "`vidseek index PATH` adds files") from None
        return found.model_copy(deep=True)  # a copy: the cached record stays as read

    def remove_video(self, video_id: str) -> bool:
        """Remove a video and every row about it (observations and runs).

        Returns:
            True when the library held anything for it.
        """
        where = _sql.eq("video_id", video_id)
        with self.writing():
            # runs first: once they are gone the observations are invisible even if we crash
            # (and the next index's cleanup deletes them).
            removed = self._delete(self._runs, where)
            removed += sum(self._delete(t, where) for t in self._run_tables())
            removed += self._delete(self._thumbs, where)
            removed += self._delete(self._videos, where)
        return removed > 0

    # ---- runs -----------------------------------------------------------------------------

    # -- what a Run writes through (see vidseek.store.run) ------------------------------------

    def write_rows(self, observations: list[Observation], *, analyzer: str, version: str,
                   run_id: str) -> None:
        """Write observations tagged with a run (invisible until the run is recorded)."""
        rows = observation_rows(observations, analyzer=analyzer, version=version,
                                run_id=run_id, schema=self._obs_schema)
        spaces = {(space, len(v)) for o in observations for space, v in o.vectors.items()}
        with self.writing():
            self._obs.add(rows)
            for space, dim in sorted(spaces):
                table, schema = self._space(space, dim)
                table.add(space_rows(observations, space, analyzer=analyzer, version=version,
                                     run_id=run_id, schema=schema))

    def record_run(self, record: RunRecord) -> None:
        """Make a run visible, then drop every other run of its ``(video, analyzer)``.

        Appending the run's row is the commit point. Deleting what it replaces is cleanup:
        when that fails (or the process dies first), readers already follow the new run and
        the next index (:meth:`cleanup`) finishes it, so a failure there is only logged.
        """
        with self.writing():
            self._runs.add(pa.Table.from_pylist([record.model_dump()], schema=RUNS))
            self._end_run(record.run_id)
            others = _sql.and_(
                _sql.eq("video_id", record.video_id),
                _sql.eq("analyzer", record.analyzer),
                f"run_id <> {_sql.quote(record.run_id)}",
            )
            try:
                for table in self._run_tables():
                    self._delete(table, others)
                self._delete(self._runs, others)
            except Exception as exc:  # noqa: BLE001 - committed; cleanup() finishes this
                log.warning("%s: the rows that run %s of %s replaces were not deleted (%s); "
                            "the next `vidseek index` deletes them", self.path, record.run_id,
                            record.analyzer, exc)

    def drop_run(self, run_id: str) -> None:
        """Delete every row a run wrote (never those of a committed run)."""
        with self.writing():
            if run_id not in {r.run_id for r in self._seen().ordered}:
                for table in self._run_tables():
                    self._delete(table, _sql.eq("run_id", run_id))
            self._end_run(run_id)

    def begin(
        self,
        video_id: str,
        analyzer: str,
        version: str | int,
        *,
        batch_rows: int = DEFAULT_BATCH_ROWS,
    ) -> Run:
        """Start writing one analyzer's output for one video.

        Rows left by an interrupted run of this ``(video, analyzer)`` are deleted first, so a
        resumed run never leaves duplicates. The run holds the library's writer lock (waiting
        for another process that writes it) until it commits or aborts.

        Args:
            video_id: the video.
            analyzer: analyzer name, e.g. ``speech``.
            version: analyzer version; committing replaces the rows of every other version.
            batch_rows: observations buffered before each write.

        Returns:
            An open :class:`Run`; nothing it writes is visible until it commits.
        """
        if not analyzer:
            raise StoreError("begin() needs an analyzer name, e.g. 'speech'")
        run_id = uuid.uuid4().hex
        self._hold()  # given back when the run commits or aborts
        try:
            if _fragments(self._runs) > _MAX_FRAGMENTS:
                self._optimize(self._runs)
            self._cleanup(video_id, analyzer)
        except BaseException:
            self._unhold()
            raise
        with self._holds_lock:
            self._run_holds.add(run_id)
        return Run(self, video_id, analyzer, str(version), run_id, batch_rows=batch_rows)

    def is_complete(self, video_id: str, analyzer: str, version: str | int) -> bool:
        """True when a committed run of exactly this analyzer version exists for the video,
        so indexing it again would be a no-op."""
        run = self._committed().get((video_id, analyzer))
        return run is not None and run.version == str(version)

    def runs(self, video_id: str | None = None) -> list[RunRecord]:
        """The committed run of each ``(video, analyzer)``, sorted by video and analyzer."""
        runs = self._seen().ordered
        if video_id is not None:
            runs = [r for r in runs if r.video_id == video_id]
        return [r.model_copy() for r in runs]  # copies: the cached records stay as read

    def cleanup(self) -> int:
        """Delete rows that readers would never see: rows of runs that never committed
        (indexing killed before a commit), of runs replaced by a newer one and their run
        records (killed between a commit and its cleanup), thumbnails of videos no longer in
        the library, and second copies of a thumbnail or a video (written side by side by
        two processes of a vidseek without the writer lock).

        Indexing calls it first, under the writer lock, so a run still open in another
        process never loses its rows. Writes nothing when there is nothing to delete.

        Returns:
            Rows deleted, over all tables.
        """
        with self.writing():
            seen = self._seen()
            keep = {r.run_id for r in seen.ordered}
            deleted = 0
            for table in [*self._run_tables(), self._runs]:
                found = pc.unique(self._scan(table, None, ["run_id"])["run_id"]).to_pylist()
                stale = sorted(set(found) - keep)
                if stale:
                    deleted += self._delete(table, _sql.in_("run_id", stale))
            videos = set(self._videos_by_id())
            thumbs = self._scan(self._thumbs, None, ["video_id", "time", "width", "height"],
                                row_ids=True)
            orphans = sorted(set(thumbs["video_id"].to_pylist()) - videos)
            if orphans:
                deleted += self._delete(self._thumbs, _sql.in_("video_id", orphans))
                thumbs = thumbs.filter(pc.is_in(thumbs["video_id"], value_set=pa.array(
                    sorted(videos), type=pa.string())))
            deleted += self._delete_copies(self._thumbs, thumbs, ["video_id", "time", "width",
                                                                  "height"])
            rows = self._scan(self._videos, None, ["video_id", "added_at"], row_ids=True)
            deleted += self._delete_copies(self._videos, rows.sort_by("added_at"),
                                           ["video_id"])
        return deleted

    # ---- observations -----------------------------------------------------------------------

    def observations(
        self, video_id: str | None = None, kinds: Iterable[str] | None = None
    ) -> list[Observation]:
        """Observations of committed runs, sorted by video, start, end and kind.

        Args:
            video_id: only this video; all videos when ``None``.
            kinds: only these kinds (``speech``, ``text``...); all when ``None``.

        Returns:
            The observations.
        """
        table = self._read_visible(video_id, kinds)
        table = table.sort_by(
            [("video_id", "ascending"), ("start", "ascending"), ("end", "ascending"),
             ("kind", "ascending")]
        )
        return [row_to_observation(row) for row in table.to_pylist()]

    def put_thumbnails(self, video_id: str, thumbnails: Iterable[Thumbnail]) -> int:
        """Replace a video's thumbnails, in one atomic write: the same thumbnails written
        twice are stored once (one row per video, time and size). Returns how many were
        stored."""
        rows = [{"video_id": video_id, "time": t.time, "format": t.format, "width": t.width,
                 "height": t.height, "data": t.data} for t in thumbnails]
        rows = list({(r["time"], r["width"], r["height"]): r for r in rows}.values())
        with self.writing():
            (self._thumbs.merge_insert(["video_id", "time", "width", "height"])
             .when_matched_update_all()
             .when_not_matched_insert_all()
             .when_not_matched_by_source_delete(_sql.eq("video_id", video_id))
             .execute(pa.Table.from_pylist(rows, schema=THUMBNAILS)))
        return len(rows)

    def thumbnails(self, video_id: str) -> list[Thumbnail]:
        """A video's thumbnails in time order (``requested`` is the frame's time), one per
        time and size."""
        self._thumbs.checkout_latest()
        rows = self._scan(self._thumbs, _sql.eq("video_id", video_id)).to_pylist()
        once = {(r["time"], r["width"], r["height"]): r for r in reversed(rows)}
        return [Thumbnail(r["time"], r["time"], r["data"], r["format"], r["width"], r["height"])
                for r in sorted(once.values(), key=lambda r: (r["time"], r["width"]))]

    def build_indexes(self, *, vector_index_rows: int = VECTOR_INDEX_ROWS) -> list[str]:
        """(Re)build the search indexes on observations; returns the columns indexed.

        - ``text``: a full-text (BM25) index, whenever there are rows.
        - ``kind`` (bitmap) and ``video_id`` (B-tree) from ``FILTER_INDEX_ROWS`` rows: the
          filters of searches restricted to kinds or to a video. Without them LanceDB reads
          the whole column for every search (measured on 1000 one-hour videos, 780k rows:
          +40 ms for a kinds filter, +20 ms for a video; with them, a few milliseconds).
        - ``vector``: an IVF_PQ index (cosine) once ``vector_index_rows`` rows carry vectors.
          Below that a flat search is fast enough (DESIGN.md measured 460 ms for a flat search
          of 200k vectors and 6 ms with IVF_PQ, whose build took 90 s), and PQ needs a few
          hundred vectors to train at all.

        LanceDB also searches rows added after an index was built (without the index's speed),
        so a stale index is never wrong, only slower; indexing rebuilds them after each batch.
        A missing one is another matter (the full-text search fails without its index):
        :meth:`ensure_indexes` rebuilds those. The tables are compacted first (see
        :meth:`compact`).
        """
        with self.writing():
            self.compact()
            return self._build(self._wanted(vector_index_rows))

    def missing_indexes(self) -> list[str]:
        """The search indexes that :meth:`build_indexes` would have made but that are not
        there, or whose files are gone (a build killed before it finished, files deleted):
        ``text``, ``kind``, ``video_id``, ``vector`` or a vector space's name."""
        return [name for name, table, column, _ in self._wanted(VECTOR_INDEX_ROWS)
                if not self._has_index(table, column)]

    def ensure_indexes(self) -> list[str]:
        """Build the search indexes that are missing (see :meth:`missing_indexes`); indexing
        calls it after a batch that indexed nothing, and a search that finds an index
        missing. Returns the ones built."""
        with self.writing():
            missing = set(self.missing_indexes())
            if missing:
                log.warning("%s: rebuilding the missing search indexes %s", self.path,
                            ", ".join(sorted(missing)))
            return self._build([w for w in self._wanted(VECTOR_INDEX_ROWS) if w[0] in missing])

    def compact(self) -> None:
        """Merge the small files that indexing leaves (one or more per write) into large ones,
        drop the rows deleted meanwhile, and remove the files of table versions older than ten
        seconds; then refresh the read cache of the videos and runs (:meth:`snapshot`).

        A search over thousands of small files costs ten times more than over the same rows
        in one file (measured on 100 one-hour videos: see ``benchmarks/search.py``), and old
        versions cost disk and a slower lookup of the latest one. :meth:`build_indexes`
        calls it. It holds the writer lock; a table whose compaction keeps meeting commits of
        a writer that does not take it (an older vidseek) is left as it is, with a warning:
        compaction only saves time and space, and is never worth a batch.
        """
        with self.writing():
            for table in [self._runs, self._videos, self._thumbs, *self._run_tables()]:
                self._optimize(table)
            self.snapshot()

    def indexes(self) -> dict[str, str]:
        """The search indexes on observations, as column -> index type."""
        return {i.columns[0]: i.index_type for i in self._obs.list_indices()}

    def text_search(
        self,
        query: str,
        *,
        video_id: str | None = None,
        kinds: Iterable[str] | None = None,
        limit: int = 20,
    ) -> list[tuple[Observation, float]]:
        """Observations whose text matches ``query`` (BM25), best first, with their scores.

        Only rows of committed runs are searched. Words are stemmed and stop words dropped.
        When the full-text index is missing (a build that was killed), it is rebuilt first.

        Raises:
            StoreError: the index is missing and cannot be rebuilt now (another process is
                writing the library, or the folder is read-only); the message says what to do.
        """
        rows = self._searching(lambda: self._search_visible(
            self._obs, lambda t: t.search(query, query_type="fts"), video_id, kinds, limit))
        return [(row_to_observation(row), float(row["_score"])) for row in rows]

    def nearest(
        self,
        vector: Any,
        *,
        space: str | None = None,
        video_id: str | None = None,
        kinds: Iterable[str] | None = None,
        limit: int = 20,
    ) -> list[tuple[Observation, float]]:
        """Observations whose vector is nearest to ``vector`` (cosine), best first, with
        their cosine similarity.

        Args:
            vector: the query vector.
            space: a vector space (see :meth:`spaces`); ``None`` searches the text vectors.
            video_id, kinds: restrict the search.
            limit: how many to return.

        Returns:
            ``(observation, similarity)`` pairs; for a space, the observation carries that
            vector in ``vectors``. Empty when the space is unknown to this library.
        """
        if space is None:
            table = self._obs
        elif space in self._spaces:
            table = self._spaces[space][0]
        else:
            return []
        query = list(map(float, vector))
        rows = self._searching(lambda: self._search_visible(
            table, lambda t: t.search(query, vector_column_name="vector").distance_type("cosine"),
            video_id, kinds, limit))
        return [(self._space_row(row, space), 1.0 - float(row["_distance"])) for row in rows]

    def space_observations(self, space: str, video_id: str | None = None) -> list[Observation]:
        """Committed observations that carry a vector of ``space``, with it, in time order."""
        if space not in self._spaces:
            return []
        table = self._spaces[space][0]
        table.checkout_latest()
        rows = self._scan(table, self.visible_filter(video_id)).sort_by(
            [("video_id", "ascending"), ("start", "ascending")]).to_pylist()
        return [self._space_row(row, space) for row in rows]

    def spaces(self) -> dict[str, int]:
        """The vector spaces of this library and their widths."""
        return {name: schema.field("vector").type.list_size
                for name, (_, schema) in self._spaces.items()}

    def snapshot(self, video_ids: Iterable[str] = ()) -> None:
        """Refresh the read cache that ``vidseek list`` and ``show`` answer from without
        LanceDB (see :mod:`vidseek.store.snapshot`): the videos, the committed runs, and the
        observations of ``video_ids``. Indexing refreshes the first two after each batch
        (:meth:`build_indexes`); a command that had to read the tables refreshes what it
        read."""
        states = {table: table_state(self.path, table) for table in ("videos", "runs")}
        videos = self.videos()
        write_table_rows(self.path, "videos", states["videos"],
                         [{**v.model_dump(mode="json"), "added_at": v.added_at.isoformat()}
                          for v in videos])
        runs = self.runs()
        write_table_rows(self.path, "runs", states["runs"],
                         [r.model_dump(mode="json", include={"video_id", "analyzer", "version",
                                                             "run_id"}) for r in runs])
        for video_id in video_ids:
            rows = [o.model_dump(mode="json", exclude={"vector", "vectors"})
                    for o in self.observations(video_id)]
            write_observations(self.path, video_id,
                               [r.run_id for r in runs if r.video_id == video_id], rows)

    def count_observations(
        self, video_id: str | None = None, kinds: Iterable[str] | None = None
    ) -> int:
        """How many observations :meth:`observations` would return for the same arguments."""
        return self._read_visible(video_id, kinds, columns=["run_id"]).num_rows

    def visible_filter(self, video_id: str | None = None) -> str:
        """A LanceDB filter on the ``observations`` table that keeps only committed rows
        (optionally of one video), for queries that go to the table directly (search).

        With thousands of runs this is a long ``IN`` list that LanceDB evaluates on every row
        before it searches; :meth:`text_search` and :meth:`nearest` drop hidden rows after
        searching instead, which is much cheaper.
        """
        runs = self._seen().ordered
        return _sql.in_("run_id", [r.run_id for r in runs
                                   if video_id is None or r.video_id == video_id])

    # ---- internals --------------------------------------------------------------------------

    def _wanted(self, vector_index_rows: int) -> list[tuple[str, Any, str, Any]]:
        """The search indexes the tables' sizes call for: ``(name, table, column, config)``."""
        from lancedb.index import FTS, Bitmap, BTree, IvfPq

        wanted: list[tuple[str, Any, str, Any]] = []
        rows = self._obs.count_rows()
        if rows > 0:
            wanted.append(("text", self._obs, "text", FTS()))
        if rows >= FILTER_INDEX_ROWS:
            wanted += [("kind", self._obs, "kind", Bitmap()),
                       ("video_id", self._obs, "video_id", BTree())]
        tables = [("vector", self._obs, self.vector_dim)] + [
            (space, table, schema.field("vector").type.list_size)
            for space, (table, schema) in self._spaces.items()
        ]
        least = max(vector_index_rows, 256)
        for name, table, dim in tables:
            if table.count_rows() < least:  # cheap: no vector count below this
                continue
            vectors = table.count_rows("vector IS NOT NULL")
            if vectors >= least:
                partitions = max(1, int(vectors**0.5) // 4)
                wanted.append((name, table, "vector", IvfPq(
                    distance_type="cosine", num_partitions=partitions,
                    num_sub_vectors=_sub_vectors(dim))))
        return wanted

    def _build(self, wanted: list[tuple[str, Any, str, Any]]) -> list[str]:
        for name, table, column, config in wanted:
            self._retrying(f"building the {name} index", table,
                           partial(table.create_index, column, config=config, replace=True))
        return [name for name, *_ in wanted]

    def _has_index(self, table: Any, column: str) -> bool:
        """An index on ``column`` is listed and its files are there."""
        table.checkout_latest()
        for index in table.list_indices():
            if list(index.columns) == [column]:
                folder = self.path / f"{table.name}.lance" / "_indices" / str(index.index_uuid)
                return folder.is_dir()
        return False

    def _optimize(self, table: Any) -> None:
        """Compact a table; skipped with a warning when it keeps meeting other commits."""
        done = self._retrying(f"compacting {table.name}", table,
                              partial(table.optimize, cleanup_older_than=_KEEP_VERSIONS),
                              give_up=True)
        if not done:
            log.warning("%s: %s was not compacted (another process kept writing it); the "
                        "next index compacts it", self.path, table.name)

    def _retrying(self, what: str, table: Any, write: Callable[[], Any], *,
                  give_up: bool = False) -> bool:
        """Run a write that LanceDB may refuse with a commit conflict (another writer's
        commit came first), on the latest version each time. Returns True once it is done;
        after the last try False when ``give_up``, else the conflict is raised."""
        for attempt in range(_CONFLICT_TRIES):
            try:
                write()
                return True
            except (RuntimeError, OSError) as exc:
                if not _CONFLICT.search(str(exc)):
                    raise
                last = exc
                log.info("%s: %s met another commit (%s); trying again", self.path, what, exc)
                table.checkout_latest()
                time.sleep(0.05 * (attempt + 1))
        if give_up:
            return False
        raise StoreError(f"{what} in {self.path} kept meeting commits of another process "
                         f"({last}): run it again once no other vidseek writes this library"
                         ) from last

    def _searching(self, search: Callable[[], list]) -> list:
        """Run a search; when it fails for a missing search index (a build that was killed,
        deleted files), rebuild the missing indexes and search again. Never silently runs
        without them: when the index cannot be rebuilt now, raises :class:`StoreError`."""
        try:
            return search()
        except (ValueError, RuntimeError, OSError) as exc:
            if not _NO_INDEX.search(str(exc)):
                raise
            failure = exc
        read_only = StoreError(
            f"the search index of library {self.path} is missing ({failure}) and cannot be "
            "rebuilt by this user: run `vidseek index` on one of its videos with write access "
            "to the folder")
        if not os.access(self.path, os.W_OK):
            raise read_only from failure
        try:
            with self.writing(wait=0):  # a reader never waits; the writer rebuilds it anyway
                built = self.ensure_indexes()
        except StoreError as exc:
            pid = writer_lock.holder(self.path)
            raise StoreError(
                f"the search index of library {self.path} is missing, and another vidseek "
                f"process (pid {pid}) is writing the library: it builds the index when its "
                "batch ends; search again then") from exc
        except OSError as exc:
            raise read_only from exc
        if not built:
            raise StoreError(f"searching library {self.path} failed ({failure}), though its "
                             "search indexes are all there") from failure
        return search()

    def _open_spaces(self, meta: dict) -> None:
        for space, entry in meta.get("spaces", {}).items():
            schema = space_schema(int(entry["dim"]))
            self._spaces[space] = (self._table(entry["table"], schema), schema)

    def _open_new_spaces(self) -> None:
        """Open the vector spaces other processes made since this store opened."""
        spaces = (read_meta(self.path) or {}).get("spaces", {})
        if set(spaces) - set(self._spaces):
            self._open_spaces({"spaces": {k: v for k, v in spaces.items()
                                          if k not in self._spaces}})

    def _space(self, space: str, dim: int) -> tuple[Any, pa.Schema]:
        """The table of a vector space, created (and recorded in meta.json) on first use."""
        if space not in self._spaces:
            meta = read_meta(self.path) or {}
            self._open_spaces(meta)  # another process may have made it meanwhile
        if space not in self._spaces:
            slug = re.sub(r"[^a-z0-9]+", "_", space.lower()).strip("_")[:40]
            name = f"space_{slug}_{hashlib.blake2b(space.encode(), digest_size=4).hexdigest()}"
            meta.setdefault("spaces", {})[space] = {"table": name, "dim": dim}
            schema = space_schema(dim)
            self._spaces[space] = (self._table(name, schema), schema)
            write_meta(self.path, meta)
        return self._spaces[space]

    def _run_tables(self) -> list[Any]:
        """Every table whose rows belong to runs."""
        return [self._obs] + [table for table, _ in self._spaces.values()]

    def _space_row(self, row: dict[str, Any], space: str | None) -> Observation:
        row = dict(row)
        if space is None:
            return row_to_observation(row)
        vector = row.pop("vector")
        row["vector"] = None
        obs = row_to_observation(row)
        obs.vectors = {space: list(vector)}
        return obs

    def _table(self, name: str, schema: pa.Schema) -> Any:
        try:
            return self._db.create_table(name, schema=schema, exist_ok=True)
        except ValueError as e:
            raise StoreError(
                f"table {name!r} in {self.path} does not have the layout of store schema "
                f"{SCHEMA_VERSION} ({e}): index into a new library (pass another path or set "
                "VIDSEEK_HOME)"
            ) from e

    def _scan(self, table: Any, where: str | None, columns: list[str] | None = None, *,
              row_ids: bool = False) -> pa.Table:
        query = table.search()
        if row_ids:
            query = query.with_row_id(True)
        if where:
            query = query.where(where)
        if columns:
            query = query.select(columns)
        return query.limit(None).to_arrow()

    def _delete_copies(self, table: Any, rows: pa.Table, key: list[str]) -> int:
        """Delete all but the first of the rows (read with ``_rowid``) that share ``key``."""
        first: set[tuple] = set()
        copies = []
        for row in rows.to_pylist():
            k = tuple(row[c] for c in key)
            if k in first:
                copies.append(row["_rowid"])
            first.add(k)
        if copies:
            table.delete(f"_rowid IN ({', '.join(map(str, copies))})")
        return len(copies)

    def _delete(self, table: Any, where: str | None) -> int:
        """Delete matching rows; skip the write (and a new table version) when none match."""
        n = table.count_rows(where) if where else table.count_rows()
        if n:
            table.delete(where or "true")
        return n

    def _video_rows(self, where: str | None) -> list[VideoRecord]:
        self._videos.checkout_latest()  # videos added by other processes
        rows = self._scan(self._videos, where).sort_by("added_at").to_pylist()
        seen: dict[str, VideoRecord] = {}
        for row in rows:
            # Two processes adding the same new video at once may both append; keep the first.
            if row["video_id"] in seen:
                continue
            seen[row["video_id"]] = VideoRecord(
                id=row["video_id"],
                paths=json.loads(row["paths"]),
                info=MediaInfo.model_validate_json(row["info"]),
                added_at=row["added_at"],
            )
        return list(seen.values())

    def _videos_by_id(self) -> dict[str, VideoRecord]:
        """Every video by id, oldest first, read again only when the videos table changed
        (a search looks up the video of each moment it returns)."""
        self._videos.checkout_latest()  # videos added by other processes
        version = self._videos.version
        if self._videos_seen is None or self._videos_seen[0] != version:
            self._videos_seen = (version, {v.id: v for v in self._video_rows(None)})
        return self._videos_seen[1]

    def _committed(self) -> dict[tuple[str, str], RunRecord]:
        """The newest committed run of each (video, analyzer); see :meth:`_seen`."""
        return self._seen().newest

    def _seen(self) -> _Committed:
        """The committed runs as of the latest version of the runs table.

        Every read starts here. The table's latest version is looked up each time (a fraction
        of a millisecond), so commits of other processes are seen; the runs are read again only
        when that version changed, and then the other tables move to their latest versions too,
        so that the rows of newly committed runs are there to be read.
        """
        self._runs.checkout_latest()
        version = self._runs.version
        if self._runs_seen is None or self._runs_seen.version != version:
            self._open_new_spaces()
            for table in [self._thumbs, *self._run_tables()]:
                table.checkout_latest()
            self._runs_seen = _Committed(version, self._scan(self._runs, None))
        return self._runs_seen

    def _search_visible(
        self,
        table: Any,
        search: Any,
        video_id: str | None,
        kinds: Iterable[str] | None,
        limit: int,
    ) -> list[dict[str, Any]]:
        """Rows of committed runs from a LanceDB search, best first, at most ``limit``.

        ``search(table)`` makes the query (full-text or vector). The video and kinds filters
        go to LanceDB (with :meth:`build_indexes`' indexes they cost little); the committed-runs
        filter is applied to what comes back, asking again for more rows when too many were
        hidden. As a LanceDB filter it was a list of every committed run id, evaluated on
        every row: 120-250 ms a search on 1000 one-hour videos (4000 runs, 780k rows);
        applied afterwards it costs well under a millisecond.
        """
        seen = self._seen()
        if limit <= 0 or not seen.newest:
            return []
        table.checkout_latest()
        where = _sql.and_(
            None if video_id is None else _sql.eq("video_id", video_id),
            None if kinds is None else _sql.in_("kind", list(kinds)),
        )
        fetch = limit + _OVERFETCH
        while True:
            query = search(table)
            if where:
                query = query.where(where, prefilter=True)
            found = query.limit(fetch).to_arrow()
            kept = found.filter(pc.is_in(found["run_id"], value_set=seen.run_ids))
            if kept.num_rows >= limit or found.num_rows < fetch:
                return kept.slice(0, limit).to_pylist()
            fetch *= _REFETCH_GROWTH

    def _read_visible(
        self,
        video_id: str | None,
        kinds: Iterable[str] | None,
        columns: list[str] | None = None,
    ) -> pa.Table:
        run_ids = [r.run_id for r in self._seen().ordered
                   if video_id is None or r.video_id == video_id]
        self._obs.checkout_latest()  # compaction may have removed the files of older versions
        kinds = None if kinds is None else list(kinds)
        where = _sql.and_(
            None if video_id is None else _sql.eq("video_id", video_id),
            None if kinds is None else _sql.in_("kind", kinds),
            _sql.in_("run_id", run_ids) if len(run_ids) <= _MAX_SQL_IN else None,
        )
        table = self._scan(self._obs, where, columns)
        if len(run_ids) > _MAX_SQL_IN:
            table = table.filter(pc.is_in(table["run_id"], value_set=pa.array(run_ids)))
        return table

    def _cleanup(self, video_id: str | None, analyzer: str | None) -> int:
        committed = self._committed()
        keep = [
            r.run_id
            for (vid, name), r in committed.items()
            if (video_id is None or vid == video_id) and (analyzer is None or name == analyzer)
        ]
        scope = _sql.and_(
            None if video_id is None else _sql.eq("video_id", video_id),
            None if analyzer is None else _sql.eq("analyzer", analyzer),
        )
        stale = _sql.and_(scope, f"NOT ({_sql.in_('run_id', keep)})" if keep else None)
        deleted = sum(self._delete(t, stale) for t in self._run_tables())
        return deleted + self._delete(self._runs, stale)


class _Committed:
    """The committed runs as of one version of the runs table.

    Attributes:
        version: that version.
        newest: the newest committed run of each ``(video, analyzer)``.
        ordered: the same runs sorted by video and analyzer.
        run_ids: their run ids, for filtering search results in Arrow.
    """

    def __init__(self, version: int, table: pa.Table) -> None:
        self.version = version
        self.newest: dict[tuple[str, str], RunRecord] = {}
        for row in table.to_pylist():
            # Built unvalidated: the rows come from our own schema, and validating thousands
            # of them would cost more than the searches they serve.
            run = RunRecord.model_construct(**row)
            key = (run.video_id, run.analyzer)
            old = self.newest.get(key)
            # A crash between commit and cleanup leaves two runs: the later one wins.
            if old is None or (run.completed_at, run.run_id) > (old.completed_at, old.run_id):
                self.newest[key] = run
        self.ordered = sorted(self.newest.values(), key=lambda r: (r.video_id, r.analyzer))
        self.run_ids = pa.array([r.run_id for r in self.ordered], type=pa.string())


def _fragments(table: Any) -> int:
    """How many files (fragments) hold the table's rows."""
    return int(table.stats()["fragment_stats"]["num_fragments"])


def _sub_vectors(dim: int) -> int:
    """PQ sub-vectors: about 8 floats each, and a divisor of ``dim``."""
    target = max(1, dim // 8)
    return max(d for d in range(1, target + 1) if dim % d == 0)
