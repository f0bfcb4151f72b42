"""Cross-encoder rerankers (``crossencoder:/path/dir``), and search's second stage.

No real cross-encoder can be had here, so a tiny randomly initialised BERT cross-encoder is
built with transformers, exported to ONNX the way Hugging Face repositories ship them
(``onnx/model.onnx`` beside ``tokenizer.json``), and the real loading and inference path is
checked against transformers' own logits. Search's use of the scores is checked with that
model on a real library.
"""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys

import numpy as np
import pytest
from media_info import make_info

from vidseek.errors import ModelError
from vidseek.library import Library
from vidseek.models import resolve
from vidseek.models.protocols import Reranker
from vidseek.models.registry import ModelSpecs, capabilities
from vidseek.models.rerank import CrossEncoder
from vidseek.search.calibration import PRIORS
from vidseek.search.fit import Example, fit_calibration
from vidseek.search.searcher import RERANK_CANDIDATES
from vidseek.types import Observation

WORDS = ["the", "ferry", "to", "norway", "runs", "twice", "a", "day", "in", "winter", "boat",
         "sail", "cold", "season", "gate", "b12", "now", "boarding", "which", "door", "plane",
         "leaving", "from", "how", "often", "during", "##s", "##ing"]
PAIRS = [("how often does the boat sail", "The ferry to Norway runs twice a day in winter."),
         ("which door is the plane leaving from", "GATE B12 NOW BOARDING"),
         ("", "an empty query"), ("winter", ""),
         ("boat " * 300, "sail " * 300)]  # longer than the model takes: cut


def _save_tiny(directory, transformers, torch):
    """A tiny BERT cross-encoder (hidden 32, 2 layers, one logit) exported to ONNX, with its
    tokenizer.json; returns transformers' model and tokenizer for reference."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

    vocab = {w: i for i, w in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
                                         *WORDS])}
    tokenizer = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])])
    (directory / "onnx").mkdir(parents=True)
    tokenizer.save(str(directory / "tokenizer.json"))
    torch.manual_seed(0)
    config = transformers.BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2,
                                     num_attention_heads=2, intermediate_size=64,
                                     max_position_embeddings=64, num_labels=1)
    model = transformers.BertForSequenceClassification(config).eval()
    ids = torch.ones((2, 7), dtype=torch.long)
    with torch.no_grad():
        torch.onnx.export(model, (ids, torch.ones_like(ids), torch.zeros_like(ids)),
                          str(directory / "onnx" / "model.onnx"),
                          input_names=["input_ids", "attention_mask", "token_type_ids"],
                          output_names=["logits"], opset_version=17, dynamo=False,
                          dynamic_axes={n: {0: "batch", 1: "tokens"} for n in
                                        ("input_ids", "attention_mask", "token_type_ids")})
    fast = transformers.PreTrainedTokenizerFast(tokenizer_file=str(directory / "tokenizer.json"),
                                                pad_token="[PAD]")
    return model, fast


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    transformers = pytest.importorskip("transformers", reason="needs the clip extra")
    torch = pytest.importorskip("torch", reason="needs the clip extra")
    if importlib.util.find_spec("onnx") is None:
        pytest.skip("torch's ONNX exporter needs the 'onnx' package")
    directory = tmp_path_factory.mktemp("rerank") / "tiny-cross-encoder"
    model, tokenizer = _save_tiny(directory, transformers, torch)
    return directory, model, tokenizer, torch


@pytest.mark.torch
def test_logits_equal_transformers_for_pairs_in_one_batch(tiny):
    directory, model, tokenizer, torch = tiny
    encoder = resolve("reranker", f"crossencoder:{directory}")
    assert isinstance(encoder, CrossEncoder) and encoder.name == "tiny-cross-encoder"
    assert isinstance(encoder, Reranker)
    encoder._tokenizer.enable_truncation(64, strategy="longest_first")  # the tiny model's
    for query, passage in PAIRS:
        inputs = tokenizer(query, passage, truncation="longest_first", max_length=64,
                           return_tensors="pt")
        with torch.no_grad():
            theirs = model(**inputs).logits[0, 0].item()
        assert math.isclose(encoder.scores(query, [passage])[0], theirs, abs_tol=1e-4)
    # a batch pads its pairs: the scores stay those of each pair alone
    alone = [encoder.scores(PAIRS[0][0], [p])[0] for _, p in PAIRS]
    np.testing.assert_allclose(encoder.scores(PAIRS[0][0], [p for _, p in PAIRS]), alone,
                               atol=1e-4)
    assert encoder.scores("anything", []).shape == (0,)


def _library_with_sentences(path, sentences):
    library = Library(path)
    library.store.add_video("v1", "/videos/ferry.mp4", make_info("/videos/ferry.mp4", 1000.0))
    embedder = library.loaded.text_embedder()
    vectors = embedder.passages(sentences)
    version = f"1+whisper:tiny.en+{embedder.name}"
    with library.store.begin("v1", "speech", version) as run:
        run.add([Observation(video_id="v1", start=30.0 * i, end=30.0 * i + 3.0, kind="speech",
                             text=s, vector=v.tolist(), source="test")
                 for i, (s, v) in enumerate(zip(sentences, vectors))])
    return library


@pytest.mark.torch
def test_search_ranks_and_scores_the_best_text_hits_by_the_cross_encoder(tiny, tmp_path):
    directory, *_ = tiny
    sentences = [f"The ferry to Norway runs {n} times a day in winter." for n in range(30)]
    library = _library_with_sentences(tmp_path / "library", sentences)
    plain = library.searcher.hits("how often does the boat sail")
    library.close()

    with Library(tmp_path / "library",
                 models={"reranker": f"crossencoder:{directory}"}) as reranked:
        assert reranked.models.reranker == f"crossencoder:{directory}"  # saved with it
        hits = reranked.searcher.hits("how often does the boat sail")
        encoder = reranked.loaded.reranker()
    best = sorted(plain, key=lambda h: -h.score)[:RERANK_CANDIDATES]
    assert sorted(h.key[:5] for h in hits) == sorted(h.key[:5] for h in best)
    logits = encoder.scores("how often does the boat sail", [h.observation.text for h in hits])
    for hit, logit in zip(hits, logits):
        assert hit.model == "rerank" and math.isclose(hit.features["logit"], logit,
                                                      abs_tol=1e-5)
        assert math.isclose(hit.score, PRIORS["rerank"].probability({"logit": logit}))
    with Library(tmp_path / "library") as reopened:
        moments = reopened.search("how often does the boat sail", threshold=0.0, k=3)
    top = round(max(h.score for h in hits), 4)  # moments carry 4 decimals
    assert moments[0].score == top
    assert (moments[0].start, moments[0].end) in {(h.start, h.end) for h in hits
                                                  if round(h.score, 4) == top}


@pytest.mark.torch
def test_calibration_fits_the_rerank_channel_only_when_a_reranker_ran(tiny, tmp_path):
    directory, *_ = tiny
    sentences = [f"The ferry to Norway runs {n} times a day in winter." for n in range(6)]
    examples = [Example(video_id="v1", query=f"runs {n} times a day",
                        answers=[(30.0 * n, 30.0 * n + 3.0)]) for n in range(6)]
    examples.append(Example(video_id="v1", query="which door is the plane leaving from"))
    with _library_with_sentences(tmp_path / "plain", sentences) as plain:
        assert "rerank" not in fit_calibration(plain.searcher, examples).channels
    with _library_with_sentences(tmp_path / "reranked", sentences) as library, \
            Library(library.path, models={"reranker": f"crossencoder:{directory}"}) as reranked:
        fitted = fit_calibration(reranked.searcher, examples)
    model = fitted.channels["rerank"]
    assert model.fitted and model.features == ["logit"]
    assert "rerank (6 true of" in fitted.fitted_on


@pytest.mark.torch
def test_the_cli_takes_a_reranker_and_refuses_a_wrong_one_without_saving_it(tiny, tmp_path):
    directory, *_ = tiny
    sentences = [f"The ferry to Norway runs {n} times a day in winter." for n in range(5)]
    _library_with_sentences(tmp_path / "library", sentences).close()

    def search(*options):
        return subprocess.run([sys.executable, "-m", "vidseek", "search", "how often does the "
                               "boat sail", "--library", str(tmp_path / "library"), "--json",
                               "--threshold", "0", *options],
                              capture_output=True, text=True, timeout=120)

    wrong = search("--reranker", f"crossencoder:{tmp_path / 'no-such-model'}")
    # the message is wrapped to the terminal's width, maybe inside the words looked for
    assert wrong.returncode == 1 and "does not exist" in " ".join(wrong.stderr.split())
    assert not (tmp_path / "library" / "models.json").exists()  # the typo was not kept
    done = search("--reranker", f"crossencoder:{directory}")
    assert done.returncode == 0, done.stderr
    with Library(tmp_path / "library") as library:
        assert library.models.reranker == f"crossencoder:{directory}"
        hits = library.searcher.hits("how often does the boat sail")
    assert json.loads(done.stdout)[0]["score"] == round(max(h.score for h in hits), 4)


@pytest.mark.torch
def test_a_broken_model_file_says_so(tiny, tmp_path):
    directory, *_ = tiny
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "tokenizer.json").write_bytes((directory / "tokenizer.json").read_bytes())
    (broken / "model.onnx").write_bytes(b"not an onnx file")
    with pytest.raises(ModelError, match="cannot load the cross-encoder"):
        CrossEncoder(broken).scores("q", ["p"])


def test_bad_specs_and_folders_say_what_to_give(tmp_path):
    for spec in ("crossencoder:", "ms-marco", "clip:/somewhere"):
        with pytest.raises(ModelError, match="crossencoder:/path/to/dir"):
            resolve("reranker", spec)
    with pytest.raises(ModelError, match="does not exist"):
        resolve("reranker", f"crossencoder:{tmp_path / 'nothing'}")
    (tmp_path / "model.onnx").write_bytes(b"")
    with pytest.raises(ModelError, match="tokenizer.json"):
        resolve("reranker", f"crossencoder:{tmp_path}")


def test_the_reranker_is_listed_with_how_to_add_it(tmp_path):
    missing = next(c for c in capabilities() if c.name.startswith("search reranker"))
    assert missing.status == "missing" and "--reranker crossencoder:" in missing.detail
    given = capabilities(ModelSpecs(reranker=f"crossencoder:{tmp_path}"))
    assert next(c for c in given if c.name.startswith("search reranker")).status == "available"
