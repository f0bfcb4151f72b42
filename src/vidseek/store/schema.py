"""The four tables of a library, declared once, and conversion of rows to and from records.

``observations.vector`` is a nullable fixed-size list of float32: a null vector means the
analyzer made no embedding for that row (shots, faces without embeddings...). The width is
fixed per library and recorded in ``meta.json`` as ``vector_dim``.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pyarrow as pa

from vidseek.errors import StoreError
from vidseek.types import Observation

__all__ = [
    "DEFAULT_VECTOR_DIM",
    "RUNS",
    "VIDEOS",
    "observation_rows",
    "observations_schema",
    "row_to_observation",
    "space_rows",
    "space_schema",
]

DEFAULT_VECTOR_DIM = 384
"""Width of text embeddings from the default embedder (multilingual e5-small)."""

_TIME = pa.timestamp("us", tz="UTC")


def _field(name: str, type_: pa.DataType, nullable: bool = False) -> pa.Field:
    return pa.field(name, type_, nullable=nullable)


VIDEOS = pa.schema(
    [
        _field("video_id", pa.string()),
        _field("paths", pa.string()),  # JSON list of absolute paths
        _field("info", pa.string()),  # JSON of MediaInfo
        _field("added_at", _TIME),
    ]
)
"""One row per video."""

RUNS = pa.schema(
    [
        _field("video_id", pa.string()),
        _field("analyzer", pa.string()),
        _field("version", pa.string()),
        _field("run_id", pa.string()),
        _field("rows", pa.int64()),
        _field("completed_at", _TIME),
    ]
)
"""One row per committed run; writing it is the commit point of a run."""

THUMBNAILS = pa.schema(
    [
        _field("video_id", pa.string()),
        _field("time", pa.float64()),  # exact time of the frame shown, timeline seconds
        _field("format", pa.string()),  # "jpeg" or "webp"
        _field("width", pa.int32()),
        _field("height", pa.int32()),
        _field("data", pa.binary()),
    ]
)
"""Small pictures of a video (one per shot), for result lists and the web page."""


def observations_schema(vector_dim: int) -> pa.Schema:
    """The ``observations`` table for a library whose vectors have ``vector_dim`` floats."""
    return pa.schema(
        [
            _field("video_id", pa.string()),
            _field("analyzer", pa.string()),
            _field("version", pa.string()),
            _field("run_id", pa.string()),
            _field("start", pa.float64()),
            _field("end", pa.float64()),
            _field("kind", pa.string()),
            _field("text", pa.string()),
            _field("vector", pa.list_(pa.float32(), vector_dim), nullable=True),
            _field("data", pa.string()),  # JSON object
            _field("source", pa.string()),
        ]
    )


def space_schema(dim: int) -> pa.Schema:
    """A vector-space table: the observations that carry a vector of that space (an image
    embedding, a face descriptor...), with the vector. One table per space, since each space
    has its own width and its own nearest-neighbour index."""
    fields = [f for f in observations_schema(dim) if f.name != "vector"]
    return pa.schema(fields + [_field("vector", pa.list_(pa.float32(), dim))])


def now() -> datetime:
    """The current time in UTC, as stored in timestamp columns."""
    return datetime.now(timezone.utc)


def _json_default(value: Any) -> Any:
    # numpy scalars and arrays come out of analyzers; store them as plain JSON numbers/lists.
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def observation_rows(
    observations: list[Observation],
    *,
    analyzer: str,
    version: str,
    run_id: str,
    schema: pa.Schema,
) -> pa.Table:
    """Observations as a table in the ``observations`` schema, tagged with their run.

    Raises:
        StoreError: when a vector has the wrong width or ``data`` cannot be written as JSON.
    """
    dim = schema.field("vector").type.list_size
    vectors: list[list[float] | None] = []
    data: list[str] = []
    for obs in observations:
        if obs.vector is not None and len(obs.vector) != dim:
            raise StoreError(
                f"{analyzer} observation at {obs.start:.3f}s has a {len(obs.vector)}-float "
                f"vector, but this library stores {dim}-float vectors: use an embedder of "
                f"width {dim}, or index into a new library created with vector_dim="
                f"{len(obs.vector)}"
            )
        vectors.append(obs.vector)
        try:
            data.append(json.dumps(obs.data, default=_json_default, separators=(",", ":")))
        except (TypeError, ValueError) as e:
            raise StoreError(
                f"{analyzer} observation at {obs.start:.3f}s has data that cannot be stored as "
                f"JSON ({e}): convert it to numbers, strings, lists and dicts"
            ) from e
    n = len(observations)
    columns = {
        "video_id": [o.video_id for o in observations],
        "analyzer": [analyzer] * n,
        "version": [version] * n,
        "run_id": [run_id] * n,
        "start": [o.start for o in observations],
        "end": [o.end for o in observations],
        "kind": [o.kind for o in observations],
        "text": [o.text for o in observations],
        "vector": pa.array(vectors, type=schema.field("vector").type),
        "data": data,
        "source": [o.source for o in observations],
    }
    return pa.table(columns, schema=schema)


def space_rows(
    observations: list[Observation], space: str, *, analyzer: str, version: str, run_id: str,
    schema: pa.Schema,
) -> pa.Table:
    """The observations that carry a ``space`` vector, as rows of that space's table.

    Raises:
        StoreError: when a vector's width is not the space's.
    """
    dim = schema.field("vector").type.list_size
    carrying = [o for o in observations if space in o.vectors]
    for obs in carrying:
        if len(obs.vectors[space]) != dim:
            raise StoreError(
                f"{analyzer} observation at {obs.start:.3f}s has a "
                f"{len(obs.vectors[space])}-float {space!r} vector, but that space holds "
                f"{dim}-float vectors in this library: a model of another width needs another "
                "space name"
            )
    base = [o.model_copy(update={"vector": None}) for o in carrying]
    table = observation_rows(base, analyzer=analyzer, version=version, run_id=run_id,
                             schema=observations_schema(dim))
    vectors = pa.array([o.vectors[space] for o in carrying], type=schema.field("vector").type)
    return table.drop_columns(["vector"]).append_column(schema.field("vector"), vectors)


def row_to_observation(row: dict[str, Any]) -> Observation:
    """One row of the ``observations`` table as an :class:`Observation`."""
    return Observation(
        video_id=row["video_id"],
        start=row["start"],
        end=row["end"],
        kind=row["kind"],
        text=row["text"],
        vector=row["vector"],
        data=json.loads(row["data"]),
        source=row["source"],
    )
