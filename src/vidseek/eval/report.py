"""The task report: every run of a task side by side, the trust checks, and plots, as
Markdown and as one self-contained HTML page (inline SVG, no script, nothing fetched).

Trust checks:

- **Baselines**: the blind (no video) and single-frame runs beside each method, and how far
  the method is above them. A method that does not beat blind is answering from priors.
- **Option order**: the share of questions whose answer stays the same when the options are
  shuffled (1.0 for an answerer that reads the options rather than their positions).
- **More frames**: the primary metric of one method at different frame counts; it should rise.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

__all__ = ["collect_runs", "write_reports"]

_BASELINES = ("blind", "single-frame")
_COLORS = ("#3b6ea8", "#d9822b", "#5a9e4b", "#b8483e", "#7d5ba6", "#8c6d4f", "#c25a9c",
           "#6b6b6b")


def collect_runs(out: Path) -> list[dict[str, Any]]:
    """The results of every run under a task folder, by run name."""
    runs = []
    for path in sorted(Path(out).glob("*/results.json")):
        try:
            runs.append(json.loads(path.read_text()))
        except json.JSONDecodeError:
            continue
    return runs


def write_reports(out: Path) -> tuple[Path, Path]:
    """Write ``report.md`` and ``report.html`` for every run under ``out``."""
    out = Path(out)
    runs = collect_runs(out)
    task = runs[0]["task"] if runs else out.name
    md, page = out / "report.md", out / "report.html"
    md.write_text(_markdown(task, runs))
    page.write_text(_html(task, runs))
    return md, page


# -- numbers ---------------------------------------------------------------------------------


def _primary(run: dict[str, Any]) -> dict[str, Any] | None:
    key = run.get("primary")
    return run.get("metrics", {}).get(key) if key else None


def _fmt(metric: dict[str, Any] | None) -> str:
    if not metric:
        return "-"
    ci = metric.get("ci")
    band = f" [{ci[0] * 100:.1f}, {ci[1] * 100:.1f}]" if ci else ""
    return f"{metric['value'] * 100:.1f}{band}"


def _cost_text(run: dict[str, Any]) -> str:
    cost = run.get("cost") or {}
    if not cost:
        return "-"
    tokens = cost["prompt_tokens"]["mean"] + cost["completion_tokens"]["mean"]
    return (f"{cost['frames_sent']['mean']:.1f} frames sent, {tokens:.0f} tokens, "
            f"{cost['model_calls']['mean']:.1f} calls, {cost['seconds']['mean']:.2f} s")


def _trust(runs: list[dict[str, Any]]) -> list[str]:
    lines = []
    for run in runs:
        if run["method"] in _BASELINES or not _primary(run):
            continue
        key, value = run["primary"], _primary(run)["value"]
        for base in _BASELINES:
            same = [r for r in runs if r["method"] == base and key in r.get("metrics", {})]
            if same:
                delta = (value - same[0]["metrics"][key]["value"]) * 100
                lines.append(f"{run['run']}: {key} {delta:+.1f} points over {same[0]['run']}")
            else:
                missing = [r for r in runs if r["method"] == base and r.get("reason")]
                why = f" (not run: {missing[0]['reason']})" if missing else ""
                lines.append(f"{run['run']}: no {base} baseline to compare with{why}; run "
                             f"`vidseek eval {run['task']} --method {base}`")
    for run in runs:
        consistency = run.get("metrics", {}).get("option_order_consistency")
        if consistency:
            lines.append(f"{run['run']}: the same option after shuffling the options in "
                         f"{_fmt(consistency)} % of questions")
    curves = _frame_curves(runs)
    for label, points in curves.items():
        if len(points) > 1:
            (f0, v0), (f1, v1) = points[0], points[-1]
            lines.append(f"{label}: {v0 * 100:.1f} at {f0:g} frames -> {v1 * 100:.1f} at "
                         f"{f1:g} frames ({(v1 - v0) * 100:+.1f} points)")
    if not any(len(p) > 1 for p in curves.values()):
        lines.append("more frames: only one frame count run so far; run a frame method "
                     "with other --frames values to see whether accuracy rises")
    return lines


def _frame_curves(runs: list[dict[str, Any]]) -> dict[str, list[tuple[float, float]]]:
    """Per method and model, (frames used, primary metric) sorted by frames."""
    curves: dict[str, list[tuple[float, float]]] = {}
    for run in runs:
        if _primary(run) is None or run["method"] in ("blind", "search"):
            continue
        label = f"{run['method']} ({run['model']})"
        curves.setdefault(label, []).append((run.get("frames_used", 0.0),
                                             _primary(run)["value"]))
    return {k: sorted(v) for k, v in curves.items()}


# -- Markdown --------------------------------------------------------------------------------


def _markdown(task: str, runs: list[dict[str, Any]]) -> str:
    lines = [f"# vidseek eval: {task}", "",
             "Values x100 with 95 % bootstrap intervals (1,000 resamples over samples).", "",
             "| run | method | model | samples | primary | value | grounded | cost per "
             "question | status |", "|---|---|---|---|---|---|---|---|---|"]
    for run in runs:
        if run.get("status") == "not run":
            lines.append(f"| {run['run']} | {run['method']} | {run['model']} | - | - | - | - "
                         f"| - | not run: {run['reason']} |")
            continue
        metrics = run.get("metrics", {})
        grounded = next((metrics[k] for k in metrics if k.startswith("Acc@QA&IoU")), None)
        lines.append(
            f"| {run['run']} | {run['method']} | {run['model']} | {run['counts']['samples']} "
            f"| {run.get('primary') or '-'} | {_fmt(_primary(run))} | {_fmt(grounded)} | "
            f"{_cost_text(run)} | {run['status']}, {run['counts']['errors']} errors |")
    lines += ["", "## Trust checks", ""] + [f"- {line}" for line in _trust(runs)]
    for run in runs:
        if run.get("status") == "not run":
            continue
        lines += ["", f"## {run['run']}", "", "| metric | value | n |", "|---|---|---|"]
        for key, metric in run["metrics"].items():
            lines.append(f"| {key} | {_fmt(metric)} | {metric['n']} |")
        for title, table in (("by duration", run.get("by_duration")),
                             ("by category", run.get("by_category"))):
            if table:
                lines += ["", f"{title}: " + ", ".join(f"{k} {_fmt(v)} (n={v['n']})"
                                                        for k, v in table.items())]
    return "\n".join(lines) + "\n"


# -- HTML and SVG ----------------------------------------------------------------------------


def _svg(width: int, height: int, body: list[str], title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{html.escape(title)}">'
            + "".join(body) + "</svg>")


def _text(x: float, y: float, words: str, size: int = 11, anchor: str = "middle",
          extra: str = "") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'{extra}>{html.escape(words)}</text>')


def _axes(width: int, height: int, left: int, bottom: int, top: int, ymax: float,
          unit: str) -> list[str]:
    body = [f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="#444"/>',
            f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" y2="{height - bottom}" '
            'stroke="#444"/>']
    for k in range(5):
        value = ymax * k / 4
        y = height - bottom - (height - bottom - top) * k / 4
        body.append(f'<line x1="{left - 4}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" '
                    'stroke="#ddd"/>')
        body.append(_text(left - 6, y + 4, f"{value:g}{unit}", 10, "end"))
    return body


def _bars(title: str, groups: list[str], series: list[tuple[str, list[float | None],
          list[list[float] | None]]], *, ymax: float, unit: str = "") -> str:
    """Grouped bars: one group per label, one bar per series, with interval whiskers."""
    width, height, left, bottom, top = max(360, 90 * len(groups) * max(1, len(series)) // 2
                                           + 120), 300, 50, 70, 30
    body = [_text(width / 2, 16, title, 13, extra='font-weight="bold"')]
    body += _axes(width, height, left, bottom, top, ymax, unit)
    span = (width - left - 20) / max(1, len(groups))
    bar = span * 0.8 / max(1, len(series))
    scale = (height - bottom - top) / ymax if ymax else 0
    for g, group in enumerate(groups):
        x0 = left + 10 + g * span
        body.append(_text(x0 + span * 0.4, height - bottom + 14, group[:22], 10))
        for s, (_, values, intervals) in enumerate(series):
            value = values[g]
            if value is None:
                continue
            x = x0 + s * bar
            h = max(1.0, value * scale)
            body.append(f'<rect class="mark" x="{x:.1f}" y="{height - bottom - h:.1f}" '
                        f'width="{bar * 0.9:.1f}" height="{h:.1f}" '
                        f'fill="{_COLORS[s % len(_COLORS)]}"><title>{html.escape(series[s][0])}'
                        f': {value:.3g}</title></rect>')
            ci = intervals[g] if intervals else None
            if ci:
                cx = x + bar * 0.45
                y1, y2 = height - bottom - ci[0] * scale, height - bottom - ci[1] * scale
                body.append(f'<line x1="{cx:.1f}" y1="{y1:.1f}" x2="{cx:.1f}" y2="{y2:.1f}" '
                            'stroke="#222"/>')
    for s, (label, _, _) in enumerate(series if len(series) > 1 else []):
        y = height - 30 + 12 * (s // 3)
        x = left + (s % 3) * 170
        body.append(f'<rect x="{x}" y="{y - 8}" width="9" height="9" '
                    f'fill="{_COLORS[s % len(_COLORS)]}"/>')
        body.append(_text(x + 13, y, label[:28], 10, "start"))
    return _svg(width, height + 12 * (len(series) // 3), body, title)


def _scatter(title: str, points: list[tuple[str, float, float]], *, xlabel: str) -> str:
    width, height, left, bottom, top = 480, 300, 50, 50, 30
    xmax = max([p[1] for p in points] + [1.0]) * 1.1
    body = [_text(width / 2, 16, title, 13, extra='font-weight="bold"')]
    body += _axes(width, height, left, bottom, top, 100, "")
    body.append(_text((width + left) / 2, height - 12, xlabel, 11))
    for k, (label, x, y) in enumerate(points):
        cx = left + (width - left - 20) * x / xmax
        cy = height - bottom - (height - bottom - top) * y
        body.append(f'<circle class="mark" cx="{cx:.1f}" cy="{cy:.1f}" r="5" '
                    f'fill="{_COLORS[k % len(_COLORS)]}"><title>{html.escape(label)}: '
                    f'{x:.1f} frames, {y * 100:.1f}</title></circle>')
        body.append(_text(cx + 7, cy - 6, label[:24], 9, "start"))
    return _svg(width, height, body, title)


def _plots(runs: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """``(id, caption, svg)`` for each plot."""
    done = [r for r in runs if r.get("status") != "not run" and _primary(r)]
    plots = []
    names = [r["run"] for r in done]
    key = done[0]["primary"] if done else "primary metric"
    plots.append(("method-comparison", f"Method comparison: {key} (x100, 95 % interval)", _bars(
        f"{key} by run", names,
        [(key, [_primary(r)["value"] * 100 for r in done],
          [[c * 100 for c in _primary(r)["ci"]] if _primary(r).get("ci") else None
           for r in done])], ymax=100)))
    buckets = sorted({b for r in done for b in (r.get("by_duration") or {})})
    plots.append(("by-duration", "Accuracy (or R@1) by video duration", _bars(
        "by video duration", buckets or ["-"],
        [(r["run"], [r["by_duration"][b]["value"] * 100 if b in r["by_duration"] else None
                     for b in buckets] or [None],
          [[c * 100 for c in r["by_duration"][b]["ci"]]
           if b in r["by_duration"] and r["by_duration"][b].get("ci") else None
           for b in buckets] or [None]) for r in done], ymax=100)))
    plots.append(("frames", f"{key} vs frames used per question", _scatter(
        f"{key} vs frames used", [(r["run"], r.get("frames_used", 0.0), _primary(r)["value"])
                                  for r in done], xlabel="frames used per question (mean)")))
    seconds = [r["cost"]["seconds"]["mean"] for r in done]
    plots.append(("cost", "Cost per question: mean seconds (hover for frames and tokens)", _bars(
        "seconds per question", names, [("seconds", seconds, [None] * len(done))],
        ymax=max(seconds + [0.001]) * 1.15, unit=" s")))
    return plots


_STYLE = """body{font:14px/1.45 system-ui,sans-serif;margin:24px;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;
text-align:left}th{background:#f3f3f3}figure.plot{display:inline-block;margin:8px;
vertical-align:top}figcaption{font-size:12px;color:#555}"""


def _html(task: str, runs: list[dict[str, Any]]) -> str:
    rows = []
    for run in runs:
        if run.get("status") == "not run":
            rows.append(f"<tr><td>{html.escape(run['run'])}</td><td colspan=5>not run: "
                        f"{html.escape(run['reason'])}</td></tr>")
            continue
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in (
            run["run"], run["model"], run["counts"]["samples"], run.get("primary") or "-",
            _fmt(_primary(run)), _cost_text(run))) + "</tr>")
    figures = "".join(f'<figure class="plot" id="plot-{pid}">{svg}<figcaption>'
                      f"{html.escape(caption)}</figcaption></figure>"
                      for pid, caption, svg in _plots(runs))
    trust = "".join(f"<li>{html.escape(line)}</li>" for line in _trust(runs))
    details = []
    for run in runs:
        if run.get("status") == "not run":
            continue
        cells = "".join(f"<tr><td>{html.escape(k)}</td><td>{_fmt(m)}</td><td>{m['n']}</td></tr>"
                        for k, m in run["metrics"].items())
        details.append(f"<h3>{html.escape(run['run'])}</h3><table><tr><th>metric</th>"
                       f"<th>value x100 [95 % CI]</th><th>n</th></tr>{cells}</table>")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>vidseek eval: "
            f"{html.escape(task)}</title><style>{_STYLE}</style></head><body>"
            f"<h1>vidseek eval: {html.escape(task)}</h1>"
            "<table><tr><th>run</th><th>model</th><th>samples</th><th>primary</th>"
            "<th>value x100 [95 % CI]</th><th>cost per question</th></tr>"
            + "".join(rows) + "</table>"
            f"<h2>Plots</h2>{figures}<h2>Trust checks</h2><ul>{trust}</ul>"
            f"<h2>Metrics</h2>{''.join(details)}</body></html>\n")
