"""Commands that read and manage the library's videos: ``list``, ``show``, ``remove`` and
``export`` (subtitles and chapters)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from vidseek import views
from vidseek.cli.app import (
    JsonOption,
    KindOption,
    LibraryOption,
    VideoQuery,
    app,
    chosen_kinds,
    clock,
    console,
    errors,
    print_json,
)
from vidseek.errors import UnknownVideoError
from vidseek.store.layout import library_path

__all__ = ["export", "list_videos", "remove", "show"]


@app.command("list")
def list_videos(library: LibraryOption = None, as_json: JsonOption = False) -> None:
    """List the videos in the library."""
    rows = _video_rows(library_path(library))
    if as_json:
        print_json([views.video(row, detail=True) for row in rows])
        return
    table = Table("video", "duration", "name")
    table.add_column("folder", style="dim", overflow="fold")
    for row in rows:
        view = views.video(row)
        table.add_row(view["id"], clock(view["duration"]), escape(view["name"]),
                      escape(str(Path(view["path"]).parent)))
    console.print(table)
    if not rows:
        errors.print("the library is empty: `vidseek index VIDEO...` adds videos")


@app.command()
def show(
    video: VideoQuery,
    library: LibraryOption = None,
    kind: KindOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show what the library knows about a video: shots, transcript, screen text, with times."""
    kinds = chosen_kinds(kind)
    root = library_path(library)
    row = _find(root, video)
    found = _observation_rows(root, row["id"])
    if kinds is not None:
        found = [o for o in found if o["kind"] in kinds]
    if as_json:
        print_json({"video": views.video(row, detail=True), "observations": found})
        return
    view = views.video(row)
    console.print(f"[bold]{view['id']}[/]  {escape(view['path'])}  ({clock(view['duration'])})")
    table = Table("start", "end", "kind", "what")
    for o in found:
        table.add_row(clock(o["start"]), clock(o["end"]), o["kind"],
                      escape(o["text"]) or _describe(o))
    console.print(table)
    if not found:
        what = f"no {', '.join(kinds)} observations" if kinds else "nothing indexed"
        errors.print(f"{what} for this video; `vidseek index {view['name']}` indexes it again")


def _video_rows(root: Path) -> list[dict]:
    """Every video's JSON form: from the store's read cache while it is current (no
    LanceDB), else from the tables (refreshing the cache)."""
    from vidseek.store.snapshot import read_videos

    rows = read_videos(root)
    if rows is None:
        from vidseek.store import Store

        with Store(root, create=False) as store:
            store.snapshot()
            rows = [{**v.model_dump(mode="json"), "added_at": v.added_at.isoformat()}
                    for v in store.videos()]
    return rows


def _find(root: Path, query: str) -> dict:
    """The video ``query`` names (file name, id, id prefix or path), as a JSON row."""
    from vidseek.store.ids import video_id
    from vidseek.store.lookup import find_video

    rows = _video_rows(root)
    named = [SimpleNamespace(id=r["id"], paths=r["paths"], row=r) for r in rows]
    try:
        return find_video(named, query, content_id=video_id, where=str(root)).row
    except UnknownVideoError as exc:
        if exc.candidates:
            raise
        raise exc.advised("`vidseek list` shows the library's videos and their file names, "
                          "`vidseek index PATH` adds one") from None


def _observation_rows(root: Path, video_id: str) -> list[dict]:
    """A video's observations (JSON form, no vectors), as :func:`_video_rows` reads them."""
    from vidseek.store.snapshot import read_observations

    rows = read_observations(root, video_id)
    if rows is None:
        from vidseek.store import Store

        with Store(root, create=False) as store:
            store.snapshot([video_id])
            rows = [views.observation(o) for o in store.observations(video_id)]
    return rows


def _describe(o: dict) -> str:
    """Words for observations without text (shots, keyframe vectors)."""
    if o["kind"] == "shot":
        return f"shot {o['data'].get('index', 0) + 1}"
    if "frame_time" in o["data"]:
        return f"keyframe at {clock(o['data']['frame_time'])} ({o['source']})"
    return ""


@app.command()
def remove(video: VideoQuery, library: LibraryOption = None) -> None:
    """Remove a video and everything learned about it from the library (not the file)."""
    from vidseek.library import Library

    with Library(library, create=False) as lib:
        record = lib.video(video)
        lib.remove(record.id)
    console.print(f"removed {record.id} ({record.paths[-1]})")


_FORMATS = {  # format: (what it holds, the kind it needs)
    "srt": ("subtitles", "speech"),
    "vtt": ("subtitles", "speech"),
    "chapters": ("chapters", "shot"),
    "ffmetadata": ("chapters", "shot"),
}


@app.command()
def export(
    video: VideoQuery,
    export_format: Annotated[
        str, typer.Option("--format", help="srt, vtt (transcript), chapters or ffmetadata.")
    ] = "srt",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="File to write.")] = None,
    fail_empty: Annotated[bool, typer.Option(
        "--fail-empty", help="Exit with code 1 when there is nothing to export (no speech, "
                             "or no shots) instead of writing an empty file with a warning.")
    ] = False,
    sounds: Annotated[bool, typer.Option(
        "--sounds", help="Subtitles (srt, vtt) also name the sounds heard, as [Applause] or "
                         "[Music, Ukulele] (needs the sounds analyzer: `vidseek models install "
                         "sounds`).")
    ] = False,
    titles: Annotated[str, typer.Option(
        "--titles", help="How chapters are titled: 'words' (the first words said or shown "
                         "in each) or a language model that reads them and writes a title: "
                         "llm, llm-small, llm-tiny (installed) or a chat model spec.")
    ] = "words",
    library: LibraryOption = None,
) -> None:
    """Export a video's transcript as SRT/WebVTT, or its shots as chapters titled from what
    each says or shows (its first words of speech, its screen text, its labels; or a title a
    language model writes from them, with --titles llm)."""
    from vidseek import export as exporters
    from vidseek.types import Observation

    if export_format not in _FORMATS:
        raise typer.BadParameter(f"must be one of {', '.join(_FORMATS)}",
                                 param_hint="'--format'")
    what, kind = _FORMATS[export_format]
    root = library_path(library)
    row = _find(root, video)
    found = [Observation.model_validate(o) for o in _observation_rows(root, row["id"])]
    if export_format in ("srt", "vtt"):
        write = exporters.to_srt if export_format == "srt" else exporters.to_webvtt
        text = write(found, sounds=sounds)
    else:
        write = (exporters.to_chapters_webvtt if export_format == "chapters"
                 else exporters.to_ffmetadata_chapters)
        shots = [o for o in found if o.kind == "shot"]
        titler = None
        if titles != "words":
            from vidseek.models import resolve

            titler = exporters.llm_titler(resolve("chat", titles))
        text = write(shots, titles=exporters.chapter_titles(shots, found, titler=titler))
    heard = {"sound"} if sounds and what == "subtitles" else set()
    empty = not any(o.kind in {kind, *heard} and (o.kind == "shot" or o.text.strip())
                    for o in found)
    if empty:
        name = Path(row["paths"][-1]).name
        message = f"{name} has no {what} to export: the index holds no {kind} for it"
        if fail_empty:
            errors.print(f"[bold red]error:[/] {message}")
            raise typer.Exit(code=1)
        errors.print(f"[yellow]warning:[/] {message}; writing an empty {export_format} file")
    if out is None:
        print(text, end="")
    else:
        out.write_text(text)
        errors.print(f"wrote {out}")
