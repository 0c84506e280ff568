"""Issue 17: trading-day calendars, returns, categorical covariates, baselines that scale and
fail honestly, adaptive intervals, the lagged-copy check. Generated data only."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from rnnlab.config import TrainConfig
from rnnlab.data.timeseries import infer_frequency, season_for
from rnnlab.errors import UserError
from rnnlab.tasks.forecasting import ForecastConfig, Forecaster
from rnnlab.tasks.forecasting.arima import fit_arima
from rnnlab.tasks.forecasting.baselines import all_baselines, arima, failure
from rnnlab.tasks.forecasting.data import Preprocessor, training_levels
from rnnlab.tasks.forecasting.intervals import online_halfwidths, recent_volatility
from rnnlab.tasks.forecasting.metrics import copy_lag, implied_returns, return_metrics, verdict
from rnnlab.tasks.forecasting.series import load_series
from tests.conftest import FAST_FIT, run_cli, write_csv

TRAIN = TrainConfig(epochs=2, patience=2, device="cpu", quiet=True, seed=0)


def trading_frame(n: int = 161, holidays: tuple[int, ...] = (7, 30, 31, 90), seed: int = 0
                  ) -> pd.DataFrame:
    """A random-walk price on business days from Monday 2021-01-04, a few weekdays removed."""
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2021-01-04", periods=n + len(holidays)).delete(list(holidays))
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    return pd.DataFrame({"Date": days.strftime("%Y-%m-%d"), "Close": close})


def _config(**changes) -> ForecastConfig:
    base = {"target": ("Close",), "time_col": "Date", "lookback": 10, "horizon": 3,
            "hidden": 8, "arima_order": (0, 1, 0), "train": TRAIN}
    return ForecastConfig(**{**base, **changes})


# -- calendars ---------------------------------------------------------------------------------


def test_business_days_with_holidays_are_inferred_as_b_and_need_no_fill():
    frame = trading_frame()
    series = load_series(_config(), frame, "prices.csv")
    assert series.freq == "B" and season_for(series.freq) == 5
    assert len(series) == 161  # the holidays are not invented as rows
    assert np.isfinite(series.targets).all()


def test_a_daily_series_with_weekends_stays_daily():
    index = pd.date_range("2021-01-01", periods=40, freq="D").delete([5, 17])
    assert infer_frequency(index) == "D"


def test_a_gap_longer_than_holidays_needs_fill_and_says_how_many_and_where():
    frame = trading_frame(holidays=(40, 41, 42, 43, 44, 45))  # six weekdays in a row
    with pytest.raises(UserError, match=r"prices.csv: 6 timestamp\(s\) \(more than 4 in a row\) "
                       r"missing from the regular B grid, first 2021-03-01, in 1 gap\(s\), the "
                       r"longest 6 from 2021-03-01 to 2021-03-08; pass --fill"):
        load_series(_config(), frame, "prices.csv")
    filled = load_series(_config(fill="ffill"), frame, "prices.csv")
    assert len(filled) == 167  # with --fill every missing weekday becomes a row


def test_business_day_fit_has_season_5_and_predicts_on_the_next_weekdays():
    frame = trading_frame()
    forecaster = Forecaster(_config()).fit(frame, source="prices.csv")
    assert forecaster.season_ == 5
    table = forecaster.predict(frame)
    last = pd.Timestamp(frame["Date"].iloc[-1])
    assert last.dayofweek == 4  # the generated series ends on a Friday
    expected = pd.bdate_range(last + pd.Timedelta(days=1), periods=3)
    assert list(table.index) == list(expected)
    assert all(day.dayofweek < 5 for day in table.index)


def test_freq_option_validates_and_checks_rows_lie_on_the_calendar():
    with pytest.raises(UserError, match="--freq 'fortnightly' is not a pandas frequency"):
        _config(freq="fortnightly").validate()
    daily = pd.DataFrame({"Date": pd.date_range("2021-01-01", periods=30).strftime("%Y-%m-%d"),
                          "Close": np.arange(30.0) + 1})
    with pytest.raises(UserError, match=r"9 row\(s\) are not on the --freq B calendar, first "
                       "2021-01-02"):
        load_series(_config(freq="B"), daily, "daily.csv")


def test_freq_none_fits_an_irregular_file_by_position(tmp_path):
    rng = np.random.default_rng(1)
    stamps = pd.Timestamp("2021-01-01") + pd.to_timedelta(np.cumsum(rng.integers(1, 90, 120)),
                                                          unit="min")
    frame = pd.DataFrame({"Date": stamps.strftime("%Y-%m-%d %H:%M"),
                          "Close": 50 + np.cumsum(rng.normal(0, 1, 120))})
    data = write_csv(tmp_path / "irregular.csv", frame)
    run = tmp_path / "run"
    result = run_cli(["forecast", "fit", "--data", data, "--time-col", "Date", "--target",
                      "Close", "--lookback", "10", "--horizon", "2", "--freq", "none",
                      *FAST_FIT, "--out", run])
    assert result.code == 0, result.err
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["freq"] is None and metrics["season"] == 1
    table = Forecaster.load(run).predict(frame)
    assert list(table.index) == [120, 121]  # positions after the last row, not dates


# -- returns -----------------------------------------------------------------------------------


@pytest.mark.parametrize("transform", ["returns", "log-returns"])
def test_returns_round_trip_to_prices_exactly(transform):
    prices = np.array([[100.0], [110.0], [99.0], [108.9], [120.0], [60.0]])
    series = load_series(_config(transform=transform, time_col=None),
                         pd.DataFrame({"Close": prices[:, 0]}))
    pre = Preprocessor(_config(transform=transform)).fit(series, train_end=6)
    changes = pre.transform_targets(prices)
    expected = [0.1, -0.1, 0.1, 120 / 108.9 - 1, -0.5]
    if transform == "log-returns":
        expected = np.log1p(expected)
    np.testing.assert_allclose(changes[1:, 0], expected, rtol=1e-12)
    assert np.isnan(changes[0, 0]) and pre.first_valid == 1
    scaled = pre.scaled_targets(series)
    origins = np.array([1, 2, 3])
    windows = np.stack([scaled[o:o + 3] for o in origins])  # the next 3 changes, scaled
    np.testing.assert_allclose(pre.invert(windows, origins, prices),
                               np.stack([prices[o:o + 3] for o in origins]), rtol=1e-12)


def test_transform_refuses_log_and_non_positive_prices():
    with pytest.raises(UserError, match="--transform returns already models changes of the "
                       "prices; drop --log"):
        _config(transform="returns", log=True).validate()
    frame = pd.DataFrame({"Close": [1.0, 2.0, 0.0, 3.0]})
    with pytest.raises(UserError, match="line 4: --transform log-returns needs positive"):
        load_series(_config(transform="log-returns", time_col=None), frame, "p.csv")


def test_metrics_on_returns_and_the_returns_a_forecast_implies():
    last = np.array([[100.0]])
    truth = np.array([[[110.0], [99.0]]])  # returns +10%, -10%
    forecast = np.array([[[105.0], [105.0]]])  # returns +5%, 0%
    np.testing.assert_allclose(implied_returns(forecast, last)[0, :, 0], [0.05, 0.0])
    metrics = return_metrics(truth, forecast, last)
    assert metrics["return_mae"] == pytest.approx((5 + 10) / 2)
    assert metrics["return_rmse"] == pytest.approx(np.sqrt((25 + 100) / 2))


def test_copy_lag_is_one_for_a_shifted_copy_and_zero_for_a_real_forecast():
    y = (100 + np.cumsum(np.random.default_rng(2).normal(0, 1, 200)))[:, None]
    origins = np.arange(20, 200)
    assert copy_lag(y[origins - 1], y, origins) == 1  # the naive forecast
    assert copy_lag(y[origins], y, origins) == 0  # a perfect one
    assert copy_lag(y[origins - 3], y, origins) == 3


def test_transform_fit_reports_returns_and_the_lagged_copy(tmp_path):
    data = write_csv(tmp_path / "prices.csv", trading_frame())
    result = run_cli(["forecast", "fit", "--data", data, "--time-col", "Date", "--target",
                      "Close", "--lookback", "10", "--horizon", "2", "--transform",
                      "log-returns", *FAST_FIT, "--out", tmp_path / "run"])
    assert result.code == 0, result.err
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["transform"] == "log-returns" and metrics["freq"] == "B"
    for name in ("lstm", "naive"):
        assert {"return_mae", "copy_lag", "mase"} <= set(metrics["test"][name])
    assert metrics["test"]["naive"]["copy_lag"] == 1
    assert "on returns" in result.out
    assert "On returns" in (tmp_path / "run" / "report.html").read_text()


# -- categorical covariates --------------------------------------------------------------------


def _wind_frame(n: int = 150, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    wind = rng.choice(["NW", "SE", "cv"], n)
    wind[-20:] = "NE"  # a level that first appears after the training part
    level = 50 + np.cumsum(rng.normal(0, 1, n)) + 3 * (wind == "NW")
    return pd.DataFrame({"Date": pd.date_range("2021-01-01", periods=n, freq="h")
                         .strftime("%Y-%m-%d %H:%M"), "Close": level, "cbwd": wind})


def test_one_hot_levels_are_fitted_on_the_training_part_only_and_saved(tmp_path):
    frame = _wind_frame()
    forecaster = Forecaster(_config(features=("cbwd",))).fit(frame, source="air.csv")
    assert forecaster.preprocessor_.categories == {"cbwd": ["NW", "SE", "cv"]}  # no NE
    # inputs: the target, 3 levels + "other", calendar none: 5 columns
    assert forecaster.n_inputs_ == 5
    loaded = Forecaster.load(forecaster.save(tmp_path / "model"))
    assert loaded.preprocessor_.categories == {"cbwd": ["NW", "SE", "cv"]}
    state = json.loads((tmp_path / "model" / "forecaster.json").read_text())
    assert state["preprocessor"]["categories"] == {"cbwd": ["NW", "SE", "cv"]}
    np.testing.assert_allclose(loaded.predict(frame.iloc[:100]).to_numpy(),
                               forecaster.predict(frame.iloc[:100]).to_numpy(), rtol=1e-6)


def test_one_hot_columns_and_rare_levels_share_other():
    series = load_series(_config(features=("cbwd",), time_col=None),
                         pd.DataFrame({"Close": [1.0, 2, 3, 4], "cbwd": ["a", "b", "a", "z"]}))
    pre = Preprocessor(_config(features=("cbwd",))).fit(series, train_end=3)
    assert pre.categories == {"cbwd": ["a", "b"]}
    np.testing.assert_array_equal(pre.one_hot(series), [[1, 0, 0], [0, 1, 0], [1, 0, 0],
                                                        [0, 0, 1]])
    levels, rare = training_levels(np.array([f"l{i % 25}" for i in range(100)] + ["l0"] * 5))
    assert len(levels) == 20 and "l0" in levels and len(rare) == 5


def test_unseen_category_at_predict_time_is_other_with_a_warning(tmp_path):
    frame = _wind_frame()
    data = write_csv(tmp_path / "air.csv", frame.iloc[:120])
    run = tmp_path / "run"
    fit = run_cli(["forecast", "fit", "--data", data, "--time-col", "Date", "--target",
                   "Close", "--features", "cbwd", "--lookback", "10", "--horizon", "2",
                   *FAST_FIT, "--out", run])
    assert fit.code == 0, fit.err
    recent = write_csv(tmp_path / "recent.csv", frame)
    result = run_cli(["forecast", "predict", "--run", run, "--data", recent])
    assert result.code == 0, result.err
    assert ("warning: recent.csv column 'cbwd' has categories not seen in training ('NE'); "
            "they are treated as 'other'") in result.out.replace("\n", " ")


def test_a_numeric_column_with_a_stray_word_is_still_a_typo():
    frame = pd.DataFrame({"Close": [1.0, 2, 3, 4], "x": ["1", "2", "oops", "4"]})
    with pytest.raises(UserError, match="line 4: column 'x' has 'oops', which is not a number"):
        load_series(_config(features=("x",), time_col=None), frame, "f.csv")


# -- baselines that scale and never lie ----------------------------------------------------------


def _ar1(n: int = 120, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = np.full(n, 5.0)
    for t in range(1, n):
        y[t] = 5 + 0.7 * (y[t - 1] - 5) + rng.normal()
    return y


@pytest.mark.parametrize("order", [(1, 0, 1), (1, 1, 0), (0, 1, 1, 0, 1, 1)])
def test_arima_one_pass_equals_a_refit_free_per_origin_reference(order):
    y = _ar1() + np.sin(np.arange(120) * 2 * np.pi / 4)
    origins = np.array([45, 70, 71, 90, 110, 117])
    fit_end, window, horizon = 70, 40, 3
    forecasts, _ = arima(y[:, None], origins, horizon, season=4, fit_end=fit_end, order=order,
                         window=window)
    result, _, _ = fit_arima(y[fit_end - window:fit_end], 4, order)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = np.stack([result.apply(y[fit_end - window:o]).forecast(horizon)
                              for o in origins])
    np.testing.assert_allclose(forecasts[:, :, 0], reference, atol=1e-6)


def test_arima_is_fitted_on_a_bounded_recent_window():
    y = _ar1()
    changed = y.copy()
    changed[:30] += 50  # rows before the window: they must not matter
    first, notes = arima(y[:, None], np.array([100]), 2, 1, fit_end=90, order=(1, 0, 0),
                         window=60)
    second, _ = arima(changed[:, None], np.array([100]), 2, 1, fit_end=90, order=(1, 0, 0),
                      window=60)
    np.testing.assert_allclose(first, second)
    assert notes == ["ARIMA(1,0,0); fitted on the last 60 rows before the test"]


def test_failure_reasons():
    history = np.array([[1.0], [2.0], [3.0]])
    assert failure(np.array([[[2.5]]]), history) is None
    assert "1 of 2 forecasts are not finite" in failure(np.array([[[1.0], [np.nan]]]), history)
    assert "forecasts 0.0 at every origin" in failure(np.zeros((2, 2, 1)), history)
    assert failure(np.array([[[40.0]]]), history).startswith("diverged")


def test_statsmodels_errors_and_zero_forecasts_become_failed_baselines():
    constant = np.full((120, 1), 7.0)  # statsmodels' unit-root test refuses a constant series
    forecasts, notes, failed = all_baselines(constant, np.array([100, 105]), 3, 1, 95)
    assert "arima" not in forecasts and "naive" in forecasts
    assert failed == {"arima": "statsmodels failed: Invalid input, x is constant"}
    growth = np.exp(np.linspace(0, 60, 120))[:, None]  # ARIMA forecasts 0.0 here
    forecasts, _, failed = all_baselines(growth, np.array([100, 105]), 3, 1, 95, (1, 1, 0))
    assert failed == {"arima": "forecasts 0.0 at every origin from a series that is not zero"}


def test_verdict_never_ranks_a_failed_baseline():
    metrics = {"lstm": {"mase": 1.2, "mae": 1.0}, "naive": {"mase": 1.0, "mae": 0.9},
               "arima": {"failed": "forecasts 0.0 at every origin"}}
    best, sentence = verdict(metrics, ["lstm"])
    assert best == "naive" and "arima" not in sentence


def test_a_failed_arima_is_reported_failed_never_a_number(tmp_path):
    frame = pd.DataFrame({"Date": pd.date_range("2021-01-01", periods=120).strftime("%Y-%m-%d"),
                          "Close": np.exp(np.linspace(0, 60, 120))})
    data = write_csv(tmp_path / "growth.csv", frame)
    run = tmp_path / "run"
    result = run_cli(["forecast", "fit", "--data", data, "--time-col", "Date", "--target",
                      "Close", "--lookback", "10", "--horizon", "2", *FAST_FIT[:-2],
                      "--arima-order", "1,1,0", "--out", run])
    assert result.code == 0, result.err
    metrics = json.loads((run / "metrics.json").read_text())
    reason = "forecasts 0.0 at every origin from a series that is not zero"
    assert metrics["test"]["arima"] == {"failed": reason}
    assert metrics["failed"] == {"arima": reason}
    assert metrics["best"] != "arima" and "arima" not in metrics["verdict"].split("Left out")[0]
    assert "Left out as failed: arima." in metrics["verdict"]
    assert "FAILED" in result.out and f"arima: FAILED: {reason}" in result.out
    report = (run / "report.html").read_text()
    assert "FAILED" in report and reason in report
    assert "arima" not in pd.read_csv(run / "forecast.csv").columns


# -- adaptive intervals ------------------------------------------------------------------------


def test_recent_volatility_is_the_mean_absolute_change_before_the_origin():
    y = np.array([0.0, 1.0, 3.0, 6.0, 10.0, 15.0])[:, None]  # changes 1, 2, 3, 4, 5
    np.testing.assert_allclose(recent_volatility(y, np.array([4, 6]), rows=2)[:, 0],
                               [(2 + 3) / 2, (4 + 5) / 2])


def test_online_halfwidths_use_only_scores_observed_before_each_origin():
    val = np.arange(1.0, 10.0)[:, None, None]  # 9 validation scores 1..9
    seen = np.array([100.0, 200.0])[:, None, None]  # test scores, from origins 10 and 11
    origins = np.array([10, 11, 12])
    width = online_halfwidths(val, seen, origins, origins, np.ones((3, 1)), 0.8)[:, 0, 0]
    # origin 10: the 9 validation scores, rank ceil(10 * 0.8) = 8 -> 8
    # origin 11: + 100 (its target, y[10], is observed) -> 10 scores, rank 9 -> 9
    # origin 12: + 200 -> 11 scores, rank ceil(12 * 0.8) = 10 -> 100
    np.testing.assert_allclose(width, [8, 9, 100])
    recent = online_halfwidths(val, seen, origins, origins, np.full((3, 1), 2.0), 0.8,
                               recent=3)[:, 0, 0]
    np.testing.assert_allclose(recent, [2 * 9, 2 * 100, 2 * 200])  # last 3 scores only


def test_backtest_mean_keeps_a_baseline_failed_in_any_fold_failed():
    from rnnlab.tasks.forecasting.backtest import mean_metrics

    folds = [{"lstm": {"mase": 1.0}, "arima": {"mase": 2.0}},
             {"lstm": {"mase": 3.0}, "arima": {"failed": "diverged"}}]
    assert mean_metrics(folds) == {"lstm": {"mase": 2.0}, "arima": {"failed": "diverged"}}
