"""``vidseek ask``: answer a question about one video, with evidence and cost."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from vidseek import views
from vidseek.cli.app import (
    JsonOption,
    LibraryOption,
    VideoQuery,
    app,
    clock,
    console,
    errors,
    print_json,
    usage_error,
)

__all__ = ["ask"]


@app.command()
def ask(
    video: VideoQuery,
    question: Annotated[str, typer.Argument(help="The question about the video.")],
    options: Annotated[str | None, typer.Option(
        help='Multiple-choice options separated by "|", e.g. "red|green|blue".')] = None,
    model: Annotated[str | None, typer.Option(
        help="A chat model: llm, llm-small (installed by `vidseek models install llm`; text "
             "only: it reads the index, the first call loads it in 5-9 s), "
             "openai:http://localhost:11434/v1#qwen2.5vl:7b, hf:/path/to/model (see "
             "docs/backends.md), or 'embedded' (the index alone, no model). Default: the "
             "installed llm, else the embedded answerer.")] = None,
    budget_frames: Annotated[int, typer.Option(help="Frames the model may see in all.")] = 32,
    budget_steps: Annotated[int, typer.Option(
        help="Model calls at most (the text agent's one-token checks not counted).")] = 8,
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
    if model not in (None, "auto", "embedded"):  # a typo in a spec or URL: before any work
        from vidseek.errors import ModelError
        from vidseek.models import check_spec

        try:
            check_spec("chat", model)
        except ModelError as exc:
            usage_error(str(exc), "--model")
    with Library(library, create=False) as lib:
        try:
            answer = lib.ask(video, question, options=choices, model=model or "auto",
                             budget=budget,
                             on_step=_print_step if trace else None, trajectory=save)
        except AskError as exc:
            if as_json and exc.answer is not None:
                print_json({"error": str(exc), **views.answer(exc.answer)})
                raise SystemExit(1) from None
            raise
    if as_json:
        print_json(views.answer(answer))
        return
    picked = f" (option {chr(65 + answer.choice)})" if answer.choice is not None else ""
    console.print(f"[bold]{escape(answer.text)}[/]{picked}")
    console.print(f"confidence {answer.confidence:.2f} · {answer.route} · {answer.model}")
    if answer.evidence:
        table = Table("start", "end", "what was seen or heard")
        for moment in answer.evidence:
            said = "; ".join(f"{e.kind}: {e.text}" for e in moment.evidence[:2])
            table.add_row(clock(moment.start), clock(moment.end), escape(said[:100]))
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
