"""Varied English prose for filler speech, offline: sentences of Python's own help texts.

Formulaic sentences ("A green parrot was seen ...") compress so well that whisper treats
them as a repetition loop and decodes again at higher temperatures; real lectures do not.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["prose_sentences"]


@lru_cache(maxsize=1)
def _sentences() -> tuple[str, ...]:
    from pydoc_data.topics import topics

    found = set()
    for text in topics.values():
        for sentence in re.split(r"(?<=[.!?])\s+", " ".join(text.split())):
            words = sentence.split()
            if 6 <= len(words) <= 16 and re.fullmatch(r"[A-Za-z ,']+[.]", sentence):
                found.add(sentence)
    return tuple(sorted(found))


def prose_sentences() -> list[str]:
    """Sentences of 6-16 words, letters, commas and apostrophes only, from the stdlib's
    ``pydoc_data`` help topics (the same list for the same Python version).

    Returns:
        A new sorted list of distinct sentences (the caller may shuffle it).
    """
    return list(_sentences())
