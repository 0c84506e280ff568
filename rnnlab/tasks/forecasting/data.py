"""Forecasting data: read and validate the series, split it in time, build windows and batches.

`load_series` turns the user's table into a clean, sorted, regular `Series`; `Preprocessor`
is fitted on the training rows only (log / difference / scale, calendar and lag columns) and
saved as JSON; `Split` holds the train / validation / test boundaries.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader, Dataset, RandomSampler

from rnnlab.data.io import read_table
from rnnlab.data.timeseries import (
    apply_scaler,
    calendar_features,
    default_calendar,
    fit_scaler,
    infer_frequency,
    scaler_from_dict,
    scaler_to_dict,
)
from rnnlab.errors import UserError, check_columns
from rnnlab.tasks.forecasting.config import ForecastConfig
from rnnlab.training import passes_per_epoch


@dataclass
class Series:
    """A validated series: `targets` (time, k) and `features` (time, f) in original units."""

    index: pd.Index  # DatetimeIndex, or a RangeIndex of steps when there is no time column
    targets: np.ndarray
    features: np.ndarray
    freq: str | None
    source: str

    def __len__(self) -> int:
        return len(self.index)

    def rows(self, start: int, stop: int) -> Series:
        """Rows [start, stop): an earlier cut-off (backtest fold) or just the recent history."""
        return Series(self.index[start:stop], self.targets[start:stop],
                      self.features[start:stop], self.freq, self.source)


FLOAT32_MAX = float(np.finfo(np.float32).max)  # the network computes in float32


def load_series(cfg: ForecastConfig, frame: pd.DataFrame | Series | None = None,
                source: str | None = None, fitted: bool = False) -> Series:
    """Read (unless given) and validate the table named by `cfg.data`.

    `fitted`: `cfg` is a trained run's (predict, evaluate, anomalies), so advice names what the
    run was fitted with instead of options those commands do not have.
    """
    if isinstance(frame, Series):
        return frame
    if frame is None:
        from rnnlab.data.datasets import resolve_data

        path = resolve_data(cfg.data)
        encoding_option = None if fitted else "--encoding"
        frame, source = read_table(path, cfg.encoding, encoding_option), Path(path).name
    source = source or "the data"
    values = [*cfg.target, *cfg.features]
    _check_columns(cfg, list(frame.columns), source)
    # Checked in file order, so that the line numbers in messages are the file's own.
    frame = frame.reset_index(drop=True)
    frame = frame.assign(**{column: _numeric(frame[column], column, source) for column in values})
    _check_values(cfg, frame, source, fitted)
    if cfg.time_col is not None:
        frame = _index_by_time(frame, cfg.time_col, cfg.time_format, source, fitted)
    freq = infer_frequency(frame.index) if isinstance(frame.index, pd.DatetimeIndex) else None
    if freq is not None:
        frame = _regularise(frame, freq, cfg.fill, source, fitted)
    frame = _fill(frame, values, cfg.fill)
    return Series(
        index=frame.index,
        targets=frame[list(cfg.target)].to_numpy(np.float64),
        features=frame[list(cfg.features)].to_numpy(np.float64).reshape(len(frame), -1),
        freq=freq,
        source=source,
    )


def _check_columns(cfg: ForecastConfig, columns: list[str], source: str) -> None:
    check_columns(list(cfg.target), columns, source, "--target")
    check_columns(list(cfg.features), columns, source, "--features")
    if cfg.time_col is not None:
        check_columns([cfg.time_col], columns, source, "--time-col")


def _check_values(cfg: ForecastConfig, frame: pd.DataFrame, source: str, fitted: bool) -> None:
    """Finite, within float32, positive under --log, and no NaN unless --fill will fill it."""
    values = [*cfg.target, *cfg.features]
    _check_finite(frame, values, source)
    if cfg.log:
        _check_positive(frame, list(cfg.target), source, fitted)
    if cfg.fill == "none":
        _check_no_nan(frame, values, source, fitted)


def _line(position: int) -> int:
    return position + 2  # header is line 1


def _index_by_time(frame: pd.DataFrame, column: str, fmt: str | None, source: str,
                   fitted: bool = False) -> pd.DataFrame:
    raw = frame[column]
    if fmt is None and pd.api.types.is_integer_dtype(raw) and raw.between(1000, 2999).all():
        fmt = "%Y"  # a column of years such as 1885
    parsed = pd.to_datetime(raw.astype(str), format=fmt, errors="coerce")
    bad = parsed.isna() & raw.notna()
    if bad.any() or raw.isna().any():
        position = int(np.flatnonzero(bad | raw.isna())[0])
        if fitted:
            advice = f"fix the value (the run reads times as {fmt})" if fmt else "fix the value"
        else:
            advice = "fix the value or pass --time-format (e.g. --time-format %Y-%m)"
        raise UserError(
            f"{source} line {_line(position)}: time column {column!r} has {raw.iloc[position]!r}, "
            f"which is not a date; {advice}"
        )
    duplicated = parsed.duplicated(keep=False)
    if duplicated.any():
        rows = np.flatnonzero(duplicated)[:2]
        raise UserError(
            f"{source}: timestamp {parsed.iloc[rows[0]]} appears twice (lines "
            f"{_line(rows[0])} and {_line(rows[1])}) in {column!r}; remove or aggregate duplicates"
        )
    frame = frame.assign(**{column: parsed}).sort_values(column, kind="stable")
    return frame.set_index(column)


def _numeric(values: pd.Series, column: str, source: str) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna() & values.notna()
    if bad.any():
        position = int(np.flatnonzero(bad.to_numpy())[0])
        raise UserError(
            f"{source} line {_line(position)}: column {column!r} has {values.iloc[position]!r}, "
            "which is not a number; fix it or choose a numeric column"
        )
    return numbers.astype(np.float64)


def _check_finite(frame: pd.DataFrame, columns: list[str], source: str) -> None:
    """inf, -inf and numbers beyond float32 (the network's precision) are refused by line."""
    for column in columns:
        values = frame[column].to_numpy(np.float64)
        with np.errstate(invalid="ignore"):
            bad = np.isinf(values) | (np.abs(values) > FLOAT32_MAX)  # NaN: False
        if not bad.any():
            continue
        position = int(np.flatnonzero(bad)[0])
        value = values[position]
        found = f"{source} column {column!r} has {value:g} on line {_line(position)}"
        if np.isinf(value):
            raise UserError(f"{found}; remove or fix that value")
        raise UserError(f"{found}, beyond the float32 range (+-{FLOAT32_MAX:.1e}) the network "
                        "computes in; fix that value or rescale the column")


def _check_positive(frame: pd.DataFrame, columns: list[str], source: str, fitted: bool) -> None:
    """--log needs every (non-missing) target positive."""
    for column in columns:
        values = frame[column].to_numpy(np.float64)
        with np.errstate(invalid="ignore"):
            bad = values <= 0  # NaN: False
        if bad.any():
            position = int(np.flatnonzero(bad)[0])
            advice = ("the run was fitted with --log, so every target must be positive; fix "
                      "that value" if fitted else "drop --log")
            raise UserError(
                f"{source} line {_line(position)}: --log needs positive targets, found "
                f"{values[position]:g} in column {column!r}; {advice}"
            )


def _regularise(frame: pd.DataFrame, freq: str, fill: str, source: str,
                fitted: bool = False) -> pd.DataFrame:
    """Put the series on its regular time grid; missing timestamps become NaN rows."""
    grid = pd.date_range(frame.index[0], frame.index[-1], freq=freq)
    if len(grid) == len(frame) or not frame.index.isin(grid).all():
        return frame  # already regular, or irregular data that no grid fits: keep as is
    missing = grid.difference(frame.index)
    if fill == "none":
        advice = ("the run was fitted without --fill, so add the missing rows to the file"
                  if fitted else "pass --fill ffill or --fill interpolate to fill them")
        raise UserError(
            f"{source}: {len(missing)} timestamp(s) missing from the regular {freq} grid, first "
            f"{missing[0].date()}; {advice}"
        )
    return frame.reindex(grid)


def _check_no_nan(frame: pd.DataFrame, columns: list[str], source: str,
                  fitted: bool = False) -> None:
    values = frame[columns]
    if values.isna().any().any():
        column = values.columns[values.isna().any()][0]
        position = int(np.flatnonzero(values[column].isna().to_numpy())[0])
        advice = ("the run was fitted without --fill, so the data must have no gaps; fill in "
                  "that value" if fitted else
                  "pass --fill ffill or --fill interpolate, or clean the file")
        raise UserError(
            f"{source} line {_line(position)}: column {column!r} is empty (NaN); {advice}"
        )


def _fill(frame: pd.DataFrame, columns: list[str], fill: str) -> pd.DataFrame:
    """Fill NaNs (and rows added for missing timestamps) in time order."""
    values = frame[columns]
    if fill == "none" or not values.isna().any().any():
        return frame
    filled = values.ffill() if fill == "ffill" else values.interpolate(limit_direction="both")
    filled = filled.bfill()  # a leading gap has nothing before it
    return frame.assign(**{c: filled[c] for c in columns})


# -- split ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    """Row boundaries: train [0, train_end), validation [train_end, val_end), test [val_end, n)."""

    train_end: int
    val_end: int
    n: int

    @property
    def sizes(self) -> dict[str, int]:
        return {"train": self.train_end, "val": self.val_end - self.train_end,
                "test": self.n - self.val_end}


def size_in_rows(size: float, n: int, option: str = "--test-size") -> int:
    """A part's size: a fraction (< 1) of the `n` rows, or a whole number of rows."""
    if size >= 1 and size != int(size):
        raise UserError(f"{option} {size:g} is neither a fraction below 1 nor a whole number of "
                        "rows; give a fraction (e.g. 0.2) or a row count (e.g. 24)")
    return int(round(size * n)) if size < 1 else int(size)


def make_split(cfg: ForecastConfig, n: int, first_valid: int, source: str,
               fitted: bool = False) -> Split:
    """Chronological split; each part must hold at least one full window.

    `fitted`: `cfg` is a trained run's (evaluate, anomalies): the message names the run's
    settings and asks for longer data instead of naming options those commands lack.
    """
    test = size_in_rows(cfg.test_size, n, "--test-size")
    val = max(size_in_rows(cfg.val_size, n, "--val-size"), cfg.horizon)
    train = n - test - val
    train_min = first_valid + cfg.lookback + cfg.output_steps
    if test >= cfg.horizon and train >= train_min:
        return Split(train_end=train, val_end=train + val, n=n)
    needed = train_min + val + max(test, cfg.horizon)
    parts = f"training {train_min}, validation {val}, test {max(test, cfg.horizon)}"
    if fitted:
        raise UserError(
            f"{source} has {n} rows; the run (--lookback {cfg.lookback}, --horizon "
            f"{cfg.horizon}, --test-size {cfg.test_size:g}, --val-size {cfg.val_size:g}) needs "
            f"at least {needed} ({parts}); give a longer series"
        )
    raise UserError(_split_problem(cfg, n, test, val, train_min, source)
                    or f"{source} has {n} rows; --lookback {cfg.lookback} with --horizon "
                       f"{cfg.horizon} needs at least {needed} ({parts}); use a smaller "
                       "--lookback/--horizon or a longer series")


def _split_problem(cfg: ForecastConfig, n: int, test: int, val: int, train_min: int,
                   source: str) -> str | None:
    """The message when --test-size / --val-size (not the windows) make the split fail."""
    sizes = {"--test-size": cfg.test_size, "--val-size": cfg.val_size}
    for option, size in sizes.items():
        rows = size_in_rows(size, n, option)
        if rows >= n:
            return (f"{source} has {n} rows but {option} {size:g} asks for {rows}; give a "
                    f"fraction (e.g. {option} 0.2) or fewer rows")
    if test < cfg.horizon:
        return (f"--test-size {cfg.test_size:g} gives {test} test row(s) of {source}'s {n}, "
                f"fewer than --horizon {cfg.horizon}; use a larger --test-size")
    if test + val > n / 2:
        left = f"leave {n - test - val}" if test + val < n else "leave no rows"
        return (f"{source} has {n} rows; --test-size {cfg.test_size:g} ({test} rows) and "
                f"--val-size {cfg.val_size:g} ({val} rows) {left} for training, which needs "
                f"{train_min} (--lookback {cfg.lookback} with --horizon {cfg.horizon}); use a "
                "smaller --test-size or --val-size")
    return None


# -- preprocessing (fitted on the training rows only) ----------------------------------------


class Preprocessor:
    """Targets and covariates -> the network's input columns and (scaled) target columns.

    Input columns: transformed targets, covariates, lagged copies of both, calendar sin/cos.
    Target transform: optional log, optional first difference, then the scaler.
    """

    def __init__(self, cfg: ForecastConfig, freq: str | None = None) -> None:
        self.log, self.diff, self.scale = cfg.log, cfg.diff, cfg.scale
        self.lags = sorted(cfg.lags)
        calendar = list(cfg.calendar)
        self.calendar = default_calendar(freq) if calendar == ["auto"] else calendar
        self.freq = freq
        self.target_scaler = None
        self.feature_scaler = None

    @property
    def first_valid(self) -> int:
        """Rows lost at the start to differencing and lags."""
        return int(self.diff) + (self.lags[-1] if self.lags else 0)

    def transform_targets(self, targets: np.ndarray, source: str = "the data") -> np.ndarray:
        """(time, k) original units -> (time, k) log / differenced, unscaled (NaN: undefined)."""
        values = targets
        if self.log:
            if (values <= 0).any():
                row = int(np.argwhere(values <= 0)[0][0])
                raise UserError(
                    f"{source} line {row + 2}: --log needs positive targets, found "
                    f"{values[row].tolist()}; drop --log"
                )
            values = np.log(values)
        if self.diff:
            values = np.vstack([np.full((1, values.shape[1]), np.nan), np.diff(values, axis=0)])
        return values

    def fit(self, series: Series, train_end: int) -> Preprocessor:
        z = self.transform_targets(series.targets, series.source)[self.first_valid:train_end]
        self.target_scaler = fit_scaler(self.scale, z)
        self.feature_scaler = fit_scaler(self.scale, series.features[:train_end])
        return self

    def scaled_targets(self, series: Series) -> np.ndarray:
        z = self.transform_targets(series.targets, series.source)
        return apply_scaler(self.target_scaler, z)

    def inputs(self, series: Series, scaled_targets: np.ndarray | None = None) -> np.ndarray:
        """(time, input_columns) float32; rows before `first_valid` hold NaN."""
        z = self.scaled_targets(series) if scaled_targets is None else scaled_targets
        base = np.hstack([z, apply_scaler(self.feature_scaler, series.features)])
        blocks = [base]
        for lag in self.lags:
            shifted = np.full_like(base, np.nan)
            shifted[lag:] = base[:-lag]
            blocks.append(shifted)
        blocks.append(self.calendar_columns(series.index))
        return np.hstack(blocks).astype(np.float32)

    def calendar_columns(self, index: pd.Index) -> np.ndarray:
        if not self.calendar:
            return np.zeros((len(index), 0))
        return calendar_features(pd.DatetimeIndex(index), self.calendar)

    def invert(self, scaled: np.ndarray, origins: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Forecasts (windows, steps, k) in scaled space -> original units.

        Differenced forecasts are summed onto the last observed level before each origin.
        """
        values = apply_scaler(self.target_scaler, scaled, inverse=True)
        if self.diff:
            levels = np.log(targets) if self.log else targets
            values = levels[origins - 1][:, None, :] + np.cumsum(values, axis=1)
        return np.exp(values) if self.log else values

    def to_dict(self) -> dict:
        return {
            "log": self.log, "diff": self.diff, "scale": self.scale, "lags": self.lags,
            "calendar": self.calendar, "freq": self.freq,
            "target_scaler": scaler_to_dict(self.target_scaler),
            "feature_scaler": scaler_to_dict(self.feature_scaler),
        }

    @classmethod
    def from_dict(cls, state: dict) -> Preprocessor:
        self = cls.__new__(cls)
        self.log, self.diff, self.scale = state["log"], state["diff"], state["scale"]
        self.lags, self.calendar, self.freq = state["lags"], state["calendar"], state["freq"]
        self.target_scaler = scaler_from_dict(state["target_scaler"])
        self.feature_scaler = scaler_from_dict(state["feature_scaler"])
        return self


# -- batches ---------------------------------------------------------------------------------


class WindowTensors(Dataset):
    """In-memory (inputs, targets) tensors; `__getitems__` slices a whole batch at once so the
    DataLoader does no per-sample Python work."""

    def __init__(self, inputs: np.ndarray, targets: np.ndarray) -> None:
        self.inputs = torch.from_numpy(np.ascontiguousarray(inputs, dtype=np.float32))
        self.targets = torch.from_numpy(np.ascontiguousarray(targets, dtype=np.float32))

    def __len__(self) -> int:
        return len(self.inputs)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.inputs[index], self.targets[index]

    def __getitems__(self, indices: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        rows = torch.as_tensor(indices)
        return self.inputs[rows], self.targets[rows]


def _keep_batch(batch: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    return batch


class WindowDataModule(pl.LightningDataModule):
    """Shuffled training windows and ordered validation windows.

    An epoch is at least `min_steps` batches: a short series is cycled through several
    shuffles per epoch, so early stopping and the per-epoch validation are not paid every
    couple of steps. Each training item holds `steps_per_call` consecutive batches of the
    shuffle, which the module splits into as many optimizer steps (see ForecastModule).
    """

    def __init__(self, train: WindowTensors, val: WindowTensors, batch_size: int,
                 min_steps: int = 20, steps_per_call: int = 1) -> None:
        super().__init__()
        self.train, self.val, self.batch_size = train, val, batch_size
        self.min_steps, self.steps_per_call = min_steps, steps_per_call

    def train_dataloader(self) -> DataLoader:
        repeats = passes_per_epoch(len(self.train), self.batch_size, self.min_steps)
        sampler = RandomSampler(self.train, num_samples=repeats * len(self.train))
        return DataLoader(self.train, batch_size=self.batch_size * self.steps_per_call,
                          sampler=sampler, collate_fn=_keep_batch)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.val, batch_size=max(self.batch_size, 256), collate_fn=_keep_batch)
