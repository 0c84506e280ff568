"""Naive baselines and ARIMA, forecasting from the same origins as the network.

Each function takes the target history `y` (time, k) in original units, the window origins
(index of each window's first forecast step) and the horizon H, and returns (windows, H, k).
A forecast from origin o only uses y[:o].
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from rnnlab.errors import UserError

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
    order: tuple[int, ...] | None = None, log: bool = False,
) -> tuple[np.ndarray, list[str]]:
    """(S)ARIMA fitted once on y[:fit_end]; from each origin it filters y[:o] with those
    parameters and forecasts H steps. `order` None: seasonal differencing by STL strength,
    regular differencing by the ADF test, then the lowest-AIC model of a small candidate set.
    Returns forecasts and the chosen model per target (e.g. "ARIMA(0,1,1)(0,1,1)[12]").
    """
    forecasts = np.empty((len(origins), horizon, y.shape[1]))
    chosen = []
    for j in range(y.shape[1]):
        series = np.log(y[:, j]) if log else y[:, j]
        result, name = _fit_arima(series[:fit_end], season, order)
        chosen.append(name)
        for w, origin in enumerate(origins):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                forecasts[w, :, j] = result.apply(series[:origin]).forecast(horizon)
    return (np.exp(forecasts) if log else forecasts), chosen


def _fit_arima(series: np.ndarray, season: int, order: tuple[int, ...] | None):  # noqa: ANN202
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    seasonal = season > 1 and len(series) >= 3 * season
    if order is not None:
        candidates = [(tuple(order[:3]), tuple(order[3:6]) if len(order) == 6 else (0, 0, 0))]
    else:
        d = _diff_order(series)
        big_d = _seasonal_diff_order(series, season) if seasonal else 0
        candidates = [((p, d, q), (sp, big_d, sq) if seasonal else (0, 0, 0))
                      for p, q, sp, sq in _CANDIDATES if seasonal or (sp, sq) == (0, 0)]
        candidates = list(dict.fromkeys(candidates))
    best, best_aic, best_name = None, np.inf, ""
    for pdq, seasonal_pdq in candidates:
        m = season if any(seasonal_pdq) else 0
        trend = "c" if pdq[1] + seasonal_pdq[1] == 0 else "n"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                model = SARIMAX(series, order=pdq, seasonal_order=(*seasonal_pdq, m), trend=trend)
                result = model.fit(disp=False, maxiter=200)
            except (ValueError, np.linalg.LinAlgError):
                continue
        if np.isfinite(result.aic) and result.aic < best_aic:
            best, best_aic = result, result.aic
            best_name = f"ARIMA{pdq}" + (f"{seasonal_pdq}[{m}]" if m else "")
    if best is None:
        if order is not None:
            raise UserError(f"ARIMA with --arima-order {','.join(map(str, order))} could not be "
                            "fitted to this series; try another order or leave it out")
        raise RuntimeError("no ARIMA candidate could be fitted")
    return best, best_name.replace(" ", "")


# (p, q, P, Q): a small stepwise-like neighbourhood, as auto.arima starts from.
_CANDIDATES = [(2, 2, 1, 1), (0, 0, 0, 0), (1, 0, 1, 0), (0, 1, 0, 1), (1, 1, 0, 1),
               (0, 1, 1, 1), (1, 1, 1, 0), (2, 0, 1, 0), (1, 1, 0, 0), (2, 2, 0, 0)]


def _diff_order(series: np.ndarray) -> int:
    from statsmodels.tsa.stattools import adfuller

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return int(adfuller(series, autolag="AIC")[1] > 0.05)


def _seasonal_diff_order(series: np.ndarray, season: int) -> int:
    """1 when STL's seasonal strength exceeds 0.64 (the rule R's forecast::nsdiffs uses)."""
    from statsmodels.tsa.seasonal import STL

    parts = STL(series, period=season, robust=True).fit()
    remainder, seasonal = parts.resid, parts.seasonal
    strength = 1 - np.var(remainder) / max(np.var(remainder + seasonal), 1e-12)
    return int(strength > 0.64)


def all_baselines(
    y: np.ndarray, origins: np.ndarray, horizon: int, season: int, fit_end: int,
    arima_order: tuple[int, ...] | None = None, log: bool = False,
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Forecasts of every baseline on the same origins, and a note on how each was made."""
    runs: dict[str, Callable[[], np.ndarray]] = {
        "naive": lambda: naive(y, origins, horizon),
        "seasonal_naive": lambda: seasonal_naive(y, origins, horizon, season),
        "drift": lambda: drift(y, origins, horizon),
    }
    forecasts = {name: run() for name, run in runs.items()}
    forecasts["arima"], chosen = arima(y, origins, horizon, season, fit_end, arima_order, log)
    arima_note = ", ".join(chosen) + (" on log" if log else "")
    notes = {"seasonal_naive": f"m={season}", "arima": arima_note}
    return forecasts, notes
