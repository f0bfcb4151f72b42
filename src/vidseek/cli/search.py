"""``vidseek search``: the moments that answer a query, across the library."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from vidseek import views
from vidseek.cli.app import (
    RERANKER_HELP,
    JsonOption,
    KindOption,
    LibraryOption,
    app,
    chosen_kinds,
    clock,
    console,
    errors,
    given_specs,
    print_json,
    spec_option,
)

__all__ = ["search"]


@app.command()
def search(
    query: Annotated[str | None, typer.Argument(
        help="What is said, written, shown or happening (optional with --image).")] = None,
    library: LibraryOption = None,
    video: Annotated[list[str] | None, typer.Option(
        "--video", help="Search only this video (file name, id, id prefix or path); "
                        "repeatable.")] = None,
    image: Annotated[Path | None, typer.Option(
        help="A picture to find: similar keyframes, and the same face when it shows one.")] = None,
    kind: KindOption = None,
    k: Annotated[int, typer.Option("-k", help="At most this many moments.")] = 10,
    threshold: Annotated[float | None, typer.Option(
        help="Score (0-1) a moment needs; default the calibrated threshold, 0 for every "
             "candidate.")] = None,
    thumbnails: Annotated[Path | None, typer.Option(
        help="Write a JPEG thumbnail of each moment into this folder.")] = None,
    reranker: spec_option(RERANKER_HELP) = None,
    as_json: JsonOption = False,
) -> None:
    """Find the moments that answer a query, across the library: best first, with a calibrated
    score (0-1), why each matched, and a link that opens the video at the moment.

    A query that matches nothing well enough returns nothing (exit code 0).
    """
    from vidseek.library import Library

    kinds = chosen_kinds(kind)
    with Library(library, models=given_specs(reranker=reranker), create=False) as lib:
        moments = lib.search(query, videos=video, kinds=kinds, k=k, image=image,
                             threshold=threshold)
        pictures = _write_thumbnails(lib, moments, thumbnails) if thumbnails else {}
        hints = [] if moments else lib.search_hints(kinds=kinds, image=image)
    if as_json:
        print_json([{**views.moment(m), "thumbnail_file": pictures.get(i)}
                    for i, m in enumerate(moments)])
        return
    if not moments:
        errors.print("no moment matches well enough; try other words, or --threshold 0 to see "
                     "the closest candidates")
        for hint in hints:
            errors.print(f"- {escape(hint)}")
        return
    table = Table("#", "video", "start", "end", "score", "why")
    for i, m in enumerate(moments, 1):
        best = m.evidence[0]
        why = f"{best.kind} ({best.channel}): {escape(best.text[:80]) or '-'}"
        table.add_row(str(i), Path(m.path).name, clock(m.start), clock(m.end),
                      f"{m.score:.2f}", why)
    console.print(table)
    for i, m in enumerate(moments, 1):  # whole, so that a terminal can open them
        print(f"{i}. {m.link}")


def _write_thumbnails(lib, moments, folder: Path) -> dict[int, str]:
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for i, m in enumerate(moments):
        picture = lib.thumbnail(m.video_id, m.thumbnail if m.thumbnail is not None else m.start)
        file = folder / f"{i + 1:02d}_{m.video_id[:8]}_{m.start:.2f}.jpg"
        file.write_bytes(picture.data)
        written[i] = str(file)
    return written
