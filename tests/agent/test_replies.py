"""Parsing the fixed answer form: what is repaired, what is sent back to the model."""

from __future__ import annotations

import pytest

from vidseek.agent.replies import (
    NOT_FOUND,
    ParsedAnswer,
    ReplyError,
    ToolRequest,
    parse_answer,
    parse_json_object,
    parse_reply,
)

OPTIONS = ["entertain baby", "to help fix the wheel", "decoration"]


def test_json_is_found_in_fences_and_prose():
    assert parse_json_object('Sure!\n```json\n{"a": 1}\n```') == {"a": 1}
    assert parse_json_object('I think {"a": {"b": [1, 2]}} is right') == {"a": {"b": [1, 2]}}
    assert parse_json_object('{bad} then {"ok": true}') == {"ok": True}
    with pytest.raises(ReplyError, match="no JSON object"):
        parse_json_object("The answer is B.")


def test_a_full_answer_parses_with_its_evidence_clamped_to_the_video():
    text = ('{"answer": "decoration", "choice": "C", "found": true, "confidence": 0.8, '
            '"evidence": [{"start": 12.5, "end": 10, "seen": "a toy on the hood"}, '
            '{"start": -3, "end": 99, "seen": "the whole clip"}]}')
    parsed = parse_answer(text, OPTIONS, duration=31.0)
    assert parsed.choice == 2 and parsed.found and parsed.confidence == 0.8
    assert [(e.start, e.end) for e in parsed.evidence] == [(10.0, 12.5), (0.0, 31.0)]


@pytest.mark.parametrize("choice", ["C", "(c)", "C. decoration", 2, "decoration"])
def test_an_option_can_be_named_by_letter_number_or_text(choice):
    text = f'{{"answer": "", "choice": {choice!r}, "found": true, "confidence": 1}}'
    parsed = parse_answer(text.replace("'", '"'), OPTIONS, duration=10)
    assert parsed.choice == 2 and parsed.text == "decoration"


def test_percent_confidence_is_read_as_a_fraction_and_nonsense_is_refused():
    assert parse_answer('{"answer": "x", "confidence": 85}', None, 10).confidence == 0.85
    for bad in ('"high"', "-0.5", "140"):
        with pytest.raises(ReplyError, match="confidence"):
            parse_answer(f'{{"answer": "x", "confidence": {bad}}}', None, 10)


def test_missing_or_impossible_fields_say_what_to_fix():
    with pytest.raises(ReplyError, match='no "answer"'):
        parse_answer('{"reply": "x"}', None, 10)
    with pytest.raises(ReplyError, match="one of the letters A, B, C"):
        parse_answer('{"answer": "a wheel", "choice": "F", "confidence": 0.5}', OPTIONS, 10)
    with pytest.raises(ReplyError, match="numeric start and end"):
        parse_answer('{"answer": "x", "confidence": 1, "evidence": [{"seen": "x"}]}', None, 10)


def test_not_found_needs_no_words_or_choice():
    parsed = parse_answer('{"answer": "", "choice": null, "found": false, "confidence": 0.9}',
                          OPTIONS, 10)
    assert parsed == ParsedAnswer(NOT_FOUND, None, False, 0.9, [])


def test_a_tool_call_in_text_is_told_apart_from_an_answer():
    tools = ("search", "inspect")
    call = parse_reply('{"tool": "inspect", "arguments": {"start": 1, "end": 2}}', tools,
                       None, 10)
    assert call == ToolRequest("inspect", {"start": 1, "end": 2})
    with pytest.raises(ReplyError, match="unknown tool 'zoom'"):
        parse_reply('{"tool": "zoom"}', tools, None, 10)
    assert isinstance(parse_reply('{"answer": "x", "confidence": 1}', tools, None, 10),
                      ParsedAnswer)
