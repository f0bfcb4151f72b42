"""The replies `parse_choice` and `parse_window` are measured on (docs/decisions.md): how
chat models phrase a multiple-choice answer or a time window. Each choice phrasing is filled
in for every letter of `OPTIONS`, so 26 phrasings give 104 replies.

Placeholders: ``{L}`` the right letter, ``{l}`` it in lower case, ``{T}`` the option's text as
offered (with its period), ``{t}`` it without the period, ``{tl}`` lower case without the
period, ``{W}`` another letter the reply rejects.
"""

from __future__ import annotations

OPTIONS = [
    "The man opens the door.",
    "The woman sits on the sofa.",
    "A dog runs across the yard.",
    "Two children play with a ball.",
]

CHOICE_PHRASINGS = [
    "{L}",
    "({L})",
    "{L}.",
    "{L}. {T}",
    "{L}) {t}",
    "Answer: {L}",
    "Answer: ({L})",
    "The answer is {L}.",
    "The answer is ({l}).",
    "{l}",
    "Option {L}",
    "The correct option is {L}: {t}",
    "{T}",
    "{t}",
    "{tl}",
    "I think it's {L}.",
    "Option {W} is wrong because nothing like that happens. The correct answer is {L}.",
    "It is not {W}. The answer is {L}.",
    "**{L}**",
    "Answer: **{L}. {t}**",
    "The best answer is {L}",
    "Best option: ({L})",
    "{L}: {t}",
    "My answer: {l})",
    "From the frames, {tl}.",
    "Final answer - option {L}, since it matches what is shown.",
]


def choice_replies() -> list[tuple[str, int]]:
    """Every phrasing for every letter: ``(reply, right index)``, 104 of them."""
    letters = "ABCD"
    out = []
    for phrasing in CHOICE_PHRASINGS:
        for i, text in enumerate(OPTIONS):
            bare = text.rstrip(".")
            out.append((phrasing.format(L=letters[i], l=letters[i].lower(), T=text, t=bare,
                                        tl=bare.lower(), W=letters[(i + 2) % 4]), i))
    return out


WINDOW_REPLIES = [
    ("12.5 - 20", (12.5, 20.0)),
    ("from 0:12 to 0:20", (12.0, 20.0)),
    ("[3.0, 7.5]", (3.0, 7.5)),
    ("In the 2nd half: 15.0 - 30.0 seconds", (15.0, 30.0)),
    ("The event happens in 4.2 - 9.8 seconds.", (4.2, 9.8)),
    ("It starts at 3.2 seconds and ends at 7.9 seconds.", (3.2, 7.9)),
    ("The start time for this event is 0 seconds, and the end time is 12 seconds.", (0.0, 12.0)),
    ("Between 5 and 9 seconds.", (5.0, 9.0)),
    ("The 3rd clip, 21.0s-24.5s, shows it.", (21.0, 24.5)),
    ("START - END: 10.0 - 14.0", (10.0, 14.0)),
    ("00:00:18 to 00:00:23", (18.0, 23.0)),
    ("The video is 30.0 s long; the person drinks at 4.0 \u2013 9.0 s.", (4.0, 9.0)),
    ("Starting time: 0.8 seconds\nEnding time: 1.1 seconds", (0.8, 1.1)),
    ("20.0 - 8.0", (8.0, 20.0)),
    ("During the 1st minute, from 35 to 41 s.", (35.0, 41.0)),
    ("The moment begins at 6.5 s and finishes at 11 s.", (6.5, 11.0)),
]
"""``(reply, window)``: what a grounding reply says and the window it means."""
