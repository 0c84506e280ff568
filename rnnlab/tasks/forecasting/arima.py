"""ARIMA order selection for the baseline: the stepwise search of Hyndman & Khandakar (2008),
the algorithm behind R's auto.arima, on statsmodels' SARIMAX.

Differencing is chosen by tests (seasonal: STL seasonal strength > 0.64; regular: ADF), then
from four starting models the search moves to the lowest-AIC neighbour (p, q, P, Q one up or
down, p and q together) until none improves, within p, q <= 5 and P, Q <= 2. Seasonal models
of long series are slow to fit (minutes for 2,000 monthly points), so the search stops once
`budget` seconds have passed and keeps the best model so far.

Scaling to long series: the parameters are estimated once, on at most `ARIMA_WINDOW` rows just
before the test part, and the forecasts from every test origin come from one Kalman filtering
pass over the rows after the fit (`extend` on the fitted state), not a re-filter per origin:
the H-step forecast from origin o is Z T^h a(o|o-1) plus the intercepts, with a(o|o-1) the
predicted state that pass leaves at o (`forecast_origins`).
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from rnnlab.errors import UserError

MAX_P, MAX_Q, MAX_SEASONAL, MAX_FITS = 5, 5, 2, 40
ARIMA_WINDOW = 1000  # rows the parameters are estimated on (the most recent before the test)
Order = tuple[int, int, int, int]  # (p, q, P, Q); d and D are fixed before the search


def fit_arima(  # noqa: ANN201
    series: np.ndarray, season: int, order: tuple[int, ...] | None = None,
    budget: float = 60.0,
):
    """(fitted SARIMAX results, "ARIMA(p,d,q)(P,D,Q)[m]", search note) for `series`;
    `order` fixes the model, `budget` bounds the search in seconds."""
    m = season if season > 1 and len(series) >= 3 * season else 0
    if order is not None:
        seasonal = tuple(order[3:6]) if len(order) == 6 else (0, 0, 0)
        result = _fit(series, tuple(order[:3]), seasonal, season)
        if result is None:
            raise UserError(f"ARIMA with --arima-order {','.join(map(str, order))} could not be "
                            "fitted to this series; try another order or leave it out")
        return result, _name(tuple(order[:3]), seasonal, season if any(seasonal) else 0), ""
    d = _diff_order(series)
    big_d = _seasonal_diff_order(series, m) if m else 0
    fitted: dict[Order, object | None] = {}

    def aic(candidate: Order) -> float:
        if candidate not in fitted:
            p, q, sp, sq = candidate
            fitted[candidate] = _fit(series, (p, d, q), (sp, big_d, sq), m)
        result = fitted[candidate]
        return result.aic if result is not None and np.isfinite(result.aic) else np.inf

    deadline = time.monotonic() + budget
    starts = [(0, 0, 0, 0), (1, 0, 1, 0), (0, 1, 0, 1), (2, 2, 1, 1)]  # cheapest first
    best = _clip(starts[0], m)
    for start in starts[1:]:
        if time.monotonic() < deadline and aic(_clip(start, m)) < aic(best):
            best = _clip(start, m)
    improved = True
    while improved and len(fitted) < MAX_FITS and time.monotonic() < deadline:
        improved = False
        for neighbour in _neighbours(best, m):
            if time.monotonic() >= deadline:
                break
            if aic(neighbour) < aic(best):
                best, improved = neighbour, True
                break
    if not np.isfinite(aic(best)):
        raise RuntimeError("no ARIMA candidate could be fitted")
    p, q, sp, sq = best
    seasonal = (sp, big_d, sq)
    models = f"{len(fitted)} model{'s' if len(fitted) != 1 else ''}"
    note = (f"search stopped at the {budget:.0f} s budget after {models}"
            if time.monotonic() >= deadline else f"{models} searched")
    return fitted[best], _name((p, d, q), seasonal, m if any(seasonal) else 0), note


def _clip(order: Order, m: int) -> Order:
    p, q, sp, sq = order
    return (p, q, sp, sq) if m else (p, q, 0, 0)


def _neighbours(order: Order, m: int) -> list[Order]:
    p, q, sp, sq = order
    moves = [(1, 0, 0, 0), (-1, 0, 0, 0), (0, 1, 0, 0), (0, -1, 0, 0), (1, 1, 0, 0),
             (-1, -1, 0, 0)]
    if m:
        moves += [(0, 0, 1, 0), (0, 0, -1, 0), (0, 0, 0, 1), (0, 0, 0, -1)]
    limits = (MAX_P, MAX_Q, MAX_SEASONAL, MAX_SEASONAL)
    out = []
    for move in moves:
        candidate = tuple(v + dv for v, dv in zip(order, move, strict=True))
        if all(0 <= v <= limit for v, limit in zip(candidate, limits, strict=True)):
            out.append(candidate)
    return out


def _fit(series: np.ndarray, pdq: tuple, seasonal: tuple, season: int):  # noqa: ANN202
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    m = season if any(seasonal) else 0
    trend = "c" if pdq[1] + seasonal[1] == 0 else "n"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model = SARIMAX(series, order=pdq, seasonal_order=(*seasonal, m), trend=trend)
            return model.fit(disp=False, maxiter=200)
        except (ValueError, np.linalg.LinAlgError):
            return None


def _name(pdq: tuple, seasonal: tuple, m: int) -> str:
    text = f"ARIMA({pdq[0]},{pdq[1]},{pdq[2]})"
    return text + (f"({seasonal[0]},{seasonal[1]},{seasonal[2]})[{m}]" if m else "")


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


def forecast_origins(result, series: np.ndarray, start: int, origins: np.ndarray,  # noqa: ANN001
                     horizon: int) -> np.ndarray:
    """(windows, H) forecasts from each origin of a SARIMAX `result` fitted on
    series[start:fit_end], with its parameters: one filtering pass over series[fit_end:last
    origin), then the state-space recursion from the predicted state at each origin.

    Equal (to rounding) to `result.apply(series[start:o]).forecast(H)` per origin, without a
    re-filter per origin. Origins at or before `start` are forecast by `apply` (rare).
    """
    fitted = result.filter_results
    fit_end = start + fitted.nobs
    stop = int(origins.max()) if len(origins) else fit_end
    states = fitted.predicted_state  # a(t|t-1) for t = start .. fit_end
    if stop > fit_end:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            more = result.extend(series[fit_end:stop]).filter_results.predicted_state
        states = np.hstack([states, more[:, 1:]])
    design, transition = fitted.design[..., -1], fitted.transition[..., -1]
    state_intercept, obs_intercept = fitted.state_intercept[:, -1], fitted.obs_intercept[:, -1]
    out = np.empty((len(origins), horizon))
    inside = origins > start
    state = states[:, origins[inside] - start]
    for h in range(horizon):
        out[inside, h] = (design @ state)[0] + obs_intercept[0]
        state = transition @ state + state_intercept[:, None]
    for w in np.flatnonzero(~inside):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out[w] = result.apply(series[:origins[w]]).forecast(horizon)
    return out
