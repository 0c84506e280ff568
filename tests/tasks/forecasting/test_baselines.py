"""Baselines against values worked out by hand, and ARIMA's shape, name and use of history."""

from __future__ import annotations

import re

import numpy as np
import pytest

from rnnlab.tasks.forecasting.baselines import (
    BASELINES,
    all_baselines,
    arima,
    drift,
    naive,
    seasonal_naive,
)

Y = np.array([1.0, 3.0, 2.0, 5.0, 4.0, 6.0, 8.0, 7.0])[:, None]  # (time 8, targets 1)
ORIGINS = np.array([5, 6])  # first forecast steps: y[5] = 6 and y[6] = 8


def test_naive_repeats_the_last_observation():
    assert naive(Y, ORIGINS, 3)[..., 0].tolist() == [[4, 4, 4], [6, 6, 6]]


def test_seasonal_naive_within_one_season():
    # m = 3, H = 3: step h repeats y[o - 3 + h]
    assert seasonal_naive(Y, ORIGINS, 3, 3)[..., 0].tolist() == [[2, 5, 4], [5, 4, 6]]


def test_seasonal_naive_horizon_longer_than_the_season():
    # m = 2, H = 3: steps cycle through the last full season y[o-2], y[o-1], y[o-2]
    assert seasonal_naive(Y, ORIGINS, 3, 2)[..., 0].tolist() == [[5, 4, 5], [4, 6, 4]]
    # m = 3, H = 5: y[o-3], y[o-2], y[o-1], y[o-3], y[o-2]
    assert seasonal_naive(Y, np.array([6]), 5, 3)[..., 0].tolist() == [[5, 4, 6, 5, 4]]


def test_seasonal_naive_with_season_one_is_naive():
    np.testing.assert_array_equal(seasonal_naive(Y, ORIGINS, 4, 1), naive(Y, ORIGINS, 4))


def test_drift_extends_the_line_through_first_and_last_observation():
    # origin 5: last y[4] = 4, slope (4 - 1) / 4 = 0.75; origin 6: last 6, slope (6 - 1) / 5 = 1
    np.testing.assert_allclose(drift(Y, ORIGINS, 3)[..., 0], [[4.75, 5.5, 6.25], [7, 8, 9]])


def test_baselines_handle_several_targets_independently():
    y = np.hstack([Y, 10 * Y])
    for forecasts in (naive(y, ORIGINS, 3), seasonal_naive(y, ORIGINS, 3, 2),
                      drift(y, ORIGINS, 3)):
        assert forecasts.shape == (2, 3, 2)
        np.testing.assert_allclose(forecasts[..., 1], 10 * forecasts[..., 0])


@pytest.mark.parametrize("name", ["naive", "seasonal_naive", "drift"])
def test_a_forecast_from_origin_o_uses_only_the_rows_before_o(name):
    later_changed = Y.copy()
    later_changed[5:] = [[100.0], [-50.0], [3.0]]
    run = {"naive": lambda y: naive(y, np.array([5]), 3),
           "seasonal_naive": lambda y: seasonal_naive(y, np.array([5]), 3, 2),
           "drift": lambda y: drift(y, np.array([5]), 3)}[name]
    np.testing.assert_array_equal(run(Y), run(later_changed))


# -- ARIMA -------------------------------------------------------------------------------------


def _ar1(n: int = 80, phi: float = 0.7, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = np.full(n, 5.0)
    for t in range(1, n):
        y[t] = 5 + phi * (y[t - 1] - 5) + rng.normal(0, 1)
    return y[:, None]


def test_arima_fixed_order_gives_finite_forecasts_of_the_right_shape():
    y = _ar1()
    origins = np.array([60, 65, 70, 75])
    forecasts, names = arima(y, origins, 3, season=1, fit_end=50, order=(1, 0, 0))
    assert forecasts.shape == (4, 3, 1) and np.isfinite(forecasts).all()
    assert names == ["ARIMA(1,0,0)"]


def test_arima_forecasts_continue_from_each_origin_with_the_same_parameters():
    """AR(1) with a constant: f1 - y[o-1], f2 - f1, f3 - f2 shrink by the same factor phi."""
    y = _ar1()
    origins = np.array([60, 72])
    forecasts, _ = arima(y, origins, 3, season=1, fit_end=50, order=(1, 0, 0))
    phis = []
    for w, origin in enumerate(origins):
        path = np.concatenate([[y[origin - 1, 0]], forecasts[w, :, 0]])
        steps = np.diff(path)
        assert steps[1] / steps[0] == pytest.approx(steps[2] / steps[1], rel=1e-6)
        phis.append(steps[1] / steps[0])
    assert phis[0] == pytest.approx(phis[1], rel=1e-6)
    assert 0.3 < phis[0] < 0.95  # the simulated phi is 0.7


def test_arima_uses_no_data_after_the_origin_and_fit_end():
    y = _ar1()
    changed = y.copy()
    changed[60:] += 100.0
    first, _ = arima(y, np.array([60]), 2, season=1, fit_end=50, order=(1, 0, 0))
    second, _ = arima(changed, np.array([60]), 2, season=1, fit_end=50, order=(1, 0, 0))
    np.testing.assert_allclose(first, second)


def test_arima_chooses_an_order_by_itself():
    forecasts, names = arima(_ar1(60), np.array([50, 55]), 2, season=1, fit_end=45)
    assert forecasts.shape == (2, 2, 1) and np.isfinite(forecasts).all()
    assert re.fullmatch(r"ARIMA\(\d,\d,\d\); \d+ models searched", names[0])


def test_arima_search_finds_an_ar2_process_and_respects_its_time_budget():
    rng = np.random.default_rng(3)
    y = np.zeros(400)
    for t in range(2, 400):  # y_t = 0.6 y_{t-1} - 0.3 y_{t-2} + e_t
        y[t] = 0.6 * y[t - 1] - 0.3 * y[t - 2] + rng.normal()
    _, names = arima(y[:, None], np.array([390]), 1, season=1, fit_end=380)
    p, d, q = map(int, re.match(r"ARIMA\((\d),(\d),(\d)\)", names[0]).groups())
    assert d == 0 and p >= 2  # the stepwise search climbs from the start models to AR(2)
    _, hurried = arima(y[:, None], np.array([390]), 1, season=1, fit_end=380, budget=1e-6)
    assert "search stopped at the 0 s budget after 1 model" in hurried[0]


def test_seasonal_arima_name_and_log_forecasts_are_positive():
    t = np.arange(48)
    y = (50 + 10 * np.sin(2 * np.pi * t / 4) + t + np.random.default_rng(1).normal(0, 1, 48))
    forecasts, names = arima(y[:, None], np.array([40, 44]), 4, season=4, fit_end=36,
                             order=(0, 1, 1, 0, 1, 1), log=True)
    assert names == ["ARIMA(0,1,1)(0,1,1)[4] on log"]
    assert forecasts.shape == (2, 4, 1) and (forecasts > 0).all()
    # the seasonal pattern is carried on: peaks follow the season of the data
    assert np.argmax(forecasts[0, :, 0]) == np.argmax(y[40:44])


def test_all_baselines_cover_every_name_on_the_same_origins():
    y = _ar1()
    origins = np.array([60, 63, 66])
    forecasts, notes, failed = all_baselines(y, origins, 3, season=4, fit_end=50,
                                             arima_order=(1, 0, 0))
    assert failed == {}
    assert tuple(forecasts) == BASELINES == ("naive", "seasonal_naive", "drift", "arima")
    for name, value in forecasts.items():
        assert value.shape == (3, 3, 1), name
    np.testing.assert_array_equal(forecasts["naive"], naive(y, origins, 3))
    np.testing.assert_array_equal(forecasts["seasonal_naive"], seasonal_naive(y, origins, 3, 4))
    assert notes == {"seasonal_naive": "m=4", "arima": "ARIMA(1,0,0)"}
