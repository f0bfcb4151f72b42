"""The ``vidseek`` command line. Commands parse arguments, call the library, and render."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from vidseek import __version__
from vidseek.errors import VidseekError

app = typer.Typer(
    name="vidseek",
    help="Ask questions about long videos and find the exact moments that answer them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
errors = Console(stderr=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
VideoArgument = Annotated[Path, typer.Argument(help="A video file.", show_default=False)]


def main() -> None:
    """Entry point of the ``vidseek`` console script."""
    try:
        app()
    except VidseekError as exc:
        errors.print(f"[bold red]error:[/] {exc}")
        raise SystemExit(1) from None


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=errors,
        transient=True,
    )


def _clock(seconds: float) -> str:
    """12:03.250 or 1:02:03.250: readable, and exact to the millisecond."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{int(hours)}:{int(minutes):02d}:{secs:06.3f}"
    return f"{int(minutes)}:{secs:06.3f}"


@app.command()
def version() -> None:
    """Print the vidseek version."""
    console.print(__version__)


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
    table.add_row("duration", f"{_clock(info.duration)} ({info.duration:.3f} s)")
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
    with _progress() as progress:
        task = progress.add_task("finding shots", total=duration)
        found = detect_shots(video, progress=lambda t: progress.update(task, completed=t))
    if as_json:
        print(json.dumps([{"start": s.start, "end": s.end} for s in found], indent=2))
        return
    table = Table("shot", "start", "end", "length (s)")
    for i, shot in enumerate(found, 1):
        table.add_row(str(i), _clock(shot.start), _clock(shot.end), f"{shot.end - shot.start:.3f}")
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

    times = [float(t) for t in at.split(",")] if at else None
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
        print(json.dumps(saved, indent=2))
    else:
        for item in saved:
            console.print(f"{_clock(item['time'])}  {item['path']}")


@app.command()
def synth(
    out: Annotated[Path, typer.Argument(help="Video to write (.mp4, .mkv or .ts).")],
    script: Annotated[
        Path | None, typer.Option(help="JSON script of shots, texts, speech and pictures.")
    ] = None,
    seconds: Annotated[float, typer.Option(help="Length of a random script.")] = 60.0,
    seed: Annotated[int, typer.Option(help="Seed of a random script.")] = 0,
    width: Annotated[int, typer.Option()] = 640,
    height: Annotated[int, typer.Option()] = 360,
    fps: Annotated[float, typer.Option()] = 30.0,
    vfr: Annotated[bool, typer.Option(help="Variable frame rate.")] = False,
    rotation: Annotated[
        int, typer.Option(help="Display rotation metadata, degrees clockwise (0, 90, 180, 270).")
    ] = 0,
    audio: Annotated[bool, typer.Option(help="Write an audio track (speech).")] = True,
    start_time: Annotated[float, typer.Option(help="Offset of the first frame in the file.")] = 0.0,
    as_json: JsonOption = False,
) -> None:
    """Generate a synthetic test video and its ground truth (<name>.truth.json beside it).

    Without --script, a random script of --seconds is made from --seed: shots of colours,
    shapes and real photos with cuts, fades and dissolves, burned-in text, and spoken
    sentences (needs espeak-ng; without it speech is skipped with a warning).
    """
    from vidseek.synth import Script, build, random_script, truth_path

    if script is not None:
        plan = Script.model_validate_json(script.read_text())
    else:
        plan = random_script(
            seconds, seed=seed, width=width, height=height, fps=fps, vfr=vfr,
            rotation=rotation, audio=audio, start_time=start_time,
        )
    with _progress() as progress:
        task = progress.add_task(f"writing {out.name}", total=1.0)
        truth = build(plan, out, progress=lambda done: progress.update(task, completed=done))
    if as_json:
        print(truth.model_dump_json(indent=2))
        return
    console.print(
        f"wrote {out} ({_clock(truth.duration)}, {len(truth.shots)} shots, "
        f"{len(truth.texts)} texts, {len(truth.speech)} spoken sentences, "
        f"{len(truth.pictures)} pictures) and {truth_path(out)}"
    )
