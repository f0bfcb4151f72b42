"""Random scripts: varied shots, transitions, text, speech and pasted photos, seeded."""

from __future__ import annotations

import numpy as np

from vidseek.synth.looks import random_color
from vidseek.synth.photos import COLOR_PHOTOS, PHOTOS
from vidseek.synth.script import PictureSpec, Script, ShotSpec, SpeechSpec, TextSpec

__all__ = ["SENTENCES", "SIGNS", "random_script"]

SENTENCES: tuple[str, ...] = (
    "The quick brown fox jumps over the lazy dog.",
    "Please remember to water the tomatoes every morning.",
    "The train to Edinburgh leaves from platform nine.",
    "My grandmother baked an apple pie for the picnic.",
    "The museum opens at ten o'clock on Sundays.",
    "A red balloon floated slowly above the harbour.",
    "We found a silver key under the kitchen table.",
    "The orchestra played a symphony by Beethoven.",
    "Turn left at the bakery and cross the old bridge.",
    "The weather forecast promises snow in the mountains.",
    "Seven penguins waddled across the frozen lake.",
    "The library closes early because of the holiday.",
    "Our team won the football match on Saturday.",
    "The astronaut waved from the window of the rocket.",
    "Fresh coffee smells wonderful in the morning.",
    "The cat is sleeping on the warm windowsill.",
    "Lightning struck the tall oak tree near the farm.",
    "The chef added basil and garlic to the sauce.",
    "Children were flying kites on the windy beach.",
    "The password for the meeting room is purple elephant.",
)

SIGNS: tuple[str, ...] = (
    "GATE 7 BOARDING",
    "BLUE HARBOR CAFE",
    "EXIT 42 NORTH",
    "SALE 50% OFF",
    "ROOM 1138",
    "WELCOME TO OSLO",
    "CHAPTER THREE",
    "LIVE FROM MARS",
    "OPEN 24 HOURS",
    "TICKET NO 8812",
    "MAPLE STREET",
    "QUIET PLEASE",
    "PLATFORM 9",
    "HOTEL AURORA",
    "FLIGHT KL 604",
    "STATION ZEBRA",
)

_ADJECTIVES = ("green", "tiny", "noisy", "golden", "sleepy", "clever", "purple", "brave")
_NOUNS = ("parrot", "tractor", "violin", "lighthouse", "teapot", "glacier", "robot", "canoe")
_PLACES = ("in the garden", "near the station", "on the roof", "at the market",
           "under the bridge", "beside the river", "in the attic", "behind the school")


def _sentence(k: int) -> str:
    """The k-th distinct sentence: the fixed list first, then generated ones."""
    if k < len(SENTENCES):
        return SENTENCES[k]
    k -= len(SENTENCES)
    a, n, p = k % 8, (k // 8) % 8, (k // 64) % 8
    extra = f" number {k // 512 + 1}" if k >= 512 else ""
    return f"A {_ADJECTIVES[a]} {_NOUNS[n]} was seen {_PLACES[p]}{extra}."


def _sign(k: int) -> str:
    """The k-th distinct on-screen text."""
    if k < len(SIGNS):
        return SIGNS[k]
    return f"CODE {1000 + 7919 * k % 9000}-{k}"


def _durations(rng: np.random.Generator, duration: float) -> list[float]:
    out: list[float] = []
    remaining = duration
    while remaining > 15:
        d = round(float(rng.uniform(2, 15)), 3)
        if remaining - d < 2:
            d = round(remaining / 2, 3)
        out.append(d)
        remaining -= d
    out.append(duration - sum(out))  # the last shot takes exactly what is left
    return out


def _shots(rng: np.random.Generator, duration: float, min_transition: float) -> list[ShotSpec]:
    contents = ["photo", "shapes", "gradient", "noise", "color"]
    weights = [0.35, 0.25, 0.15, 0.15, 0.10]
    shots: list[ShotSpec] = []
    prev_color = prev_photo = None
    for i, d in enumerate(_durations(rng, duration)):
        content = str(rng.choice(contents, p=weights))
        color = photo = None
        if content == "photo":
            choices = [p for p in PHOTOS if p != prev_photo]
            photo = choices[int(rng.integers(len(choices)))]
        else:
            color = random_color(rng, prev_color)
        prev_color, prev_photo = color, photo
        transition, length = "cut", 0.0
        r = rng.random()
        if i > 0 and r >= 0.8:
            length = min(round(float(rng.uniform(0.5, 1.5)), 2), d, shots[-1].duration)
            if length >= min_transition:
                transition = "fade" if r < 0.9 else "dissolve"
            else:
                length = 0.0
        motion = str(rng.choice(["pan", "zoom", "static"], p=[0.6, 0.3, 0.1]))
        shots.append(ShotSpec(duration=d, content=content, color=color, photo=photo,
                              motion=motion, transition=transition,
                              transition_duration=length, label=f"shot {i}"))
    return shots


def _intervals(rng: np.random.Generator, duration: float, count: int, lengths: list[float],
               gap: float = 0.5) -> list[tuple[int, float, float]]:
    """Non-overlapping ``(k, start, end)``, item k in the k-th of `count` equal slots.

    Items too long for their slot are left out.
    """
    slot = duration / max(count, 1)
    out = []
    for k in range(count):
        length = min(lengths[k], slot - 2 * gap)
        if length <= 0.5:
            continue
        lo = k * slot + gap
        start = round(lo + float(rng.random()) * (slot - 2 * gap - length), 3)
        out.append((k, start, round(start + length, 3)))
    return out


def _count(duration: float, every: float, minimum: float) -> int:
    return 0 if duration < minimum else max(1, round(duration / every))


def random_script(duration: float, *, seed: int = 0, width: int = 640, height: int = 360,
                  fps: float = 30.0, with_speech: bool = True, with_text: bool = True,
                  with_pictures: bool = True, **script_options) -> Script:
    """Draw a varied script of `duration` seconds, the same for the same arguments.

    Shots last about 2-15 s, mostly joined by cuts, sometimes by fades or dissolves of
    0.5-1.5 s. About every 20 s a text (top or bottom), every 30 s a spoken sentence and
    every 45 s a pasted colour photo, each kind at non-overlapping times.

    Args:
        duration: seconds of video.
        seed: seed of every choice.
        width: frame width.
        height: frame height.
        fps: frame rate.
        with_speech: include spoken sentences (only when the script has audio).
        with_text: include burned-in text.
        with_pictures: include pasted photos.
        **script_options: any other `Script` field (``audio``, ``vfr``, ``start_time``...).

    Returns:
        A validated `Script`.
    """
    rng = np.random.default_rng([seed, 0x5C41])
    vfr = bool(script_options.get("vfr", False))
    shots = _shots(rng, duration, 2 / fps * (2 if vfr else 1))
    texts, speech, pictures = [], [], []
    if with_text:
        n = _count(duration, 20, 3)
        for k, a, b in _intervals(rng, duration, n, rng.uniform(2, 5, n).tolist()):
            texts.append(TextSpec(text=_sign(k), start=a, end=b,
                                  position=str(rng.choice(["top", "bottom"]))))
    if with_speech and script_options.get("audio", True):
        n = _count(duration, 30, 5)
        sentences = [_sentence(k) for k in range(n)]
        # generous length: espeak speaks close to the asked rate, plus leading silence
        lengths = [len(s.split()) * 60 / 160 * 1.3 + 0.6 for s in sentences]
        for k, a, _ in _intervals(rng, duration, n, lengths):
            speech.append(SpeechSpec(text=sentences[k], start=a))
    if with_pictures:
        n = _count(duration, 45, 3)
        order = rng.permutation(len(COLOR_PHOTOS)).tolist()
        for k, a, b in _intervals(rng, duration, n, rng.uniform(2, 4, n).tolist()):
            pictures.append(PictureSpec(photo=COLOR_PHOTOS[order[k % len(order)]], start=a,
                                        end=b, position=str(rng.choice(["center", "left",
                                                                        "right"])),
                                        scale=round(float(rng.uniform(0.3, 0.5)), 2)))
    return Script(width=width, height=height, fps=fps, shots=shots, texts=texts,
                  speech=speech, pictures=pictures, seed=seed, **script_options)
