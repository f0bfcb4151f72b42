"""The real published benchmark files (``../shared/data/benchmarks``), skipped when absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SHARED

BENCHMARKS = SHARED / "data" / "benchmarks"


@pytest.fixture(scope="session")
def benchmarks() -> Path:
    """``../shared/data/benchmarks``: annotation files as published (see its SOURCES.md)."""
    if not (BENCHMARKS / "SOURCES.md").is_file():
        pytest.skip(f"real benchmark files not found at {BENCHMARKS} (../shared is absent)")
    return BENCHMARKS
