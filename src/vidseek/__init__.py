"""vidseek: ask questions about long videos and get answers that point to exact moments.

``from vidseek import Library`` is the usual way in; the records and errors are here too.
Names load lazily, so ``import vidseek`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Library": "vidseek.library",
    "IndexReport": "vidseek.indexing",
    "IndexResult": "vidseek.indexing",
    **dict.fromkeys(["Answer", "Cost", "Evidence", "Moment", "Observation", "Step"],
                    "vidseek.types"),
    **dict.fromkeys(["AskError", "DataError", "MediaError", "ModelError", "QueryError",
                     "StoreError", "UnknownVideoError", "VidseekError"], "vidseek.errors"),
}

__all__ = [
    "Answer", "AskError", "Cost", "DataError", "Evidence", "IndexReport", "IndexResult",
    "Library", "MediaError", "ModelError", "Moment", "Observation", "QueryError", "Step",
    "StoreError", "UnknownVideoError", "VidseekError", "__version__",
]

if TYPE_CHECKING:
    from vidseek.errors import (
        AskError,
        DataError,
        MediaError,
        ModelError,
        QueryError,
        StoreError,
        UnknownVideoError,
        VidseekError,
    )
    from vidseek.indexing import IndexReport, IndexResult
    from vidseek.library import Library
    from vidseek.types import Answer, Cost, Evidence, Moment, Observation, Step


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'vidseek' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
