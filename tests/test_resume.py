"""`--resume` end to end through the CLI: a fit interrupted after an epoch leaves no run folder
but its training checkpoints in `<parent>/.<run>.checkpoints/`; rerunning the same command with
`--resume` finishes it with the weights and test metrics of an uninterrupted run, and removes
the checkpoints when the run commits. `--resume` with nothing to resume is a one-line error; a
fresh run over an old interrupted run's checkpoints ignores them.

The interruption is a Lightning callback (an exception at the start of an epoch) passed to
`fit_module` through its `callbacks=` argument by a wrapper monkeypatched into the job's API
module, for one chosen `fit_module` call of the command (a forecast fit with --refit makes two).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from safetensors.torch import load_file

import rnnlab.tasks.forecasting.api as forecasting_api
import rnnlab.tasks.sentiment.api as sentiment_api
from rnnlab.training import DONE_FILE, LAST_CHECKPOINT
from tests.conftest import CliResult, run_cli, seasonal_frame, write_csv
from tests.tasks.sentiment.conftest import synthetic_reviews
from tests.test_training import InterruptAt

pytestmark = pytest.mark.slow

WEIGHTS_ATOL = 1e-6  # float32 weights of a resumed fit vs an uninterrupted one
METRICS_ABS = 1e-9  # test metrics (float64) computed from those weights


@dataclass(frozen=True)
class Job:
    name: str
    command: list[str]  # the verb and its options, without --data / --out
    api: Any  # the module whose `fit_module` the command's fits call
    make_data: Callable[[Path], Path]

    def args(self, data: Path, out: Path, *extra: str) -> list[str]:
        return [*self.command, "--data", data, "--out", out, *extra]


def _reviews(path: Path) -> Path:
    synthetic_reviews(n=240).to_csv(path, index=False)
    return path


SENTIMENT = Job(
    "sentiment",
    ["sentiment", "fit", "--embed", "8", "--hidden", "8", "--epochs", "3", "--patience", "5",
     "--device", "cpu", "--quiet", "--seed", "0"],
    sentiment_api,
    lambda folder: _reviews(folder / "reviews.csv"),
)
FORECAST = Job(
    "forecast",
    ["forecast", "fit", "--time-col", "date", "--target", "value", "--lookback", "14",
     "--horizon", "3", "--epochs", "4", "--patience", "10", "--hidden", "8", "--arima-order",
     "1,0,0", "--refit", "--device", "cpu", "--quiet"],
    forecasting_api,
    lambda folder: write_csv(folder / "series.csv", seasonal_frame()),
)
JOBS = {job.name: job for job in (SENTIMENT, FORECAST)}




def run_interrupted(monkeypatch: pytest.MonkeyPatch, job: Job, args: list[str],
                    call: int = 1, epoch: int = 1) -> tuple[CliResult, list[Path | None]]:
    """`rnnlab ARGS` with the `call`-th `fit_module` call (1-based) of `job` interrupted when
    its epoch `epoch` starts; returns the result and each call's checkpoint folder."""
    original = job.api.fit_module
    folders: list[Path | None] = []

    def fit_module(*positional: Any, **keywords: Any) -> Any:
        folders.append(keywords.get("checkpoints"))
        if len(folders) == call:
            keywords["callbacks"] = [*(keywords.get("callbacks") or []), InterruptAt(epoch)]
        return original(*positional, **keywords)

    with monkeypatch.context() as patch:
        patch.setattr(job.api, "fit_module", fit_module)
        result = run_cli(args)
    assert job.api.fit_module is original
    return result, folders


def checkpoints_of(out: Path) -> Path:
    return out.parent / f".{out.name}.checkpoints"


def max_abs_diffs(a: dict, b: dict) -> dict[str, float]:
    assert a.keys() == b.keys()
    return {name: float((a[name].double() - b[name].double()).abs().max()) for name in a}


def assert_same_weights(run: Path, reference: Path) -> float:
    """model/weights.safetensors of both runs agree to WEIGHTS_ATOL; returns the max abs diff
    (the failure message lists it per tensor)."""
    diffs = max_abs_diffs(load_file(run / "model" / "weights.safetensors"),
                          load_file(reference / "model" / "weights.safetensors"))
    worst = max(diffs.values())
    assert worst <= WEIGHTS_ATOL, (
        f"weights of {run.name} differ from {reference.name}: max abs diff {worst:.3g}; "
        f"per tensor {diffs}")
    return worst


def _scores(test: dict) -> dict[tuple[str, str], float | None]:
    """metrics.json "test" as {(model, metric): value}, without timings (`seconds`: how long
    scoring took, which no two runs share)."""
    return {(model, metric): value for model, values in test.items()
            for metric, value in values.items() if metric != "seconds"}


def assert_same_metrics(run: Path, reference: Path) -> None:
    ours = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    theirs = json.loads((reference / "metrics.json").read_text(encoding="utf-8"))
    scores, expected = _scores(ours["test"]), _scores(theirs["test"])
    assert scores.keys() == expected.keys()
    different = {key: (scores[key], expected[key]) for key in scores
                 if not _close(scores[key], expected[key])}
    assert not different, f"test metrics of {run.name} != {reference.name}: {different}"
    assert ours["epochs"] == theirs["epochs"]
    assert ({name: len(rows) for name, rows in ours["history"].items()}
            == {name: len(rows) for name, rows in theirs["history"].items()})


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:  # NaN is written as null
        return a is b
    return math.isclose(a, b, rel_tol=0.0, abs_tol=METRICS_ABS)


def assert_committed(out: Path) -> None:
    """The run is in place; no checkpoints or staging folder is left beside it."""
    assert (out / "model" / "weights.safetensors").is_file()
    assert not checkpoints_of(out).exists()
    assert not list(out.parent.glob(f".{out.name}.partial-*"))


class _Uninterrupted(dict):
    """{job name: (its data file, its uninterrupted run)}, each fitted when first asked for."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder

    def __missing__(self, name: str) -> tuple[Path, Path]:
        job = JOBS[name]
        data = job.make_data(self.folder)
        reference = self.folder / f"{name}-uninterrupted"
        result = run_cli(job.args(data, reference))
        assert result.code == 0, result.err
        self[name] = (data, reference)
        return self[name]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> _Uninterrupted:
    return _Uninterrupted(tmp_path_factory.mktemp("resume"))


def interrupt_and_resume(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, job: Job,
                         data: Path, call: int) -> Path:
    """Run `job` into tmp_path/B interrupted in its `call`-th fit after one epoch, check what
    the interruption leaves, then rerun it with --resume; returns the committed run."""
    out = tmp_path / "B"
    result, folders = run_interrupted(monkeypatch, job, job.args(data, out), call=call)
    assert result.code not in (0, 2), result.err  # an internal failure, not a user error
    assert "Interrupted" in result.err
    assert len(folders) == call
    assert not out.exists()
    assert not list(tmp_path.glob(".B.partial-*"))
    interrupted = folders[-1]
    assert interrupted is not None and interrupted.is_relative_to(checkpoints_of(out))
    assert (interrupted / LAST_CHECKPOINT).is_file()
    assert not (interrupted / DONE_FILE).exists()
    for finished in folders[:-1]:  # earlier fits of the command were completed
        assert (finished / DONE_FILE).is_file()

    resumed = run_cli(job.args(data, out, "--resume"))
    assert resumed.code == 0, resumed.err
    assert_committed(out)
    return out


def test_resumed_sentiment_fit_equals_an_uninterrupted_one(workspace, monkeypatch, tmp_path):
    data, reference = workspace["sentiment"]
    out = interrupt_and_resume(monkeypatch, tmp_path, SENTIMENT, data, call=1)
    assert (checkpoints_of(out).name, out.name) == (".B.checkpoints", "B")
    assert_same_weights(out, reference)
    assert_same_metrics(out, reference)


@pytest.mark.parametrize("call", [1, 2], ids=["in-fit", "in-refit"])
def test_resumed_forecast_fit_equals_an_uninterrupted_one(workspace, monkeypatch, tmp_path,
                                                          call):
    """Interrupted in the early-stopped fit (checkpoints in lstm/fit), or in the refit after
    the fit completed (lstm/fit/done.json is reused, lstm/refit continued)."""
    data, reference = workspace["forecast"]
    out = interrupt_and_resume(monkeypatch, tmp_path, FORECAST, data, call=call)
    assert_same_weights(out, reference)
    assert_same_metrics(out, reference)


RESUMABLE = {  # every command with --resume, with options that pass its own validation
    "sentiment-fit": ["sentiment", "fit"],
    "sentiment-label-curve": ["sentiment", "label-curve", "--sizes", "50,all"],
    "forecast-fit": ["forecast", "fit", "--time-col", "date", "--target", "value"],
    "forecast-compare": ["forecast", "compare", "--time-col", "date", "--target", "value"],
    "forecast-backtest": ["forecast", "backtest", "--time-col", "date", "--target", "value"],
    "lm-pretrain": ["lm", "pretrain"],
}


@pytest.fixture(scope="module")
def small_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("resume-errors")
    return {"text": _reviews(folder / "reviews.csv"),
            "series": write_csv(folder / "series.csv", seasonal_frame())}


def _data_for(command: list[str], files: dict[str, Path]) -> Path:
    return files["series"] if command[0] == "forecast" else files["text"]


def assert_resume_error(result: CliResult) -> str:
    assert result.code == 2, result.err
    assert len(result.err_lines) == 1, result.err
    line = result.err_lines[0]
    assert line.startswith("error: ")
    assert "--resume" in line
    return line


@pytest.mark.parametrize("command", RESUMABLE.values(), ids=RESUMABLE.keys())
@pytest.mark.parametrize("out", ["missing", None], ids=["nothing-at-out", "no-out"])
def test_resume_without_an_interrupted_run_is_a_one_line_error(small_files, tmp_path,
                                                               monkeypatch, command, out):
    monkeypatch.chdir(tmp_path)  # where a default runs/<job>-<time> folder would go
    target = ["--out", tmp_path / out] if out else []
    result = run_cli([*command, "--data", _data_for(command, small_files), *target,
                      "--resume"])
    assert_resume_error(result)
    assert list(tmp_path.iterdir()) == []  # no run, staging or checkpoints folder


def test_resume_of_a_finished_run_is_a_one_line_error_about_resume(small_files, tmp_path):
    """A run that completed has nothing to resume: the message should say so (about --resume),
    not only that --out exists."""
    finished = tmp_path / "done"
    (finished / "model").mkdir(parents=True)
    (finished / "config.yaml").write_text("job: forecast\n", encoding="utf-8")
    command = RESUMABLE["forecast-fit"]
    result = run_cli([*command, "--data", small_files["series"], "--out", finished,
                      "--resume"])
    assert_resume_error(result)
    assert (finished / "config.yaml").is_file()  # left alone


@pytest.mark.parametrize("name", JOBS)
def test_a_fresh_run_ignores_stale_checkpoints(workspace, monkeypatch, tmp_path, name):
    """Checkpoints of an interrupted run with another seed (a forecast interrupted in its
    refit also leaves the fit's done.json) are not picked up by a run without --resume: it
    ends exactly like the uninterrupted run."""
    job = JOBS[name]
    data, reference = workspace[name]
    out = tmp_path / "B"
    call = 2 if job is FORECAST else 1
    result, folders = run_interrupted(monkeypatch, job, job.args(data, out, "--seed", "1"),
                                      call=call)
    assert result.code not in (0, 2) and "Interrupted" in result.err, result.err
    assert (folders[-1] / LAST_CHECKPOINT).is_file()
    if job is FORECAST:
        assert (folders[0] / DONE_FILE).is_file()

    fresh = run_cli(job.args(data, out))
    assert fresh.code == 0, fresh.err
    assert_committed(out)
    assert_same_weights(out, reference)
    assert_same_metrics(out, reference)


@pytest.mark.parametrize("name", JOBS)
def test_resume_with_other_options_is_refused(workspace, monkeypatch, tmp_path, name):
    """The interrupted run's options are kept beside its checkpoints: a resume with another
    network shape (it would not load) or rate (it would silently become another run) is one
    `error:` line, and the checkpoints stay for a resume with the right options."""
    job = JOBS[name]
    data, _ = workspace[name]
    out = tmp_path / "B"
    result, _ = run_interrupted(monkeypatch, job, job.args(data, out), call=1)
    assert result.code not in (0, 2), result.err
    changed = run_cli(job.args(data, out, "--resume", "--hidden", "16", "--lr", "0.5"))
    assert changed.code == 2 and len(changed.err_lines) == 1, changed.err
    assert "--resume with other options than the interrupted run" in changed.err_lines[0]
    assert "hidden 8 -> 16" in changed.err_lines[0]
    assert (checkpoints_of(out) / "options.json").is_file() and not out.exists()
    resumed = run_cli(job.args(data, out, "--resume", "--quiet"))
    assert resumed.code == 0, resumed.err
