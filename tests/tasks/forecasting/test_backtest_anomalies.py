"""Rolling-origin backtest, anomaly detection and the five-variant comparison, end to end."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from rnnlab.errors import UserError
from rnnlab.tasks.forecasting import Forecaster
from rnnlab.tasks.forecasting.anomalies import detect
from rnnlab.tasks.forecasting.backtest import fold_ends
from rnnlab.tasks.forecasting.baselines import BASELINES
from rnnlab.tasks.forecasting.workflows import VARIANTS
from tests.conftest import FAST_FIT, run_cli, seasonal_frame, write_csv

# -- backtest ----------------------------------------------------------------------------------


def test_fold_ends_cut_the_test_rows_into_equal_blocks():
    assert fold_ends(100, 30, 3, 5) == [(70, 80), (80, 90), (90, 100)]
    assert fold_ends(100, 31, 3, 5) == [(70, 80), (80, 90), (90, 100)]  # remainder to training
    assert fold_ends(50, 10, 1, 2) == [(40, 50)]


def test_fold_ends_rejects_blocks_shorter_than_the_horizon():
    with pytest.raises(UserError, match=r"--folds 4 over 12 test rows gives blocks of 3 rows, "
                                        r"fewer than --horizon 6"):
        fold_ends(100, 12, 4, 6)
    with pytest.raises(UserError, match="--folds must be >= 1; got 0"):
        fold_ends(100, 12, 0, 1)


@pytest.fixture(scope="module")
def backtest_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("backtest")
    frame = seasonal_frame(n=120)
    data = write_csv(folder / "tiny.csv", frame)
    result = run_cli(["forecast", "backtest", "--data", data, "--time-col", "date", "--target",
                      "value", "--lookback", "14", "--horizon", "3", "--test-size", "24",
                      "--folds", "2", *FAST_FIT, "--out", folder / "bt"])
    assert result.code == 0, result.err
    return {"run": folder / "bt", "frame": frame, "result": result}


@pytest.mark.slow
def test_backtest_reports_every_fold_and_the_mean(backtest_run):
    run = backtest_run["run"]
    metrics = json.loads((run / "metrics.json").read_text())
    assert (metrics["job"], metrics["kind"]) == ("forecast", "backtest")
    folds = metrics["folds"]
    assert [f["fold"] for f in folds] == [1, 2]
    # 24 test rows in 2 blocks of 12: rows 96..107 and 108..119
    dates = pd.to_datetime(backtest_run["frame"]["date"])
    assert pd.Timestamp(folds[0]["test_start"]) == dates[96]
    assert pd.Timestamp(folds[0]["test_end"]) == dates[107]
    assert pd.Timestamp(folds[1]["test_start"]) == dates[108]
    assert pd.Timestamp(folds[1]["test_end"]) == dates[119]
    for fold in folds:
        assert set(fold["metrics"]) == {"lstm", *BASELINES}
    for name, values in metrics["mean"].items():
        for key, value in values.items():
            expected = np.mean([fold["metrics"][name][key] for fold in folds])
            assert value == pytest.approx(expected), (name, key)
    assert metrics["best"] in metrics["mean"] and metrics["verdict"]
    for relative in ("config.yaml", "report.html", "plots/mase_by_fold.png"):
        assert (run / relative).is_file()
    out = backtest_run["result"].out
    assert "fold 1" in out and "fold 2" in out and out.count("run folder:") == 1


@pytest.mark.slow
def test_backtest_naive_scores_match_a_hand_computation(backtest_run):
    """Fold i forecasts its block from origins every H = 3 rows with the last observed value."""
    y = backtest_run["frame"]["value"].to_numpy()
    metrics = json.loads((backtest_run["run"] / "metrics.json").read_text())
    for fold, (start, end) in zip(metrics["folds"], [(96, 108), (108, 120)], strict=True):
        errors = [y[o + h] - y[o - 1] for o in range(start, end - 2, 3) for h in range(3)]
        assert len(errors) == 12
        assert fold["metrics"]["naive"]["mae"] == pytest.approx(np.mean(np.abs(errors)))
        rmse = np.sqrt(np.mean(np.square(errors)))
        assert fold["metrics"]["naive"]["rmse"] == pytest.approx(rmse)


# -- anomalies -------------------------------------------------------------------------------

SPIKE = 170  # inside the test part of 200 rows (rows 160..199)


@pytest.fixture(scope="module")
def spiky_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("anomalies")
    frame = seasonal_frame(n=200, period=12, noise=0.0, amplitude=3.0, trend=0.0)
    frame.loc[SPIKE, "value"] += 15.0
    data = write_csv(folder / "spiky.csv", frame)
    result = run_cli(["forecast", "fit", "--data", data, "--time-col", "date", "--target", "value",
                      "--lookback", "24", "--horizon", "1", *FAST_FIT, "--epochs", "10",
                      "--out", folder / "run"])
    assert result.code == 0, result.err
    return {"run": folder / "run", "frame": frame, "data": data}


@pytest.mark.slow
def test_anomalies_flag_the_injected_spike(spiky_run):
    run = spiky_run["run"]
    result = run_cli(["forecast", "anomalies", "--run", run])
    assert result.code == 0, result.err
    flagged = pd.read_csv(run / "anomalies" / "anomalies.csv")
    spike_time = pd.Timestamp(spiky_run["frame"].loc[SPIKE, "date"])
    times = pd.to_datetime(flagged["time"])
    assert spike_time in set(times)
    largest = flagged.loc[flagged["residual"].abs().idxmax()]
    assert pd.Timestamp(largest["time"]) == spike_time and largest["residual"] > 10
    assert flagged["anomaly"].all()
    assert (run / "anomalies" / "anomalies_0.png").is_file()
    again = run_cli(["forecast", "anomalies", "--run", run])
    assert again.code == 2 and "--overwrite" in again.err
    assert run_cli(["forecast", "anomalies", "--run", run, "--overwrite"]).code == 0


@pytest.mark.slow
@pytest.mark.parametrize("level", ["0", "1.5"])
def test_anomalies_level_outside_its_range_is_a_user_error(spiky_run, tmp_path, level):
    result = run_cli(["forecast", "anomalies", "--run", spiky_run["run"], "--level", level,
                      "--out", tmp_path / "scan"])
    assert result.code == 2, (result.code, result.err, result.out[-300:])
    assert result.err.startswith("error: --level") and len(result.err_lines) == 1
    assert not (tmp_path / "scan").exists()


@pytest.mark.slow
def test_detect_scores_every_observation_after_the_first_window(spiky_run):
    forecaster = Forecaster.load(spiky_run["run"])
    table = detect(forecaster, level=0.99)
    assert len(table) == 200 - 24
    assert (table["lower"] <= table["forecast"]).all()
    assert (table["forecast"] <= table["upper"]).all()
    np.testing.assert_allclose(table["residual"], table["actual"] - table["forecast"])
    flagged = table["anomaly"].to_numpy()
    outside = ((table["actual"] < table["lower"]) | (table["actual"] > table["upper"])).to_numpy()
    np.testing.assert_array_equal(flagged, outside)
    parts = table["part"].tolist()
    # 200 rows: training < 140, validation 140..159, test from 160; rows start at 24
    assert parts[:116] == ["train"] * 116 and parts[116:136] == ["validation"] * 20
    assert parts[136:] == ["test"] * 40


# -- compare -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compare_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("compare")
    data = write_csv(folder / "tiny.csv", seasonal_frame(n=120))
    result = run_cli(["forecast", "compare", "--data", data, "--time-col", "date", "--target",
                      "value", "--lookback", "14", "--horizon", "3", *FAST_FIT, "--epochs", "2",
                      "--out", folder / "cmp"])
    assert result.code == 0, result.err
    return {"run": folder / "cmp", "data": data}


@pytest.mark.slow
def test_compare_trains_the_five_variants_on_one_split(compare_run):
    run = compare_run["run"]
    metrics = json.loads((run / "metrics.json").read_text())
    variants = ["mlp", "lstm_features", "lstm_timesteps", "gru", "rnn"]
    assert list(VARIANTS) == variants
    assert set(metrics["test"]) == {*variants, *BASELINES}
    assert set(metrics["epochs"]) == set(variants)
    for name in variants:
        loaded = Forecaster.load(run / "model" / name)
        assert loaded.config.model == VARIANTS[name]["model"]
        assert loaded.config.layout == VARIANTS[name].get("layout", "timesteps")
    config = yaml.safe_load((run / "config.yaml").read_text())["config"]
    assert set(config) == set(variants) and config["lstm_features"]["layout"] == "features"
    naive = metrics["test"]["naive"]["mae"]
    assert all(metrics["test"][name]["mae"] != naive for name in variants)


@pytest.mark.slow
def test_a_compare_variant_can_be_used_by_predict(compare_run):
    """`Forecaster.load` accepts <run>/model/<variant>; the CLI verbs must reach it too
    (neither --run <run> nor --run <run>/model/<variant> works otherwise)."""
    variant = compare_run["run"] / "model" / "gru"
    result = run_cli(["forecast", "predict", "--run", variant, "--data", compare_run["data"]])
    assert result.code == 0, result.err
    assert "2000-04-30" in result.out
