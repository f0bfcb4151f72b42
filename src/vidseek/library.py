"""The library: index videos once, then read what was learned about them.

Indexing one video runs three jobs side by side (threads; the heavy work happens in FFmpeg,
CTranslate2, dlib and ONNX Runtime, which release the GIL, so both cores are busy):

- frames: one sampling pass at the smallest interval any frame analyzer asks for (keyframes
  within half an interval stand in for exact frames: one decoded picture per sample), each
  frame handed, scaled, to the analyzers that want it at that time (on-screen text, faces,
  objects and scene tags);
- audio: the audio as 16 kHz chunks through the speech analyzer;
- shots: the shot detector's own cheap pass (reference frames at 64x36, cuts made exact),
  then the analyzers that work per shot (image embeddings, CLIP vectors, VLM captions).

Each analyzer's output streams into its own store run, text is embedded on the way, and the
run commits only when the analyzer finished: an interrupted index leaves nothing half-written,
and indexing again redoes only the analyzers without a committed run of their version. One
analyzer failing (a model server down) is reported and the others still commit.
"""

from __future__ import annotations

import dataclasses
import functools
import glob
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from vidseek.errors import AskError, ModelError, QueryError, StoreError, VidseekError
from vidseek.media import (
    Frame,
    MediaInfo,
    VideoReader,
    detect_shots,
    probe,
    read_audio,
    thumbnails,
)
from vidseek.models.registry import ModelSpecs, discovered
from vidseek.search import Searcher, SpaceEncoder
from vidseek.search.calibration import Calibration, calibration_file, load_calibration
from vidseek.store import Store, VideoRecord, video_id
from vidseek.types import Answer, Moment, Observation, Step

if TYPE_CHECKING:
    from vidseek.agent import Budget
    from vidseek.models.chat import ChatModel

__all__ = ["ANALYZERS", "IndexReport", "IndexResult", "Library", "expand_paths"]

VIDEO_SUFFIXES = frozenset({
    ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".ts", ".mts", ".m2ts", ".flv", ".wmv",
    ".mpg", ".mpeg", ".3gp", ".ogv",
})
ANALYZERS = ("shots", "speech", "text", "faces", "objects", "image", "clip", "captions")
"""Every analyzer, in the order they are reported."""
EMBEDDED = ("shots", "speech", "text", "faces")
"""The analyzers that need no configured model; the others run when their model is set."""
_FRAME_ANALYZERS = ("text", "faces", "objects")
_SHOT_ANALYZERS = ("image", "clip", "captions")
_NEEDS = {
    "objects": ("detector", "classifier"),
    "image": ("image_embedder",),
    "clip": ("clip",),
    "captions": ("captioner",),
}
"""Model specs an analyzer needs (any one of them)."""
_MODELS_FILE = "models.json"

_EMBED_BATCH = 64
_THUMBNAIL_SIZE = 320  # longer side, pixels
_FACE_QUERY_SIDE = 800  # longer side a query picture is searched for faces at
_SHOTS_VERSION = "1"

Progress = Callable[[Path, float], None]
"""Called with a video and the fraction of it indexed so far (0..1)."""


log = logging.getLogger(__name__)

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
        analyzers: which analyzers indexing runs; default the embedded ones
            (:data:`EMBEDDED`) plus every analyzer whose model is configured.
        models: model specs to use (see :class:`~vidseek.models.registry.ModelSpecs`); they
            are saved in the library (``models.json``), so later calls and searches use the
            same models. Model files in ``$VIDSEEK_MODELS`` fill the specs left unset.

    Raises:
        ValueError: an unknown analyzer, or one whose model is not configured.
    """

    def __init__(self, path: str | Path | None = None, *,
                 analyzers: Iterable[str] | None = None,
                 models: ModelSpecs | dict[str, str] | None = None) -> None:
        self.store = Store(path)
        self.path = self.store.path
        self.models = self._configure(models)
        configured = {a for a, needs in _NEEDS.items()
                      if any(getattr(self.models, n) for n in needs)}
        if analyzers is None:
            analyzers = [*EMBEDDED, *configured]
        wanted = set(analyzers)
        if wanted & set(_SHOT_ANALYZERS):
            wanted.add("shots")  # they work on the shot list
        unknown = wanted - set(ANALYZERS)
        if unknown:
            raise ValueError(f"unknown analyzers {sorted(unknown)}; known: {list(ANALYZERS)}")
        unconfigured = wanted & set(_NEEDS) - configured
        if unconfigured:
            name = sorted(unconfigured)[0]
            raise ValueError(
                f"analyzer {name!r} needs a model ({' or '.join(_NEEDS[name])}); none is "
                "configured: see `vidseek models` for what is available and how to add it"
            )
        self.analyzers = [a for a in ANALYZERS if a in wanted]
        self._models: dict[str, Any] = {}
        self._shared: dict[Path, Any] = {}  # model files two analyzers use, loaded once
        self._load = threading.Lock()  # models load once, whichever job asks first
        self._write = threading.Lock()  # LanceDB writes, one at a time

    def _configure(self, models: ModelSpecs | dict[str, str] | None) -> ModelSpecs:
        file = self.path / _MODELS_FILE
        saved = ModelSpecs.model_validate_json(file.read_text()) if file.exists() else None
        given = ModelSpecs.model_validate(models) if isinstance(models, dict) else models
        if given is not None and given.reranker:  # a typo must not be saved with the library
            from vidseek.models.rerank import resolve_reranker

            resolve_reranker(given.reranker)
        if given is not None:
            saved = (saved or ModelSpecs()).merged(given)
            file.write_text(saved.model_dump_json(indent=2, exclude_none=True) + "\n")
        return discovered().merged(saved or ModelSpecs())

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

    # -- searching ---------------------------------------------------------------------------

    def search(self, query: str | None = None, *, videos: Iterable[str | Path] | None = None,
               kinds: Iterable[str] | None = None, k: int = 10,
               image: str | Path | np.ndarray | None = None,
               threshold: float | None = None) -> list[Moment]:
        """Moments that answer ``query`` (words) and/or show ``image`` (a picture), best
        first, each with a calibrated score and its evidence. See
        :meth:`vidseek.search.Searcher.search` for the arguments; a query that matches
        nothing well enough returns an empty list."""
        videos = None if videos is None else [str(v) for v in videos]
        return self.searcher.search(query, videos=videos, kinds=kinds, k=k, image=image,
                                    threshold=threshold)

    @functools.cached_property
    def searcher(self) -> Searcher:
        self._check_text_vectors()
        reranker = (lambda: self._model("rerank")) if self.models.reranker else None
        return Searcher(self.store, text_embedder=lambda: self._model("embed"),
                        encoders=self._space_encoders,
                        calibration=self._calibration(), reranker=reranker)

    def _calibration(self) -> Calibration:
        """The search calibration fitted for the library's text embedder."""
        file = calibration_file(self.models.text_embedder)
        if not file.exists():  # an embedder nobody fitted yet: benchmarks/calibrate.py does
            log.warning("no search calibration for text embedder %s (%s): using the default's",
                        self.models.text_embedder, file.name)
            file = calibration_file()
        return load_calibration(file)

    def _check_text_vectors(self) -> None:
        """Refuse to search text vectors made by another text embedder than the library's:
        both make 384 numbers, so the search would run, and find nonsense."""
        embedder = self._model("embed").name
        other = next((run for run in self.store.runs() if run.analyzer != "shots"
                      and not run.version.endswith(f"+{embedder}")), None)
        if other is not None:
            raise StoreError(
                f"video {other.video_id}'s {other.analyzer} was indexed with another text "
                f"embedder than this library's ({embedder}): index the videos again "
                "(`vidseek index PATH`), or index with that embedder's --text-embedder")

    def thumbnail(self, video: str | Path, time: float, *, size: int = _THUMBNAIL_SIZE):
        """The frame shown at ``time`` (timeline seconds) of a video, as a JPEG
        :class:`~vidseek.media.Thumbnail`."""
        record = self.video(video)
        return thumbnails(record.paths[-1], [time], size=size)[0]

    # -- answering ---------------------------------------------------------------------------

    def ask(self, video: str | Path, question: str, *, options: Sequence[str] | None = None,
            model: str | ChatModel | None = None, budget: Budget | None = None,
            on_step: Callable[[Step], None] | None = None,
            trajectory: str | Path | None = None) -> Answer:
        """Answer a question about one video, with the moments that support the answer.

        Args:
            video: id, id prefix or path of an indexed video.
            question: the question.
            options: multiple-choice options; the answer's ``choice`` indexes them.
            model: a chat model or its spec (``openai:http://localhost:11434/v1#qwen2.5vl:7b``,
                ``hf:/path/to/model``); None or ``"embedded"`` answers from the index alone
                (see :mod:`vidseek.agent.embedded` for what that can and cannot do).
            budget: limits on steps, frames, tokens and seconds (chat models only).
            on_step: called with each step of the trace as it happens.
            trajectory: a JSONL file the ask is appended to (failed asks too).

        Returns:
            The answer: text, choice, confidence, evidence moments, trace and cost.

        Raises:
            QueryError: an empty question or fewer than two options.
            AskError: the model server failed or kept replying malformed; its ``answer``
                holds the partial trace.
        """
        from vidseek.agent import Agent, EmbeddedAnswerer, VideoTools, append_trajectory
        from vidseek.models.chat import resolve_chat_model

        if not question or not question.strip():
            raise QueryError("the question is empty: ask something about the video")
        options = [str(o).strip() for o in options] if options else None
        if options is not None and (len(options) < 2 or not all(options)):
            raise QueryError(f"give at least two non-empty options, not {options}")
        tools = VideoTools(self, self.video(video))
        if model is None or model == "embedded":
            answerer = EmbeddedAnswerer(tools, self._model("embed"),
                                        threshold=self.searcher.calibration.threshold,
                                        on_step=on_step)
        else:
            chat = resolve_chat_model(model) if isinstance(model, str) else model
            name = model if isinstance(model, str) else getattr(chat, "name", repr(chat))
            answerer = Agent(tools, chat, model_name=name, budget=budget, on_step=on_step)
        try:
            answer = answerer.ask(question.strip(), options)
        except AskError as exc:
            if trajectory is not None and exc.answer is not None:
                append_trajectory(trajectory, exc.answer, error=str(exc))
            raise
        if trajectory is not None:
            append_trajectory(trajectory, answer)
        return answer

    def _space_encoders(self) -> list[SpaceEncoder]:
        """How to put a query picture (or words) into each vector space indexing can make."""
        from vidseek.models.faces import DESCRIPTOR_SPACE

        encoders = [SpaceEncoder(DESCRIPTOR_SPACE, "face", image=self._face_descriptor)]
        if self.models.image_embedder:
            embedder = self._model("image").embedder
            encoders.append(SpaceEncoder(embedder.name, "image",
                                         image=lambda pic: embedder.embed([pic])[0]))
        if self.models.clip:
            model = self._model("clip").embedder
            encoders.append(SpaceEncoder(model.name, "clip",
                                         image=lambda pic: model.images([pic])[0],
                                         text=lambda words: model.texts([words])[0]))
        return encoders

    def _face_descriptor(self, picture: np.ndarray) -> np.ndarray | None:
        """The descriptor of the largest face in a picture (None without a face)."""
        model = self._model("faces").model
        side = max(picture.shape[:2])
        if side > _FACE_QUERY_SIDE:  # HOG's cost grows with the pixels; faces stay large
            import cv2

            scale = _FACE_QUERY_SIDE / side
            picture = cv2.resize(picture, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        faces = model.detect(picture)
        if not faces:
            return None
        return model.describe(picture, max(faces, key=lambda f: f.side))

    # -- indexing ----------------------------------------------------------------------------

    def index(
        self, paths: Iterable[str | Path], *, progress: Progress | None = None,
        executor: Literal["local", "ray"] = "local", ray_address: str | None = None,
    ) -> IndexReport:
        """Index files, folders and globs. One bad file is reported and the rest go on.

        Args:
            paths: video files, folders (searched recursively) and globs.
            progress: called with a video and the fraction of it indexed so far.
            executor: ``local`` (this process) or ``ray``: the same analyzers as Ray tasks,
                split per video and per time chunk of long videos, committed here (see
                :mod:`vidseek.distributed`).
            ray_address: the Ray cluster for ``executor="ray"``: ``None`` starts one on this
                machine, ``"auto"`` joins the local ``ray start`` cluster, ``ray://host:10001``
                a remote one.

        Returns:
            One :class:`IndexResult` per file: ``indexed``, ``unchanged`` (every analyzer
            already has a committed run of its version) or ``failed`` (with the reason).
        """
        if executor == "ray":
            from vidseek.distributed import index_on_ray

            return index_on_ray(self, paths, address=ray_address, progress=progress)
        if executor != "local":
            raise ValueError(f"unknown executor {executor!r}: use 'local' or 'ray'")
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
        todo = []
        for name in self.analyzers:
            try:
                if not self.store.is_complete(vid, name, self._version(name)):
                    todo.append(name)
            except (VidseekError, ImportError) as exc:  # its model cannot load
                result.errors[name] = f"{type(exc).__name__}: {exc}"
        if not todo and not result.errors:
            result.status = "unchanged"
            return result
        frame_names = [a for a in todo if a in _FRAME_ANALYZERS]
        shot_names = [a for a in todo if a == "shots" or a in _SHOT_ANALYZERS]
        jobs: dict[str, Callable[[], None]] = {}
        if frame_names:
            jobs["frames"] = lambda: self._frames(path, vid, info, frame_names, tracker, result)
        if "speech" in todo:
            jobs["speech"] = lambda: self._record(
                result, "speech", lambda: self._speech(path, vid, info, tracker))
        if shot_names:
            jobs["shots"] = lambda: self._shots(path, vid, info, shot_names, tracker, result)
        tracker = _Tracker(path, info.duration, list(jobs), progress)
        with ThreadPoolExecutor(max(len(jobs), 1)) as pool:
            for future in [pool.submit(job) for job in jobs.values()]:
                future.result()
        if result.errors:
            result.status = "failed"
        result.seconds = time.perf_counter() - started
        return result

    def _record(self, result: IndexResult, name: str,
                observations: Callable[[], Iterable[Observation]]) -> None:
        """Run one analyzer into its own run; a failure is noted in ``result``, not raised."""
        began = time.perf_counter()
        try:
            writer = _RunWriter(self, result.video_id, name)
            with writer:
                writer.add(observations())
            result.analyzers[name] = writer.rows
        except Exception as exc:  # noqa: BLE001 - one analyzer's failure is reported
            result.errors[name] = f"{type(exc).__name__}: {exc}"
        result.analyzer_seconds[name] = time.perf_counter() - began

    # -- the analyzers -----------------------------------------------------------------------

    def _version(self, analyzer: str) -> str:
        """Analyzer version plus the models it uses: another model means recomputing."""
        if analyzer == "shots":
            return _SHOTS_VERSION
        model = self._model(analyzer)
        return f"{model.version}+{self._model_names(analyzer)}+{self._model('embed').name}"

    def _model_names(self, analyzer: str) -> str:
        if analyzer == "speech":
            return self._model("speech").recognizer.name
        if analyzer == "text":
            return self._model("text").reader.name
        if analyzer == "faces":
            return self._model("faces").model.name
        return "+".join(getattr(self.models, n) for n in _NEEDS[analyzer]
                        if getattr(self.models, n))

    def _model(self, name: str) -> Any:
        """Analyzers and the embedder are loaded once per library, on first use."""
        with self._load:
            if name not in self._models:
                self._models[name] = _make_analyzer(name, self.models, self._shared)
            return self._models[name]

    def _embedded(self, batch: list[Observation]) -> list[Observation]:
        texts = [o for o in batch if o.text.strip()]
        if texts:
            vectors = self._model("embed").passages([o.text for o in texts])
            for obs, vector in zip(texts, vectors):
                obs.vector = vector.tolist()
        return batch

    def _frames(self, path: Path, vid: str, info: MediaInfo, names: list[str],
                tracker: _Tracker, result: IndexResult) -> None:
        """One decoding pass for every frame analyzer, each into its own run."""
        live: dict[str, tuple[Any, _RunWriter]] = {}
        for name in names:
            try:
                analyzer = self._model(name)
                analyzer.start(vid, info.duration)
                live[name] = (analyzer, _RunWriter(self, vid, name))
            except Exception as exc:  # noqa: BLE001
                result.errors[name] = f"{type(exc).__name__}: {exc}"
        if not live:
            return
        began = time.perf_counter()
        step = min(a.interval for a, _ in live.values())
        size = max(a.size for a, _ in live.values())
        due = dict.fromkeys(live, 0.0)

        def fail(name: str, exc: BaseException) -> None:
            result.errors[name] = f"{type(exc).__name__}: {exc}"
            live.pop(name)[1].abort()

        try:
            with VideoReader(path, info=info) as reader:
                for frame in reader.every(step, tolerance=step / 2, size=size):
                    at = frame.requested if frame.requested is not None else frame.time
                    tracker.at("frames", at)
                    for name, (analyzer, writer) in list(live.items()):
                        if at < due[name] - step / 2:
                            continue
                        while due[name] <= at + step / 2:
                            due[name] += analyzer.interval
                        try:
                            writer.add(analyzer.add(_scaled(frame, analyzer.size)))
                        except Exception as exc:  # noqa: BLE001
                            fail(name, exc)
        except Exception as exc:  # the video itself failed: every analyzer did
            for name in list(live):
                fail(name, exc)
        for name, (analyzer, writer) in live.items():
            try:
                writer.add(analyzer.finish())
                writer.commit()
                result.analyzers[name] = writer.rows
            except Exception as exc:  # noqa: BLE001
                writer.abort()
                result.errors[name] = f"{type(exc).__name__}: {exc}"
        for name in names:
            result.analyzer_seconds[name] = time.perf_counter() - began

    def _shots(self, path: Path, vid: str, info: MediaInfo, names: list[str],
               tracker: _Tracker, result: IndexResult) -> None:
        """Shots first (or the committed ones), then the analyzers that work per shot."""
        spans: list[tuple[float, float]] = []
        if "shots" in names:
            def shots() -> Iterator[Observation]:
                for obs in self._detect_shots(path, vid, info, tracker):
                    spans.append((obs.start, obs.end))
                    yield obs

            self._record(result, "shots", shots)
            if "shots" in result.errors:
                spans = []
        else:
            spans = [(o.start, o.end) for o in self.store.observations(vid, kinds=["shot"])]
        for name in names:
            if name == "shots":
                continue
            if not spans:
                result.errors[name] = "no shots to work on (shot detection failed)"
                continue

            def observations(name: str = name) -> Iterator[Observation]:
                with VideoReader(path, info=info) as reader:
                    yield from self._model(name).analyze(vid, spans, reader)

            self._record(result, name, observations)

    def _detect_shots(self, path: Path, vid: str, info: MediaInfo, tracker: _Tracker):
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


class _RunWriter:
    """One analyzer's observations for one video, embedded in batches and streamed into a
    store run that commits only at the end (as a context manager: commit, or abort on error).
    """

    def __init__(self, library: Library, vid: str, analyzer: str) -> None:
        self.library = library
        with library._write:
            self.run = library.store.begin(vid, analyzer, library._version(analyzer))
        self.rows = 0
        self._batch: list[Observation] = []

    def add(self, observations: Iterable[Observation]) -> None:
        for obs in observations:
            self._batch.append(obs)
            if len(self._batch) >= _EMBED_BATCH:
                self._flush()

    def commit(self) -> None:
        self._flush()
        with self.library._write:
            self.run.commit()

    def abort(self) -> None:
        with self.library._write:
            self.run.abort()

    def __enter__(self) -> _RunWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()

    def _flush(self) -> None:
        if self._batch:
            batch = self.library._embedded(self._batch)
            with self.library._write:
                self.run.add(batch)
            self.rows += len(batch)
            self._batch = []


def _make_analyzer(name: str, specs: ModelSpecs, shared: dict[Path, Any]) -> Any:
    """Build an analyzer (or ``embed``, the text embedder, or ``rerank``, the cross-encoder)
    from the library's model specs.

    ``shared`` holds the model objects made so far by file, so that the scene tagger and the
    image embedder, usually the same MobileNetV2 file, share one session.
    """
    if name == "speech":
        from vidseek.analyzers.speech import DEFAULT_SPEC, SpeechAnalyzer

        return SpeechAnalyzer(specs.speech or DEFAULT_SPEC)
    if name == "text":
        from vidseek.analyzers.screen_text import ScreenTextAnalyzer

        return ScreenTextAnalyzer()
    if name == "faces":
        from vidseek.analyzers.faces import FaceAnalyzer

        return FaceAnalyzer()
    if name == "objects":
        from vidseek.analyzers.objects import ObjectsAnalyzer
        from vidseek.models.vision import resolve_classifier, resolve_detector

        classifier = None
        if specs.classifier:
            model = resolve_classifier(specs.classifier)
            classifier = shared.setdefault(model.path, model)
        return ObjectsAnalyzer(
            detector=resolve_detector(specs.detector) if specs.detector else None,
            classifier=classifier,
        )
    if name == "image":
        from vidseek.analyzers.image_embed import ImageEmbeddingAnalyzer
        from vidseek.models.vision import resolve_image_embedder

        model = resolve_image_embedder(specs.image_embedder)
        return ImageEmbeddingAnalyzer(shared.setdefault(model.path, model))
    if name == "clip":
        from vidseek.analyzers.clip import ClipAnalyzer
        from vidseek.models.clip import resolve_image_text_embedder

        return ClipAnalyzer(resolve_image_text_embedder(specs.clip))
    if name == "captions":
        from vidseek.analyzers.captions import CaptionAnalyzer
        from vidseek.models.chat import resolve_chat_model

        return CaptionAnalyzer(resolve_chat_model(specs.captioner))
    if name == "embed":
        from vidseek.models.embeddings import DEFAULT_TEXT_EMBEDDER, resolve_text_embedder

        return resolve_text_embedder(specs.text_embedder or DEFAULT_TEXT_EMBEDDER)
    if name == "rerank":
        from vidseek.models.rerank import resolve_reranker

        return resolve_reranker(specs.reranker)
    raise ModelError(f"no analyzer {name!r}")


def _scaled(frame: Frame, size: int) -> Frame:
    """The frame with its longer side at most ``size`` pixels."""
    height, width = frame.image.shape[:2]
    if max(height, width) <= size:
        return frame
    import cv2

    scale = size / max(height, width)
    image = cv2.resize(frame.image, (max(1, round(width * scale)), max(1, round(height * scale))),
                       interpolation=cv2.INTER_AREA)
    return dataclasses.replace(frame, image=image)


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

