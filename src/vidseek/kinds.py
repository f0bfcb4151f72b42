"""The kinds of :class:`~vidseek.types.Observation`: one list, checked wherever a caller
names kinds (the command line's ``--kind``, the REST API's ``kind``, the MCP tools'
``kinds``, and ``Library.search``; see :func:`checked_kinds`).

It stands apart from :mod:`vidseek.types` so that reading it costs nothing: ``vidseek
--help`` lists the kinds without importing pydantic.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["KINDS", "checked_kinds"]

KINDS: tuple[str, ...] = (
    "shot", "speech", "text", "face", "person", "visual", "image", "caption", "sound",
)
"""Every kind of observation the analyzers make, in the order they are listed to people:
``shot`` (a shot, no text), ``speech`` (what is said), ``text`` (on screen), ``face`` (a
face track and its identity), ``person`` (how many people are seen), ``visual`` (object
labels and scene tags), ``image`` (a keyframe's image vectors), ``caption`` (a
vision-language model's description) and ``sound`` (sound events: applause, a dog
barking...). A new analyzer that makes a new kind adds it here."""


def checked_kinds(given: str | Iterable[str] | None) -> list[str] | None:
    """The observation kinds a caller asked for, checked.

    Args:
        given: kinds, each item possibly comma-separated (``["speech,text", "face"]``, as
            repeated options and query parameters arrive), or one such string; None or
            nothing for every kind.

    Returns:
        The kinds, without repeats, in the order given; None when none was given.

    Raises:
        QueryError: a kind that is not one of :data:`KINDS`; the message lists
            them (and the closest one).
    """
    from vidseek.errors import QueryError

    if given is None:
        return None
    items = [given] if isinstance(given, str) else list(given)
    wanted = list(dict.fromkeys(k.strip().lower() for item in items for k in item.split(",")
                                if k.strip()))
    unknown = [k for k in wanted if k not in KINDS]
    if unknown:
        import difflib

        close = difflib.get_close_matches(unknown[0], KINDS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise QueryError(f"unknown kind {', '.join(map(repr, unknown))}{hint}: the kinds are "
                         f"{', '.join(KINDS)}")
    return wanted or None
