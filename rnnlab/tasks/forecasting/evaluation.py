"""Score the network and every baseline on the same test windows, in original units."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rnnlab.console import print_metrics, print_verdict
from rnnlab.data.timeseries import gather
from rnnlab.report.html import metrics_table
from rnnlab.results import Results
from rnnlab.tasks.forecasting.api import Forecaster
from rnnlab.tasks.forecasting.baselines import all_baselines
from rnnlab.tasks.forecasting.metrics import forecast_metrics, verdict
from rnnlab.tasks.forecasting.series import Series

COLUMNS = ("mae", "rmse", "smape", "mase", "directional_accuracy", "coverage")


@dataclass(kw_only=True)
class ForecastResults(Results):
    """Results with the forecasting metric columns (also the mean over backtest folds)."""

    columns = COLUMNS

    def shown_metrics(self) -> dict[str, dict]:
        """The metrics as tables show them: a failed model reads FAILED in every column."""
        return {name: ({column: "FAILED" for column in self.columns} if "failed" in values
                       else values) for name, values in self.metrics.items()}

    def show(self, title: str) -> None:
        print_metrics(self.shown_metrics(), self.terminal_columns or self.columns, title,
                      self.best, self.networks, self.notes)
        print_verdict(self.verdict)

    def html_table(self) -> str:
        return metrics_table(self.shown_metrics(), self.columns, self.best, self.notes)


@dataclass(kw_only=True)
class Evaluation(ForecastResults):
    """Forecasts and metrics of the network(s) and baselines on one set of origins."""

    origins: np.ndarray
    truth: np.ndarray  # (windows, H, k)
    forecasts: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (windows, H, k)
    intervals: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)


def evaluate(
    forecasters: dict[str, Forecaster], series: Series, origins: np.ndarray, fit_end: int,
) -> Evaluation:
    """Every network in `forecasters` (fitted on the same split) and every baseline.

    `fit_end`: the rows before it are the history ARIMA's parameters are estimated on.
    """
    reference = next(iter(forecasters.values()))
    cfg, horizon = reference.config, reference.config.horizon
    truth = gather(series.targets, origins, 0, horizon)
    last = series.targets[origins - 1]
    forecasts, intervals, metrics = {}, {}, {}
    for name, forecaster in forecasters.items():
        point = forecaster.forecast(series, origins)
        width = forecaster.halfwidth()[None]
        forecasts[name] = point
        intervals[name] = (point - width, point + width)
        metrics[name] = forecast_metrics(truth, point, last, reference.mase_scale_,
                                         *intervals[name])
    baseline_forecasts, notes, failed = all_baselines(
        series.targets, origins, horizon, reference.season_, fit_end, cfg.arima_order, cfg.log,
        cfg.arima_budget,
    )
    for name, point in baseline_forecasts.items():
        forecasts[name] = point
        metrics[name] = forecast_metrics(truth, point, last, reference.mase_scale_)
    for name, reason in failed.items():
        metrics[name] = {"failed": reason}  # never a number: left out of the ranking
        notes[name] = f"FAILED: {reason}" + (f" ({notes[name]})" if name in notes else "")
    for name, forecaster in forecasters.items():
        if note := forecaster.interval_note():
            notes[name] = note
    best, sentence = verdict(metrics, list(forecasters))
    if failed:
        sentence += f" Left out as failed: {', '.join(failed)}."
    return Evaluation(origins=origins, truth=truth, forecasts=forecasts, intervals=intervals,
                      metrics=metrics, networks=list(forecasters), notes=notes, best=best,
                      verdict=sentence)


def forecast_table(evaluation: Evaluation, series: Series, targets: tuple[str, ...]
                   ) -> pd.DataFrame:
    """One row per forecast point: time, origin, step, target, actual, each model's forecast,
    and the network's interval bounds (`<network>_lower` / `_upper`)."""
    rows = []
    index = series.index
    windows, horizon, _ = evaluation.truth.shape
    for w in range(windows):
        origin = int(evaluation.origins[w])
        for h in range(horizon):
            for j, target in enumerate(targets):
                row = {"time": index[origin + h], "origin": index[origin - 1], "step": h + 1,
                       "target": target, "actual": evaluation.truth[w, h, j]}
                for name, point in evaluation.forecasts.items():
                    row[name] = point[w, h, j]
                for name, (lower, upper) in evaluation.intervals.items():
                    row[f"{name}_lower"], row[f"{name}_upper"] = lower[w, h, j], upper[w, h, j]
                rows.append(row)
    return pd.DataFrame(rows)
