"""Cross-encoders: re-score a query against its best few candidate passages, reading each
pair together.

A text embedder compares two vectors made apart; a cross-encoder reads the query and the
passage in one pass, which tells a paraphrase from a passage that is only on the same topic
far better. It is the second stage of most retrieval systems. No cross-encoder ships inside a
PyPI package, so vidseek has none by default; point a library at one (resolve it with
``vidseek.models.resolve("reranker", spec)``):

    crossencoder:/path/to/dir   an ONNX export of a sentence-transformers cross-encoder and
                                its tokenizer, e.g. cross-encoder/ms-marco-MiniLM-L6-v2
                                (its ``onnx/model.onnx`` and ``tokenizer.json``)

The folder holds ``model.onnx`` (or ``onnx/model.onnx``): inputs ``input_ids`` and
``attention_mask`` (and ``token_type_ids`` when the graph has it), int64 (n, L); first output
(n, 1) logits, higher for a better match. ``tokenizer.json`` is a Hugging Face ``tokenizers``
file whose pair template builds the model's input (BERT's ``[CLS] query [SEP] passage
[SEP]``). It runs with onnxruntime, already a dependency: no torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vidseek.errors import ModelError

__all__ = ["CrossEncoder"]

PREFIX = "crossencoder:"
_FORM = f"{PREFIX}/path/to/dir (an ONNX cross-encoder folder: model.onnx and tokenizer.json)"


class CrossEncoder:
    """A `Reranker` over a cross-encoder in an ONNX folder (see the module's doc for the
    layout).

    Args:
        directory: the folder.
        max_tokens: pairs longer than this are cut, the longer side first.
        threads: onnxruntime threads; None lets it use every core.
    """

    _BATCH = 32

    def __init__(self, directory: str | Path, *, max_tokens: int = 512,
                 threads: int | None = None) -> None:
        self.directory = Path(directory).expanduser()
        self.model_file = next((f for f in (self.directory / "model.onnx",
                                            self.directory / "onnx" / "model.onnx")
                                if f.is_file()), None)
        tokenizer_file = self.directory / "tokenizer.json"
        if not self.directory.is_dir():
            raise ModelError(f"cross-encoder folder {self.directory} does not exist; give "
                             f"{_FORM}")
        if self.model_file is None or not tokenizer_file.is_file():
            found = sorted(p.name for p in self.directory.iterdir())
            raise ModelError(f"{self.directory} is not an ONNX cross-encoder folder: it needs "
                             f"model.onnx (or onnx/model.onnx) and tokenizer.json; it holds "
                             f"{found}")
        from tokenizers import Tokenizer  # a dependency of faster-whisper

        try:
            self._tokenizer = Tokenizer.from_file(str(tokenizer_file))
        except Exception as e:  # tokenizers raises its own Exception subclass
            raise ModelError(f"cannot read {tokenizer_file}: {e}") from e
        self._tokenizer.enable_truncation(max_tokens, strategy="longest_first")
        pad = self._tokenizer.token_to_id("[PAD]")
        self._tokenizer.enable_padding(pad_id=pad if pad is not None else 0)
        self.name = self.directory.name
        self._threads = threads
        self._session = None

    @classmethod
    def from_spec(cls, spec: str, **options: Any) -> CrossEncoder:
        """The cross-encoder a spec names (``crossencoder:/path/to/dir``); the model loads on
        first use. ``vidseek.models.resolve("reranker", spec)`` calls this.

        Args:
            spec: ``crossencoder:/path/to/dir``.
            **options: passed to `CrossEncoder` (``max_tokens``, ``threads``).

        Raises:
            ModelError: not a cross-encoder spec, or the folder is not an ONNX cross-encoder.
        """
        if not spec.startswith(PREFIX) or not spec[len(PREFIX):].strip():
            raise ModelError(f"unknown reranker {spec!r}; give {_FORM}")
        return cls(spec[len(PREFIX):].strip(), **options)

    def scores(self, query: str, passages: Sequence[str]) -> np.ndarray:
        """One logit per passage, in order: higher means it answers ``query`` better."""
        out = np.zeros(len(passages), np.float32)
        for start in range(0, len(passages), self._BATCH):
            batch = list(passages[start:start + self._BATCH])
            encoded = self._tokenizer.encode_batch([(query, p) for p in batch])
            out[start:start + len(batch)] = self._run(encoded)
        return out

    def _run(self, encoded) -> np.ndarray:
        session = self._load()
        feeds = {
            "input_ids": np.array([e.ids for e in encoded], np.int64),
            "attention_mask": np.array([e.attention_mask for e in encoded], np.int64),
            "token_type_ids": np.array([e.type_ids for e in encoded], np.int64),
        }
        wanted = {i.name for i in session.get_inputs()}
        logits = session.run(None, {k: v for k, v in feeds.items() if k in wanted})[0]
        logits = np.asarray(logits, np.float32).reshape(len(encoded), -1)
        if logits.shape[1] != 1:
            raise ModelError(f"{self.model_file} gives {logits.shape[1]} numbers per pair; a "
                             "cross-encoder for search gives one relevance logit")
        return logits[:, 0]

    def _load(self):
        if self._session is None:
            import onnxruntime as ort

            options = ort.SessionOptions()
            if self._threads:
                options.intra_op_num_threads = self._threads
            try:
                self._session = ort.InferenceSession(str(self.model_file), options,
                                                     providers=["CPUExecutionProvider"])
            except Exception as e:  # onnxruntime's errors have no common public base
                raise ModelError(f"cannot load the cross-encoder {self.model_file}: {e}") from e
            missing = {"input_ids", "attention_mask"} - {i.name for i in
                                                         self._session.get_inputs()}
            if missing:
                self._session = None
                raise ModelError(f"{self.model_file} has no input {sorted(missing)}: not a "
                                 "BERT-style cross-encoder export")
        return self._session

    def __repr__(self) -> str:
        return f"CrossEncoder({str(self.directory)!r})"
