"""Words of a query and of a hit, for the full-text channel's share of matched words."""

from __future__ import annotations

import re

__all__ = ["content_words", "coverage", "stem"]

_STOP_WORDS_TEXT = """
a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further
had has have having he her here hers him his how i if in into is it its itself just me more
most my no nor not now of off on once only or other our out over own same she should so some
such than that the their them then there these they this those through to too under until up
very was we were what when where which while who whom why will with would you your yours
someone something somebody anyone thing things say says said tell tells told show shows shown
"""
_STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")


def stem(word: str) -> str:
    """A crude English stem, enough to match "trains" with "train" and "moved" with "move"."""
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: len(word) - len(suffix)] + keep
    return word


def content_words(text: str) -> set[str]:
    """The stemmed, lower-cased words of ``text`` that carry meaning (stop words dropped)."""
    words = (w.lower() for w in _WORD.findall(text))
    return {stem(w) for w in words if w not in _STOP_WORDS}


def coverage(query_words: set[str], text: str) -> float:
    """Share of the query's content words that ``text`` contains (0 for an empty query)."""
    if not query_words:
        return 0.0
    return len(query_words & content_words(text)) / len(query_words)
