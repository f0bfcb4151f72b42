"""The kinds of :class:`~vidseek.types.Observation`: one list, checked wherever a caller
names kinds (the command line's ``--kind``, the REST API's ``kind``, the MCP tools'
``kinds``; see :func:`vidseek.views.kinds`).

It stands apart from :mod:`vidseek.types` so that reading it costs nothing: ``vidseek
--help`` lists the kinds without importing pydantic.
"""

from __future__ import annotations

__all__ = ["KINDS"]

KINDS: tuple[str, ...] = (
    "shot", "speech", "text", "face", "person", "visual", "image", "caption", "sound",
)
"""Every kind of observation the analyzers make, in the order they are listed to people:
``shot`` (a shot, no text), ``speech`` (what is said), ``text`` (on screen), ``face`` (a
face track and its identity), ``person`` (how many people are seen), ``visual`` (object
labels and scene tags), ``image`` (a keyframe's image vectors), ``caption`` (a
vision-language model's description) and ``sound`` (sound events: applause, a dog
barking...). A new analyzer that makes a new kind adds it here."""
