"""Forecast accuracy metrics on (windows, H, k) arrays in original units.

MASE divides the MAE by the in-sample MAE of the seasonal naive forecast (Hyndman & Koehler
2006) on everything before the test part (training + validation rows), per target; metrics of
several targets are averaged.
"""

from __future__ import annotations

import numpy as np

from rnnlab.results import rank, unranked


def mase_scale(train: np.ndarray, season: int) -> np.ndarray:
    """Mean |y_t - y_{t-m}| over the rows before the test part, per target: (k,)."""
    m = season if len(train) > season else 1
    scale = np.mean(np.abs(train[m:] - train[:-m]), axis=0)
    return np.where(scale > 0, scale, np.nan)


def forecast_metrics(
    truth: np.ndarray, forecast: np.ndarray, last_observed: np.ndarray, scale: np.ndarray,
    lower: np.ndarray | None = None, upper: np.ndarray | None = None,
) -> dict[str, float]:
    """MAE, RMSE, sMAPE (%), MAPE (%), MASE, directional accuracy, and interval coverage.

    truth, forecast, lower, upper: (windows, H, k); last_observed: (windows, k), the value at
    each origin, against which directional accuracy judges up / down moves.
    """
    error = forecast - truth
    absolute = np.abs(error)
    denominator = np.abs(truth) + np.abs(forecast)
    smape_terms = np.divide(2 * absolute, denominator, out=np.zeros_like(absolute),
                            where=denominator > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mape = 100 * np.mean(absolute / np.abs(truth)) if np.all(truth != 0) else np.nan
    moved_true = np.sign(truth - last_observed[:, None, :])
    moved_pred = np.sign(forecast - last_observed[:, None, :])
    metrics = {
        "mae": float(np.mean(absolute)),
        "rmse": float(np.sqrt(np.mean(error**2))),
        "smape": float(100 * np.mean(smape_terms)),
        "mape": float(mape),
        "mase": float(np.mean(np.mean(absolute, axis=(0, 1)) / scale)),
        "directional_accuracy": float(np.mean(moved_true == moved_pred)),
    }
    if lower is not None and upper is not None:
        metrics["coverage"] = float(np.mean((truth >= lower) & (truth <= upper)))
    return metrics


def implied_returns(levels: np.ndarray, last_observed: np.ndarray) -> np.ndarray:
    """(windows, H, k) prices -> the step returns they imply, from the last observed price:
    r_1 = p_1 / y_(o-1) - 1, r_h = p_h / p_(h-1) - 1."""
    previous = np.concatenate([last_observed[:, None, :], levels[:, :-1, :]], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return levels / previous - 1


def return_metrics(truth: np.ndarray, forecast: np.ndarray, last_observed: np.ndarray
                   ) -> dict[str, float]:
    """MAE and RMSE of the forecast returns against the actual returns (in %), so a network
    that models returns is also judged on them, beside the prices."""
    error = 100 * (implied_returns(forecast, last_observed) - implied_returns(truth,
                                                                              last_observed))
    return {"return_mae": float(np.mean(np.abs(error))),
            "return_rmse": float(np.sqrt(np.mean(error**2)))}


def copy_lag(first_step: np.ndarray, y: np.ndarray, origins: np.ndarray, max_lag: int = 5
             ) -> int | None:
    """The lag k (0..max_lag) at which the one-step forecasts made at each origin correlate
    best with the actual series y[o - k]: 0 for a real forecast, 1 for a forecast that is the
    last value shifted by one step (a "lagged copy"). None when it cannot be measured.

    first_step: (windows, k) step-1 forecasts; correlations are averaged over targets.
    """
    lags = [lag for lag in range(max_lag + 1) if (origins - lag >= 0).all()]
    if len(origins) < 3 or not lags:
        return None
    scores = []
    for lag in lags:
        actual = y[origins - lag]
        per_target = [np.corrcoef(first_step[:, j], actual[:, j])[0, 1]
                      for j in range(y.shape[1])
                      if np.std(first_step[:, j]) > 0 and np.std(actual[:, j]) > 0]
        scores.append(np.mean(per_target) if per_target else np.nan)
    if not np.isfinite(scores).any():
        return None
    return lags[int(np.nanargmax(scores))]


def conformal_residuals_needed(level: float) -> int:
    """The fewest residuals n with ceil((n + 1) * level) <= n: fewer, and the half-width falls
    back to the largest residual and the coverage promise is gone."""
    return int(np.ceil(level / (1 - level) - 1e-9))  # (n + 1) * level <= n


def conformal_halfwidth(abs_residuals: np.ndarray, level: float) -> np.ndarray:
    """Split-conformal half-width per step and target from validation |residuals| (n, H, k).

    Uses the ceil((n + 1) * level) / n empirical quantile; with too few residuals for the level
    it falls back to the largest residual (coverage then below `level` is possible).
    """
    n = abs_residuals.shape[0]
    rank = min(int(np.ceil((n + 1) * level)), n)
    return np.sort(abs_residuals, axis=0)[rank - 1]


def verdict(test_metrics: dict[str, dict[str, float]], networks: list[str]) -> tuple[str, str]:
    """(best model, one plain sentence comparing the best network with the baselines).

    Models are ranked by MASE, leaving out any whose MASE is not finite; when no network or no
    baseline has one (a flat history gives a zero scale) they are ranked by MAE, and the
    sentence says so.
    """
    key, label = "mase", "MASE"
    best, net, best_base = rank(test_metrics, networks, key)
    if net is None or best_base is None:
        key, label = "mae", "MAE (MASE is undefined here)"
        best, net, best_base = rank(test_metrics, networks, key)
    if (failed := unranked(networks, net, best_base, "MAE")) is not None:
        return best or networks[0], failed
    score = {name: values[key] for name, values in test_metrics.items() if key in values}
    net_score, base_score = score[net], score[best_base]
    if net_score < base_score:
        gain = 100 * (1 - net_score / base_score) if base_score else 0.0
        return best, (f"{net} is best by {label} ({net_score:.3f}), {gain:.1f}% below the best "
                      f"baseline {best_base} ({base_score:.3f}).")
    gap = f"{100 * (net_score / base_score - 1):.1f}% worse" if base_score else "worse"
    sentence = (f"{best_base} is best by {label} ({base_score:.3f}); {net} ({net_score:.3f}) "
                f"is {gap}")
    naive = score.get("naive")
    if naive is not None and np.isfinite(naive) and net_score >= naive:
        sentence += f" and does not beat the naive forecast ({naive:.3f})"
    return best, sentence + "."
