"""Forecast metrics, the conformal half-width and the verdict, against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnnlab.tasks.forecasting.metrics import (
    conformal_halfwidth,
    conformal_residuals_needed,
    forecast_metrics,
    mase_scale,
    verdict,
)

# one window, two steps, one target; the last observed value is 1
TRUTH = np.array([[[2.0], [4.0]]])
FORECAST = np.array([[[3.0], [0.5]]])  # errors +1 and -3.5
LAST = np.array([[1.0]])
SCALE = np.array([2.0])


def test_point_metrics_by_hand():
    m = forecast_metrics(TRUTH, FORECAST, LAST, SCALE)
    assert m["mae"] == pytest.approx((1 + 3.5) / 2)
    assert m["rmse"] == pytest.approx(math.sqrt((1 + 3.5**2) / 2))
    # sMAPE terms 2|e| / (|y| + |f|): 2 / 5 and 7 / 4.5
    assert m["smape"] == pytest.approx(100 * (2 / 5 + 7 / 4.5) / 2)
    assert m["mape"] == pytest.approx(100 * (1 / 2 + 3.5 / 4) / 2)
    assert m["mase"] == pytest.approx(2.25 / 2)
    # truth rises twice from 1; the forecast rises (3) then falls (0.5)
    assert m["directional_accuracy"] == pytest.approx(0.5)
    assert "coverage" not in m


def test_coverage_counts_truths_inside_closed_intervals():
    m = forecast_metrics(TRUTH, FORECAST, LAST, SCALE, FORECAST - 1, FORECAST + 1)
    # [2, 4] holds 2 (on the edge); [-0.5, 1.5] misses 4
    assert m["coverage"] == pytest.approx(0.5)


def test_mape_is_undefined_with_a_zero_truth_and_smape_of_two_zeros_is_zero():
    truth = np.array([[[0.0], [2.0]]])
    forecast = np.array([[[0.0], [1.0]]])
    m = forecast_metrics(truth, forecast, np.array([[1.0]]), np.array([1.0]))
    assert math.isnan(m["mape"])
    assert m["smape"] == pytest.approx(100 * (0 + 2 / 3) / 2)


def test_mase_averages_the_targets_each_on_its_own_scale():
    truth = np.array([[[1.0, 10.0], [2.0, 20.0]]])
    forecast = np.array([[[2.0, 14.0], [2.0, 20.0]]])  # MAE 0.5 and 2
    m = forecast_metrics(truth, forecast, np.array([[0.0, 0.0]]), np.array([1.0, 4.0]))
    assert m["mase"] == pytest.approx((0.5 / 1 + 2 / 4) / 2)
    assert m["mae"] == pytest.approx((1 + 0 + 4 + 0) / 4)


def test_mase_scale_by_hand():
    train = np.array([1.0, 3.0, 2.0, 5.0])[:, None]
    assert mase_scale(train, 1).tolist() == [2.0]  # |2|, |-1|, |3|
    assert mase_scale(train, 2).tolist() == [1.5]  # |2 - 1|, |5 - 3|
    assert mase_scale(train, 4).tolist() == [2.0]  # season too long for 4 rows: m = 1
    assert np.isnan(mase_scale(np.ones((5, 1)), 1)[0])  # a flat history has no scale


def test_directional_accuracy_counts_no_move_as_agreement():
    truth = np.array([[[1.0], [0.0], [3.0]]])
    forecast = np.array([[[1.0], [-2.0], [0.5]]])
    m = forecast_metrics(truth, forecast, np.array([[1.0]]), np.array([1.0]))
    # no move / no move; down / down; up / down
    assert m["directional_accuracy"] == pytest.approx(2 / 3)


# -- conformal half-width ------------------------------------------------------------------


def test_conformal_rank_rule():
    residuals = np.arange(1.0, 11.0)[:, None, None]  # n = 10
    assert conformal_halfwidth(residuals, 0.9)[0, 0] == 10  # ceil(11 * 0.9) = 10
    assert conformal_halfwidth(residuals, 0.8)[0, 0] == 9  # ceil(8.8) = 9
    assert conformal_halfwidth(residuals, 0.5)[0, 0] == 6  # ceil(5.5) = 6
    nineteen = np.arange(1.0, 20.0)[:, None, None]
    assert conformal_halfwidth(nineteen, 0.9)[0, 0] == 18  # ceil(20 * 0.9) = 18 exactly


@pytest.mark.parametrize(("level", "needed"), [(0.5, 1), (0.8, 4), (0.9, 9), (0.95, 19)])
def test_conformal_residuals_needed_is_where_the_rank_stops_falling_back(level, needed):
    assert conformal_residuals_needed(level) == needed
    assert math.ceil((needed + 1) * level) <= needed  # enough: the rank lies inside
    assert math.ceil(needed * level) > needed - 1  # one fewer: the rank falls past the end


def test_conformal_falls_back_to_the_largest_residual():
    residuals = np.array([0.3, 0.1, 0.2])[:, None, None]  # ceil(4 * 0.9) = 4 > 3
    assert conformal_halfwidth(residuals, 0.9)[0, 0] == pytest.approx(0.3)


def test_conformal_is_per_step_and_target():
    rng = np.random.default_rng(0)
    residuals = rng.permutation(np.arange(1.0, 11.0))[:, None, None] * np.array(
        [[1.0, 2.0], [3.0, 5.0]])[None]  # (10, H 2, k 2)
    width = conformal_halfwidth(residuals, 0.8)
    assert width.shape == (2, 2)
    np.testing.assert_allclose(width, 9 * np.array([[1.0, 2.0], [3.0, 5.0]]))


# -- verdict -------------------------------------------------------------------------------


def _table(**mase: float) -> dict[str, dict[str, float]]:
    return {name: {"mae": 1.0, "mase": value} for name, value in mase.items()}


def test_verdict_when_the_network_wins():
    best, sentence = verdict(_table(lstm=0.5, naive=1.0, seasonal_naive=0.9, arima=0.8),
                             ["lstm"])
    assert best == "lstm"
    assert sentence == ("lstm is best by MASE (0.500), 37.5% below the best baseline arima "
                        "(0.800).")


def test_verdict_says_plainly_when_the_network_does_not_beat_naive():
    best, sentence = verdict(_table(lstm=1.2, naive=1.0, seasonal_naive=0.9, arima=1.1),
                             ["lstm"])
    assert best == "seasonal_naive"
    assert sentence == ("seasonal_naive is best by MASE (0.900); lstm (1.200) is 33.3% worse "
                        "and does not beat the naive forecast (1.000).")


def test_verdict_between_naive_and_the_best_baseline():
    best, sentence = verdict(_table(lstm=0.95, naive=1.0, arima=0.9), ["lstm"])
    assert best == "arima"
    assert "lstm (0.950) is 5.6% worse" in sentence
    assert "does not beat" not in sentence


def test_verdict_uses_the_best_of_several_networks_and_skips_nan():
    metrics = _table(gru=0.7, lstm=0.6, naive=1.0, arima=float("nan"))
    best, sentence = verdict(metrics, ["gru", "lstm"])
    assert best == "lstm"
    assert sentence.startswith("lstm is best by MASE (0.600), 40.0% below the best baseline "
                               "naive (1.000)")


def test_verdict_is_a_plain_sentence_when_no_mase_is_defined():
    """A flat history has no MASE scale (every MASE is NaN); the verdict must not read
    'nan% worse' or compare infinities."""
    nan = float("nan")
    _, sentence = verdict(_table(lstm=nan, naive=nan, seasonal_naive=nan), ["lstm"])
    assert "nan" not in sentence.lower() and "inf" not in sentence.lower(), sentence
