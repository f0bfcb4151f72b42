"""A small indexed fact video shared by the agent tests."""

from __future__ import annotations

import pytest
from agent_facts import Facts, indexed_facts


@pytest.fixture(scope="session")
def facts(tmp_path_factory) -> Facts:
    """The fact video of seed 3 (a held-out seed of benchmarks/ask.py)."""
    facts = indexed_facts(tmp_path_factory.mktemp("facts"), 3)
    yield facts
    facts.library.close()
