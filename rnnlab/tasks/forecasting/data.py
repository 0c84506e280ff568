"""Forecasting data: split the series in time, build windows and batches.

`load_series` (series.py) turns the user's table into a clean, sorted, regular `Series`;
`Preprocessor` is fitted on the training rows only (log / difference / scale, calendar and lag
columns) and saved as JSON; `Split` holds the train / validation / test boundaries.
"""

from __future__ import annotations

from dataclasses import dataclass

import lightning.pytorch as pl
import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader, Dataset, RandomSampler

from rnnlab.console import console
from rnnlab.data.timeseries import (
    apply_scaler,
    calendar_features,
    default_calendar,
    fit_scaler,
    scaler_from_dict,
    scaler_to_dict,
)
from rnnlab.errors import UserError
from rnnlab.tasks.forecasting.config import ForecastConfig
from rnnlab.tasks.forecasting.series import Series
from rnnlab.training import passes_per_epoch


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

MAX_LEVELS = 20  # one-hot columns per categorical covariate (plus "other")


def training_levels(labels: np.ndarray) -> tuple[list[str], list[str]]:
    """(levels, rare): the `MAX_LEVELS` most frequent training labels (ties by name), sorted,
    and the rarer ones, which share the "other" column with labels never seen in training."""
    counts = pd.Series(labels).value_counts()
    ordered = sorted(counts.index, key=lambda label: (-counts[label], label))
    return sorted(ordered[:MAX_LEVELS]), sorted(ordered[MAX_LEVELS:])



class Preprocessor:
    """Targets and covariates -> the network's input columns and (scaled) target columns.

    Input columns: transformed targets, covariates, lagged copies of both, calendar sin/cos.
    Target transform: optional log, optional first difference, or (--transform) simple or
    log returns y_t / y_{t-1} - 1 / log(y_t / y_{t-1}); then the scaler.
    """

    def __init__(self, cfg: ForecastConfig, freq: str | None = None) -> None:
        self.log, self.diff, self.scale = cfg.log, cfg.diff, cfg.scale
        self.transform = cfg.transform
        self.lags = sorted(cfg.lags)
        calendar = list(cfg.calendar)
        self.calendar = default_calendar(freq) if calendar == ["auto"] else calendar
        self.freq = freq
        self.target_scaler = None
        self.feature_scaler = None
        self.categories: dict[str, list[str]] = {}  # column -> training levels (one-hot)
        self.rare: dict[str, set[str]] = {}  # column -> training labels beyond MAX_LEVELS
        self._warned: set[str] = set()

    @property
    def first_valid(self) -> int:
        """Rows lost at the start to differencing and lags."""
        changes = self.diff or self.transform != "none"
        return int(changes) + (self.lags[-1] if self.lags else 0)

    def transform_targets(self, targets: np.ndarray, source: str = "the data") -> np.ndarray:
        """(time, k) original units -> (time, k) log / differenced, unscaled (NaN: undefined)."""
        values = targets
        if self.log or self.transform != "none":
            flag = "--log" if self.log else f"--transform {self.transform}"
            if (values <= 0).any():
                row = int(np.argwhere(values <= 0)[0][0])
                raise UserError(
                    f"{source} line {row + 2}: {flag} needs positive targets, found "
                    f"{values[row].tolist()}; drop {flag}"
                )
        if self.transform != "none":
            ratio = values[1:] / values[:-1]
            changes = np.log(ratio) if self.transform == "log-returns" else ratio - 1
            return np.vstack([np.full((1, values.shape[1]), np.nan), changes])
        if self.log:
            values = np.log(values)
        if self.diff:
            values = np.vstack([np.full((1, values.shape[1]), np.nan), np.diff(values, axis=0)])
        return values

    def fit(self, series: Series, train_end: int) -> Preprocessor:
        z = self.transform_targets(series.targets, series.source)[self.first_valid:train_end]
        self.target_scaler = fit_scaler(self.scale, z)
        self.feature_scaler = fit_scaler(self.scale, series.features[:train_end])
        self.categories, self.rare = {}, {}
        for j, name in enumerate(series.categorical):
            levels, rare = training_levels(series.labels[:train_end, j])
            self.categories[name], self.rare[name] = levels, set(rare)
        return self

    def scaled_targets(self, series: Series) -> np.ndarray:
        z = self.transform_targets(series.targets, series.source)
        return apply_scaler(self.target_scaler, z)

    def inputs(self, series: Series, scaled_targets: np.ndarray | None = None) -> np.ndarray:
        """(time, input_columns) float32; rows before `first_valid` hold NaN."""
        z = self.scaled_targets(series) if scaled_targets is None else scaled_targets
        base = np.hstack([z, apply_scaler(self.feature_scaler, series.features),
                          self.one_hot(series)])
        blocks = [base]
        for lag in self.lags:
            shifted = np.full_like(base, np.nan)
            shifted[lag:] = base[:-lag]
            blocks.append(shifted)
        blocks.append(self.calendar_columns(series.index))
        return np.hstack(blocks).astype(np.float32)

    def one_hot(self, series: Series) -> np.ndarray:
        """(time, sum of levels + 1) indicators of each categorical covariate's training levels
        and a last "other" level, which takes rarer and unseen labels (with one warning)."""
        blocks = []
        for name, levels in self.categories.items():
            if name not in series.categorical:
                raise UserError(f"{series.source}: column {name!r} held categories when the run "
                                "was fitted but now holds numbers; give it its labels")
            labels = series.labels[:, series.categorical.index(name)]
            position = {level: i for i, level in enumerate(levels)}
            codes = np.array([position.get(label, len(levels)) for label in labels])
            unseen = sorted(set(labels) - set(levels) - self.rare.get(name, set()))
            if unseen and name not in self._warned:
                self._warned.add(name)
                shown = ", ".join(map(repr, unseen[:5])) + (" ..." if len(unseen) > 5 else "")
                console.print(f"[yellow]warning: {series.source} column {name!r} has "
                              f"categories not seen in training ({shown}); they are treated "
                              "as 'other'[/yellow]", soft_wrap=True)
            blocks.append(np.eye(len(levels) + 1)[codes])
        return np.hstack(blocks) if blocks else np.zeros((len(series), 0))

    def calendar_columns(self, index: pd.Index) -> np.ndarray:
        if not self.calendar:
            return np.zeros((len(index), 0))
        return calendar_features(pd.DatetimeIndex(index), self.calendar)

    def invert(self, scaled: np.ndarray, origins: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Forecasts (windows, steps, k) in scaled space -> original units.

        Differenced forecasts are summed onto the last observed level before each origin.
        """
        values = apply_scaler(self.target_scaler, scaled, inverse=True)
        if self.transform == "returns":  # compounded from the last observed price
            return targets[origins - 1][:, None, :] * np.cumprod(1 + values, axis=1)
        if self.transform == "log-returns":
            return targets[origins - 1][:, None, :] * np.exp(np.cumsum(values, axis=1))
        if self.diff:
            levels = np.log(targets) if self.log else targets
            values = levels[origins - 1][:, None, :] + np.cumsum(values, axis=1)
        return np.exp(values) if self.log else values

    def to_dict(self) -> dict:
        return {
            "log": self.log, "diff": self.diff, "scale": self.scale, "lags": self.lags,
            "transform": self.transform,
            "calendar": self.calendar, "freq": self.freq,
            "target_scaler": scaler_to_dict(self.target_scaler),
            "feature_scaler": scaler_to_dict(self.feature_scaler),
            "categories": self.categories, "rare": {k: sorted(v) for k, v in self.rare.items()},
        }

    @classmethod
    def from_dict(cls, state: dict) -> Preprocessor:
        self = cls.__new__(cls)
        self.log, self.diff, self.scale = state["log"], state["diff"], state["scale"]
        self.transform = state.get("transform", "none")  # runs before --transform: none
        self.lags, self.calendar, self.freq = state["lags"], state["calendar"], state["freq"]
        self.target_scaler = scaler_from_dict(state["target_scaler"])
        self.feature_scaler = scaler_from_dict(state["feature_scaler"])
        self.categories = state.get("categories", {})  # runs before categorical covariates
        self.rare = {k: set(v) for k, v in state.get("rare", {}).items()}
        self._warned = set()
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
