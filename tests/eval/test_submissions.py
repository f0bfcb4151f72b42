"""`vidseek eval score`: other systems' predictions in the official formats, on the real files."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from vidseek.cli import app
from vidseek.errors import DataError
from vidseek.eval.datasets import load_task
from vidseek.eval.methods import sample_times
from vidseek.eval.submissions import score_predictions


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_multiple_choice_answers_and_raw_replies(benchmarks, tmp_path):
    dataset = load_task("nextqa", benchmarks)
    first = dataset.samples[:4]
    rows = [{"qid": first[0].id, "answer": "ABCDE"[first[0].answer]},       # right letter
            {"qid": first[1].id, "response": f"The answer is {first[1].options[first[1].answer]}"},
            {"qid": first[2].id, "response": "I cannot tell."},             # unparsed: wrong
            {"qid": first[3].id, "answer": (first[3].answer + 1) % 5},      # wrong index
            {"qid": "not-a-sample", "answer": "A"}]
    result = score_predictions("nextqa", benchmarks, _jsonl(tmp_path / "p.jsonl", rows),
                               out=tmp_path / "out")
    summary = result.summary
    n = len(dataset)
    assert summary["metrics"]["accuracy"]["n"] == n
    assert summary["metrics"]["accuracy"]["value"] == pytest.approx(2 / n)
    assert summary["counts"]["errors"] == n - 4  # no prediction: counted wrong
    assert summary["unmatched_predictions"] == 1
    manifest = json.loads(result.manifest.read_text())
    assert any("not-a-sample" in note for note in manifest["dataset_notes"])
    assert result.report_html.is_file()


def test_predictions_that_match_no_sample_are_refused(benchmarks, tmp_path):
    path = _jsonl(tmp_path / "p.jsonl", [{"qid": "x", "pred_relevant_windows": [[0, 1, 1]]}])
    with pytest.raises(DataError, match="no qid"):
        score_predictions("charades_sta", benchmarks / "charades_sta", path, out=tmp_path)


@pytest.mark.slow
def test_cli_prints_the_official_qvhighlights_numbers(benchmarks, tmp_path):
    folder = benchmarks / "qvhighlights"
    official = json.loads((folder / "sample_val_preds_metrics_raw.json").read_text())["brief"]
    result = CliRunner().invoke(app, [
        "eval", "score", "qvhighlights", "--data", str(folder), "--predictions",
        str(folder / "sample_val_preds.jsonl"), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for key in ("MR-full-R1@0.5", "MR-full-mAP", "MR-short-mAP", "HL-min-VeryGood-Hit1",
                "HL-min-Fair-mAP"):
        assert f"{official[key]:.2f}" in result.output, key


def test_linspace_sampling_takes_the_first_and_last_frames():
    centers = sample_times(0, 80, frames=8, fps=None)
    linspace = sample_times(0, 80, frames=8, fps=None, sampling="linspace")
    assert linspace[0] == 0.0 and linspace[-1] == pytest.approx(80 - 1e-3)
    assert not set(centers) & set(linspace)  # at N=8 the two share no frame
