"""The library: the thin facade users hold. Open or create one, index videos into it, read
what was learned, search it and ask it questions.

Indexing lives in `vidseek.indexing`, the analyzers and their models in
`vidseek.analyzers.registry`, search in `vidseek.search`, answering in `vidseek.agent`.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from vidseek.analyzers.registry import EMBEDDED, REGISTRY, LoadedModels, choose
from vidseek.errors import AskError, QueryError, StoreError
from vidseek.indexing import (
    THUMBNAIL_SIZE,
    VIDEO_SUFFIXES,
    Executor,
    IndexReport,
    IndexResult,
    LocalExecutor,
    Progress,
    ResultCallback,
    expand_paths,
)
from vidseek.indexing import index as run_index
from vidseek.media import thumbnails
from vidseek.models.registry import ModelSpecs, discovered
from vidseek.search import Searcher
from vidseek.search.calibration import Calibration, calibration_file, load_calibration
from vidseek.search.encoders import query_encoders
from vidseek.search.searcher import check_query
from vidseek.store import Store, VideoRecord
from vidseek.store.lock import WRITE_WAIT
from vidseek.types import Answer, Moment, Step

if TYPE_CHECKING:
    from vidseek.agent import Budget
    from vidseek.models import ChatModel

__all__ = [
    "ANALYZERS",
    "EMBEDDED",
    "MAX_OPTIONS",
    "MAX_OPTION_CHARS",
    "MAX_QUESTION_CHARS",
    "VIDEO_SUFFIXES",
    "IndexReport",
    "IndexResult",
    "Library",
    "expand_paths",
]

ANALYZERS = tuple(REGISTRY)
"""Every analyzer, in the order they are reported."""
_MODELS_FILE = "models.json"
MAX_QUESTION_CHARS = 1000
"""Characters one question may hold. The answerers search with the question, and with the
question and each option together, so a question and an option fit in one search
(:data:`vidseek.search.searcher.MAX_QUERY_CHARS`)."""
MAX_OPTIONS = 10
"""Options one multiple-choice question may have (each is searched for)."""
MAX_OPTION_CHARS = 500
"""Characters one option may hold."""

log = logging.getLogger(__name__)


class Library:
    """A library of indexed videos (``~/.vidseek``, ``VIDSEEK_HOME``, or ``path``).

    Args:
        path: the library folder.
        analyzers: which analyzers indexing runs; default the embedded ones
            (:data:`EMBEDDED`) plus every analyzer whose model is configured.
        models: model specs to use (see :class:`~vidseek.models.registry.ModelSpecs`); they
            are saved in the library (``models.json``), so later calls and searches use the
            same models. Model files in ``$VIDSEEK_MODELS`` fill the specs left unset.
        create: make the library when the folder holds none; False (for callers that only
            read) raises :class:`~vidseek.errors.StoreError` that says how to make one.

    Attributes:
        models: the model specs in use.
        loaded: the analyzers and text models, each loaded once, on first use.
        analyzers: the analyzers indexing runs, in registry order.

    Raises:
        ValueError: an unknown analyzer, or one whose model is not configured.
    """

    def __init__(self, path: str | Path | None = None, *,
                 analyzers: Iterable[str] | None = None,
                 models: ModelSpecs | dict[str, str] | None = None,
                 create: bool = True) -> None:
        self.store = Store(path, create=create)
        self.path = self.store.path
        self.models = self._configure(models)
        self.analyzers = choose(None if analyzers is None else list(analyzers), self.models)
        self.loaded = LoadedModels(self.models)
        self._write = threading.Lock()  # LanceDB writes, one at a time

    def _configure(self, models: ModelSpecs | dict[str, str] | None) -> ModelSpecs:
        file = self.path / _MODELS_FILE
        saved = ModelSpecs.model_validate_json(file.read_text()) if file.exists() else None
        given = ModelSpecs.model_validate(models) if isinstance(models, dict) else models
        if given is not None:  # a typo must not be saved with the library; "none" unsets
            given.check()
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
        """Remove a video and everything learned about it. Waits (up to
        :data:`~vidseek.store.lock.WRITE_WAIT` seconds, saying so) while another process
        writes the library."""
        return self.store.remove_video(self.video(video).id)

    def thumbnail(self, video: str | Path, time: float, *, size: int = THUMBNAIL_SIZE):
        """The frame shown at ``time`` (timeline seconds) of a video, as a JPEG
        :class:`~vidseek.media.Thumbnail`: the one stored for its shot when indexing made
        one at that time and size, else decoded now."""
        record = self.video(video)
        if size == THUMBNAIL_SIZE:
            stored = next((t for t in self.store.thumbnails(record.id)
                           if abs(t.time - time) < 1e-6), None)
            if stored is not None:
                return stored
        return thumbnails(record.paths[-1], [time], size=size)[0]

    # -- indexing ----------------------------------------------------------------------------

    def index(
        self, paths: Iterable[str | Path], *, progress: Progress | None = None,
        executor: Literal["local", "ray"] | Executor = "local", ray_address: str | None = None,
        on_result: ResultCallback | None = None, wait: float | None = WRITE_WAIT,
        on_wait: Callable[[str], None] | None = None,
    ) -> IndexReport:
        """Index files, folders and globs. One bad file is reported and the rest go on.

        Args:
            paths: video files, folders (searched recursively) and globs.
            progress: called with a video and the fraction of it indexed so far.
            executor: ``local`` (threads of this process) or ``ray``: the same jobs as Ray
                tasks, long videos split into time chunks, committed here (see
                :mod:`vidseek.indexing`); or an executor made with other settings, e.g.
                ``RayExecutor(library.models, chunk_seconds=300, max_retries=0)``.
            ray_address: the Ray cluster for ``executor="ray"``: ``None`` starts one on this
                machine, ``"auto"`` joins the local ``ray start`` cluster, ``ray://host:10001``
                a remote one.
            on_result: called with each file's result as soon as it is done.
            wait: one process writes a library at a time: seconds to wait for another one
                that is writing it (None: as long as it takes). Searching never waits.
            on_wait: told once, in words, that this call waits for another process and for
                which (default: a warning on the ``vidseek.store`` logger).

        Returns:
            One :class:`IndexResult` per file: ``indexed``, ``unchanged`` (every analyzer
            already has a committed run of its version) or ``failed`` (with the reason).

        Raises:
            StoreError: another process still wrote the library after ``wait`` seconds.
        """
        if isinstance(executor, str) and executor not in ("local", "ray"):
            raise ValueError(f"unknown executor {executor!r}: use 'local' or 'ray'")
        # The writer lock first: a Ray cluster is not started only to wait.
        with self.store.writing(wait=wait, on_wait=on_wait):
            if executor == "ray":
                from vidseek.indexing import RayExecutor

                runner = RayExecutor(self.models, address=ray_address)
            elif executor == "local":
                runner = LocalExecutor(self.loaded)
            else:
                runner = executor
            return run_index(paths, store=self.store, lock=self._write, models=self.loaded,
                             analyzers=self.analyzers, executor=runner, progress=progress,
                             on_result=on_result)

    # -- searching ---------------------------------------------------------------------------

    def search(self, query: str | None = None, *, videos: Iterable[str | Path] | None = None,
               kinds: Iterable[str] | None = None, k: int = 10,
               image: str | Path | np.ndarray | None = None,
               threshold: float | None = None) -> list[Moment]:
        """Moments that answer ``query`` (words) and/or show ``image`` (a picture), best
        first, each with a calibrated score and its evidence. See
        :meth:`vidseek.search.Searcher.search` for the arguments; a query that matches
        nothing well enough returns an empty list."""
        check_query(query, k, image=image is not None)  # before the models load
        videos = None if videos is None else [str(v) for v in videos]
        return self.searcher.search(query, videos=videos, kinds=kinds, k=k, image=image,
                                    threshold=threshold)

    def search_hints(self, *, kinds: Iterable[str] | None = None,
                     image: object = None) -> list[str]:
        """Why a search may have found nothing, as sentences: the kinds it left out and the
        channels this library lacks (no sound events, nothing that describes pictures without
        words, no picture space for a query picture), each with how to add it."""
        indexed = {run.analyzer for run in self.store.runs()}
        hints = []
        if kinds:
            hints.append(f"only {', '.join(kinds)} was searched: search every kind to widen it")
        if "sounds" not in indexed:
            hints.append("no sound events are indexed (applause, a dog barking...): "
                         "`vidseek models install sounds`, then index again")
        if not indexed & {"objects", "clip", "captions"}:
            hints.append("nothing here describes pictures without words (objects, image-text "
                         "or captions): configure one of those models (docs/backends.md), then "
                         "index again")
        if image is not None and not indexed & {"image", "clip", "faces"}:
            hints.append("no picture space is indexed for a query picture: configure an image "
                         "embedder or an image-text model (docs/backends.md), then index again")
        return hints

    @functools.cached_property
    def searcher(self) -> Searcher:
        self._check_text_vectors()
        reranker = self.loaded.reranker if self.models.reranker else None
        return Searcher(self.store, text_embedder=self.loaded.text_embedder,
                        encoders=lambda: query_encoders(self.loaded),
                        calibration=self._calibration(), reranker=reranker)

    def _check_gate(self, model: str) -> Callable[[float, float], bool] | None:
        """The text agent's gate for answers its model checked: the search calibration
        fitted with that model as reranker, when there is one."""
        from vidseek.agent.text import calibrated_gate

        file = calibration_file(self.models.text_embedder, model)
        return calibrated_gate(load_calibration(file)) if file.exists() else None

    def _calibration(self) -> Calibration:
        """The search calibration fitted for the library's text embedder and reranker."""
        reranker = self.models.reranker
        if reranker:
            file = calibration_file(self.models.text_embedder, reranker)
            if file.exists():
                return load_calibration(file)
            # the rerank channel keeps its prior (sigmoid of the logit) and the threshold
            # is the one fitted without a reranker: benchmarks/calibrate.py --reranker fits it
            log.warning("no search calibration fitted with reranker %s (%s): using the text "
                        "embedder's", reranker, file.name)
        file = calibration_file(self.models.text_embedder)
        if not file.exists():  # an embedder nobody fitted yet: benchmarks/calibrate.py does
            log.warning("no search calibration for text embedder %s (%s): using the default's",
                        self.models.text_embedder, file.name)
            file = calibration_file()
        return load_calibration(file)

    def _check_text_vectors(self) -> None:
        """Refuse to search text vectors made by another text embedder than the library's:
        both make 384 numbers, so the search would run, and find nonsense."""
        embedder = self.loaded.text_embedder().name
        other = next((run for run in self.store.runs()
                      if REGISTRY.get(run.analyzer) and REGISTRY[run.analyzer].kind != "shot"
                      and not run.version.endswith(f"+{embedder}")), None)
        if other is not None:
            raise StoreError(
                f"video {other.video_id}'s {other.analyzer} was indexed with another text "
                f"embedder than this library's ({embedder}): index the videos again "
                "(`vidseek index PATH`), or index with that embedder's --text-embedder")

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
                ``hf:/path/to/model``, ``llm``); None or ``"embedded"`` answers from the index
                alone (see :mod:`vidseek.agent.embedded` for what that can and cannot do);
                ``"auto"`` uses the installed ``llm`` when there is one, else the embedded
                answerer with a note on how to install it. A text-only model (``llm``,
                ``llamacpp:...``) runs the text agent (:mod:`vidseek.agent.text`), which
                reads the index and never sends frames; a vision-language model runs the
                agent that looks at frames (:mod:`vidseek.agent.loop`).
            budget: limits on steps, frames, tokens and seconds (chat models only).
            on_step: called with each step of the trace as it happens.
            trajectory: a JSONL file the ask is appended to (failed asks too).

        Returns:
            The answer: text, choice, confidence, evidence moments, trace and cost.

        Raises:
            QueryError: an empty question, fewer than two options, or more than the limits
                (:data:`MAX_QUESTION_CHARS`, :data:`MAX_OPTIONS`, :data:`MAX_OPTION_CHARS`).
            AskError: the model server failed or kept replying malformed; its ``answer``
                holds the partial trace.
        """
        from vidseek.agent import (
            Agent,
            EmbeddedAnswerer,
            TextAgent,
            VideoTools,
            append_trajectory,
            default_model,
            is_text_only,
        )

        if not question or not question.strip():
            raise QueryError("the question is empty: ask something about the video")
        if len(question) > MAX_QUESTION_CHARS:
            raise QueryError(f"the question is {len(question)} characters long; at most "
                             f"{MAX_QUESTION_CHARS} are answered: ask it in fewer words")
        options = [str(o).strip() for o in options] if options else None
        if options is not None and len(options) > MAX_OPTIONS:
            raise QueryError(f"{len(options)} options given; at most {MAX_OPTIONS} are "
                             "weighed: drop the unlikely ones")
        if options is not None and any(len(o) > MAX_OPTION_CHARS for o in options):
            longest = max(len(o) for o in options)
            raise QueryError(f"an option is {longest} characters long; at most "
                             f"{MAX_OPTION_CHARS} per option: shorten it")
        if options is not None and (len(options) < 2 or not all(options)):
            raise QueryError(f"give at least two non-empty options, not {options}")
        tools = VideoTools(self, self.video(video))
        note = None
        if model == "auto":
            model, note = default_model()
        if model is None or model == "embedded":
            answerer = EmbeddedAnswerer(tools, self.loaded.text_embedder(),
                                        threshold=self.searcher.calibration.threshold,
                                        on_step=on_step)
        else:
            from vidseek.models import resolve

            chat = resolve("chat", model) if isinstance(model, str) else model
            name = model if isinstance(model, str) else getattr(chat, "name", repr(chat))
            if is_text_only(chat):
                answerer = TextAgent(tools, chat, model_name=name, budget=budget,
                                     threshold=self.searcher.calibration.threshold,
                                     check_gate=self._check_gate(name), on_step=on_step)
            else:
                answerer = Agent(tools, chat, model_name=name, budget=budget, on_step=on_step)
        try:
            answer = answerer.ask(question.strip(), options)
            if note:
                answer.notes.append(note)
        except AskError as exc:
            if trajectory is not None and exc.answer is not None:
                append_trajectory(trajectory, exc.answer, error=str(exc))
            raise
        if trajectory is not None:
            append_trajectory(trajectory, answer)
        return answer
