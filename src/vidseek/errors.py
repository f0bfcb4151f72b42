"""Errors raised by vidseek.

The library raises; only the command line turns errors into exit codes.

    VidseekError                 root of everything vidseek raises on purpose
    ├── MediaError (ValueError)  a file that cannot be read as a video: names the file and why
    ├── ModelError (ValueError)  a model spec that cannot be used: says what to pass instead
    └── StoreError               a library that cannot be opened or written as asked
        └── UnknownVideoError (KeyError)  no video, or more than one, matches what was given
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "AskError",
    "DataError",
    "MediaError",
    "ModelError",
    "QueryError",
    "StoreError",
    "UnknownVideoError",
    "VidseekError",
]


class VidseekError(Exception):
    """Root of every error vidseek raises on purpose."""


class MediaError(VidseekError, ValueError):
    """A file that cannot be used as a video.

    Attributes:
        path: the file that failed.
        reason: what is wrong with it, in words a user can act on.
    """

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class ModelError(VidseekError, ValueError):
    """A model spec that cannot be used: unknown form, missing files, or a download that was
    not allowed. The message says what to do."""


class DataError(VidseekError, ValueError):
    """An annotation or dataset file that cannot be used as given. The message says what to
    do."""


class QueryError(VidseekError, ValueError):
    """A search or question that cannot be run as given (no query, an unreadable picture).
    The message says what to do."""


class AskError(VidseekError):
    """A question that could not be answered: the model server failed or kept replying in a
    malformed form. The message says what went wrong and what to do.

    Attributes:
        answer: the partial answer, with the trace and cost up to the failure (an
            ``vidseek.types.Answer`` whose ``found`` is False).
    """

    def __init__(self, message: str, answer=None) -> None:
        super().__init__(message)
        self.answer = answer


class StoreError(VidseekError):
    """A library that cannot be opened or written as asked. The message says what to do."""


class UnknownVideoError(StoreError, KeyError):
    """No video in the library matches an id, id prefix, path or file name (or a name or
    prefix matches several).

    Attributes:
        query: what the caller asked for.
        reason: what is wrong with it.
        candidates: the ids of the videos an ambiguous name or prefix matches.
        advice: what to do, in the terms of the interface that raised it.
    """

    def __init__(self, query: str, reason: str, *, candidates: list[str] | None = None,
                 advice: str = "") -> None:
        self.query = query
        self.reason = reason
        self.candidates = list(candidates or [])
        self.advice = advice
        shown = query if len(query) <= 80 else f"{query[:60]}... ({len(query)} characters)"
        super().__init__(f"{shown!r}: {reason}" + (f"; {advice}" if advice else ""))

    def advised(self, advice: str) -> UnknownVideoError:
        """The same error with ``advice`` (e.g. which tool lists the videos) in place of its
        own."""
        return UnknownVideoError(self.query, self.reason, candidates=self.candidates,
                                 advice=advice)

    def __str__(self) -> str:
        # KeyError.__str__ would repr() the message; show it as written.
        return str(self.args[0])
