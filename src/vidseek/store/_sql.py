"""Building LanceDB (DataFusion SQL) filters from values safely."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["and_", "eq", "in_", "quote"]


def quote(value: str) -> str:
    """A SQL string literal: single quotes doubled, so no value can end the literal early."""
    return "'" + str(value).replace("'", "''") + "'"


def eq(column: str, value: str) -> str:
    """``column = 'value'``."""
    return f"{column} = {quote(value)}"


def in_(column: str, values: Iterable[str]) -> str:
    """``column IN (...)``; an always-false filter when ``values`` is empty."""
    items = [quote(v) for v in values]
    return f"{column} IN ({', '.join(items)})" if items else "false"


def and_(*parts: str | None) -> str | None:
    """Join the given filters with AND, skipping ``None``; ``None`` when nothing is left."""
    kept = [f"({p})" for p in parts if p]
    return " AND ".join(kept) if kept else None
