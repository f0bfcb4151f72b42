"""The library: index videos once, then read what was learned about them.

Indexing one video runs three jobs side by side (threads; the heavy work happens in FFmpeg,
CTranslate2 and ONNX Runtime, which release the GIL, so both cores are busy):

- frames: one sampling pass at the smallest interval any frame analyzer asks for (keyframes
  within half an interval stand in for exact frames: one decoded picture per sample), each
  frame handed, scaled, to the analyzers that want it (on-screen text);
- audio: the audio as 16 kHz chunks through the speech analyzer;
- shots: the shot detector's own cheap pass (reference frames at 64x36, cuts made exact).

Each analyzer's output streams into its own store run, text is embedded on the way, and the
run commits only when the analyzer finished: an interrupted index leaves nothing half-written,
and indexing again redoes only the analyzers without a committed run of their version.
"""

from __future__ import annotations

import glob
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from vidseek.errors import VidseekError
from vidseek.media import MediaInfo, VideoReader, detect_shots, probe, read_audio, thumbnails
from vidseek.store import Store, VideoRecord, video_id
from vidseek.types import Observation

__all__ = ["ANALYZERS", "IndexReport", "IndexResult", "Library", "expand_paths"]

VIDEO_SUFFIXES = frozenset({
    ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".ts", ".mts", ".m2ts", ".flv", ".wmv",
    ".mpg", ".mpeg", ".3gp", ".ogv",
})
ANALYZERS = ("shots", "speech", "text")
"""The analyzers of the embedded default, in the order they are reported."""

_EMBED_BATCH = 64
_THUMBNAIL_SIZE = 320  # longer side, pixels
_SHOTS_VERSION = "1"

Progress = Callable[[Path, float], None]
"""Called with a video and the fraction of it indexed so far (0..1)."""


class IndexResult(BaseModel):
    """What indexing one path did."""

    path: str
    video_id: str | None = None
    status: Literal["indexed", "unchanged", "failed"]
    analyzers: dict[str, int] = Field(default_factory=dict)
    """Observations written per analyzer that ran."""
    errors: dict[str, str] = Field(default_factory=dict)
    """Why an analyzer (or ``file`` for the whole file) failed."""
    analyzer_seconds: dict[str, float] = Field(default_factory=dict)
    """Wall-clock seconds each analyzer took (they run side by side)."""
    seconds: float = 0.0
    duration: float | None = None
    """Length of the video, seconds."""


class IndexReport(BaseModel):
    """What a call to :meth:`Library.index` did, one result per path."""

    results: list[IndexResult]
    seconds: float


def expand_paths(items: Iterable[str | Path]) -> list[Path]:
    """Files from files, folders (searched recursively for video suffixes) and globs.

    A path that does not exist is kept, so that indexing reports it rather than dropping it.
    """
    found: list[Path] = []
    for item in items:
        path = Path(item).expanduser()
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*")
                                if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file()))
        elif path.exists() or not glob.has_magic(str(item)):
            found.append(path)
        else:
            found.extend(sorted(Path(p) for p in glob.glob(str(path), recursive=True)
                                if Path(p).is_file()))
    seen: set[Path] = set()
    return [p for p in found if not (p in seen or seen.add(p))]


class Library:
    """A library of indexed videos (``~/.vidseek``, ``VIDSEEK_HOME``, or ``path``).

    Args:
        path: the library folder.
        analyzers: which analyzers indexing runs (default all of :data:`ANALYZERS`).
    """

    def __init__(self, path: str | Path | None = None, *,
                 analyzers: Iterable[str] = ANALYZERS) -> None:
        self.store = Store(path)
        self.path = self.store.path
        unknown = set(analyzers) - set(ANALYZERS)
        if unknown:
            raise ValueError(f"unknown analyzers {sorted(unknown)}; known: {list(ANALYZERS)}")
        self.analyzers = [a for a in ANALYZERS if a in set(analyzers)]
        self._models: dict[str, object] = {}
        self._write = threading.Lock()  # LanceDB writes, one at a time

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- reading -----------------------------------------------------------------------------

    def videos(self) -> list[VideoRecord]:
        return self.store.videos()

    def video(self, query: str | Path) -> VideoRecord:
        """A video by id, id prefix or path (raises ``UnknownVideoError``)."""
        return self.store.video(query)

    def observations(self, video: str | Path, kinds: Iterable[str] | None = None):
        return self.store.observations(self.video(video).id, kinds=kinds)

    def remove(self, video: str | Path) -> bool:
        return self.store.remove_video(self.video(video).id)

    # -- indexing ----------------------------------------------------------------------------

    def index(
        self, paths: Iterable[str | Path], *, progress: Progress | None = None
    ) -> IndexReport:
        """Index files, folders and globs. One bad file is reported and the rest go on.

        Returns:
            One :class:`IndexResult` per file: ``indexed``, ``unchanged`` (every analyzer
            already has a committed run of its version) or ``failed`` (with the reason).
        """
        started = time.perf_counter()
        results = [self._index_one(path, progress) for path in expand_paths(paths)]
        if any(r.analyzers for r in results):
            with self._write:
                self.store.build_indexes()
        return IndexReport(results=results, seconds=time.perf_counter() - started)

    def _index_one(self, path: Path, progress: Progress | None) -> IndexResult:
        started = time.perf_counter()
        result = IndexResult(path=str(path), status="indexed")
        try:
            info = probe(path)
            vid = video_id(path)
        except (VidseekError, OSError) as exc:
            result.status, result.errors["file"] = "failed", str(exc)
            return result
        result.video_id, result.duration = vid, info.duration
        with self._write:
            self.store.add_video(vid, path, info)
        todo = [a for a in self.analyzers if not self.store.is_complete(vid, a, self._version(a))]
        if not todo:
            result.status = "unchanged"
            return result
        tracker = _Tracker(path, info.duration, todo, progress)
        jobs = {"shots": self._shots, "speech": self._speech, "text": self._text}

        def job(name: str) -> tuple[int, float]:
            began = time.perf_counter()
            rows = self._run(vid, name, jobs[name](path, vid, info, tracker))
            return rows, time.perf_counter() - began

        with ThreadPoolExecutor(len(todo)) as pool:
            futures = {name: pool.submit(job, name) for name in todo}
        for name, future in futures.items():
            try:
                result.analyzers[name], result.analyzer_seconds[name] = future.result()
            except Exception as exc:  # noqa: BLE001 - one analyzer's failure is reported
                result.errors[name] = f"{type(exc).__name__}: {exc}"
        if result.errors:
            result.status = "failed"
        result.seconds = time.perf_counter() - started
        return result

    def _run(self, vid: str, analyzer: str, observations: Iterator[Observation]) -> int:
        """Stream one analyzer's observations into a run and commit it at the end."""
        with self._write:
            run = self.store.begin(vid, analyzer, self._version(analyzer))
        try:
            for batch in _batches(observations, _EMBED_BATCH):
                batch = self._embedded(batch)
                with self._write:
                    run.add(batch)
            with self._write:
                run.commit()
        except BaseException:
            with self._write:
                run.abort()
            raise
        return run.rows

    # -- the analyzers -----------------------------------------------------------------------

    def _version(self, analyzer: str) -> str:
        """Analyzer version plus the models it uses: another model means recomputing."""
        if analyzer == "shots":
            return _SHOTS_VERSION
        model = self._model(analyzer)
        source = model.recognizer.name if analyzer == "speech" else model.reader.name
        return f"{model.version}+{source}+{self._model('embed').name}"

    def _model(self, name: str):
        """Analyzers and the embedder are loaded once per library, on first use."""
        if name not in self._models:
            if name == "speech":
                from vidseek.analyzers.speech import SpeechAnalyzer

                self._models[name] = SpeechAnalyzer()
            elif name == "text":
                from vidseek.analyzers.screen_text import ScreenTextAnalyzer

                self._models[name] = ScreenTextAnalyzer()
            else:
                from vidseek.models.embeddings import resolve_text_embedder

                self._models[name] = resolve_text_embedder()
        return self._models[name]

    def _embedded(self, batch: list[Observation]) -> list[Observation]:
        texts = [o for o in batch if o.text.strip()]
        if texts:
            vectors = self._model("embed").passages([o.text for o in texts])
            for obs, vector in zip(texts, vectors):
                obs.vector = vector.tolist()
        return batch

    def _shots(self, path: Path, vid: str, info: MediaInfo, tracker: _Tracker):
        shots = detect_shots(path, workers=1, progress=lambda t: tracker.at("shots", t))
        # One thumbnail per shot, from its middle; stored before the shots commit, so a
        # committed shots run always has its thumbnails.
        with VideoReader(path, info=info) as reader:
            pictures = thumbnails(path, [(s.start + s.end) / 2 for s in shots],
                                  size=_THUMBNAIL_SIZE, reader=reader)
        with self._write:
            self.store.put_thumbnails(vid, pictures)
        for i, shot in enumerate(shots):
            yield Observation(video_id=vid, start=shot.start, end=shot.end, kind="shot",
                              data={"index": i}, source=f"vidseek-shots:{_SHOTS_VERSION}")

    def _speech(self, path: Path, vid: str, info: MediaInfo, tracker: _Tracker):
        if not info.has_audio:
            return
        analyzer = self._model("speech")
        for obs in analyzer.analyze(vid, read_audio(path), info.duration):
            tracker.at("speech", obs.end)
            yield obs

    def _text(self, path: Path, vid: str, info: MediaInfo, tracker: _Tracker):
        analyzer = self._model("text")
        analyzer.start(vid, info.duration)
        with VideoReader(path, info=info) as reader:
            frames = reader.every(analyzer.interval, tolerance=analyzer.interval / 2,
                                  size=analyzer.size)
            for frame in frames:
                tracker.at("text", frame.requested or frame.time)
                yield from analyzer.add(frame)
        yield from analyzer.finish()


class _Tracker:
    """Turns each job's position into one fraction for the caller's progress bar."""

    def __init__(self, path: Path, duration: float, jobs: list[str],
                 progress: Progress | None) -> None:
        self.path, self.duration, self.progress = path, max(duration, 1e-9), progress
        self.done = dict.fromkeys(jobs, 0.0)
        self._lock = threading.Lock()

    def at(self, job: str, seconds: float) -> None:
        if self.progress is None:
            return
        with self._lock:
            self.done[job] = max(self.done[job], min(seconds / self.duration, 1.0))
            fraction = sum(self.done.values()) / len(self.done)
        self.progress(self.path, fraction)


def _batches(items: Iterable[Observation], size: int) -> Iterator[list[Observation]]:
    batch: list[Observation] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch

