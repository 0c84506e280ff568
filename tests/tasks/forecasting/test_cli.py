"""`rnnlab forecast fit / predict / evaluate` end to end on a tiny CSV, and the run folder."""

from __future__ import annotations

import hashlib
import json
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from rnnlab.data.datasets import resolve_data
from rnnlab.tasks.forecasting import ForecastConfig, Forecaster
from rnnlab.tasks.forecasting.baselines import BASELINES
from rnnlab.tasks.forecasting.workflows import evaluate_run
from tests.conftest import FAST_FIT, run_cli, seasonal_frame, write_csv

METRICS = ("mae", "rmse", "smape", "mape", "mase", "directional_accuracy")


def fit_args(data: Path, out: Path, *extra: str) -> list[str]:
    return ["forecast", "fit", "--data", str(data), "--time-col", "date", "--target", "value",
            "--lookback", "14", "--horizon", "3", *FAST_FIT, "--out", str(out), *extra]


@pytest.fixture(scope="module")
def fitted_run(tmp_path_factory):
    """One `rnnlab forecast fit` on 120 daily rows, shared by the tests below."""
    folder = tmp_path_factory.mktemp("fit")
    data = write_csv(folder / "tiny.csv", seasonal_frame(n=120))
    started = time.perf_counter()
    result = run_cli(fit_args(data, folder / "run", "--seed", "0"))
    seconds = time.perf_counter() - started
    assert result.code == 0, result.err
    return {"run": folder / "run", "data": data, "result": result, "seconds": seconds,
            "frame": pd.read_csv(data)}


def _metrics(run: Path) -> dict:
    return json.loads((run / "metrics.json").read_text())


def test_fit_finishes_quickly_and_prints_the_table_and_the_run_folder(fitted_run):
    assert fitted_run["seconds"] < 60
    out = fitted_run["result"].out
    for name in ("lstm", *BASELINES):
        assert name in out
    assert "verdict:" in out
    assert out.count("run folder:") == 1 and str(fitted_run["run"]) in out


def test_run_folder_is_complete(fitted_run):
    run = fitted_run["run"]
    for relative in ("config.yaml", "metrics.json", "forecast.csv", "report.html",
                     "model/weights.safetensors", "model/forecaster.json"):
        assert (run / relative).is_file(), relative
    plots = sorted(p.name for p in (run / "plots").glob("*.png"))
    assert {"forecast_0.png", "residuals_0.png", "loss_lstm.png", "mase.png"} <= set(plots)
    for png in (run / "plots").glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    leftovers = [p.name for p in run.parent.iterdir() if ".partial" in p.name or ".tmp" in p.name]
    assert leftovers == []
    assert not list(run.rglob(".*.tmp*"))


def test_config_yaml_is_enough_to_rerun(fitted_run):
    record = yaml.safe_load((fitted_run["run"] / "config.yaml").read_text())
    data = fitted_run["data"]
    assert record["job"] == "forecast"
    assert record["data"]["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    assert Path(record["data"]["path"]).resolve() == data.resolve()
    for name in ("python", "rnnlab", "torch", "lightning", "numpy", "pandas"):
        assert record["versions"][name]
    config = ForecastConfig.from_dict(record["config"])
    assert config == Forecaster.load(fitted_run["run"]).config
    assert (config.lookback, config.horizon, config.target, config.hidden) == (14, 3, ("value",), 8)
    assert config.train.seed == 0 and config.train.epochs == 3


def test_config_yaml_records_the_command_that_was_run(fitted_run):
    command = yaml.safe_load((fitted_run["run"] / "config.yaml").read_text())["command"]
    assert command.startswith("rnnlab forecast fit ")
    assert "--lookback 14" in command and "--target value" in command


def test_metrics_json_follows_the_contract(fitted_run):
    metrics = _metrics(fitted_run["run"])
    assert metrics["job"] == "forecast"
    assert metrics["split"] == {"train": 84, "val": 12, "test": 24}  # 120 rows, by hand
    assert set(metrics["test"]) == {"lstm", *BASELINES}
    for name, values in metrics["test"].items():
        for key in METRICS:
            assert isinstance(values[key], float), (name, key)
    assert 0 <= metrics["test"]["lstm"]["coverage"] <= 1
    mase = {name: values["mase"] for name, values in metrics["test"].items()}
    assert metrics["best"] == min(mase, key=mase.get)
    assert metrics["train_seconds"] > 0 and metrics["world_size"] == 1
    assert metrics["verdict"].endswith(".")


def test_forecast_csv_holds_actuals_and_every_model_on_the_same_points(fitted_run):
    table = pd.read_csv(fitted_run["run"] / "forecast.csv")
    frame = fitted_run["frame"]
    assert {"time", "origin", "step", "target", "actual", "lstm", "lstm_lower", "lstm_upper",
            *BASELINES} <= set(table.columns)
    assert len(table) == 8 * 3  # 8 test origins x horizon 3
    actual = frame.set_index("date")["value"]
    times = pd.to_datetime(table["time"]).dt.strftime("%Y-%m-%d")
    np.testing.assert_allclose(table["actual"], actual.loc[times].to_numpy())
    origins = pd.to_datetime(table["origin"]).dt.strftime("%Y-%m-%d")
    np.testing.assert_allclose(table["naive"], actual.loc[origins].to_numpy())  # last value
    assert (table["lstm_lower"] <= table["lstm"]).all()
    assert (table["lstm"] <= table["lstm_upper"]).all()
    # the test MAE of each model recomputed from the table
    metrics = _metrics(fitted_run["run"])["test"]
    for name in ("lstm", *BASELINES):
        mae = np.mean(np.abs(table[name] - table["actual"]))
        assert mae == pytest.approx(metrics[name]["mae"], rel=1e-9), name


def test_report_is_one_self_contained_page(fitted_run):
    html = (fitted_run["run"] / "report.html").read_text(encoding="utf-8")
    metrics = _metrics(fitted_run["run"])
    assert html.count("data:image/png;base64,") >= 4
    assert not re.search(r"""(src|href)=["']?(https?:|/|file:)""", html)
    assert metrics["verdict"].replace("'", "&#x27;") in html
    for name in ("lstm", *BASELINES):
        assert name in html


def test_predict_prints_the_next_h_rows_and_equals_the_api(fitted_run, tmp_path):
    run, data = fitted_run["run"], fitted_run["data"]
    result = run_cli(["forecast", "predict", "--run", run, "--data", data,
                      "--out", tmp_path / "next.csv"])
    assert result.code == 0, result.err
    expected = Forecaster.load(run).predict(fitted_run["frame"])
    future = ["2000-04-30", "2000-05-01", "2000-05-02"]  # the day after 2000-04-29
    rows = [line.split() for line in result.out.splitlines() if line[:10] in future]
    assert [row[0] for row in rows] == future
    printed = np.array([[float(v) for v in row[1:4]] for row in rows])
    np.testing.assert_allclose(printed, expected.to_numpy(), rtol=1e-3)  # 4 significant digits
    written = pd.read_csv(tmp_path / "next.csv", index_col=0)
    np.testing.assert_allclose(written.to_numpy(), expected.to_numpy(), rtol=1e-12)
    assert list(written.columns) == ["value", "value_lower", "value_upper"]


def test_predict_refuses_to_overwrite_its_out_file(fitted_run, tmp_path):
    target = tmp_path / "next.csv"
    target.write_text("mine")
    args = ["forecast", "predict", "--run", fitted_run["run"], "--data", fitted_run["data"],
            "--out", target]
    result = run_cli(args)
    assert result.code == 2 and result.err_lines == [
        f"error: --out {target} already exists; choose another name or --overwrite"]
    assert target.read_text() == "mine"
    assert run_cli([*args, "--overwrite"]).code == 0
    assert target.read_text().startswith("date,value")


def test_evaluate_reproduces_the_test_metrics(fitted_run):
    result = run_cli(["forecast", "evaluate", "--run", fitted_run["run"]])
    assert result.code == 0, result.err
    assert "lstm" in result.out and "naive" in result.out
    evaluation = evaluate_run(fitted_run["run"])
    saved = _metrics(fitted_run["run"])["test"]
    assert set(evaluation.metrics) == set(saved)
    for name, values in saved.items():
        for key, value in values.items():
            assert evaluation.metrics[name][key] == pytest.approx(value, rel=1e-6), (name, key)


def test_evaluate_on_other_data_scores_its_test_part(fitted_run, tmp_path):
    other = write_csv(tmp_path / "other.csv", seasonal_frame(n=150, seed=3))
    evaluation = evaluate_run(fitted_run["run"], str(other))
    # 150 rows: test 30 from row 120, origins every 3 steps
    assert evaluation.origins.tolist() == list(range(120, 148, 3))
    assert set(evaluation.metrics) == {"lstm", *BASELINES}


def test_same_seed_gives_identical_metrics(fitted_run, tmp_path):
    """Two more runs in this process with the seed of the shared run: all three agree."""
    data = fitted_run["data"]
    assert run_cli(fit_args(data, tmp_path / "again", "--seed", "0")).code == 0
    first, again = _metrics(fitted_run["run"])["test"], _metrics(tmp_path / "again")["test"]
    assert again == first


def test_overwrite_replaces_an_existing_run(fitted_run, tmp_path):
    out = tmp_path / "run"
    assert run_cli(fit_args(fitted_run["data"], out, "--epochs", "1")).code == 0
    first = (out / "metrics.json").read_bytes()
    refused = run_cli(fit_args(fitted_run["data"], out))
    assert refused.code == 2 and "--overwrite" in refused.err
    assert (out / "metrics.json").read_bytes() == first
    assert run_cli(fit_args(fitted_run["data"], out, "--overwrite", "--seed", "3")).code == 0
    assert (out / "metrics.json").read_bytes() != first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_overwrite_refuses_the_users_data_folder(fitted_run, tmp_path):
    """`--data mydata/series.csv --out mydata --overwrite` must not delete the user's data."""
    mydata = tmp_path / "mydata"
    mydata.mkdir()
    data = mydata / "series.csv"
    data.write_bytes(Path(fitted_run["data"]).read_bytes())
    (mydata / "notes.txt").write_text("mine")
    result = run_cli(fit_args(data, mydata, "--overwrite"))
    assert result.code == 2 and len(result.err_lines) == 1, result.err
    assert "is not an rnnlab run (it holds notes.txt, series.csv)" in result.err_lines[0]
    assert sorted(p.name for p in mydata.iterdir()) == ["notes.txt", "series.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mydata"]


def test_overwrite_refuses_the_working_folder(fitted_run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "keep.txt").write_text("mine")
    result = run_cli(fit_args(fitted_run["data"], ".", "--overwrite"))
    assert result.code == 2 and "rnnlab never replaces those" in result.err_lines[0]
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_fit_on_a_bundled_data_set_by_name(tmp_path):
    result = run_cli(["forecast", "fit", "--data", "airline-passengers", "--time-col", "Month",
                      "--target", "Passengers", "--lookback", "12", "--horizon", "6", "--log",
                      *FAST_FIT, "--epochs", "1", "--out", tmp_path / "air"])
    assert result.code == 0, result.err
    metrics = _metrics(tmp_path / "air")
    assert metrics["season"] == 12 and metrics["horizon"] == 6
    # 144 rows: test round(28.8) = 29, validation round(14.4) = 14, training 101
    assert metrics["split"] == {"train": 101, "val": 14, "test": 29}
    table = Forecaster.load(tmp_path / "air").predict(resolve_data("airline-passengers"))
    assert list(table.index) == list(pd.date_range("1961-01-01", periods=6, freq="MS"))
    assert (table["Passengers"] > 0).all()  # forecast on the log scale, back-transformed
