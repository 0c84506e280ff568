"""Anomaly detection: flag observations whose one-step-ahead residual leaves the prediction
interval (the lecture's "detect deviation from standard behaviour")."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from rnnlab.console import console
from rnnlab.data.timeseries import window_origins
from rnnlab.outputs import check_output_folder
from rnnlab.report import plots
from rnnlab.runs import atomic_write_text
from rnnlab.tasks.forecasting.api import Forecaster
from rnnlab.tasks.forecasting.config import check_level
from rnnlab.tasks.forecasting.data import make_split
from rnnlab.tasks.forecasting.series import load_series

ANOMALY_FILES = ("anomalies.csv", "anomalies_*.png")  # what `anomalies` writes in its folder


def detect(forecaster: Forecaster, data: str | None = None, level: float | None = None
           ) -> pd.DataFrame:
    """One row per observation after the first window: actual, one-step forecast, interval,
    residual, which part of the split it lies in, and `anomaly` (outside the interval)."""
    cfg = forecaster.config if data is None else forecaster.config.replace(data=data)
    series = load_series(cfg, fitted=True)
    split = forecaster.split_ if data is None else make_split(
        cfg, len(series), forecaster.preprocessor_.first_valid, series.source, fitted=True)
    start = forecaster.preprocessor_.first_valid + cfg.lookback
    origins = window_origins(len(series), cfg.lookback, 1, start)
    point = forecaster.forecast(series, origins)[:, 0, :]  # step 1 from every origin
    width = forecaster.halfwidth(level)[0]
    actual = series.targets[origins]
    part = np.where(origins < split.train_end, "train",
                    np.where(origins < split.val_end, "validation", "test"))
    frames = []
    for j, target in enumerate(cfg.target):
        residual = actual[:, j] - point[:, j]
        frames.append(pd.DataFrame({
            "time": series.index[origins], "target": target, "actual": actual[:, j],
            "forecast": point[:, j], "lower": point[:, j] - width[j],
            "upper": point[:, j] + width[j], "residual": residual, "part": part,
            "anomaly": np.abs(residual) > width[j],
        }))
    return pd.concat(frames, ignore_index=True)


def anomalies_run(run_dir: str | Path, data: str | None = None, level: float = 0.99,
                  out: str | None = None, overwrite: bool = False) -> pd.DataFrame:
    """`rnnlab forecast anomalies`: writes anomalies.csv (flagged points) and a plot."""
    check_level(level)
    forecaster = Forecaster.load(run_dir)
    table = detect(forecaster, data, level)
    folder = Path(out) if out else Path(run_dir) / "anomalies"
    check_output_folder(folder, overwrite, ANOMALY_FILES)
    flagged = table[table["anomaly"]]
    atomic_write_text(folder / "anomalies.csv", flagged.to_csv(index=False))
    for j, target in enumerate(forecaster.config.target):
        rows = table[table["target"] == target]
        plots.anomaly_plot(rows["time"], rows["actual"].to_numpy(), rows["forecast"].to_numpy(),
                           rows["lower"].to_numpy(), rows["upper"].to_numpy(),
                           rows["anomaly"].to_numpy(), folder / f"anomalies_{j}.png",
                           f"{target}: one-step forecasts, {level:.0%} interval, anomalies")
    console.print(f"{len(flagged)} of {len(table)} observations fall outside the {level:.0%} "
                  f"interval\nflagged points: {folder / 'anomalies.csv'}\nplot: "
                  f"{folder / 'anomalies_0.png'}")
    return table
