"""Image-text embeddings (CLIP, SigLIP): pictures and words in one vector space, so that a
text query finds the frames that show it.

Spec strings (see DESIGN.md, "models behind small protocols"; resolve them with
``vidseek.models.resolve("image_text_embedder", spec)``):

    clip:/path/to/dir     a local model folder, either
                          * a Hugging Face ``save_pretrained`` folder (``config.json``, weights,
                            processor and tokenizer files), run with transformers and torch
                            (``pip install 'vidseek[clip]'``), or
                          * an ONNX folder in the layout below, run with onnxruntime (no torch)
    siglip:/path/to/dir   the same; the model's own config says which family it is
    clip:org/name         a Hugging Face hub name, e.g. ``clip:openai/clip-vit-base-patch32``:
                          used from the local Hugging Face cache, and downloaded only when the
                          environment says ``VIDSEEK_ALLOW_DOWNLOADS=1``

The ONNX folder (written by `export_onnx` from a Hugging Face CLIP folder)::

    visual.onnx     pixel_values float32 (n, 3, H, W) -> image_embeds float32 (n, dim)
    textual.onnx    input_ids int64 (n, L) [+ attention_mask int64 (n, L)]
                    -> text_embeds float32 (n, dim)
    tokenizer.json  a Hugging Face ``tokenizers`` file (or ``bpe_simple_vocab_16e6.txt.gz``,
                    OpenAI's CLIP BPE merges, from which the same tokenizer is built)
    config.json     {"format": "vidseek-clip-onnx", "family": "clip" | "siglip",
                     "name": "clip-vit-base-patch32", "image_size": [224, 224],
                     "shortest_edge": 224 | null,  # resize the short side to this, else squash
                     "center_crop": true, "resample": "bicubic",
                     "rescale": 0.00392156862745098, "mean": [...], "std": [...],
                     "context_length": 77, "pad_id": 49407,
                     "padding": "longest" | "max_length"}

Embeddings are not normalised inside the graphs; both backends scale every row to unit
length. The ONNX path tokenizes with the ``tokenizers`` package (a default dependency,
through faster-whisper) rather than a pure-Python BPE: it reads the very file transformers
uses, so both backends give the same token ids, and it covers SigLIP's tokenizer files too.
Like transformers (and unlike OpenAI's reference code) it does not run ``ftfy`` or unescape
HTML before tokenizing, which changes nothing for ordinary text.

Vector-space names are ``family:model`` (``clip:clip-vit-base-patch32``): the folder's name,
or the hub name without its organisation, or the name an ONNX export recorded, so that a
model and its ONNX export share one space. Two different models in folders of the same name
would share a name too: pass ``name=`` to tell them apart.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vidseek.errors import ModelError
from vidseek.models.hub import ALLOW_DOWNLOADS_ENV, local_files_only

__all__ = [
    "HFClip",
    "OnnxClip",
    "clip_bpe_tokenizer",
    "export_onnx",
    "from_spec",
    "preprocess",
]

ONNX_FORMAT = "vidseek-clip-onnx"

_INSTALL_HINT = "pip install 'vidseek[clip]' (install the CPU build of torch first)"
_SPEC_FORMS = ("'clip:/path/to/model-dir' (a Hugging Face folder or an ONNX folder), "
               "'siglip:/path/to/model-dir' or 'clip:org/name' (a Hugging Face hub name)")
_HUB_NAME = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_BATCH_SIZE = 16
# Beyond this, more threads barely speed up small-batch CPU inference and starve the
# analyzers running beside it (torch's default is one thread per core).
_MAX_TORCH_THREADS = 8
_RESAMPLE = {"nearest": 0, "bilinear": 2, "bicubic": 3, "lanczos": 1, "box": 4, "hamming": 5}
_CLIP_SOT, _CLIP_EOT = "<|startoftext|>", "<|endoftext|>"
_CLIP_SPLIT = (r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]"
               r"|[^\s\p{L}\p{N}]+")
_CLIP_MERGES = 49152 - 256 - 2  # lines 1.. of the merges file that CLIP uses (48,894)


def from_spec(spec: str, **options: Any) -> HFClip | OnnxClip:
    """The image-text embedder a spec names. Models load on first use.
    ``vidseek.models.resolve("image_text_embedder", spec)`` calls this.

    Args:
        spec: ``clip:/path/to/dir``, ``siglip:/path/to/dir`` or ``clip:org/name`` (see the
            module docstring).
        **options: passed to `HFClip` or `OnnxClip` (``name``, ``batch_size``, ``threads``).

    Returns:
        `OnnxClip` for a folder with ``visual.onnx`` and ``textual.onnx``, else `HFClip`.

    Raises:
        ModelError: the spec has another form, the folder does not exist or holds neither
            layout, or a hub name is neither cached nor allowed to download.
    """
    family, sep, rest = spec.strip().partition(":")
    rest = rest.strip()
    if family not in ("clip", "siglip") or not sep or not rest:
        raise ModelError(f"{spec!r} is not an image-text model spec; write {_SPEC_FORMS}")
    path = Path(rest).expanduser()
    if path.exists():
        return _local_model(path, spec, options)
    if _HUB_NAME.match(rest) and not rest.startswith((".", "~")):
        return _hub_model(rest, spec, options)
    raise ModelError(f"{spec!r}: model directory {path} does not exist; write {_SPEC_FORMS}")


def _local_model(path: Path, spec: str, options: dict[str, Any]) -> HFClip | OnnxClip:
    if not path.is_dir():
        raise ModelError(f"{spec!r}: {path} is a file; give the model's directory")
    if (path / "visual.onnx").is_file() and (path / "textual.onnx").is_file():
        return OnnxClip(path, **options)
    if (path / "config.json").is_file() and "model_type" in _read_json(path / "config.json"):
        return HFClip(path, **options)
    found = ", ".join(sorted(p.name for p in path.iterdir())[:12]) or "nothing"
    raise ModelError(
        f"{spec!r}: {path} is neither a Hugging Face model folder (config.json with a "
        "model_type, weights, processor files: what save_pretrained writes) nor an ONNX "
        f"folder (visual.onnx, textual.onnx, tokenizer.json, config.json); it holds {found}")


def _hub_model(repo: str, spec: str, options: dict[str, Any]) -> HFClip:
    """A hub model: from the local cache, or downloaded when the user allowed it."""
    local_only = local_files_only()  # before huggingface_hub reads HF_HUB_OFFLINE
    try:
        from huggingface_hub import hf_hub_download
    except ImportError as exc:
        raise ModelError(f"{spec!r}: hub names need huggingface_hub: {_INSTALL_HINT}") from exc
    try:
        config = hf_hub_download(repo, "config.json", local_files_only=local_only)
    except Exception as exc:  # offline, unknown repo, no cache: all mean "not available"
        if not local_only:
            raise ModelError(f"{spec!r}: could not download {repo} from the Hugging Face hub "
                             f"({type(exc).__name__}: {exc}); check the name and the network "
                             "(HF_HUB_OFFLINE must not be set), or download it yourself and "
                             "pass 'clip:/path/to/dir'") from exc
        raise ModelError(
            f"{spec!r}: {repo} is not in the local Hugging Face cache and vidseek does not "
            f"download models unless asked: set {ALLOW_DOWNLOADS_ENV}=1 to download it, or "
            f"download it yourself (`hf download {repo} --local-dir DIR`) and pass "
            "'clip:DIR'") from exc
    return HFClip(repo, config=_read_json(Path(config)), local_files_only=local_only,
                  **options)


# -- Hugging Face transformers -------------------------------------------------------------


class HFClip:
    """An `ImageTextEmbedder` over Hugging Face transformers: CLIPModel, SiglipModel, or any
    model with ``get_image_features`` / ``get_text_features``, in float32 on the CPU.

    The model loads on first use (``dim`` and ``image_size`` load it too). Texts longer than
    the model's context are cut. SigLIP models see their texts as they were trained: padded
    to the full context (``padding="max_length"``) and without an attention mask.

    Args:
        source: a model folder, or a hub name (see `from_spec`).
        name: vector-space name; default ``family:folder-name``.
        batch_size: pictures or texts per forward pass.
        threads: torch threads. torch's setting is process-wide: by default it is lowered to
            8 when it is higher, and left alone otherwise.
        config: the model's ``config.json`` as a dict, when the caller already read it.
        local_files_only: never download (a hub name must be in the local cache).

    Raises:
        ModelError: the folder has no readable ``config.json``.
    """

    def __init__(self, source: str | Path, *, name: str | None = None,
                 batch_size: int = _BATCH_SIZE, threads: int | None = None,
                 config: dict[str, Any] | None = None, local_files_only: bool = True) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.source = str(source)
        local = Path(self.source).expanduser()
        if config is None:
            if not (local / "config.json").is_file():
                raise ModelError(f"{local}/config.json does not exist: give a folder written by "
                                 "save_pretrained (for a hub name, use "
                                 "resolve('image_text_embedder', 'clip:org/name'))")
            config = _read_json(local / "config.json")
        self.config = config
        self.family = _family(str(config.get("model_type", "")))
        self.name = name or f"{self.family}:{_model_name(self.source)}"
        self.batch_size = batch_size
        self.threads = threads
        self.local_files_only = local_files_only
        self._model: Any = None
        self._processor: Any = None
        self._torch: Any = None
        self._dim = 0

    @property
    def dim(self) -> int:
        self._load()
        return self._dim

    @property
    def image_size(self) -> int:
        """Side in pixels of the square the model sees (the analyzer reads frames about
        this large)."""
        self._load()
        return _processor_image_size(self._processor.image_processor, self.config)

    def images(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """Embed pictures.

        Args:
            images: ``H x W x 3`` uint8 RGB arrays, any size.

        Returns:
            (n, dim) float32, unit rows.

        Raises:
            ValueError: a picture is not ``H x W x 3`` uint8.
            ModelError: the model cannot be loaded.
        """
        for image in images:
            _check_image(image)
        self._load()
        if not images:
            return np.zeros((0, self._dim), np.float32)
        image_processor = self._processor.image_processor
        rows = []
        for i in range(0, len(images), self.batch_size):
            batch = [np.ascontiguousarray(image) for image in images[i:i + self.batch_size]]
            inputs = image_processor(images=batch, return_tensors="pt",
                                     input_data_format="channels_last")
            with self._torch.inference_mode():
                out = self._model.get_image_features(**inputs)
            rows.append(_features(out))
        return _unit_rows(np.concatenate(rows))

    def texts(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts.

        Args:
            texts: the texts; longer ones are cut to the model's context.

        Returns:
            (n, dim) float32, unit rows.

        Raises:
            ModelError: the model cannot be loaded.
        """
        self._load()
        if not texts:
            return np.zeros((0, self._dim), np.float32)
        return _unit_rows(np.concatenate([self._embed_texts(list(texts[i:i + self.batch_size]))
                                          for i in range(0, len(texts), self.batch_size)]))

    def _embed_texts(self, texts: list[str]) -> np.ndarray:
        siglip = self.family == "siglip"
        encoded = self._processor.tokenizer(
            texts, padding="max_length" if siglip else True, truncation=True,
            max_length=self._context_length(), return_tensors="pt")
        inputs = {"input_ids": encoded["input_ids"]}
        if not siglip and "attention_mask" in encoded:
            inputs["attention_mask"] = encoded["attention_mask"]
        with self._torch.inference_mode():
            return _features(self._model.get_text_features(**inputs))

    def _context_length(self) -> int:
        """Tokens the text tower takes: the tokenizer's limit, or the position table's."""
        limits = [int(self._processor.tokenizer.model_max_length)]
        text_config = getattr(self._model.config, "text_config", None)
        positions = getattr(text_config, "max_position_embeddings", None)
        if positions:
            limits.append(int(positions))
        return min(limit for limit in limits if limit > 0)

    def _load(self) -> None:
        if self._model is not None:
            return
        torch, transformers = _import_torch_stack()
        if self.threads:
            torch.set_num_threads(self.threads)
        elif torch.get_num_threads() > _MAX_TORCH_THREADS:
            torch.set_num_threads(_MAX_TORCH_THREADS)
        where = dict(local_files_only=self.local_files_only)
        try:
            processor = transformers.AutoProcessor.from_pretrained(self.source, **where)
            model = transformers.AutoModel.from_pretrained(self.source, **where)
        except (OSError, ValueError, ImportError, KeyError) as exc:
            raise ModelError(f"cannot load the image-text model {self.source}: {exc} "
                             "(it needs config.json, weights, and the processor and tokenizer "
                             "files save_pretrained writes)") from exc
        missing = [part for part in ("image_processor", "tokenizer")
                   if getattr(processor, part, None) is None]
        if missing:
            raise ModelError(f"{self.source}: the processor has no {' or '.join(missing)}; the "
                             "folder needs the image processor and tokenizer files")
        if not (hasattr(model, "get_image_features") and hasattr(model, "get_text_features")):
            raise ModelError(f"{self.source}: {type(model).__name__} is not an image-text model "
                             "(it has no get_image_features / get_text_features)")
        self._torch, self._processor = torch, processor
        self._model = model.float().eval()
        self._dim = int(self._embed_texts(["a"]).shape[1])

    def __repr__(self) -> str:
        return f"HFClip({self.name!r}, source={self.source!r})"


def _import_torch_stack() -> tuple[Any, Any]:
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise ModelError(f"Hugging Face image-text models need torch and transformers: "
                         f"{_INSTALL_HINT} ({exc}); or export the model to ONNX once "
                         "(vidseek.models.clip.export_onnx) and use it without torch") from exc
    return torch, transformers


def _features(out: Any) -> np.ndarray:
    """Embeddings from a ``get_*_features`` result: a tensor (transformers 4), or an output
    whose ``pooler_output`` holds them (transformers 5)."""
    return _pooled(out).detach().float().cpu().numpy()


def _processor_image_size(image_processor: Any, config: dict[str, Any]) -> int:
    """The side of the square an image processor makes (its crop, else its resize)."""
    for attr in ("crop_size", "size"):
        size = _size_dict(getattr(image_processor, attr, None))
        sides = [size[k] for k in ("height", "width", "shortest_edge") if k in size]
        if sides:
            return int(max(sides))
    return int(config.get("vision_config", {}).get("image_size", 224))


# -- ONNX Runtime ----------------------------------------------------------------------------


class OnnxClip:
    """An `ImageTextEmbedder` over an ONNX folder (see the module docstring), run with
    onnxruntime on the CPU; no torch. Models load on first use.

    Args:
        directory: the folder.
        name: vector-space name; default ``family:`` plus the name the export recorded.
        batch_size: pictures or texts per run.
        threads: onnxruntime threads per model; None lets it use every core.

    Raises:
        ModelError: a file of the layout is missing or ``config.json`` is not one of ours.
    """

    def __init__(self, directory: str | Path, *, name: str | None = None,
                 batch_size: int = _BATCH_SIZE, threads: int | None = None) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.directory = Path(directory).expanduser()
        self.config = _onnx_config(self.directory)
        self.family = _family(str(self.config.get("family", "clip")))
        self.name = name or f"{self.family}:{self.config.get('name') or self.directory.name}"
        self.dim = int(self.config["dim"])
        self.image_size = max(int(s) for s in self.config["image_size"])
        self.batch_size = batch_size
        self.threads = threads
        self._visual: Any = None
        self._textual: Any = None
        self._tokenizer: Any = None

    def images(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """Embed pictures: ``H x W x 3`` uint8 RGB arrays -> (n, dim) float32 unit rows."""
        for image in images:
            _check_image(image)
        if not images:
            return np.zeros((0, self.dim), np.float32)
        self._load()
        rows = []
        for i in range(0, len(images), self.batch_size):
            pixels = np.stack([preprocess(image, self.config)
                               for image in images[i:i + self.batch_size]])
            rows.append(self._visual.run(None, {"pixel_values": pixels})[0])
        return _unit_rows(np.concatenate(rows))

    def texts(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts -> (n, dim) float32 unit rows; longer texts are cut to the context."""
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        self._load()
        wanted = {i.name for i in self._textual.get_inputs()}
        rows = []
        for i in range(0, len(texts), self.batch_size):
            encodings = self._tokenizer.encode_batch(list(texts[i:i + self.batch_size]))
            feed = {"input_ids": np.array([e.ids for e in encodings], np.int64)}
            if "attention_mask" in wanted:
                feed["attention_mask"] = np.array([e.attention_mask for e in encodings],
                                                  np.int64)
            rows.append(self._textual.run(None, feed)[0])
        return _unit_rows(np.concatenate(rows))

    def _load(self) -> None:
        if self._visual is not None:
            return
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise ModelError(f"ONNX image-text models need onnxruntime: pip install onnxruntime "
                             f"({exc})") from exc
        options = ort.SessionOptions()
        if self.threads:
            options.intra_op_num_threads = self.threads
        providers = ["CPUExecutionProvider"]
        try:
            visual = ort.InferenceSession(str(self.directory / "visual.onnx"), options,
                                          providers=providers)
            textual = ort.InferenceSession(str(self.directory / "textual.onnx"), options,
                                           providers=providers)
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ModelError(f"{self.directory}: cannot load the ONNX models ({exc}); "
                             "re-export them with vidseek.models.clip.export_onnx") from exc
        self._tokenizer = _onnx_tokenizer(self.directory, self.config)
        self._visual, self._textual = visual, textual

    def __repr__(self) -> str:
        return f"OnnxClip({self.name!r}, directory={str(self.directory)!r})"


def _onnx_config(directory: Path) -> dict[str, Any]:
    if not directory.is_dir():
        raise ModelError(f"ONNX model directory {directory} does not exist")
    for needed in ("visual.onnx", "textual.onnx", "config.json"):
        if not (directory / needed).is_file():
            raise ModelError(f"{directory} has no {needed}: an ONNX image-text folder holds "
                             "visual.onnx, textual.onnx, tokenizer.json and config.json "
                             "(vidseek.models.clip.export_onnx writes them)")
    config = _read_json(directory / "config.json")
    if config.get("format") != ONNX_FORMAT:
        raise ModelError(f"{directory}/config.json is not a vidseek ONNX config (no "
                         f"\"format\": \"{ONNX_FORMAT}\"); re-export with "
                         "vidseek.models.clip.export_onnx")
    keys = ("dim", "image_size", "mean", "std", "context_length", "pad_id")
    missing = [key for key in keys if key not in config]
    if missing:
        raise ModelError(f"{directory}/config.json lacks {', '.join(missing)}; re-export with "
                         "vidseek.models.clip.export_onnx")
    return config


def _onnx_tokenizer(directory: Path, config: dict[str, Any]) -> Any:
    """The folder's tokenizer, cutting and padding as the model expects."""
    if (directory / "tokenizer.json").is_file():
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
    elif (directory / "bpe_simple_vocab_16e6.txt.gz").is_file():
        tokenizer = clip_bpe_tokenizer(directory / "bpe_simple_vocab_16e6.txt.gz")
    else:
        raise ModelError(f"{directory} has no tokenizer.json (nor CLIP's "
                         "bpe_simple_vocab_16e6.txt.gz); copy the model's tokenizer.json there")
    context = int(config["context_length"])
    tokenizer.enable_truncation(max_length=context)
    full = config.get("padding", "longest") == "max_length"
    tokenizer.enable_padding(pad_id=int(config["pad_id"]), length=context if full else None)
    return tokenizer


def clip_bpe_tokenizer(merges_file: str | Path) -> Any:
    """OpenAI CLIP's tokenizer, built from its merges file ``bpe_simple_vocab_16e6.txt.gz``.

    The vocabulary is made as CLIP makes it (256 byte characters, the same with ``</w>``,
    one token per merge, then ``<|startoftext|>`` 49406 and ``<|endoftext|>`` 49407), and the
    text goes through the same steps as transformers' ``CLIPTokenizer``: NFC, whitespace
    collapsed, lower case, CLIP's pre-split, byte-level BPE, start and end tokens added.

    Args:
        merges_file: the gzip'd merges file.

    Returns:
        A ``tokenizers.Tokenizer`` (no truncation or padding set).

    Raises:
        ModelError: the file cannot be read.
    """
    from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import BPE

    try:
        with gzip.open(merges_file, "rt", encoding="utf-8") as f:
            lines = f.read().split("\n")
    except OSError as exc:
        raise ModelError(f"cannot read CLIP's merges file {merges_file}: {exc}") from exc
    merges = [tuple(line.split()) for line in lines[1:_CLIP_MERGES + 1]]
    if len(merges) != _CLIP_MERGES or any(len(pair) != 2 for pair in merges):
        raise ModelError(f"{merges_file} is not CLIP's merges file "
                         f"(bpe_simple_vocab_16e6.txt.gz, {_CLIP_MERGES} merges)")
    chars = list(_bytes_to_unicode().values())
    tokens = chars + [c + "</w>" for c in chars] + ["".join(pair) for pair in merges]
    tokens += [_CLIP_SOT, _CLIP_EOT]
    vocab = {token: i for i, token in enumerate(tokens)}
    tokenizer = Tokenizer(BPE(vocab=vocab, merges=merges, continuing_subword_prefix="",
                              end_of_word_suffix="</w>", fuse_unk=False, unk_token=_CLIP_EOT))
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()])
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(_CLIP_SPLIT), behavior="removed", invert=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False),
    ])
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.post_processor = processors.RobertaProcessing(
        (_CLIP_EOT, vocab[_CLIP_EOT]), (_CLIP_SOT, vocab[_CLIP_SOT]), False, False)
    tokenizer.add_special_tokens([_CLIP_SOT, _CLIP_EOT])
    return tokenizer


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's byte -> printable character table, which CLIP's vocabulary is written in."""
    printable = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
                 + list(range(ord("®"), ord("ÿ") + 1)))
    chars = printable[:]
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return dict(zip(printable, (chr(c) for c in chars)))


def preprocess(image: np.ndarray, config: dict[str, Any]) -> np.ndarray:
    """A picture as the visual model takes it, the way transformers' PIL image processors
    do it: resize (short side to ``shortest_edge``, or straight to ``image_size``), centre
    crop, rescale, normalise, channels first.

    Args:
        image: ``H x W x 3`` uint8 RGB.
        config: an ONNX folder's ``config.json``.

    Returns:
        (3, H, W) float32.
    """
    from PIL import Image

    height, width = (int(s) for s in config["image_size"])
    resample = _RESAMPLE[config.get("resample", "bicubic")]
    picture = Image.fromarray(np.ascontiguousarray(image))
    shortest = config.get("shortest_edge")
    if shortest:
        w, h = picture.size
        short, long = (w, h) if w <= h else (h, w)
        new_short, new_long = int(shortest), int(int(shortest) * long / short)
        size = (new_short, new_long) if w <= h else (new_long, new_short)
    else:
        size = (width, height)
    if picture.size != size:
        picture = picture.resize(size, resample=resample)
    pixels = np.asarray(picture, np.float32)
    if config.get("center_crop", bool(shortest)):
        top, left = (pixels.shape[0] - height) // 2, (pixels.shape[1] - width) // 2
        if top >= 0 and left >= 0:
            pixels = pixels[top:top + height, left:left + width]
    if pixels.shape[:2] != (height, width):  # a picture smaller than the crop
        resized = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
        pixels = np.asarray(resized.resize((width, height), resample=resample), np.float32)
    pixels = pixels * float(config.get("rescale", 1 / 255))
    pixels = (pixels - np.asarray(config["mean"], np.float32)) / np.asarray(config["std"],
                                                                            np.float32)
    return np.ascontiguousarray(pixels.transpose(2, 0, 1), dtype=np.float32)


# -- export ----------------------------------------------------------------------------------


def export_onnx(hf_dir: str | Path, out_dir: str | Path, *, name: str | None = None,
                opset: int = 18) -> Path:
    """Export a Hugging Face CLIP or SigLIP folder to the ONNX layout, for the torch-free path.

    Needs torch and transformers, and the ``onnx`` package that torch's exporter writes
    models with (``pip install onnx``); with ``onnxscript`` also installed, torch's newer
    exporter is used, otherwise its TorchScript one.

    Args:
        hf_dir: a ``save_pretrained`` folder.
        out_dir: where to write ``visual.onnx``, ``textual.onnx``, ``tokenizer.json`` and
            ``config.json`` (created if needed).
        name: the model name to record (default: the folder's name), which makes the
            vector-space name ``family:name``, the same as for the original folder.
        opset: ONNX opset.

    Returns:
        ``out_dir``.

    Raises:
        ModelError: a package is missing, the folder cannot be loaded, or its tokenizer is
            not a ``tokenizers`` one.
    """
    import importlib.util

    if importlib.util.find_spec("onnx") is None:
        raise ModelError("exporting to ONNX needs the 'onnx' package, which torch's exporter "
                         "writes models with: pip install onnx (and onnxscript)")
    source = HFClip(hf_dir)
    source._load()
    torch = source._torch
    model, processor = source._model, source._processor
    tokenizer = processor.tokenizer
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise ModelError(f"{hf_dir}: its tokenizer ({type(tokenizer).__name__}) is not a "
                         "Hugging Face tokenizers one, so no tokenizer.json can be written "
                         "for the ONNX folder; use the folder with transformers instead")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    config = _export_config(source, processor.image_processor,
                            name or source.name.split(":", 1)[1])
    side = config["image_size"]
    pixels = torch.zeros(2, 3, side[0], side[1])
    siglip = source.family == "siglip"
    length = config["context_length"] if siglip else 8
    ids = torch.full((2, length), int(config["pad_id"]), dtype=torch.long)
    mask = torch.ones(2, length, dtype=torch.long)
    dynamo = importlib.util.find_spec("onnxscript") is not None
    _export(torch, _tower(torch, model, "image"), (pixels,), out / "visual.onnx",
            ["pixel_values"], "image_embeds", {"pixel_values": {0: "batch"}}, opset, dynamo)
    text_inputs = (ids,) if siglip else (ids, mask)
    text_names = ["input_ids"] if siglip else ["input_ids", "attention_mask"]
    axes = {n: ({0: "batch"} if siglip else {0: "batch", 1: "tokens"}) for n in text_names}
    text_tower = _tower(torch, model, "text-ids" if siglip else "text")
    _export(torch, text_tower, text_inputs, out / "textual.onnx", text_names, "text_embeds",
            axes, opset, dynamo)
    backend.save(str(out / "tokenizer.json"))
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    license_file = Path(hf_dir) / "LICENSE"
    if license_file.is_file():
        shutil.copy(license_file, out / "LICENSE")
    return out


def _export_config(source: HFClip, image_processor: Any, name: str) -> dict[str, Any]:
    """The ONNX folder's config.json, from the loaded model and its processors."""
    def get(key: str, default: Any = None) -> Any:
        value = getattr(image_processor, key, default)
        return default if value is None else value

    crop = _size_dict(get("crop_size"))
    size = _size_dict(get("size"))
    do_crop = bool(get("do_center_crop", False)) and bool(crop.get("height"))
    shortest = size.get("shortest_edge")
    if do_crop:
        image_size = [int(crop["height"]), int(crop["width"])]
    elif size.get("height"):
        image_size = [int(size["height"]), int(size["width"])]
    else:
        image_size = [int(shortest), int(shortest)]
    resample = get("resample", 3)
    resample_name = {v: k for k, v in _RESAMPLE.items()}.get(int(resample), "bicubic")
    tokenizer = source._processor.tokenizer
    pad_id = tokenizer.pad_token_id
    if pad_id is None:
        pad_id = tokenizer.eos_token_id or 0
    return {
        "format": ONNX_FORMAT,
        "family": source.family,
        "name": name,
        "dim": source.dim,
        "image_size": image_size,
        "shortest_edge": int(shortest) if shortest and do_crop else None,
        "center_crop": do_crop,
        "resample": resample_name,
        "rescale": float(get("rescale_factor", 1 / 255)) if get("do_rescale", True) else 1.0,
        "mean": [float(m) for m in get("image_mean", [0.0, 0.0, 0.0])],
        "std": [float(s) for s in get("image_std", [1.0, 1.0, 1.0])],
        "context_length": source._context_length(),
        "pad_id": int(pad_id),
        "padding": "max_length" if source.family == "siglip" else "longest",
    }


def _size_dict(size: Any) -> dict[str, int]:
    """An image processor's size (a dict, or transformers 5's SizeDict) as a plain dict."""
    if size is None:
        return {}
    if isinstance(size, dict):
        return {k: v for k, v in size.items() if v}
    keys = ("height", "width", "shortest_edge", "longest_edge")
    return {k: getattr(size, k) for k in keys if getattr(size, k, None)}


def _tower(torch: Any, model: Any, kind: str) -> Any:
    """One tower of the model as a module with named tensor inputs and one tensor output
    (what exporters want): ``image`` takes pixel values, ``text`` token ids and a mask,
    ``text-ids`` token ids only (SigLIP)."""

    class Image(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, pixel_values):
            return _pooled(self.model.get_image_features(pixel_values=pixel_values))

    class Text(Image):
        def forward(self, input_ids, attention_mask):
            return _pooled(self.model.get_text_features(input_ids=input_ids,
                                                        attention_mask=attention_mask))

    class TextIds(Image):
        def forward(self, input_ids):
            return _pooled(self.model.get_text_features(input_ids=input_ids))

    return {"image": Image, "text": Text, "text-ids": TextIds}[kind]().eval()


def _pooled(out: Any) -> Any:
    return getattr(out, "pooler_output", out)


def _export(torch: Any, module: Any, inputs: tuple, path: Path, input_names: list[str],
            output_name: str, axes: dict[str, dict[int, str]], opset: int,
            dynamo: bool) -> None:
    """One tower to one ONNX file (weights inside it), batch size (and tokens) dynamic."""
    if dynamo:
        # the newer exporter takes dynamic_shapes, and writes weights beside the model
        # unless told not to
        dims = {name: {axis: torch.export.Dim.DYNAMIC for axis in by_axis}
                for name, by_axis in axes.items()}
        how = {"dynamic_shapes": dims, "external_data": False}
    else:
        how = {"dynamic_axes": axes}
    try:
        with torch.no_grad():
            torch.onnx.export(module, inputs, str(path), input_names=input_names,
                              output_names=[output_name], opset_version=opset, dynamo=dynamo,
                              **how)
    except ImportError as exc:
        raise ModelError(f"exporting to ONNX needs a package that is not installed: {exc} "
                         "(pip install onnx onnxscript)") from exc


# -- shared helpers ------------------------------------------------------------------------


def _family(model_type: str) -> str:
    """``siglip`` for SigLIP models (their texts are padded to the full context), else
    ``clip``."""
    return "siglip" if model_type.lower().startswith("siglip") else "clip"


def _model_name(source: str) -> str:
    """A short model name: the folder's name, the name inside a Hugging Face cache path
    (``models--org--name/snapshots/<hash>``), or a hub name without its organisation."""
    path = Path(source)
    for part in reversed(path.parts):
        if part.startswith("models--"):
            return part.split("--")[-1]
    return path.name or source


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read {path}: {exc}") from exc
    if not isinstance(value, dict):
        raise ModelError(f"{path} does not hold a JSON object")
    return value


def _check_image(image: np.ndarray) -> None:
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 \
            or image.dtype != np.uint8:
        shape = getattr(image, "shape", None)
        raise ValueError(f"expected an H x W x 3 uint8 RGB image, got "
                         f"{getattr(image, 'dtype', type(image).__name__)} {shape}")


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (a zero row stays zero), as float32."""
    vectors = np.asarray(vectors, np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
