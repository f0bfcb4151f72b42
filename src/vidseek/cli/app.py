"""The Typer application, its shared options and the helpers every command uses.

The commands live in the modules beside this one, one per command group; importing
:mod:`vidseek.cli` registers them all. Heavy modules (the library, LanceDB, models) are
imported inside the commands, so that ``vidseek --help`` answers at once.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from vidseek import __version__
from vidseek.errors import QueryError, VidseekError
from vidseek.kinds import KINDS

__all__ = [
    "RERANKER_HELP",
    "JsonOption",
    "KindOption",
    "LibraryOption",
    "VideoArgument",
    "VideoQuery",
    "app",
    "chosen_kinds",
    "clock",
    "console",
    "errors",
    "given_specs",
    "main",
    "print_json",
    "progress_bar",
    "spec_option",
    "usage_error",
]

app = typer.Typer(
    name="vidseek",
    help="Ask questions about long videos and find the exact moments that answer them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
"""Results (stdout)."""
errors = Console(stderr=True, soft_wrap=True)
"""Progress, notes and errors (stderr), so that stdout stays clean for pipes. Lines are not
wrapped: a message stays one line that a terminal wraps and ``grep`` finds whole."""

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
LibraryOption = Annotated[
    Path | None,
    typer.Option("--library", help="Library folder (default: $VIDSEEK_HOME or ~/.vidseek)."),
]
VideoQuery = Annotated[str, typer.Argument(
    help="A video: its file name (as `vidseek list` shows it), its id (or the start of it), "
         "or its path.")]
KindOption = Annotated[list[str] | None, typer.Option(
    "--kind", help=f"Only these kinds, repeated or comma-separated: {', '.join(KINDS)}.")]
VideoArgument = Annotated[Path, typer.Argument(help="A video file.", show_default=False)]

RERANKER_HELP = ("Reranker that re-scores search's best text candidates: llm-small or llm "
                 "(an installed language model asked yes or no; slower), llamacpp:PATH.gguf, "
                 "or crossencoder:/path/to/dir (ONNX); see docs/backends.md.")


def main() -> None:
    """Entry point of the ``vidseek`` console script: our errors, files that cannot be read
    or written (missing, no permission) and arguments the library refuses (ValueError) are
    one line on stderr and exit code 1, never a traceback; usage errors (a bad option, a query
    or question refused as given) exit with 2."""
    try:
        app()
    except VidseekError as exc:  # a query or question the library refused is a usage error
        errors.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        raise SystemExit(2 if isinstance(exc, QueryError) else 1) from None
    except OSError as exc:
        errors.print(f"[bold red]error:[/] {escape(_os_error(exc))}", highlight=False)
        raise SystemExit(1) from None
    except ValueError as exc:  # an argument the library refused (the REST API's 400)
        text = " ".join(str(exc).split()) or type(exc).__name__
        errors.print(f"[bold red]error:[/] {escape(text)}", highlight=False)
        raise SystemExit(1) from None


def _os_error(exc: OSError) -> str:
    """``path: why`` for an error of the file system, e.g. ``x.json: No such file or
    directory``."""
    if exc.filename is None or not exc.strerror:
        return str(exc)
    return f"{exc.filename}: {exc.strerror}"


def usage_error(message: str, option: str | None = None) -> NoReturn:
    """Stop with a usage error (a wrong argument or option value): one line on stderr, exit
    code 2, before any work."""
    where = f"{option}: " if option else ""
    errors.print(f"[bold red]error:[/] {escape(where + ' '.join(message.split()))}",
                 highlight=False)
    raise typer.Exit(code=2)


def chosen_kinds(values: list[str] | None) -> list[str] | None:
    """The kinds of ``--kind`` (repeated, or comma-separated), checked against the known
    kinds: a typo is a usage error that lists them (exit code 2)."""
    from vidseek.views import kinds

    try:
        return kinds(values)
    except QueryError as exc:
        raise typer.BadParameter(str(exc), param_hint="'--kind'") from None


def print_json(value: Any) -> None:
    """Print ``value`` as indented JSON on stdout (plain print: no markup, no wrapping)."""
    print(json.dumps(value, indent=2))


def progress_bar() -> Progress:
    """Progress bars on stderr that disappear when done."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=errors,
        transient=True,
    )


def clock(seconds: float) -> str:
    """12:03.250 or 1:02:03.250: readable, and exact to the millisecond."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{int(hours)}:{int(minutes):02d}:{secs:06.3f}"
    return f"{int(minutes)}:{secs:06.3f}"


def given_specs(**specs: str | None) -> dict[str, str] | None:
    """The model specs given on the command line (None when none is)."""
    return {k: v for k, v in specs.items() if v} or None


def spec_option(what: str) -> Any:
    """The type of an option that names a model spec, which the library saves."""
    return Annotated[str | None, typer.Option(
        help=f"{what} Saved in the library; 'none' removes the saved one.")]


@app.command()
def version() -> None:
    """Print the vidseek version."""
    console.print(__version__)
