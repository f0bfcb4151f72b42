"""Answer and window parsing measured on a fixed set of phrasings (tests/eval/reply_phrasings.py).

Before the rework (docs/decisions.md) `parse_choice` read 87 of the 104 replies right and
`parse_window` 12 of the 16; both now read all of them, and the replies that name no option
or no window still give None.
"""

from __future__ import annotations

import pytest

from tests.eval.reply_phrasings import OPTIONS, WINDOW_REPLIES, choice_replies
from vidseek.eval.methods import parse_choice, parse_window


def test_every_phrasing_of_every_letter_is_read():
    replies = choice_replies()
    assert len(replies) == 104
    wrong = [(reply, parse_choice(reply, OPTIONS), right) for reply, right in replies
             if parse_choice(reply, OPTIONS) != right]
    assert wrong == []


@pytest.mark.parametrize("reply", [
    "A or B", "Both A and C could be right.", "I cannot tell from these frames.", "",
    "The answer is E.", "Option C is wrong.", "a dog", "It is not option B.",
    "The man opens the door and the woman sits on the sofa.",
])
def test_replies_that_name_no_single_option_give_none(reply):
    assert parse_choice(reply, OPTIONS) is None


def test_a_rejected_option_does_not_count_against_a_stated_answer():
    reply = "Option C is wrong … The correct answer is A."
    assert parse_choice(reply, OPTIONS) == 0


@pytest.mark.parametrize(("reply", "window"), WINDOW_REPLIES)
def test_every_window_phrasing_is_read(reply, window):
    assert parse_window(reply) == pytest.approx(window)


@pytest.mark.parametrize("reply", ["around 4 s", "In the 2nd half.", "not in the video"])
def test_replies_without_a_window_give_none(reply):
    assert parse_window(reply) is None
