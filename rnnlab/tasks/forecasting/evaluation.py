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
from rnnlab.tasks.forecasting.intervals import coverage_by_period
from rnnlab.tasks.forecasting.metrics import (
    copy_lag,
    forecast_metrics,
    return_metrics,
    verdict,
)
from rnnlab.tasks.forecasting.phases import Phases
from rnnlab.tasks.forecasting.series import Series

COLUMNS = ("mae", "rmse", "smape", "mase", "directional_accuracy", "coverage", "copy_lag")
RETURN_COLUMNS = ("return_mae", "return_rmse")  # with --transform: errors of the returns (%)


@dataclass(kw_only=True)
class ForecastResults(Results):
    """Results with the forecasting metric columns (also the mean over backtest folds)."""

    columns = COLUMNS
    terminal_columns = COLUMNS[:-1]  # 80 columns: copy_lag is in the verdict and the report

    def shown_metrics(self) -> dict[str, dict]:
        """The metrics as tables show them: a failed model reads FAILED in every column."""
        return {name: ({column: "FAILED" for column in self.columns} if "failed" in values
                       else values) for name, values in self.metrics.items()}

    def show(self, title: str) -> None:
        print_metrics(self.shown_metrics(), self.terminal_columns or self.columns, title,
                      self.best, self.networks, self.notes)
        on_returns = {name: values for name, values in self.metrics.items()
                      if "return_mae" in values}
        if on_returns:
            print_metrics(on_returns, RETURN_COLUMNS, "the same forecasts on returns (%)",
                          self.best, self.networks)
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
    coverage_periods: dict[str, list[dict]] = field(default_factory=dict)  # network -> periods


def evaluate(
    forecasters: dict[str, Forecaster], series: Series, origins: np.ndarray, fit_end: int,
    phases: Phases | None = None,
) -> Evaluation:
    """Every network in `forecasters` (fitted on the same split) and every baseline.

    `fit_end`: the rows before it are the history ARIMA's parameters are estimated on.
    Metrics are on prices (original units); with --transform also on the returns they imply.
    `phases` shows and times the two parts (test forecasts, baselines).
    """
    phases = phases or Phases(quiet=True)
    reference = next(iter(forecasters.values()))
    cfg, horizon = reference.config, reference.config.horizon
    truth = gather(series.targets, origins, 0, horizon)
    last = series.targets[origins - 1]
    labels = [str(stamp) for stamp in series.index[origins - 1]]
    forecasts, intervals, metrics, periods = {}, {}, {}, {}
    for name, forecaster in forecasters.items():
        with phases("test forecasts and intervals"):
            point = forecaster.forecast(series, origins)
            width = forecaster.halfwidths(series, origins, point)
        forecasts[name] = point
        intervals[name] = (point - width, point + width)
        metrics[name] = forecast_metrics(truth, point, last, reference.mase_scale_,
                                         *intervals[name])
        periods[name] = coverage_by_period(truth, *intervals[name], labels)
    log_prices = cfg.log or cfg.transform == "log-returns"
    with phases("baselines (naive, drift, ARIMA)"):
        baseline_forecasts, notes, failed = all_baselines(
            series.targets, origins, horizon, reference.season_, fit_end, cfg.arima_order,
            log_prices, cfg.arima_budget,
        )
    for name, point in baseline_forecasts.items():
        forecasts[name] = point
        metrics[name] = forecast_metrics(truth, point, last, reference.mase_scale_)
    _extra_metrics(metrics, forecasts, series, origins, truth, cfg.transform != "none")
    for name, reason in failed.items():
        metrics[name] = {"failed": reason}  # never a number: left out of the ranking
        notes[name] = f"FAILED: {reason}" + (f" ({notes[name]})" if name in notes else "")
    for name, forecaster in forecasters.items():
        if note := forecaster.interval_note():
            notes[name] = note
    best, sentence = verdict(metrics, list(forecasters))
    sentence += _copy_sentence(metrics, list(forecasters))
    if failed:
        sentence += f" Left out as failed: {', '.join(failed)}."
    return Evaluation(origins=origins, truth=truth, forecasts=forecasts, intervals=intervals,
                      metrics=metrics, networks=list(forecasters), notes=notes, best=best,
                      verdict=sentence, coverage_periods=periods)


def _extra_metrics(metrics: dict[str, dict], forecasts: dict[str, np.ndarray], series: Series,
                   origins: np.ndarray, truth: np.ndarray, returns: bool) -> None:
    """The lagged-copy lag of every model's step-1 forecasts; metrics on returns."""
    last = series.targets[origins - 1]
    for name, point in forecasts.items():
        lag = copy_lag(point[:, 0, :], series.targets, origins)
        metrics[name]["copy_lag"] = float("nan") if lag is None else float(lag)
        if returns:
            metrics[name].update(return_metrics(truth, point, last))


def _copy_sentence(metrics: dict[str, dict], networks: list[str]) -> str:
    """Says so when a network's forecast is (close to) the last value shifted by a step."""
    copies = [f"{name} ({int(metrics[name]['copy_lag'])} step"
              f"{'s' if metrics[name]['copy_lag'] > 1 else ''})" for name in networks
              if metrics[name].get("copy_lag", 0) >= 1]
    if not copies:
        return ""
    return (f" Lagged copy: the forecast of {', '.join(copies)} correlates best with the "
            "actual series shifted back, i.e. it mostly repeats the last observed value.")


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
