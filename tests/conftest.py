"""Shared fixtures: a fast CPU training config, tiny generated series written as CSV, and a
runner for `rnnlab.cli.main` that captures stdout / stderr and returns the exit code."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from rnnlab.config import TrainConfig

# The test machine has 2 shared cores. Tiny models gain nothing from intra-op threads, and
# oversubscribed OpenMP threads made single fits up to 50x slower while other jobs were running.
torch.set_num_threads(1)

# Options that make `rnnlab forecast fit` fast: a small network, few epochs, a fixed cheap ARIMA
# (automatic seasonal order selection alone takes tens of seconds).
FAST_FIT = ["--device", "cpu", "--quiet", "--epochs", "3", "--patience", "2", "--hidden", "8",
            "--arima-order", "1,0,0"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: end-to-end runs that take several seconds")


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


@contextlib.contextmanager
def _environment(**values: str) -> Iterator[None]:
    old = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_cli(args: list[str]) -> CliResult:
    """`rnnlab ARGS` in this process (the imports are paid once); wide console, no wrapping."""
    from rnnlab.cli import main

    out, err = io.StringIO(), io.StringIO()
    with _environment(COLUMNS="250"), contextlib.redirect_stdout(out), \
            contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return CliResult(code, out.getvalue(), err.getvalue())


def console_script() -> list[str]:
    """The installed `rnnlab` console script, or `python -m rnnlab` when it is not beside python."""
    script = shutil.which("rnnlab", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "rnnlab"]


def run_process(args: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    """`rnnlab ARGS` as a real process (exit code, DDP workers, no shared state)."""
    env = {**os.environ, "COLUMNS": "250", "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    return subprocess.run([*console_script(), *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def seasonal_frame(n: int = 120, period: int = 7, noise: float = 0.2, seed: int = 0,
                   freq: str | None = "D", start: str = "2000-01-01", amplitude: float = 3.0,
                   level: float = 20.0, trend: float = 0.02) -> pd.DataFrame:
    """A positive seasonal series with a gentle trend: columns `date` (when freq) and `value`."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    value = (level + trend * t + amplitude * np.sin(2 * np.pi * t / period)
             + rng.normal(0, noise, n))
    frame = pd.DataFrame({"value": value})
    if freq is not None:
        dates = pd.date_range(start, periods=n, freq=freq)
        frame.insert(0, "date", dates.strftime("%Y-%m-%d" if freq == "D" else "%Y-%m-%d %H:%M"))
    return frame


def write_csv(path: Path, frame: pd.DataFrame) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def cli() -> Callable[[list[str]], CliResult]:
    return run_cli


@pytest.fixture(scope="session")
def make_frame() -> Callable[..., pd.DataFrame]:
    return seasonal_frame


@pytest.fixture
def fast_train() -> TrainConfig:
    """CPU, a few epochs, no progress bar, short patience, fixed seed."""
    return TrainConfig(epochs=3, patience=2, batch_size=32, device="cpu", quiet=True, seed=0)


@pytest.fixture
def tiny_csv(tmp_path: Path) -> Path:
    """120 daily rows (weekly season) in tmp_path/tiny.csv: date,value."""
    return write_csv(tmp_path / "tiny.csv", seasonal_frame())


@pytest.fixture
def csv_writer(tmp_path: Path) -> Callable[[str, pd.DataFrame | str | bytes], Path]:
    """Write a DataFrame, text or bytes to tmp_path/NAME and return the path."""

    def write(name: str, content: pd.DataFrame | str | bytes) -> Path:
        path = tmp_path / name
        if isinstance(content, pd.DataFrame):
            return write_csv(path, content)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def lm_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One tiny word-level `rnnlab lm pretrain` run on the language tests' SENTENCES, shared by
    the tests that read a language-model run (evaluate errors, embeddings)."""
    from tests.tasks.language.test_hostile import TINY
    from tests.tasks.language.test_language_model import SENTENCES

    folder = tmp_path_factory.mktemp("lm-tiny")
    (folder / "corpus.txt").write_text("\n".join(SENTENCES * 20), encoding="utf-8")
    result = run_cli(["lm", "pretrain", "--data", folder / "corpus.txt", "--out", folder / "lm",
                      *TINY])
    assert result.code == 0, result.err
    return folder / "lm"
