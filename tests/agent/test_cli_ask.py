"""`vidseek ask` run as a user runs it (a subprocess), on the indexed fact video, with the
embedded answerer and with a scripted chat server."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from agent_facts import answered_sign
from chat_server import ScriptedChatServer

pytestmark = pytest.mark.slow  # the shared fixture indexes a fact video once


def ask(facts, *args, check=True, env=None):
    result = subprocess.run(
        [sys.executable, "-m", "vidseek", "ask", str(facts.path), *map(str, args),
         "--library", str(facts.library.path)],
        capture_output=True, text=True, timeout=300,
        env=None if env is None else {**os.environ, **env})
    if check:
        assert result.returncode == 0, result.stderr
    return result



def test_the_embedded_answer_prints_its_evidence_link_cost_and_limits(facts):
    shown = answered_sign(facts)
    result = ask(facts, shown.question, "--trace", "--model", "embedded")
    assert result.stdout.startswith(shown.fact)
    assert f"{facts.path}#t={shown.start:.2f},{shown.end:.2f}" in result.stdout
    assert "0 model calls" in result.stdout
    assert "search(query=" in result.stderr and "no generative model" in result.stderr


def test_json_holds_the_whole_answer_and_options_pick_a_letter(facts, tmp_path):
    shown = answered_sign(facts)
    saved = tmp_path / "asks.jsonl"
    result = ask(facts, shown.question, "--options", f"a red umbrella|{shown.fact}|twelve",
                 "--json", "--save", saved, "--model", "embedded")
    answer = json.loads(result.stdout)
    assert answer["choice"] == 1 and answer["options"][1] == shown.fact
    assert answer["evidence"][0]["link"].startswith(str(facts.path))
    assert json.loads(saved.read_text())["question"] == shown.question


def test_a_failing_model_server_exits_1_with_the_reason(facts):
    with ScriptedChatServer(["not json", "not json", "not json"]) as server:
        result = ask(facts, "What is written?", "--model", server.spec, "--json", check=False)
    assert result.returncode == 1
    failed = json.loads(result.stdout)
    assert "malformed" in failed["error"] and failed["trace"][0]["tool"] == "search"
    plain = ask(facts, "What?", "--options", "only one", check=False)
    assert plain.returncode == 2 and "at least two" in plain.stderr  # a usage error


def test_without_model_and_without_an_installed_llm_it_says_how_to_install_one(facts, tmp_path):
    shown = answered_sign(facts)
    result = ask(facts, shown.question, env={"VIDSEEK_MODELS": str(tmp_path)})
    assert result.stdout.startswith(shown.fact) and "0 model calls" in result.stdout
    notes = [line for line in result.stderr.splitlines() if "vidseek models install llm" in line]
    assert len(notes) == 1
