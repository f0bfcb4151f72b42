"""Server-sent events: the wire format, one event at a time."""

from __future__ import annotations

__all__ = ["sse_event"]


def sse_event(event: str, data: str) -> str:
    """One event named ``event`` carrying ``data`` (JSON, usually; newlines are split into
    several ``data:`` lines as the format requires)."""
    lines = "".join(f"data: {line}\n" for line in data.splitlines() or [""])
    return f"event: {event}\n{lines}\n"
