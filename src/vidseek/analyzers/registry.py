"""Every analyzer, declared once: its name, kind, the models it needs and how to build it.

Indexing dispatches on these declarations alone (`vidseek.indexing`): a ``frame`` analyzer
gets the frames of the one decoding pass (`FrameAnalyzer`), an ``audio`` analyzer the audio
(`AudioAnalyzer`), the ``shot`` analyzer finds the shots (`ShotDetection`), and ``per_shot``
analyzers work on those shots (`ShotAnalyzer`). ``chunked`` analyzers can work on time
ranges of a video separately (scale-out splits long videos into chunks; stitching joins the
pieces, see `vidseek.indexing.stitch`); the others need whole videos.

Adding an analyzer is one module with its class and one entry in :data:`REGISTRY`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from vidseek.errors import ModelError
from vidseek.models import resolve
from vidseek.models.registry import ModelSpecs

__all__ = ["EMBEDDED", "REGISTRY", "AnalyzerInfo", "LoadedModels", "choose"]

Kind = Literal["frame", "audio", "shot", "per_shot"]
Factory = Callable[[ModelSpecs, dict[Path, Any]], Any]
"""Builds an analyzer from the library's model specs; the dict holds model objects by file,
so that two analyzers using one file (the scene tagger and the image embedder, usually the
same MobileNetV2) share one session."""


@dataclass(frozen=True)
class AnalyzerInfo:
    name: str
    """Short stable name; the store keys results by (video, name, version)."""
    kind: Kind
    make: Factory
    needs: tuple[str, ...] = ()
    """Model specs (fields of `ModelSpecs`) of which it needs at least one; none: embedded."""
    chunked: bool = False
    """Works on time ranges of a video separately (see the module docstring)."""
    models: Callable[[Any], str] | None = None
    """The names of the models a built analyzer uses (default: the specs of ``needs``); part
    of its version, so that another model means recomputing."""

    @property
    def embedded(self) -> bool:
        """Runs with the models that ship inside vidseek's packages."""
        return not self.needs

    def configured(self, specs: ModelSpecs) -> bool:
        return self.embedded or any(getattr(specs, need) for need in self.needs)


def _shots(specs: ModelSpecs, shared: dict) -> Any:
    from vidseek.analyzers.shots import ShotsAnalyzer

    return ShotsAnalyzer()


def _speech(specs: ModelSpecs, shared: dict) -> Any:
    from vidseek.analyzers.speech import SpeechAnalyzer

    return SpeechAnalyzer(specs.speech) if specs.speech else SpeechAnalyzer()


def _text(specs: ModelSpecs, shared: dict) -> Any:
    from vidseek.analyzers.screen_text import ScreenTextAnalyzer

    return ScreenTextAnalyzer()


def _faces(specs: ModelSpecs, shared: dict) -> Any:
    from vidseek.analyzers.faces import FaceAnalyzer

    return FaceAnalyzer()


def _shared(shared: dict, model: Any) -> Any:
    return shared.setdefault(model.path, model)


def _objects(specs: ModelSpecs, shared: dict) -> Any:
    from vidseek.analyzers.objects import ObjectsAnalyzer

    return ObjectsAnalyzer(
        detector=resolve("detector", specs.detector) if specs.detector else None,
        classifier=(_shared(shared, resolve("classifier", specs.classifier))
                    if specs.classifier else None))


def _image(specs: ModelSpecs, shared: dict) -> Any:
    from vidseek.analyzers.image_embed import ImageEmbeddingAnalyzer

    return ImageEmbeddingAnalyzer(_shared(shared, resolve("image_embedder",
                                                          specs.image_embedder)))


def _clip(specs: ModelSpecs, shared: dict) -> Any:
    from vidseek.analyzers.clip import ClipAnalyzer

    return ClipAnalyzer(resolve("image_text_embedder", specs.clip))


def _captions(specs: ModelSpecs, shared: dict) -> Any:
    from vidseek.analyzers.captions import CaptionAnalyzer

    return CaptionAnalyzer(resolve("chat", specs.captioner))


def _sounds(specs: ModelSpecs, shared: dict) -> Any:
    from vidseek.analyzers.sounds import SoundAnalyzer

    return SoundAnalyzer(resolve("sounds", specs.sounds))


REGISTRY: dict[str, AnalyzerInfo] = {info.name: info for info in [
    AnalyzerInfo("shots", "shot", _shots, chunked=True, models=lambda a: ""),
    AnalyzerInfo("speech", "audio", _speech, chunked=True,
                 models=lambda a: a.recognizer.name),
    AnalyzerInfo("text", "frame", _text, chunked=True, models=lambda a: a.reader.name),
    AnalyzerInfo("faces", "frame", _faces, models=lambda a: a.model.name),
    AnalyzerInfo("objects", "frame", _objects, needs=("detector", "classifier")),
    AnalyzerInfo("image", "per_shot", _image, needs=("image_embedder",)),
    AnalyzerInfo("clip", "per_shot", _clip, needs=("clip",)),
    AnalyzerInfo("captions", "per_shot", _captions, needs=("captioner",)),
    AnalyzerInfo("sounds", "audio", _sounds, needs=("sounds",)),
]}
"""Every analyzer, in the order they are reported."""

EMBEDDED = tuple(name for name, info in REGISTRY.items() if info.embedded)
"""The analyzers that need no configured model; the others run when their model is set."""


def choose(wanted: list[str] | tuple[str, ...] | None, specs: ModelSpecs) -> list[str]:
    """The analyzers to run, in registry order: ``wanted``, or the embedded ones plus every
    analyzer whose model is configured; per-shot analyzers bring the shots they work on.

    Raises:
        ValueError: an unknown analyzer, or one whose model is not configured.
    """
    configured = {name for name, info in REGISTRY.items() if info.configured(specs)}
    chosen = set(configured if wanted is None else wanted)
    unknown = chosen - set(REGISTRY)
    if unknown:
        raise ValueError(f"unknown analyzers {sorted(unknown)}; known: {list(REGISTRY)}")
    if any(REGISTRY[name].kind == "per_shot" for name in chosen):
        chosen |= {name for name, info in REGISTRY.items() if info.kind == "shot"}
    unconfigured = sorted(chosen - configured)
    if unconfigured:
        info = REGISTRY[unconfigured[0]]
        raise ValueError(
            f"analyzer {info.name!r} needs a model ({' or '.join(info.needs)}); none is "
            "configured: see `vidseek models` for what is available and how to add it")
    return [name for name in REGISTRY if name in chosen]


class LoadedModels:
    """The analyzers and text models of one set of model specs, each built once, on first
    use, whichever thread asks first."""

    def __init__(self, specs: ModelSpecs) -> None:
        self.specs = specs
        self._made: dict[str, Any] = {}
        self._shared: dict[Path, Any] = {}
        self._lock = threading.Lock()

    def analyzer(self, name: str) -> Any:
        info = REGISTRY.get(name)
        if info is None:
            raise ModelError(f"no analyzer {name!r}; known: {list(REGISTRY)}")
        return self._get(name, lambda: info.make(self.specs, self._shared))

    def text_embedder(self) -> Any:
        """The library's text embedder (passages for indexing, queries for search)."""
        return self._get("<text_embedder>", lambda: resolve("text_embedder",
                                                            self.specs.text_embedder))

    def reranker(self) -> Any:
        """The configured cross-encoder (call only when ``specs.reranker`` is set)."""
        return self._get("<reranker>", lambda: resolve("reranker", self.specs.reranker))

    def version(self, name: str) -> str:
        """An analyzer's version plus the models it uses and the text embedder that embeds
        its text (the shots have no text): another model means recomputing."""
        info, analyzer = REGISTRY[name], self.analyzer(name)
        if info.kind == "shot":
            return analyzer.version
        models = (info.models(analyzer) if info.models is not None else
                  "+".join(getattr(self.specs, n) for n in info.needs if getattr(self.specs, n)))
        return f"{analyzer.version}+{models}+{self.text_embedder().name}"

    def _get(self, key: str, make: Callable[[], Any]) -> Any:
        with self._lock:
            if key not in self._made:
                self._made[key] = make()
            return self._made[key]
