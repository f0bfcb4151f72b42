"""Language-model reranking (``--reranker llm-small``, ``llm``, ``llamacpp:PATH``): specs,
errors, deadlines, the logits of a real GGUF model (SmolLM2-135M, llm-tiny) and search's use
of them, and the calibration file a reranker gets.

SmolLM2-135M cannot judge relevance: these tests check the wiring, never its judgement (the
needle benchmark measures that: docs/benchmarks.md)."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest
from media_info import make_info

from vidseek.errors import ModelError
from vidseek.library import Library
from vidseek.models import resolve
from vidseek.models.llamacpp import LlamaCppChat
from vidseek.models.llm_rerank import EXAMPLES, LlmReranker, conversation
from vidseek.models.protocols import ChatModelError, ChatTimeoutError, Reranker
from vidseek.models.registry import ModelSpecs, capabilities
from vidseek.search.calibration import (
    CALIBRATION_FILE,
    calibration_file,
    load_calibration,
    reranker_name,
)
from vidseek.search.searcher import RERANK_CANDIDATES
from vidseek.types import Observation

QUERY = "how often does the boat sail"
PASSAGES = ["The ferry to Norway runs twice a day in winter.", "GATE B12 NOW BOARDING",
            "", "word " * 400]  # empty, and longer than a passage may be (cut)


@pytest.fixture(scope="module")
def reranker(tiny_gguf) -> LlmReranker:
    chat = LlamaCppChat(tiny_gguf, installed="llm-tiny")
    yield LlmReranker(chat)
    chat.close()


# -- no model needed ---------------------------------------------------------------------------


def test_a_missing_model_names_the_install_command(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDSEEK_MODELS", str(tmp_path / "models"))
    for spec in ("llm-small", "llm", "llamacpp:llm-small#threads=1"):
        with pytest.raises(ModelError) as caught:
            resolve("reranker", spec)
        name = spec.removeprefix("llamacpp:").split("#")[0]
        assert f"vidseek models install {name}" in str(caught.value)
        with pytest.raises(ModelError, match=f"reranker: .*vidseek models install {name}"):
            ModelSpecs(reranker=spec).check()  # before a library saves it
    with pytest.raises(ModelError, match="does not exist"):
        resolve("reranker", f"llamacpp:{tmp_path}/none.gguf")


def test_unknown_specs_list_every_reranker_form():
    for spec in ("gguf:/x", "llm-huge", "llm:small"):
        with pytest.raises(ModelError) as caught:
            resolve("reranker", spec)
        assert "'llm-small'" in str(caught.value) and "crossencoder:" in str(caught.value)


def test_the_deadline_bounds_a_whole_call_and_none_starts_without_time(tmp_path):
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF" + b"\0" * 60)  # would fail to load: nothing must start
    chat = LlamaCppChat(gguf, threads=1)
    reranker = LlmReranker(chat, timeout=1e-9)
    with pytest.raises(ChatTimeoutError, match="no time left"):
        reranker.scores(QUERY, PASSAGES)
    assert not chat.loaded
    assert reranker.scores(QUERY, []).shape == (0,)  # nothing to judge: no call at all
    with pytest.raises(ValueError, match="timeout"):
        LlmReranker(chat, timeout=0)


def test_a_chat_model_without_token_probabilities_is_refused():
    class Plain:
        name = "plain"

        def chat(self, messages, *, max_tokens=None, temperature=0.0):
            raise AssertionError("never called")

    with pytest.raises(ChatModelError, match="token probabilities"):
        LlmReranker(Plain())


def test_the_prompt_puts_the_passage_last_and_the_rest_is_shared():
    one, two = conversation(QUERY, "first passage"), conversation(QUERY, "another one")
    assert [m.to_dict() for m in one[:-1]] == [m.to_dict() for m in two[:-1]]
    assert len(one) == 2 + 2 * len(EXAMPLES)
    last = one[-1].to_dict()["content"]
    text = last if isinstance(last, str) else last[0]["text"]
    assert text.index(QUERY) < text.index("first passage") and text.endswith("first passage")


def test_another_instruction_and_examples_replace_the_shipped_ones():
    examples = (("where is the exit", "EXIT ON LEVEL 2", "yes"),)
    messages = [m.to_dict() for m in conversation(QUERY, "a passage", system="Judge.",
                                                  examples=examples)]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[0]["content"] == "Judge." and messages[2]["content"] == "yes"
    assert "EXIT ON LEVEL 2" in str(messages[1]["content"])


def test_each_reranker_has_its_own_calibration_file():
    assert calibration_file() == CALIBRATION_FILE
    assert calibration_file(None, "llm-small").name == "calibration-rerank-llm-small.json"
    assert calibration_file("minilm", "llamacpp:llm#threads=2").name == (
        "calibration-minilm-rerank-llm.json")
    assert reranker_name("llamacpp:/m/Qwen2.5-0.5B-Q4_K_M.gguf") == "qwen2.5-0.5b-q4_k_m"
    assert reranker_name("crossencoder:/models/ms-marco-MiniLM-L6-v2/") == (
        "ms-marco-minilm-l6-v2")


def test_the_reranker_capability_names_the_language_models():
    missing = next(c for c in capabilities() if c.name.startswith("search reranker"))
    assert "--reranker llm-small" in missing.detail


# -- with llm-tiny ------------------------------------------------------------------------------


def test_one_finite_logit_per_passage_repeatably(reranker):
    assert isinstance(reranker, Reranker) and reranker.name == "llamacpp:llm-tiny"
    logits = reranker.scores(QUERY, PASSAGES)
    assert logits.shape == (len(PASSAGES),) and logits.dtype == np.float32
    assert np.isfinite(logits).all()
    # temperature 0: the same again, up to llama.cpp's arithmetic, which differs a little
    # with how much of the prompt its cache held (measured: up to 0.07 apart)
    np.testing.assert_allclose(reranker.scores(QUERY, PASSAGES), logits, atol=0.2)
    assert math.isclose(reranker.scores(QUERY, [PASSAGES[1]])[0], logits[1], abs_tol=0.2)


def test_the_resolver_gives_it_for_installed_names_and_paths(tiny_gguf, reranker):
    by_path = resolve("reranker", f"llamacpp:{tiny_gguf}#threads=1")
    assert isinstance(by_path, LlmReranker) and by_path.chat.threads == 1
    by_name = resolve("reranker", "llm-tiny")  # the installed model the fixture found
    assert isinstance(by_name, LlmReranker) and by_name.name == "llamacpp:llm-tiny"
    # every handle on the file shares the one loaded model
    assert by_name.chat.path == reranker.chat.path


def _library_with_sentences(path, sentences, **options):
    library = Library(path, **options)
    library.store.add_video("v1", "/videos/ferry.mp4", make_info("/videos/ferry.mp4", 1000.0))
    embedder = library.loaded.text_embedder()
    vectors = embedder.passages(sentences)
    with library.store.begin("v1", "speech", f"1+whisper:tiny.en+{embedder.name}") as run:
        run.add([Observation(video_id="v1", start=30.0 * i, end=30.0 * i + 3.0, kind="speech",
                             text=s, vector=v.tolist(), source="test")
                 for i, (s, v) in enumerate(zip(sentences, vectors))])
    return library


def test_search_scores_its_best_text_hits_by_the_language_model(tiny_gguf, tmp_path, caplog):
    sentences = [f"The ferry to Norway runs {n} times a day in winter." for n in range(14)]
    with _library_with_sentences(tmp_path / "library", sentences) as plain:
        before = plain.searcher.hits(QUERY)
        base = plain.searcher.calibration
    spec = f"llamacpp:{tiny_gguf}"
    with caplog.at_level(logging.WARNING), Library(tmp_path / "library",
                                                   models={"reranker": spec}) as library:
        assert library.models.reranker == spec  # saved with the library
        hits = library.searcher.hits(QUERY)
        reranker = library.loaded.reranker()
        moments = library.search(QUERY, threshold=0.0, k=3)
    assert isinstance(reranker, LlmReranker)
    # no calibration was fitted with this model: the text embedder's, the rerank prior
    assert "no search calibration fitted with reranker" in caplog.text
    assert library.searcher.calibration.threshold == base.threshold
    assert len(hits) == RERANK_CANDIDATES
    best = sorted(before, key=lambda h: -h.score)[:RERANK_CANDIDATES]
    assert sorted(h.key[:5] for h in hits) == sorted(h.key[:5] for h in best)
    logits = reranker.scores(QUERY, [h.observation.text for h in hits])
    for hit, logit in zip(hits, logits):
        assert hit.model == "rerank" and math.isclose(hit.features["logit"], logit, abs_tol=0.2)
        assert math.isclose(hit.score, 1 / (1 + math.exp(-hit.features["logit"])))
        assert math.isfinite(hit.features["text_logit"])
    assert moments and moments[0].score == round(max(h.score for h in hits), 4)


def test_a_calibration_fitted_with_the_reranker_is_used_with_it(tiny_gguf, tmp_path,
                                                                 monkeypatch):
    fitted = load_calibration(CALIBRATION_FILE).model_copy(update={"threshold": 0.77})
    file = tmp_path / "calibration-rerank-llm-tiny.json"
    file.write_text(fitted.model_dump_json())
    monkeypatch.setattr("vidseek.library.calibration_file",
                        lambda embedder=None, reranker=None: file if reranker else
                        CALIBRATION_FILE)
    _library_with_sentences(tmp_path / "library", ["one sentence"]).close()
    with Library(tmp_path / "library", models={"reranker": f"llamacpp:{tiny_gguf}"}) as lib:
        assert lib.searcher.calibration.threshold == 0.77
    with Library(tmp_path / "library", models={"reranker": "none"}) as lib:
        assert lib.searcher.calibration.threshold != 0.77
