"""Pure time-series transforms: windows, frequency, calendar, scalers (numpy / pandas only)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from rnnlab.data.timeseries import (
    apply_scaler,
    calendar_features,
    default_calendar,
    fit_scaler,
    future_index,
    gather,
    infer_frequency,
    make_windows,
    scaler_from_dict,
    scaler_to_dict,
    season_for,
    window_origins,
)

# -- windows -------------------------------------------------------------------------------


def test_lecture_window_example_exactly():
    values = np.array([10, 20, 30, 40, 50, 60, 70, 80, 90])
    X, Y = make_windows(values, lookback=3, horizon=1)
    assert X.tolist() == [[10, 20, 30], [20, 30, 40], [30, 40, 50], [40, 50, 60], [50, 60, 70],
                          [60, 70, 80]]
    assert Y.tolist() == [[40], [50], [60], [70], [80], [90]]
    assert X.shape == (6, 3) and Y.shape == (6, 1)


def test_windows_longer_horizon_and_lookback():
    values = np.arange(10)
    X, Y = make_windows(values, lookback=4, horizon=3)
    # windows start at origins 4, 5, 6, 7 (the last target is value 9)
    assert X.tolist() == [[0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 5], [3, 4, 5, 6]]
    assert Y.tolist() == [[4, 5, 6], [5, 6, 7], [6, 7, 8], [7, 8, 9]]


def test_windows_stride_skips_origins():
    X, Y = make_windows(np.arange(10), lookback=2, horizon=1, stride=3)
    assert X.tolist() == [[0, 1], [3, 4], [6, 7]]
    assert Y.tolist() == [[2], [5], [8]]


def test_windows_of_two_dimensional_values_keep_the_feature_axis():
    values = np.stack([np.arange(6), 100 + np.arange(6)], axis=1)  # (time 6, features 2)
    X, Y = make_windows(values, lookback=2, horizon=2)
    assert X.shape == (3, 2, 2) and Y.shape == (3, 2, 2)
    assert X[0].tolist() == [[0, 100], [1, 101]]
    assert Y[0].tolist() == [[2, 102], [3, 103]]
    assert X[-1].tolist() == [[2, 102], [3, 103]]
    assert Y[-1].tolist() == [[4, 104], [5, 105]]


def test_exact_fit_gives_one_window_and_one_row_short_gives_none():
    X, Y = make_windows(np.arange(5), lookback=3, horizon=2)
    assert X.tolist() == [[0, 1, 2]] and Y.tolist() == [[3, 4]]
    X, Y = make_windows(np.arange(4), lookback=3, horizon=2)
    assert X.shape == (0, 3) and Y.shape == (0, 2)


def test_window_origins_bounds():
    # inputs [o-3, o) inside [0, 20); targets [o, o+2) inside [start, stop)
    assert window_origins(20, 3, 2).tolist() == list(range(3, 19))
    assert window_origins(20, 3, 2, start=10, stop=15).tolist() == [10, 11, 12, 13]
    assert window_origins(20, 3, 2, start=0, stop=6).tolist() == [3, 4]  # lookback wins
    assert window_origins(20, 3, 2, start=10, stop=15, stride=2).tolist() == [10, 12]
    assert window_origins(20, 3, 2, start=10, stop=11).tolist() == []  # 1 row < horizon 2
    for o in window_origins(50, 7, 4, start=20, stop=40):
        assert o - 7 >= 0 and o >= 20 and o + 4 <= 40


def test_gather_slices_relative_to_each_origin():
    values = np.arange(100, 110)
    assert gather(values, np.array([3, 7]), -2, 1).tolist() == [[101, 102, 103], [105, 106, 107]]


# -- time axis -----------------------------------------------------------------------------


@pytest.mark.parametrize(("index", "expected"), [
    (pd.date_range("2000-01-01", periods=30, freq="D"), "D"),
    (pd.date_range("2000-01-01", periods=50, freq="h"), "h"),
    (pd.date_range("2000-01-01", periods=24, freq="MS"), "MS"),
    (pd.date_range("2000-01-31", periods=24, freq="ME"), "ME"),
    (pd.date_range("2000-01-01", periods=30, freq="D").delete([4, 17]), "D"),  # two gaps
    (pd.date_range("2000-01-01", periods=24, freq="MS").delete([5]), "MS"),
])
def test_infer_frequency(index, expected):
    assert infer_frequency(index) == expected


def test_infer_frequency_gives_none_for_too_short_or_irregular_index():
    assert infer_frequency(pd.DatetimeIndex(["2000-01-01", "2000-01-02"])) is None
    every_60_hours = pd.date_range("2000-01-01", periods=10, freq="60h").delete([3])
    assert infer_frequency(every_60_hours) is None  # no calendar alias has a 2.5-day step


def test_season_for_common_frequencies():
    assert season_for("D") == 7 and season_for("h") == 24 and season_for("MS") == 12
    assert season_for("ME") == 12 and season_for("QS") == 4
    assert season_for(None) == 1 and season_for("YS") == 1


@pytest.mark.parametrize(("index", "step"), [
    (pd.date_range("2000-01-01", periods=30, freq="D"), pd.DateOffset(days=1)),
    (pd.date_range("2000-01-01", periods=30, freq="h"), pd.DateOffset(hours=1)),
    (pd.date_range("2000-01-01", periods=24, freq="MS"), pd.DateOffset(months=1)),
    (pd.date_range("2000-01-02", periods=20, freq="W-SUN"), pd.DateOffset(weeks=1)),
    # weekly data recorded on Mondays (weekly sales, weekly reports)
    (pd.date_range("2000-01-03", periods=20, freq="W-MON"), pd.DateOffset(weeks=1)),
    # fiscal years starting in July
    (pd.date_range("2000-07-01", periods=10, freq="YS-JUL"), pd.DateOffset(years=1)),
], ids=["daily", "hourly", "month-start", "weekly-sunday", "weekly-monday", "fiscal-year"])
def test_future_index_continues_the_inferred_frequency(index, step):
    """The timestamps `predict` prints must be the next steps of the user's own grid."""
    future = future_index(index[-1], infer_frequency(index), 3)
    expected = [index[-1] + k * step for k in (1, 2, 3)]
    assert list(future) == expected


def test_calendar_features_are_periodic_sin_cos_pairs():
    index = pd.date_range("2001-01-01", periods=48, freq="h")
    features = calendar_features(index, ["hour", "dow"])
    assert features.shape == (48, 4)
    assert np.all(np.abs(features) <= 1)
    np.testing.assert_allclose(features[:, 0] ** 2 + features[:, 1] ** 2, 1.0)
    np.testing.assert_allclose(features[0, :2], features[24, :2], atol=1e-12)  # same hour
    assert not np.allclose(features[0, 2:], features[24, 2:])  # but the next day of the week
    assert features[0, 0] == pytest.approx(0.0) and features[0, 1] == pytest.approx(1.0)
    assert features[6, 0] == pytest.approx(1.0)  # 06:00 is a quarter of the day
    assert calendar_features(index, []).shape == (48, 0)


def test_default_calendar_by_frequency():
    assert default_calendar("h") == ["hour", "dow"]
    assert default_calendar("D") == ["dow", "doy"]
    assert default_calendar("MS") == ["month"]
    assert default_calendar(None) == []


# -- scalers -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["standard", "minmax"])
def test_scaler_state_round_trips_through_json(kind):
    rng = np.random.default_rng(0)
    values = rng.normal(5, 3, size=(40, 2))
    scaler = fit_scaler(kind, values)
    state = json.loads(json.dumps(scaler_to_dict(scaler)))
    restored = scaler_from_dict(state)
    probe = rng.normal(0, 10, size=(7, 2))
    np.testing.assert_allclose(apply_scaler(restored, probe), apply_scaler(scaler, probe))
    np.testing.assert_allclose(apply_scaler(restored, apply_scaler(restored, probe), inverse=True),
                               probe)


def test_standard_scaler_state_is_the_training_mean_and_std():
    values = np.array([[1.0], [2.0], [3.0], [6.0]])
    state = scaler_to_dict(fit_scaler("standard", values))
    assert state["mean_"] == [3.0]
    assert state["scale_"] == pytest.approx([np.sqrt(((1 - 3) ** 2 + 1 + 0 + 9) / 4)])


def test_minmax_scaler_maps_training_range_to_unit_interval():
    scaler = fit_scaler("minmax", np.array([[2.0], [4.0], [10.0]]))
    assert apply_scaler(scaler, np.array([[2.0], [6.0], [10.0]])).ravel().tolist() == [0, 0.5, 1]


def test_fit_scaler_ignores_nan_rows_and_none_means_identity():
    values = np.array([[np.nan], [1.0], [3.0]])
    assert scaler_to_dict(fit_scaler("standard", values))["mean_"] == [2.0]
    assert fit_scaler("none", values) is None
    assert apply_scaler(None, values) is values
    assert fit_scaler("standard", np.zeros((5, 0))) is None  # no columns to scale


def test_apply_scaler_works_on_window_arrays():
    scaler = fit_scaler("standard", np.array([[0.0, 10.0], [2.0, 30.0]]))
    windows = np.array([[[1.0, 20.0], [3.0, 40.0]]])  # (windows 1, steps 2, columns 2)
    scaled = apply_scaler(scaler, windows)
    assert scaled.shape == (1, 2, 2)
    np.testing.assert_allclose(scaled[0], [[0.0, 0.0], [2.0, 2.0]])
