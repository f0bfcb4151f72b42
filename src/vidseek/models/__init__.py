"""Model backends behind small protocols, chosen by spec strings (see DESIGN.md).

``resolve(role, spec, **options)`` is the one way to get a model, and ``check_spec(role,
spec)`` checks a spec without loading anything: the roles, their protocols, records and
errors are in `vidseek.models.protocols` (and re-exported here), the chat messages in
`vidseek.models.messages`, the spec registry in `vidseek.models.resolver`, the Hugging Face
download policy in `vidseek.models.hub`.

Backends import their heavy packages lazily, inside the functions that need them, so that
``import vidseek`` stays fast and a missing optional package is a clear error only when used.
Importing this package imports no backend, and the names below load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vidseek.models.messages import ChatMessage, ChatReply, TokenLogprob
    from vidseek.models.protocols import (
        DEFAULT_SPECS,
        ROLES,
        ChatContextError,
        ChatModel,
        ChatModelError,
        ChatTimeoutError,
        Detection,
        FaceBox,
        FaceModel,
        FaceModelError,
        ImageClassifier,
        ImageEmbedder,
        ImageTextEmbedder,
        ObjectDetector,
        OCRModelError,
        Reranker,
        Role,
        Segment,
        SoundTagger,
        SpeechRecognizer,
        TextEmbedder,
        TextLine,
        TextReader,
        WhisperModelError,
        Word,
    )
    from vidseek.models.resolver import check_spec, resolve

__all__ = [
    "DEFAULT_SPECS",
    "ROLES",
    "ChatContextError",
    "ChatMessage",
    "ChatModel",
    "ChatModelError",
    "ChatReply",
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
    "TokenLogprob",
    "WhisperModelError",
    "Word",
    "check_spec",
    "resolve",
]

_HOMES = {"resolve": "resolver", "check_spec": "resolver", "ChatMessage": "messages",
          "ChatReply": "messages", "TokenLogprob": "messages"}
"""Where each exported name lives; the others are in `vidseek.models.protocols`."""


def __getattr__(name: str) -> Any:
    # PEP 562: the names are imported on first use, so `import vidseek.models` stays cheap
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f"{__name__}.{_HOMES.get(name, 'protocols')}")
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
