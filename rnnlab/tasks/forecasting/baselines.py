"""Naive baselines and ARIMA, forecasting from the same origins as the network.

Each function takes the target history `y` (time, k) in original units, the window origins
(index of each window's first forecast step) and the horizon H, and returns (windows, H, k).
A forecast from origin o only uses y[:o].
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from rnnlab.errors import UserError
from rnnlab.tasks.forecasting.arima import ARIMA_WINDOW, fit_arima, forecast_origins

BASELINES = ("naive", "seasonal_naive", "drift", "arima")


def naive(y: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
    """Every step equals the last observed value y[o-1]."""
    return np.repeat(y[origins - 1][:, None, :], horizon, axis=1)


def seasonal_naive(y: np.ndarray, origins: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """Step h repeats the value one season earlier: y[o + h - m * ceil((h + 1) / m)]."""
    steps = np.arange(horizon)
    back = season * ((steps // season) + 1)
    return y[origins[:, None] + steps[None, :] - back[None, :]]


def drift(y: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
    """The line from the first observation through the last one, extended h steps."""
    slope = (y[origins - 1] - y[0]) / np.maximum(origins - 1, 1)[:, None]
    steps = np.arange(1, horizon + 1)[None, :, None]
    return y[origins - 1][:, None, :] + steps * slope[:, None, :]


def arima(
    y: np.ndarray, origins: np.ndarray, horizon: int, season: int, fit_end: int,
    order: tuple[int, ...] | None = None, log: bool = False, budget: float = 60.0,
    window: int = ARIMA_WINDOW,
) -> tuple[np.ndarray, list[str]]:
    """(S)ARIMA fitted once on the last `window` rows before `fit_end`; from each origin it
    forecasts H steps with those parameters, all origins from one filtering pass (see
    arima.py). `order` None: chosen by the stepwise AIC search of auto.arima within `budget`
    seconds. Returns forecasts and a description of the model per target.
    """
    forecasts = np.empty((len(origins), horizon, y.shape[1]))
    start = max(0, fit_end - window)
    chosen = []
    for j in range(y.shape[1]):
        series = np.log(y[:, j]) if log else y[:, j]
        result, name, note = fit_arima(series[start:fit_end], season, order, budget)
        rows = f"fitted on the last {fit_end - start} rows before the test" if start else ""
        chosen.append(name + (" on log" if log else "")
                      + "".join(f"; {text}" for text in (note, rows) if text))
        forecasts[:, :, j] = forecast_origins(result, series, start, origins, horizon)
    return (np.exp(forecasts) if log else forecasts), chosen


def failure(forecast: np.ndarray, history: np.ndarray) -> str | None:
    """Why a baseline's forecasts cannot be scored (None: they can): non-finite values,
    zeros everywhere from a series that is not zero, or values far outside anything seen
    (more than 10 ranges beyond the history's extremes: the model diverged)."""
    finite = np.isfinite(forecast)
    if not finite.all():
        return f"{int((~finite).sum())} of {forecast.size} forecasts are not finite"
    if not forecast.any() and np.nanmax(np.abs(history)) > 0:
        return "forecasts 0.0 at every origin from a series that is not zero"
    low, high = np.nanmin(history, axis=0), np.nanmax(history, axis=0)
    span = high - low
    span = np.where(span > 0, span, np.maximum(np.abs(high), 1.0))  # a flat history
    outside = (forecast < low - 10 * span) | (forecast > high + 10 * span)
    if outside.any():
        return (f"diverged: {int(outside.sum())} forecast(s) more than 10 ranges outside the "
                "history's values")
    return None


def all_baselines(
    y: np.ndarray, origins: np.ndarray, horizon: int, season: int, fit_end: int,
    arima_order: tuple[int, ...] | None = None, log: bool = False, arima_budget: float = 60.0,
) -> tuple[dict[str, np.ndarray], dict[str, str], dict[str, str]]:
    """Forecasts of every baseline on the same origins, a note on how each was made, and the
    baselines that failed, with the reason (they have no forecasts: never scored)."""
    runs: dict[str, Callable[[], np.ndarray]] = {
        "naive": lambda: naive(y, origins, horizon),
        "seasonal_naive": lambda: seasonal_naive(y, origins, horizon, season),
        "drift": lambda: drift(y, origins, horizon),
    }
    forecasts = {name: run() for name, run in runs.items()}
    notes = {"seasonal_naive": f"m={season}"}
    failed: dict[str, str] = {}
    try:
        forecasts["arima"], chosen = arima(y, origins, horizon, season, fit_end, arima_order,
                                           log, arima_budget)
        notes["arima"] = " | ".join(chosen)
    except UserError:
        raise
    except (RuntimeError, ValueError, np.linalg.LinAlgError, OverflowError) as exc:
        failed["arima"] = f"statsmodels failed: {exc}"
    history = y[: int(origins.max())] if len(origins) else y
    for name in list(forecasts):
        if (reason := failure(forecasts[name], history)) is not None:
            failed[name] = reason
            del forecasts[name]
    return forecasts, notes, failed
