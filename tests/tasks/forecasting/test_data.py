"""Forecasting data: reading and validating the series, the split, and the Preprocessor, which
must be fitted on the training rows only."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from rnnlab.data.datasets import resolve_data
from rnnlab.data.timeseries import gather
from rnnlab.errors import UserError
from rnnlab.tasks.forecasting.config import ForecastConfig
from rnnlab.tasks.forecasting.data import (
    Preprocessor,
    Split,
    WindowDataModule,
    WindowTensors,
    make_split,
)
from rnnlab.tasks.forecasting.series import Series, load_series


def _config(**changes) -> ForecastConfig:
    base = {"target": ("value",), "time_col": "date", "lookback": 5, "horizon": 2}
    return ForecastConfig(**{**base, **changes})


def _daily(values, start: str = "2000-01-01") -> pd.DataFrame:
    dates = pd.date_range(start, periods=len(values), freq="D").strftime("%Y-%m-%d")
    return pd.DataFrame({"date": dates, "value": values})


def _series(targets: np.ndarray, features: np.ndarray | None = None) -> Series:
    targets = np.asarray(targets, dtype=np.float64).reshape(len(targets), -1)
    features = np.zeros((len(targets), 0)) if features is None else features
    return Series(pd.RangeIndex(len(targets)), targets, features, None, "t.csv")


# -- load_series -----------------------------------------------------------------------------


def test_load_series_parses_sorts_and_infers_the_frequency():
    frame = _daily([1.0, 2.0, 3.0, 4.0, 5.0]).iloc[[3, 0, 4, 1, 2]]  # shuffled rows
    series = load_series(_config(), frame, "shuffled.csv")
    assert series.targets[:, 0].tolist() == [1, 2, 3, 4, 5]
    assert series.freq == "D" and series.source == "shuffled.csv"
    assert series.index[0] == pd.Timestamp("2000-01-01")
    assert series.features.shape == (5, 0)


def test_load_series_without_time_column_keeps_file_order():
    series = load_series(_config(time_col=None), pd.DataFrame({"value": [3, 1, 2]}))
    assert series.targets[:, 0].tolist() == [3, 1, 2]
    assert series.freq is None and list(series.index) == [0, 1, 2]


def test_load_series_reads_a_column_of_years():
    frame = pd.DataFrame({"year": [1885, 1886, 1887, 1888], "value": [1, 2, 3, 4]})
    series = load_series(_config(time_col="year"), frame)
    assert series.index[0] == pd.Timestamp("1885-01-01") and len(series) == 4


def test_load_series_with_features_and_two_targets():
    frame = _daily([1.0, 2.0, 3.0]).assign(other=[10, 20, 30], temp=["1.5", "2.5", "3.5"])
    series = load_series(_config(target=("value", "other"), features=("temp",)), frame)
    assert series.targets.tolist() == [[1, 10], [2, 20], [3, 30]]
    assert series.features.tolist() == [[1.5], [2.5], [3.5]]


def test_bad_date_names_the_line():
    frame = _daily([1.0, 2.0, 3.0])
    frame.loc[1, "date"] = "yesterday"
    with pytest.raises(UserError, match=r"d\.csv line 3: time column 'date' has 'yesterday'"):
        load_series(_config(), frame, "d.csv")


def test_non_numeric_value_names_line_column_and_value():
    frame = _daily([1.0, 2.0, 3.0, 4.0]).astype({"value": object})
    frame.loc[2, "value"] = "n/a?"
    with pytest.raises(UserError, match=r"d\.csv line 4: column 'value' has 'n/a\?', which is "
                                        "not a number"):
        load_series(_config(), frame, "d.csv")


def test_line_numbers_refer_to_the_file_even_when_it_is_newest_first():
    """Downloads of prices are often newest first; the message must point at the file's line."""
    frame = _daily([1.0, 2.0, 3.0, 4.0, 5.0]).astype({"value": object}).iloc[::-1]
    frame = frame.reset_index(drop=True)  # as read from the file: line = position + 2
    frame.loc[1, "value"] = "oops"  # second data row of the file: line 3
    with pytest.raises(UserError, match=r"line 3: column 'value' has 'oops'"):
        load_series(_config(), frame, "newest-first.csv")


def test_duplicate_timestamps_name_both_lines():
    frame = _daily([1.0, 2.0, 3.0, 4.0])
    frame.loc[3, "date"] = frame.loc[1, "date"]
    with pytest.raises(UserError, match=r"timestamp 2000-01-02 00:00:00 appears twice \(lines "
                                        r"3 and 5\) in 'date'"):
        load_series(_config(), frame, "d.csv")


def test_nan_without_fill_names_the_line_and_fill_options():
    frame = _daily([1.0, 2.0, np.nan, 4.0, 5.0])
    with pytest.raises(UserError, match=r"d\.csv line 4: column 'value' is empty \(NaN\); pass "
                                        "--fill ffill or --fill interpolate"):
        load_series(_config(), frame, "d.csv")


@pytest.mark.parametrize(("fill", "expected"), [
    ("interpolate", [1.0, 2.0, 3.0, 4.0, 5.0]),
    ("ffill", [1.0, 2.0, 2.0, 4.0, 5.0]),
])
def test_fill_modes(fill, expected):
    series = load_series(_config(fill=fill), _daily([1.0, 2.0, np.nan, 4.0, 5.0]))
    assert series.targets[:, 0].tolist() == expected


def test_leading_nan_is_filled_from_the_first_value():
    series = load_series(_config(fill="ffill"), _daily([np.nan, 2.0, 3.0]))
    assert series.targets[:, 0].tolist() == [2.0, 2.0, 3.0]


def test_missing_timestamps_need_fill_then_become_rows():
    frame = _daily([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).drop(index=[2, 3])  # two days missing
    with pytest.raises(UserError, match=r"2 timestamp\(s\) missing from the regular D grid, "
                                        "first 2000-01-03, in 1 gap\\(s\\), the longest 2 from "
                                        "2000-01-03 to 2000-01-04; pass --fill"):
        load_series(_config(), frame, "gaps.csv")
    series = load_series(_config(fill="interpolate"), frame)
    assert len(series) == 6 and series.targets[:, 0].tolist() == [1, 2, 3, 4, 5, 6]


def test_bundled_daily_temperatures_report_their_two_missing_dates():
    cfg = _config(data="daily-min-temperatures", time_col="Date", target=("Temp",))
    with pytest.raises(UserError, match=r"2 timestamp\(s\) missing .* first 1984-12-31"):
        load_series(cfg)
    series = load_series(cfg.replace(fill="interpolate"))
    assert len(series) == 3652 and series.freq == "D" and series.source == resolve_data(
        "daily-min-temperatures").name


def test_missing_column_lists_the_columns():
    with pytest.raises(UserError, match=r"d\.csv has no column 'Sales' \(given by --target\); "
                                        "its columns are: date, value"):
        load_series(_config(target=("Sales",)), _daily([1.0, 2.0]), "d.csv")


# -- split ---------------------------------------------------------------------------------


def test_split_sizes_by_hand():
    # 100 rows: test round(0.2 * 100) = 20, validation round(0.1 * 100) = 10, training 70
    split = make_split(_config(), 100, 0, "d.csv")
    assert split == Split(train_end=70, val_end=80, n=100)
    assert split.sizes == {"train": 70, "val": 10, "test": 20}


def test_split_sizes_in_rows_and_validation_at_least_one_horizon():
    split = make_split(_config(test_size=12, val_size=0.01, horizon=6), 100, 0, "d.csv")
    assert split.sizes == {"train": 82, "val": 6, "test": 12}


def test_split_of_a_short_series_says_how_many_rows_are_needed():
    # 30 rows: test 6, validation 3, training 21 < lookback 24 + horizon 1 -> 25 + 3 + 6 = 34
    with pytest.raises(UserError) as info:
        make_split(_config(lookback=24, horizon=1), 30, 0, "short.csv")
    assert str(info.value) == (
        "short.csv has 30 rows; --lookback 24 with --horizon 1 needs at least 34 (training 25, "
        "validation 3, test 6); use a smaller --lookback/--horizon or a longer series")


def test_split_exactly_long_enough():
    # lookback 5, horizon 2: training needs 7 rows; test and validation 2 rows each
    split = make_split(_config(test_size=2, val_size=2), 11, 0, "d.csv")
    assert split.sizes == {"train": 7, "val": 2, "test": 2}
    with pytest.raises(UserError, match="needs at least 11"):
        make_split(_config(test_size=2, val_size=2), 10, 0, "d.csv")


# -- Preprocessor: fitted on the training rows only ------------------------------------------


def _rising(n: int = 50, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 10 + np.cumsum(rng.uniform(0.1, 1.0, n))


def test_scaler_mean_is_the_mean_of_the_training_rows():
    y = _rising()
    pre = Preprocessor(_config(scale="standard")).fit(_series(y), train_end=35)
    state = pre.to_dict()["target_scaler"]
    assert state["mean_"] == pytest.approx([y[:35].mean()])
    assert state["scale_"] == pytest.approx([y[:35].std()])
    assert y.mean() != pytest.approx(y[:35].mean())  # the whole series would differ


@pytest.mark.parametrize("options", [
    {"scale": "standard"}, {"scale": "minmax"}, {"scale": "standard", "log": True},
    {"scale": "standard", "diff": True}, {"scale": "minmax", "log": True, "diff": True},
    {"scale": "standard", "lags": (3,)},
])
def test_changing_validation_and_test_rows_does_not_change_the_fitted_state(options):
    y = _rising()
    features = np.stack([np.sin(np.arange(50.0)), np.arange(50.0)], axis=1)
    later = y.copy()
    later[35:] = later[35:] * 7 + 1000  # a different future
    features_later = features.copy()
    features_later[35:] = -500
    cfg = _config(**options)
    first = Preprocessor(cfg).fit(_series(y, features), train_end=35).to_dict()
    second = Preprocessor(cfg).fit(_series(later, features_later), train_end=35).to_dict()
    assert first == second
    # and it did depend on the training rows
    earlier = y.copy()
    earlier[:35] += np.linspace(0, 5, 35)
    assert Preprocessor(cfg).fit(_series(earlier, features), train_end=35).to_dict() != first


def test_log_diff_scaler_is_fitted_on_the_training_log_differences():
    y = _rising()
    pre = Preprocessor(_config(log=True, diff=True)).fit(_series(y), train_end=35)
    by_hand = np.diff(np.log(y[:35]))  # the first difference needs row 0, so 34 values
    assert pre.first_valid == 1
    assert pre.to_dict()["target_scaler"]["mean_"] == pytest.approx([by_hand.mean()])


def test_feature_scaler_is_fitted_on_the_training_rows():
    features = np.arange(100.0).reshape(50, 2)
    pre = Preprocessor(_config()).fit(_series(_rising(), features), train_end=20)
    assert pre.to_dict()["feature_scaler"]["mean_"] == pytest.approx(features[:20].mean(axis=0))


@pytest.mark.parametrize("options", [{}, {"log": True}, {"diff": True},
                                     {"log": True, "diff": True, "scale": "minmax"},
                                     {"scale": "none"}])
def test_invert_recovers_the_original_targets(options):
    y = np.stack([_rising(), _rising(seed=1) * 3], axis=1)
    series = _series(y)
    pre = Preprocessor(_config(**options)).fit(series, train_end=35)
    origins = np.array([10, 20, 45])
    scaled = gather(pre.scaled_targets(series), origins, 0, 3)
    np.testing.assert_allclose(pre.invert(scaled, origins, series.targets),
                               gather(series.targets, origins, 0, 3))


def test_state_round_trips_through_json():
    series = _series(_rising(), np.arange(100.0).reshape(50, 2))
    pre = Preprocessor(_config(log=True, diff=True, lags=(2, 4))).fit(series, train_end=35)
    restored = Preprocessor.from_dict(json.loads(json.dumps(pre.to_dict())))
    np.testing.assert_array_equal(restored.inputs(series), pre.inputs(series))
    assert restored.first_valid == pre.first_valid == 5


def test_inputs_hold_targets_features_lags_and_calendar():
    index = pd.date_range("2000-01-01", periods=10, freq="D")
    series = Series(index, np.arange(10.0)[:, None], np.ones((10, 1)), "D", "t.csv")
    cfg = _config(scale="none", lags=(2,), calendar=("auto",))
    pre = Preprocessor(cfg, freq="D").fit(series, train_end=8)
    inputs = pre.inputs(series)
    # target, feature, target lag 2, feature lag 2, dow sin/cos, doy sin/cos
    assert inputs.shape == (10, 8) and inputs.dtype == np.float32
    assert inputs[5, :4].tolist() == [5.0, 1.0, 3.0, 1.0]
    assert np.isnan(inputs[1, 2])  # no lag 2 before row 2
    assert pre.calendar == ["dow", "doy"]


def test_log_of_non_positive_targets_is_a_user_error():
    with pytest.raises(UserError, match=r"t\.csv line 4: --log needs positive targets"):
        Preprocessor(_config(log=True)).fit(_series([3.0, 2.0, 0.0, 1.0]), train_end=4)


# -- batches ---------------------------------------------------------------------------------


def test_window_tensors_batch_at_once_and_datamodule_shuffles_training_only():
    inputs = np.arange(40, dtype=np.float64).reshape(10, 2, 2)
    targets = np.arange(10, dtype=np.float64).reshape(10, 1, 1)
    data = WindowTensors(inputs, targets)
    x, y = data.__getitems__([3, 1])
    assert x.dtype == torch.float32 and x.shape == (2, 2, 2)
    assert y[:, 0, 0].tolist() == [3.0, 1.0]
    module = WindowDataModule(data, data, batch_size=4)
    val_batches = [y[:, 0, 0].tolist() for _, y in module.val_dataloader()]
    assert val_batches == [list(map(float, range(10)))]  # ordered, one batch
    torch.manual_seed(0)
    train_rows = [v for _, y in module.train_dataloader() for v in y[:, 0, 0].tolist()]
    # an epoch is at least min_steps=20 batches: 10 windows, batch 4 -> 8 shuffled passes
    assert len(train_rows) == 80
    assert sorted(train_rows) == sorted(list(map(float, range(10))) * 8)
    assert train_rows[:10] != sorted(train_rows[:10])
    big = WindowDataModule(WindowTensors(np.zeros((200, 2, 2)), np.zeros((200, 1, 1))), data,
                           batch_size=4)
    assert sum(len(x) for x, _ in big.train_dataloader()) == 200  # long series: one pass
