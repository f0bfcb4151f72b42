"""Commands that read video files directly, without a library: ``probe``, ``shots`` and
``frames``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from vidseek.cli.app import (
    JsonOption,
    VideoArgument,
    app,
    clock,
    console,
    print_json,
    progress_bar,
    usage_error,
)

__all__ = ["frames", "probe", "shots"]


@app.command()
def probe(video: VideoArgument, as_json: JsonOption = False) -> None:
    """Show what a video file holds: duration, streams, frame rate, rotation."""
    from vidseek.media import probe as probe_media

    info = probe_media(video)
    if as_json:
        print(info.model_dump_json(indent=2))
        return
    v = info.video
    table = Table(show_header=False, box=None)
    table.add_row("file", info.path)
    table.add_row("container", f"{info.container}, {info.size_bytes / 1e6:.1f} MB")
    table.add_row("duration", f"{clock(info.duration)} ({info.duration:.3f} s)")
    if info.start_time:
        table.add_row("starts at", f"{info.start_time:.3f} s in the file (timeline 0)")
    rate = f"{v.fps:g} fps" + (", variable" if v.variable_frame_rate else "")
    table.add_row("video", f"{v.codec} {v.width}x{v.height}, {rate}")
    if (v.display_width, v.display_height) != (v.width, v.height):
        table.add_row("shown as", f"{v.display_width}x{v.display_height}")
    if v.rotation:
        table.add_row("rotation", f"{v.rotation} degrees clockwise")
    if v.keyframe_interval:
        table.add_row("keyframes", f"every {v.keyframe_interval:g} s")
    for a in info.audio:
        table.add_row("audio", f"{a.codec} {a.sample_rate} Hz, {a.channels} ch")
    if not info.audio:
        table.add_row("audio", "none")
    console.print(table)


@app.command()
def shots(video: VideoArgument, as_json: JsonOption = False) -> None:
    """List the shots of a video (hard cuts and gradual transitions)."""
    from vidseek.media import detect_shots, probe

    duration = probe(video).duration
    with progress_bar() as progress:
        task = progress.add_task("finding shots", total=duration)
        found = detect_shots(video, progress=lambda t: progress.update(task, completed=t))
    if as_json:
        print_json([{"start": s.start, "end": s.end} for s in found])
        return
    table = Table("shot", "start", "end", "length (s)")
    for i, shot in enumerate(found, 1):
        table.add_row(str(i), clock(shot.start), clock(shot.end), f"{shot.end - shot.start:.3f}")
    console.print(table)


@app.command()
def frames(
    video: VideoArgument,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the images.")] = Path("."),
    at: Annotated[
        str | None, typer.Option(help="Comma-separated times in seconds, e.g. '1.5,30,62.25'.")
    ] = None,
    fps: Annotated[float | None, typer.Option(help="Frames per second to sample.")] = None,
    count: Annotated[int | None, typer.Option(help="Frames spread evenly over the video.")] = None,
    size: Annotated[int, typer.Option(help="Longest side in pixels.")] = 320,
    tolerance: Annotated[
        float,
        typer.Option(help="Seconds a frame may be off its time; keyframes that close are "
                     "read instead (much faster). 0 means exact."),
    ] = 0.0,
    image_format: Annotated[str, typer.Option("--format", help="jpeg or webp.")] = "jpeg",
    as_json: JsonOption = False,
) -> None:
    """Save the frames shown at given times (or at a rate, or evenly spread) as images.

    Each file is named by the exact time of its frame, e.g. frame_000012.345.jpg.
    """
    from vidseek.media import encode_image, sample_frames

    try:
        times = [float(t) for t in at.split(",")] if at else None
    except ValueError:
        usage_error(f"give times in seconds separated by commas, e.g. 1.5,10, not {at!r}",
                    "--at")
    if sum(x is not None for x in (times, fps, count)) != 1:
        raise typer.BadParameter("give exactly one of --at, --fps and --count")
    out.mkdir(parents=True, exist_ok=True)
    saved = []
    suffix = "jpg" if image_format == "jpeg" else image_format
    for frame in sample_frames(video, times=sorted(times) if times else None, fps=fps,
                               count=count, size=size, tolerance=tolerance):
        path = out / f"frame_{frame.time:010.3f}.{suffix}"
        path.write_bytes(encode_image(frame.image, image_format))
        saved.append({"requested": frame.requested, "time": frame.time, "path": str(path)})
    if as_json:
        print_json(saved)
    else:
        for item in saved:
            console.print(f"{clock(item['time'])}  {item['path']}")


