"""Write a forecasting run folder: metrics.json, forecast.csv, plots and report.html."""

from __future__ import annotations

import pandas as pd

from rnnlab.report import html, plots
from rnnlab.runs import RunFolder
from rnnlab.tasks.forecasting.api import Forecaster
from rnnlab.tasks.forecasting.evaluation import Evaluation, forecast_table


def metrics_fields(forecasters: dict[str, Forecaster], evaluation: Evaluation,
                   phase_seconds: dict[str, float] | None = None) -> dict:
    """The forecasting part of metrics.json (the rest is `Results.record`); `phase_seconds`:
    the time of each phase besides training that ran before metrics.json is written."""
    reference = next(iter(forecasters.values()))
    return {
        "split": reference.split_.sizes,
        "windows": {**reference.n_windows_, "test": len(evaluation.origins)},
        "horizon": reference.config.horizon,
        "season": reference.season_,
        "freq": reference.preprocessor_.freq,
        "transform": reference.config.transform,
        "level": reference.config.level,
        "intervals": reference.config.intervals,
        "coverage_by_period": evaluation.coverage_periods,
        "train_seconds": sum(f.fit_result_.seconds for f in forecasters.values()),
        "phase_seconds": dict(phase_seconds or {}),
        "world_size": reference.fit_result_.world_size,
        "epochs": {name: f.fit_result_.epochs for name, f in forecasters.items()},
        "history": {name: f.fit_result_.history for name, f in forecasters.items()},
        "failed": {name: values["failed"] for name, values in evaluation.metrics.items()
                   if "failed" in values},
    }


def write_run(run: RunFolder, forecasters: dict[str, Forecaster], evaluation: Evaluation,
              title: str, phase_seconds: dict[str, float] | None = None) -> None:
    """Everything but config.yaml (written by the caller, who knows the command)."""
    reference = next(iter(forecasters.values()))
    cfg, series = reference.config, reference.series_
    if len(forecasters) == 1:
        reference.save(run.file("model"))
    else:
        for name, forecaster in forecasters.items():
            forecaster.save(run.file(f"model/{name}"))
        Forecaster.write_variants_manifest(run.file("model"), list(forecasters))
    run.write_json("metrics.json", evaluation.record("forecast", **metrics_fields(
        forecasters, evaluation, phase_seconds)))
    table = forecast_table(evaluation, series, cfg.target)
    run.write_text("forecast.csv", table.to_csv(index=False))
    figures = _plots(run, forecasters, evaluation, table)
    split = reference.split_
    subtitle = (f"{series.source}: target {', '.join(cfg.target)}, lookback {cfg.lookback}, "
                f"horizon {cfg.horizon}, season {reference.season_}; rows train {split.train_end}"
                f", validation {split.val_end - split.train_end}, test {split.n - split.val_end}")
    kind = ("adaptive conformal (scaled by recent volatility, updated as the origins move on)"
            if cfg.intervals == "adaptive" else "split-conformal")
    notes = [f"MASE is scaled by the seasonal-naive (m={reference.season_}) MAE before the test "
             f"part; coverage is of the {cfg.level:.0%} {kind} interval; copy_lag is the lag at "
             "which the step-1 forecasts correlate best with the actual series (1: a lagged "
             "copy of the last value)."]
    run.write_text("report.html", html.run_page(
        title, subtitle, evaluation, "Test metrics (original units, same windows for every "
        "model)", figures, {name: f.config for name, f in forecasters.items()}, notes,
        sections=_sections(evaluation, cfg.level, cfg.transform)))


def _sections(evaluation: Evaluation, level: float, transform: str) -> list[tuple[str, str]]:
    """Coverage per test period of each network's interval; metrics on returns."""
    sections = []
    for name, periods in evaluation.coverage_periods.items():
        rows = {f"{p['start']} .. {p['end']}": {"windows": p["windows"],
                                                 "coverage": p["coverage"]} for p in periods}
        sections.append((f"{name}: coverage of the {level:.0%} interval per test period",
                         html.metrics_table(rows, ("windows", "coverage"))))
    if transform != "none":
        shown = {name: values for name, values in evaluation.metrics.items()
                 if "return_mae" in values}
        sections.append((f"On returns (%), the quantity --transform {transform} models",
                         html.metrics_table(shown, ("return_mae", "return_rmse", "copy_lag"),
                                            evaluation.best)))
    return sections


def _plots(run: RunFolder, forecasters: dict[str, Forecaster], evaluation: Evaluation,
           table: pd.DataFrame) -> list[tuple[str, object]]:
    reference = next(iter(forecasters.values()))
    cfg, series, split = reference.config, reference.series_, reference.split_
    networks = list(forecasters)
    first = networks[0]
    figures = []
    start = max(0, split.val_end - 3 * (split.n - split.val_end))
    for j, target in enumerate(cfg.target):
        rows = table[table["target"] == target].groupby("time", sort=True).last()
        shown = {name: rows[name].to_numpy() for name in [*networks, "seasonal_naive", "arima"]
                 if name in rows}
        path = plots.forecast_plot(
            series.index[start:], series.targets[start:, j], rows.index, shown,
            (rows[f"{first}_lower"].to_numpy(), rows[f"{first}_upper"].to_numpy()),
            {"validation": series.index[split.train_end], "test": series.index[split.val_end]},
            run.file(f"plots/forecast_{j}.png"), f"{target}: test forecasts", cfg.level,
        )
        figures.append((f"{target}: history, test forecasts and the {cfg.level:.0%} interval",
                        path))
        residuals = (rows["actual"] - rows[first]).to_numpy()
        path = plots.residual_plot(rows.index, residuals, run.file(f"plots/residuals_{j}.png"),
                                   f"{target}: {first} residuals on the test part")
        figures.append((f"{target}: residuals of {first}", path))
    for name, forecaster in forecasters.items():
        path = plots.loss_curves(forecaster.fit_result_.history, run.file(f"plots/loss_{name}.png"),
                                 f"{name}: training and validation loss (scaled units)")
        figures.append((f"{name}: loss per epoch", path))
    mase = {name: values["mase"] for name, values in evaluation.metrics.items()
            if "mase" in values}  # a failed baseline has no bar
    path = plots.bar_chart(mase, run.file("plots/mase.png"), "MASE on the test part (lower is "
                           "better; 1 = seasonal naive in-sample)", "MASE")
    figures.append(("MASE of every model on the same test windows", path))
    return figures
