"""Prediction intervals that keep their coverage on non-stationary series.

Split-conformal intervals take one half-width from the validation residuals; when the test
period is more volatile than a calm validation period, they cover far less than promised.
Here (`--intervals adaptive`, the default) each residual is divided by the series' recent
volatility at its origin (the mean |y_t - y_(t-1)| over the `VOLATILITY_ROWS` rows before it),
and the half-width at an origin is the conformal quantile of the most recent `RECENT_SCORES`
such scores, times the volatility at that origin. The pool of scores starts with the
validation forecasts and grows as the rolling origins move forward: a test forecast's score
joins it once its target has been observed, so no interval uses a value after its origin
(online conformal prediction).
"""

from __future__ import annotations

import numpy as np

VOLATILITY_ROWS = 60
RECENT_SCORES = 500


def recent_volatility(y: np.ndarray, origins: np.ndarray, rows: int = VOLATILITY_ROWS
                      ) -> np.ndarray:
    """(windows, k): mean |y_t - y_(t-1)| over the `rows` steps before each origin, from
    y[:o] only. A flat stretch (zero) takes the mean over the whole history before it."""
    changes = np.abs(np.diff(y, axis=0))  # changes[t - 1] = |y_t - y_(t-1)|
    total = np.vstack([np.zeros((1, y.shape[1])), np.cumsum(changes, axis=0)])
    stop = np.clip(origins - 1, 0, len(changes))  # changes before the origin
    start = np.maximum(stop - rows, 0)
    count = np.maximum(stop - start, 1)[:, None]
    recent = (total[stop] - total[start]) / count
    overall = total[stop] / np.maximum(stop, 1)[:, None]
    scale = np.where(recent > 0, recent, overall)
    return np.where(scale > 0, scale, 1.0)


def conformal_rank(n: int, level: float) -> int:
    """1-based rank of the conformal quantile among n scores: ceil((n + 1) * level), at most n."""
    return min(int(np.ceil((n + 1) * level)), n)


def online_halfwidths(val_scores: np.ndarray, seen_scores: np.ndarray, seen_origins: np.ndarray,
                      origins: np.ndarray, scale: np.ndarray, level: float,
                      recent: int = RECENT_SCORES) -> np.ndarray:
    """(windows, H, k) half-widths for the forecasts from `origins`.

    val_scores (n_val, H, k): |residual| / volatility of the validation forecasts;
    seen_scores (m, H, k) the same for forecasts from `seen_origins` (sorted; the test windows
    themselves, or the recent history given to predict). For step h, a seen score is used
    from origin o once its target y[o' + h] lies before o (o' + h < o).
    """
    horizon, k = val_scores.shape[1:]
    out = np.empty((len(origins), horizon, k))
    n_val = len(val_scores)
    for h in range(horizon):
        pool = np.concatenate([val_scores[:, h, :], seen_scores[:, h, :]])
        observed = np.searchsorted(seen_origins, origins - h, side="left")
        for w in range(len(origins)):
            stop = n_val + int(observed[w])
            chosen = np.sort(pool[max(0, stop - recent):stop], axis=0)
            out[w, h] = chosen[conformal_rank(len(chosen), level) - 1] if stop else np.nan
    return out * scale[:, None, :]


def coverage_by_period(truth: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                       labels: list[str], periods: int = 5) -> list[dict]:
    """Coverage of the interval in `periods` consecutive blocks of the test windows, so a
    calm start cannot hide a volatile end. labels: each window's origin time, as text."""
    blocks = np.array_split(np.arange(len(truth)), min(periods, len(truth)))
    rows = []
    for block in blocks:
        inside = (truth[block] >= lower[block]) & (truth[block] <= upper[block])
        rows.append({"start": labels[block[0]], "end": labels[block[-1]],
                     "windows": len(block), "coverage": float(np.mean(inside))})
    return rows
