"""Naive baselines and ARIMA, forecasting from the same origins as the network.

Each function takes the target history `y` (time, k) in original units, the window origins
(index of each window's first forecast step) and the horizon H, and returns (windows, H, k).
A forecast from origin o only uses y[:o].
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from rnnlab.tasks.forecasting.arima import fit_arima

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
) -> tuple[np.ndarray, list[str]]:
    """(S)ARIMA fitted once on y[:fit_end]; from each origin it filters y[:o] with those
    parameters and forecasts H steps. `order` None: chosen by the stepwise AIC search of
    auto.arima within `budget` seconds (see arima.py).
    Returns forecasts and a description of the model per target.
    """
    forecasts = np.empty((len(origins), horizon, y.shape[1]))
    chosen = []
    for j in range(y.shape[1]):
        series = np.log(y[:, j]) if log else y[:, j]
        result, name, note = fit_arima(series[:fit_end], season, order, budget)
        chosen.append(name + (" on log" if log else "") + (f"; {note}" if note else ""))
        for w, origin in enumerate(origins):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                forecasts[w, :, j] = result.apply(series[:origin]).forecast(horizon)
    return (np.exp(forecasts) if log else forecasts), chosen


def all_baselines(
    y: np.ndarray, origins: np.ndarray, horizon: int, season: int, fit_end: int,
    arima_order: tuple[int, ...] | None = None, log: bool = False, arima_budget: float = 60.0,
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Forecasts of every baseline on the same origins, and a note on how each was made."""
    runs: dict[str, Callable[[], np.ndarray]] = {
        "naive": lambda: naive(y, origins, horizon),
        "seasonal_naive": lambda: seasonal_naive(y, origins, horizon, season),
        "drift": lambda: drift(y, origins, horizon),
    }
    forecasts = {name: run() for name, run in runs.items()}
    forecasts["arima"], chosen = arima(y, origins, horizon, season, fit_end, arima_order, log,
                                       arima_budget)
    notes = {"seasonal_naive": f"m={season}", "arima": " | ".join(chosen)}
    return forecasts, notes
