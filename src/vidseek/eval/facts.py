"""Synthetic fact videos: speech and on-screen text state facts at known times, and
questions ask about them in other words. The ground truth of each question is the span the
fact was said or shown, so an answer's evidence can be scored by temporal IoU.

    plan = fact_video(seed=0, spoken=4, shown=4)
    truth = build(plan.script, "facts.mp4")
    for question in plan.questions(truth): ...
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from vidseek.synth import Script, ShotSpec, SpeechSpec, TextSpec
from vidseek.synth.truth import GroundTruth

__all__ = ["ABSENT", "FactQuestion", "FactVideo", "SHOWN", "SPOKEN", "fact_video"]

# (what is said, a question in other words)
SPOKEN: tuple[tuple[str, str], ...] = (
    ("The meeting moves to room four at three o'clock.", "Which room will the meeting be in?"),
    ("The delivery truck arrives on Tuesday morning.", "When does the lorry come?"),
    ("Our new office opens in Lisbon next spring.",
     "In which city is the company opening a new branch?"),
    ("The keynote speaker is Doctor Alice Moreau.", "Who gives the main talk?"),
    ("Lunch will be served in the garden today.", "Where can people eat at midday?"),
    ("The train to Boston leaves from platform nine.", "Which track does the Boston service "
                                                       "depart from?"),
    ("Please water the tomato plants every evening.", "How often should the vegetables be "
                                                      "watered?"),
    ("The budget for the project is forty thousand dollars.", "How much money can the project "
                                                              "spend?"),
    ("The museum is closed on Mondays.", "On which day can visitors not see the exhibits?"),
    ("Our team won the regional chess tournament.", "Which competition did the group win?"),
    ("The bridge will be repaired during the summer.", "When is the crossing being fixed?"),
    ("My sister works as a nurse in Chicago.", "What is the sibling's job?"),
)
# (what is written on screen, a question in other words)
SHOWN: tuple[tuple[str, str], ...] = (
    ("THE CODE IS 7142", "What is the code?"),
    ("WIFI PASSWORD: BLUEHERON", "What is the password for the wireless network?"),
    ("EXIT ON LEVEL 2", "On which floor is the way out?"),
    ("SALE ENDS FRIDAY", "When is the discount over?"),
    ("GATE B12 NOW BOARDING", "Which gate is the flight leaving from?"),
    ("CAFETERIA OPEN 8-16", "What are the opening hours of the canteen?"),
    ("PARKING FULL", "Is there space to leave a car?"),
    ("NEXT STOP: CENTRAL STATION", "Where does the vehicle stop next?"),
    ("ROOM 305 EXAMS", "Where are the tests taking place?"),
    ("TEMPERATURE 24 C", "How warm is it?"),
)
# Questions whose answer no fact video holds.
ABSENT: tuple[str, ...] = (
    "What colour is the dog?",
    "Who won the football match?",
    "How many birds fly over the lake?",
    "What song is playing on the radio?",
)
_SLOT = 7.0  # seconds per fact: said or shown, then a pause


@dataclass(frozen=True, slots=True)
class FactQuestion:
    question: str
    kind: str
    """``speech`` or ``text``."""
    fact: str
    start: float
    end: float
    """Where the fact was said or shown (timeline seconds)."""


@dataclass(frozen=True, slots=True)
class FactVideo:
    script: Script
    spoken: list[tuple[str, str]]
    shown: list[tuple[str, str, float, float]]
    """(text, question, start, end)."""

    def questions(self, truth: GroundTruth) -> list[FactQuestion]:
        """Each fact's question with the span the built video said or showed it."""
        asked = []
        for text, question in self.spoken:
            said = next(s for s in truth.speech if s.text == text)
            asked.append(FactQuestion(question, "speech", text, said.start, said.end))
        for text, question, start, end in self.shown:
            asked.append(FactQuestion(question, "text", text, start, end))
        return asked


def fact_video(*, seed: int = 0, spoken: int = 4, shown: int = 4) -> FactVideo:
    """A video that states `spoken` facts aloud and shows `shown` on screen, one per slot of
    seven seconds in random order, over plain backgrounds.

    Raises:
        ValueError: more facts asked for than the pools hold.
    """
    if not (0 <= spoken <= len(SPOKEN) and 0 <= shown <= len(SHOWN)) or spoken + shown == 0:
        raise ValueError(f"ask for 0..{len(SPOKEN)} spoken and 0..{len(SHOWN)} shown facts, "
                         "at least one in all")
    rng = random.Random(seed)
    said, written = rng.sample(SPOKEN, spoken), rng.sample(SHOWN, shown)
    kinds = ["speech"] * spoken + ["text"] * shown
    rng.shuffle(kinds)
    speech, texts, shown_facts = [], [], []
    said_left, written_left = list(said), list(written)
    for slot, kind in enumerate(kinds):
        start = 1.0 + slot * _SLOT
        if kind == "speech":
            text, _ = said_left.pop()
            speech.append(SpeechSpec(text=text, start=start))
        else:
            text, question = written_left.pop()
            end = start + 5.0
            texts.append(TextSpec(text=text, start=start, end=end, position="center"))
            shown_facts.append((text, question, start, end))
    duration = 2.0 + len(kinds) * _SLOT
    half = round(duration / 2, 1)
    script = Script(fps=10, seed=seed, speech=speech, texts=texts, shots=[
        ShotSpec(duration=half, content="gradient", motion="static"),
        ShotSpec(duration=round(duration - half, 1), content="color", motion="static")])
    return FactVideo(script, said, shown_facts)
