"""``vidseek synth``: synthetic test videos with exact ground truth."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from vidseek.cli.app import JsonOption, app, clock, console, errors, progress_bar, usage_error
from vidseek.errors import VidseekError

__all__ = ["synth"]


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
    """Generate a synthetic test video and its ground truth (<name>.truth.json beside it);
    the video's folder is made when it does not exist.

    Without --script, a random script of --seconds is made from --seed: shots of colours,
    shapes and real photos with cuts, fades and dissolves, burned-in text, and spoken
    sentences (needs espeak-ng; without it speech is skipped with a warning).
    """
    from vidseek.synth import Script, build, container_for, random_script, truth_path

    try:  # a suffix, script or settings that make no video: a usage error, before any work
        container_for(out)
        if script is not None:
            plan = Script.model_validate_json(script.read_text())
        else:
            plan = random_script(
                seconds, seed=seed, width=width, height=height, fps=fps, vfr=vfr,
                rotation=rotation, audio=audio, start_time=start_time,
            )
    except ValueError as exc:
        usage_error(str(exc))
    with progress_bar() as progress, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        task = progress.add_task(f"writing {out.name}", total=1.0)
        try:
            truth = build(plan, out,
                          progress=lambda done: progress.update(task, completed=done))
        except ValueError as exc:  # e.g. espeak-ng failed, rotation in a .ts file
            raise VidseekError(f"{out}: {exc}") from exc
    for warning in caught:  # one plain line each (no source path): e.g. espeak-ng missing
        errors.print(f"[yellow]warning:[/] {escape(str(warning.message))}", highlight=False)
    if as_json:
        print(truth.model_dump_json(indent=2))
        return
    console.print(
        f"wrote {out} ({clock(truth.duration)}, {len(truth.shots)} shots, "
        f"{len(truth.texts)} texts, {len(truth.speech)} spoken sentences, "
        f"{len(truth.pictures)} pictures) and {truth_path(out)}"
    )


