"""Pure time-series transforms (numpy / pandas only): windows, frequency, calendar, scalers.

Everything here is fitted on the training part only by its callers and saves its state as
JSON-able dicts, so a run folder can rebuild it without pickles.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.preprocessing import MinMaxScaler, StandardScaler

# -- windows -------------------------------------------------------------------------------


def make_windows(
    values: np.ndarray, lookback: int, horizon: int, stride: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Rolling windows as in the lecture: inputs of `lookback` steps, the next `horizon` targets.

    values (time,) or (time, features) -> X (windows, lookback[, features]),
    Y (windows, horizon[, features]).

    >>> X, Y = make_windows(np.arange(10, 100, 10), lookback=3, horizon=1)
    >>> X[0].tolist(), Y[0].tolist(), X[-1].tolist(), Y[-1].tolist()
    ([10, 20, 30], [40], [60, 70, 80], [90])
    """
    starts = window_origins(len(values), lookback, horizon, stride=stride)
    return gather(values, starts, -lookback, 0), gather(values, starts, 0, horizon)


def window_origins(
    n: int, lookback: int, horizon: int, start: int = 0, stop: int | None = None, stride: int = 1
) -> np.ndarray:
    """Indices `o` of the first target of every window whose inputs `[o-lookback, o)` lie in
    `[0, n)` and whose targets `[o, o+horizon)` lie in `[start, stop)`."""
    stop = n if stop is None else stop
    first = max(lookback, start)
    return np.arange(first, stop - horizon + 1, stride, dtype=np.int64)


def gather(values: np.ndarray, origins: np.ndarray, begin: int, end: int) -> np.ndarray:
    """values[o + begin : o + end] for every origin, stacked: (len(origins), end - begin, ...)."""
    offsets = np.arange(begin, end)
    return values[origins[:, None] + offsets[None, :]]


# -- time axis -----------------------------------------------------------------------------

SEASON_BY_FREQ = {"h": 24, "D": 7, "B": 5, "W": 52, "MS": 12, "ME": 12, "QS": 4, "QE": 4}


def infer_frequency(index: pd.DatetimeIndex) -> str | None:
    """A pandas frequency alias for a sorted, possibly gappy, DatetimeIndex (None: irregular).

    pandas' own `infer_freq` needs a gap-free index, so the typical step decides instead:
    daily data with two missing dates is still daily. Anchors are kept ("W-MON", "YS-JUL").
    """
    if len(index) < 3:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas 3 warns about aliases it will rename
        exact = pd.infer_freq(index)
    if exact is not None:
        return normalise_alias(exact)
    step = pd.Series(index[1:] - index[:-1]).mode().iloc[0]
    days = step / pd.Timedelta(days=1)
    if step < pd.Timedelta(days=1):
        seconds = int(step.total_seconds())
        return {3600: "h", 60: "min", 1: "s"}.get(seconds, f"{seconds}s")
    if days == 1:
        return "B" if is_business_daily(index) else "D"
    if days == 7:
        return f"W-{index[-1].strftime('%a').upper()}"
    for alias, low, high in (("M", 28, 31), ("Q", 89, 92), ("Y", 365, 366)):
        if low <= days <= high:
            if (index.day == 1).all():
                return alias + "S"
            if index.is_month_end.all():
                return alias + "E"
            return None  # mid-month dates: no regular calendar grid to check against
    return None


BUSINESS_COVERAGE = 0.9  # share of the weekdays between first and last row that must be present
WEEKEND_SHARE = 0.1  # at most this share of rows on weekends (old Saturday sessions)


def is_business_daily(index: pd.DatetimeIndex) -> bool:
    """Trading-day data: (almost) only weekdays, and at least 90% of the weekdays between the
    first and last row present (the rest are holidays and closures, which a business-day
    calendar does not list). A few weekend rows are tolerated: exchanges traded on Saturdays
    until the 1950s."""
    if len(index) < 3:
        return False
    weekend = index.dayofweek >= 5
    if weekend.mean() > WEEKEND_SHARE:
        return False
    weekdays = np.busday_count(index[0].date(), index[-1].date()) + 1
    return int((~weekend).sum()) >= BUSINESS_COVERAGE * weekdays


def normalise_alias(alias: str) -> str:
    """Today's pandas spelling of an alias, anchor kept: "H" -> "h", "A-DEC" -> "YE-DEC"."""
    base, _, anchor = alias.partition("-")
    base = {"H": "h", "T": "min", "S": "s", "M": "ME", "Q": "QE", "A": "YE", "AS": "YS",
            "Y": "YE", "BA": "BYE", "BM": "BME"}.get(base, base)
    return f"{base}-{anchor}" if anchor else base


def base_alias(freq: str | None) -> str:
    """The alias without its anchor: "W-MON" -> "W", "QS-OCT" -> "QS"."""
    return (freq or "").split("-")[0]


def season_for(freq: str | None) -> int:
    """Seasonal period implied by a frequency (1 when there is none to speak of)."""
    return SEASON_BY_FREQ.get(base_alias(freq), 1)


def future_index(last: pd.Timestamp, freq: str, steps: int) -> pd.DatetimeIndex:
    return pd.date_range(last, periods=steps + 1, freq=freq)[1:]


def _days(stamps: np.ndarray) -> np.ndarray:
    return stamps.astype("datetime64[D]")


# name -> (integer field from datetime64[ns] values, period); numpy only, no pandas accessors
CALENDAR_FIELDS = {
    "hour": (lambda t: (t.astype("datetime64[h]") - _days(t)).astype(np.int64), 24),
    "dow": (lambda t: (_days(t).astype(np.int64) + 3) % 7, 7),  # Monday = 0
    "month": (lambda t: t.astype("datetime64[M]").astype(np.int64) % 12, 12),  # January = 0
    "doy": (lambda t: (_days(t) - t.astype("datetime64[Y]")).astype(np.int64), 366),
}


def calendar_features(index: pd.DatetimeIndex, fields: list[str]) -> np.ndarray:
    """sin / cos encodings of calendar fields: (time, 2 * len(fields)), all within [-1, 1]."""
    index = pd.DatetimeIndex(index)
    if index.tz is not None:
        index = index.tz_localize(None)  # the local wall-clock time decides hour and day
    stamps = np.asarray(index, dtype="datetime64[ns]")
    columns = []
    for name in fields:
        extract, period = CALENDAR_FIELDS[name]
        angle = 2 * np.pi * extract(stamps).astype(np.float64) / period
        columns += [np.sin(angle), np.cos(angle)]
    return np.stack(columns, axis=1) if columns else np.zeros((len(index), 0))


def default_calendar(freq: str | None) -> list[str]:
    """The calendar fields that vary at this frequency (`--calendar auto`)."""
    base = base_alias(freq)
    if base in ("h", "min", "s") or base.endswith(("h", "min", "s")):
        return ["hour", "dow"]
    if base in ("D", "B"):
        return ["dow", "doy"]
    if base == "W":
        return ["doy"]
    if base in ("MS", "ME", "QS", "QE"):
        return ["month"]
    return []


# -- scalers (scikit-learn, state as JSON) ---------------------------------------------------

_SCALER_STATE = {
    "standard": (StandardScaler, ["mean_", "var_", "scale_", "n_samples_seen_"]),
    "minmax": (MinMaxScaler, ["min_", "scale_", "data_min_", "data_max_", "data_range_"]),
}


def fit_scaler(kind: str, values: np.ndarray) -> StandardScaler | MinMaxScaler | None:
    """Fit a scikit-learn scaler on (rows, columns); NaN rows are ignored; kind "none" -> None."""
    if kind == "none" or values.shape[1] == 0:
        return None
    return _SCALER_STATE[kind][0]().fit(values)


def scaler_to_dict(scaler: StandardScaler | MinMaxScaler | None) -> dict | None:
    if scaler is None:
        return None
    kind = "standard" if isinstance(scaler, StandardScaler) else "minmax"
    state = {name: np.asarray(getattr(scaler, name)).tolist() for name in _SCALER_STATE[kind][1]}
    return {"kind": kind, **state}


def scaler_from_dict(state: dict | None) -> StandardScaler | MinMaxScaler | None:
    if state is None:
        return None
    cls, names = _SCALER_STATE[state["kind"]]
    scaler = cls()
    for name in names:
        setattr(scaler, name, np.asarray(state[name], dtype=np.float64))
    scaler.n_features_in_ = len(state["scale_"])
    return scaler


def apply_scaler(scaler: StandardScaler | MinMaxScaler | None, values: np.ndarray,
                 inverse: bool = False) -> np.ndarray:
    """Scale (or unscale) an array whose last axis holds the scaler's columns.

    The fitted scikit-learn parameters are applied with numpy directly (the same affine map as
    `transform` / `inverse_transform`), which keeps a single forecast in the microseconds.
    """
    if scaler is None:
        return values
    if isinstance(scaler, StandardScaler):
        shift, scale = scaler.mean_, scaler.scale_  # x' = (x - mean) / scale
        return values * scale + shift if inverse else (values - shift) / scale
    if inverse:
        return (values - scaler.min_) / scaler.scale_
    return values * scaler.scale_ + scaler.min_
