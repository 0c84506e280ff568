"""The user's series, read and checked: the table's time column parsed, sorted and put on a
regular grid (or filled, as --fill says), the target and covariate columns numeric and finite,
every problem one error naming the file, the column and the line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from rnnlab.data.io import read_table
from rnnlab.data.timeseries import base_alias, infer_frequency, normalise_alias
from rnnlab.errors import UserError, check_columns
from rnnlab.tasks.forecasting.config import ForecastConfig


@dataclass
class Series:
    """A validated series: `targets` (time, k) and numeric `features` (time, f) in original
    units; `labels` (time, c) the text values of the categorical covariates `categorical`."""

    index: pd.Index  # DatetimeIndex, or a RangeIndex of steps when there is no time column
    targets: np.ndarray
    features: np.ndarray
    freq: str | None
    source: str
    labels: np.ndarray | None = None
    categorical: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.index)

    def rows(self, start: int, stop: int) -> Series:
        """Rows [start, stop): an earlier cut-off (backtest fold) or just the recent history."""
        labels = None if self.labels is None else self.labels[start:stop]
        return Series(self.index[start:stop], self.targets[start:stop],
                      self.features[start:stop], self.freq, self.source, labels,
                      self.categorical)


FLOAT32_MAX = float(np.finfo(np.float32).max)  # the network computes in float32
MISSING = "(missing)"  # the label of an empty categorical cell
HOLIDAY_RUN = 4  # missing weekdays in a row that a business-day (B) calendar accepts


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
    _check_columns(cfg, list(frame.columns), source)
    categorical = [column for column in cfg.features if is_categorical(frame[column])]
    numeric = [column for column in cfg.features if column not in categorical]
    values = [*cfg.target, *numeric]
    # Checked in file order, so that the line numbers in messages are the file's own.
    frame = frame.reset_index(drop=True)
    frame = frame.assign(**{column: _numeric(frame[column], column, source) for column in values})
    _check_values(cfg, frame, values, source, fitted)
    if cfg.time_col is not None:
        frame = _index_by_time(frame, cfg.time_col, cfg.time_format, source, fitted)
    freq = _calendar(cfg, frame.index)
    if freq is not None:
        if cfg.freq is not None:  # asked for: every row must lie on that calendar
            _check_on_grid(frame.index, freq, source)
        frame = _regularise(frame, freq, cfg.fill, source, fitted)
    frame = _fill(frame, values, cfg.fill)
    labels = frame[categorical]
    if cfg.fill != "none":
        labels = labels.ffill().bfill()  # a category is carried forward, never interpolated
    return Series(
        index=frame.index,
        targets=frame[list(cfg.target)].to_numpy(np.float64),
        features=frame[numeric].to_numpy(np.float64).reshape(len(frame), -1),
        freq=freq,
        source=source,
        labels=labels.astype(object).where(labels.notna(), MISSING).astype(str).to_numpy(),
        categorical=tuple(categorical),
    )


def is_categorical(values: pd.Series) -> bool:
    """A covariate of labels (wind direction NW / SE / cv, a weekday name): not a numeric
    column and fewer than half its values parse as numbers. A numeric column with a stray word
    stays numeric, so that word is reported as a typo by line."""
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return False
    present = values.dropna()
    return len(present) > 0 and pd.to_numeric(present, errors="coerce").notna().mean() < 0.5


def _check_columns(cfg: ForecastConfig, columns: list[str], source: str) -> None:
    check_columns(list(cfg.target), columns, source, "--target")
    check_columns(list(cfg.features), columns, source, "--features")
    if cfg.time_col is not None:
        check_columns([cfg.time_col], columns, source, "--time-col")


def _check_values(cfg: ForecastConfig, frame: pd.DataFrame, values: list[str], source: str,
                  fitted: bool) -> None:
    """Finite, within float32, positive under --log, and no NaN unless --fill will fill it."""
    _check_finite(frame, values, source)
    if cfg.log or cfg.transform != "none":
        _check_positive(frame, list(cfg.target), source, fitted,
                        "--log" if cfg.log else f"--transform {cfg.transform}")
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


def _check_positive(frame: pd.DataFrame, columns: list[str], source: str, fitted: bool,
                    flag: str = "--log") -> None:
    """--log and --transform need every (non-missing) target positive."""
    for column in columns:
        values = frame[column].to_numpy(np.float64)
        with np.errstate(invalid="ignore"):
            bad = values <= 0  # NaN: False
        if bad.any():
            position = int(np.flatnonzero(bad)[0])
            advice = (f"the run was fitted with {flag}, so every target must be positive; fix "
                      "that value" if fitted else f"drop {flag}")
            raise UserError(
                f"{source} line {_line(position)}: {flag} needs positive targets, found "
                f"{values[position]:g} in column {column!r}; {advice}"
            )


def _calendar(cfg: ForecastConfig, index: pd.Index) -> str | None:
    """The series' calendar: --freq as given, none (positions, not dates), or inferred."""
    if not isinstance(index, pd.DatetimeIndex) or cfg.freq == "none":
        return None
    if cfg.freq is not None:
        return normalise_alias(cfg.freq)
    return infer_frequency(index)


def _check_on_grid(index: pd.DatetimeIndex, freq: str, source: str) -> None:
    """Under an explicit --freq, a row off that calendar (a Saturday under B) is an error."""
    grid = pd.date_range(index[0], index[-1], freq=freq)
    off = ~index.isin(grid)
    if off.any():
        raise UserError(
            f"{source}: {int(off.sum())} row(s) are not on the --freq {freq} calendar, first "
            f"{index[off][0]}; choose the --freq of the data or --freq none (rows in order)"
        )


def _regularise(frame: pd.DataFrame, freq: str, fill: str, source: str,
                fitted: bool = False) -> pd.DataFrame:
    """Put the series on its regular time grid; missing timestamps become NaN rows.

    Business days (B) accept holiday gaps as they are: runs of up to HOLIDAY_RUN missing
    weekdays are closures, not missing data, so the rows stay trading days without a fill;
    --fill fills only the longer gaps (no holiday is invented as a row).
    """
    grid = pd.date_range(frame.index[0], frame.index[-1], freq=freq)
    if len(grid) == len(frame) or not frame.index.isin(grid).all():
        return frame  # already regular, or irregular data that no grid fits: keep as is
    missing = grid.difference(frame.index)
    gaps = _gaps(grid, missing)
    if base_alias(freq) == "B":  # holidays stay out, filled or not: they are not missing
        gaps = [gap for gap in gaps if gap[2] > HOLIDAY_RUN]
        if not gaps:
            return frame  # holidays only: trading days stay consecutive rows
        if fill != "none":
            long = [day for first, last, _ in gaps for day in grid[grid.slice_indexer(first,
                                                                                        last)]]
            return frame.reindex(frame.index.union(pd.DatetimeIndex(long)))
    if fill != "none":
        return frame.reindex(grid)
    advice = ("the run was fitted without --fill, so add the missing rows to the file"
              if fitted else "pass --fill ffill or --fill interpolate to fill them")
    first, last, size = max(gaps, key=lambda gap: gap[2])
    allowed = f" (more than {HOLIDAY_RUN} in a row)" if base_alias(freq) == "B" else ""
    raise UserError(
        f"{source}: {sum(gap[2] for gap in gaps)} timestamp(s){allowed} missing from the "
        f"regular {freq} grid, first {gaps[0][0].date()}, in {len(gaps)} gap(s), the longest "
        f"{size} from {first.date()} to {last.date()}; {advice}"
    )


def _gaps(grid: pd.DatetimeIndex, missing: pd.DatetimeIndex
          ) -> list[tuple[pd.Timestamp, pd.Timestamp, int]]:
    """(first, last, count) of each run of consecutive grid points that are missing."""
    position = grid.get_indexer(missing)
    breaks = np.flatnonzero(np.diff(position) > 1) + 1
    return [(grid[run[0]], grid[run[-1]], len(run)) for run in np.split(position, breaks)]


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
