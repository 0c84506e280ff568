"""Errors the user can fix, and the small checks that raise them at every boundary.

A `UserError` is printed by the CLI as a single `error: ...` line with exit code 2 (see
docs/contracts.md); anything else is an internal failure (exit 1).
"""

from __future__ import annotations

import math
from pathlib import Path


class UserError(Exception):
    """Bad input or options: the message says what was found, what is needed, what to do."""


class Terminated(BaseException):
    """SIGTERM arrived (the console script turns the signal into this; exit code 143)."""


def check_file(path: str | Path, what: str = "data file") -> Path:
    """Return `path` as a Path if it is an existing, non-empty file."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{what} {path} does not exist (check the path)")
    if path.is_dir():
        raise UserError(f"{what} {path} is a folder; give a file")
    if path.stat().st_size == 0:
        raise UserError(f"{what} {path} is empty")
    return path


def check_columns(columns: list[str], available: list[str], source: str, option: str) -> None:
    """Every name in `columns` must be a column of the table read from `source`."""
    missing = [c for c in columns if c not in available]
    if missing:
        shown = ", ".join(map(printable, available[:12])) + (" ..." if len(available) > 12
                                                             else "")
        raise UserError(
            f"{source} has no column {missing[0]!r} (given by {option}); its columns are: {shown}"
        )


def check_range(value: float, name: str, low: float, high: float | None = None) -> None:
    """`value` of option `name` must lie in [low, high] (NaN and infinities never do)."""
    check_finite(value, name)
    if value < low or (high is not None and value > high):
        bound = f">= {low}" if high is None else f"between {low} and {high}"
        raise UserError(f"{name} must be {bound}; got {value}")


def check_finite(value: float, name: str) -> None:
    """A numeric option must be a finite number (`--lr nan`, `--test-size inf` are refused)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise UserError(f"{name} must be a finite number; got {value}")


def printable(name: str) -> str:
    """A name as it can stand in a one-line message: as is, or quoted with escapes when it holds
    line breaks or other control characters."""
    return name if name.isprintable() else repr(name)
