"""Background texts: what an unrelated query and an unrelated passage look like to the text
embedder, so that a hit's similarity is judged against the similarity its query and its
passage have with anything (hubness: short upper-case signs, for one, are close to every
query under e5).

The texts are everyday and varied on purpose; none is about a particular video.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vidseek.models.protocols import TextEmbedder

__all__ = ["BACKGROUND_PASSAGES", "BACKGROUND_QUERIES", "Background"]

NEIGHBOURS = 10
"""How many of the most similar background texts set a text's usual similarity."""

BACKGROUND_QUERIES: tuple[str, ...] = (
    "what time does the shop close",
    "who won the game last night",
    "how do I reset my password",
    "where is the nearest pharmacy",
    "what is the weather like tomorrow",
    "how much does the ticket cost",
    "when was the bridge built",
    "why is the sky blue",
    "who is the author of the book",
    "what did the teacher explain",
    "how long does the journey take",
    "which team scored first",
    "where did they go on holiday",
    "what ingredients are needed",
    "how many people attended",
    "what is the name of the song",
    "when does the film start",
    "what colour is the car",
    "who is speaking right now",
    "what is written on the board",
    "a dog running in the park",
    "people sitting around a table",
    "a close-up of a hand",
    "someone opens a door",
    "a crowded street at night",
    "a person laughing",
    "the screen shows a chart",
    "a title card appears",
    "the presenter changes the slide",
    "an interview in an office",
    "a car driving on a road",
    "children playing outside",
    "a plate of food",
    "somebody reads from a paper",
    "a building from the outside",
    "the camera pans across a room",
    "the crowd applauds",
    "a phone rings",
    "water flowing in a river",
    "a map of the region",
    "the price of the product",
    "the address of the office",
    "the date of the event",
    "instructions for the device",
    "the result of the experiment",
    "the name of the company",
    "a warning about safety",
    "the phone number to call",
)

BACKGROUND_PASSAGES: tuple[str, ...] = (
    "Thank you all for coming today.",
    "Let's move on to the next topic.",
    "I think that is a really good question.",
    "As you can see on this slide, the numbers went up.",
    "We will take a short break now.",
    "It was a long day, but we got there in the end.",
    "Can everyone hear me at the back?",
    "The results were better than we expected.",
    "She told me she would call back later.",
    "There are three things I want to talk about.",
    "So that is how the whole process works.",
    "I remember when this place was just a field.",
    "Please make sure you save your work.",
    "We should have left a bit earlier.",
    "The report is due at the end of the month.",
    "He said the package arrived yesterday.",
    "Okay, let me show you how this part fits.",
    "Nobody knew what would happen next.",
    "The first step is always the hardest.",
    "That concludes the first part of the session.",
    "WELCOME",
    "CHAPTER 2",
    "PART ONE",
    "THANK YOU",
    "BREAKING NEWS",
    "LIVE",
    "SUMMARY",
    "NEXT STEPS",
    "QUESTIONS?",
    "AGENDA",
    "INTRODUCTION",
    "RESULTS",
    "person",
    "people",
    "car",
    "chair",
    "table",
    "window",
    "tree",
    "dog",
    "bottle",
    "laptop",
    "book",
    "television",
    "street sign",
    "wall clock",
    "a person standing in a room",
    "a view of a city street",
)


@dataclass(frozen=True)
class Background:
    """The background texts' vectors under one text embedder."""

    queries: np.ndarray
    passages: np.ndarray

    @classmethod
    def load_or_make(cls, embedder: TextEmbedder, cache: Path) -> Background:
        """Embed the background texts, or read them from ``cache`` (a folder) when this
        embedder embedded these texts before (about a second saved per process)."""
        texts = "\n".join(BACKGROUND_QUERIES + ("",) + BACKGROUND_PASSAGES)
        digest = hashlib.blake2b(texts.encode(), digest_size=6).hexdigest()
        name = re.sub(r"[^A-Za-z0-9.]+", "_", getattr(embedder, "name", "embedder"))
        file = cache / f"background-{name}-{digest}.npz"
        if file.exists():
            with np.load(file) as saved:
                return cls(saved["queries"], saved["passages"])
        made = cls(np.asarray(embedder.queries(list(BACKGROUND_QUERIES)), np.float32),
                   np.asarray(embedder.passages(list(BACKGROUND_PASSAGES)), np.float32))
        try:
            cache.mkdir(parents=True, exist_ok=True)
            partial = file.with_suffix(".tmp.npz")
            np.savez(partial, queries=made.queries, passages=made.passages)
            partial.replace(file)
        except OSError:
            pass  # a read-only library still searches, just a second slower to start
        return made

    def query_level(self, vector: np.ndarray) -> float:
        """How similar this query usually is to a passage."""
        return _top_mean(self.passages @ vector)

    def passage_levels(self, vectors: np.ndarray) -> np.ndarray:
        """How similar each passage usually is to a query."""
        if len(vectors) == 0:
            return np.zeros(0, np.float32)
        return np.sort(vectors @ self.queries.T, axis=1)[:, -NEIGHBOURS:].mean(axis=1)


def _top_mean(similarities: np.ndarray) -> float:
    return float(np.sort(similarities)[-NEIGHBOURS:].mean())
