"""Rolling-origin evaluation (expanding window): K folds over the end of the series.

The last `test_size` rows are cut into K consecutive blocks. Fold i trains a fresh network on
every row before block i (its own validation part taken from the end of that history), then
the network and every baseline forecast block i from origins every `test_stride` (default H).
"""

from __future__ import annotations

import numpy as np

from rnnlab.console import console, print_metrics
from rnnlab.data.datasets import resolve_data
from rnnlab.errors import UserError
from rnnlab.report import html, plots
from rnnlab.runs import RunFolder, staged_run
from rnnlab.tasks.forecasting.api import Forecaster
from rnnlab.tasks.forecasting.config import ForecastConfig
from rnnlab.tasks.forecasting.data import load_series, size_in_rows
from rnnlab.tasks.forecasting.evaluation import COLUMNS, ForecastResults, evaluate
from rnnlab.tasks.forecasting.metrics import verdict


def fold_ends(n: int, test_rows: int, folds: int, horizon: int) -> list[tuple[int, int]]:
    """(start, end) row ranges of the K test blocks covering the last `test_rows` rows."""
    if folds < 1:
        raise UserError(f"--folds must be >= 1; got {folds}")
    block = test_rows // folds
    if block < horizon:
        raise UserError(
            f"--folds {folds} over {test_rows} test rows gives blocks of {block} rows, fewer than "
            f"--horizon {horizon}; use fewer folds or a larger --test-size"
        )
    start = n - block * folds
    return [(start + i * block, start + (i + 1) * block) for i in range(folds)]


def backtest(cfg: ForecastConfig, folds: int = 3, out: str | None = None,
             overwrite: bool = False, resume: bool = False) -> dict:
    """Per-fold and mean metrics of the network and all baselines; writes a run folder."""
    cfg.validate()
    name = ("bi" if cfg.bidirectional else "") + cfg.model
    with staged_run(out, "forecast", overwrite, resume) as run:
        series = load_series(cfg)
        test_rows = size_in_rows(cfg.test_size, len(series))
        evaluations, rows = [], []
        for i, (start, end) in enumerate(fold_ends(len(series), test_rows, folds, cfg.horizon)):
            console.print(f"[dim]fold {i + 1}/{folds}: train on rows < {start}, test rows "
                          f"{start}..{end - 1}[/dim]")
            checkpoints = run.checkpoints / f"fold{i + 1}"
            forecaster = Forecaster(cfg.replace(test_size=end - start)).fit(
                series.rows(0, end), checkpoints=checkpoints, resume=resume)
            if not run.writes:
                continue  # DDP worker: rank 0 evaluates and writes
            evaluation = evaluate({name: forecaster}, series.rows(0, end),
                                  forecaster.test_origins(), forecaster.split_.val_end)
            evaluations.append(evaluation)
            rows.append({"fold": i + 1, "test_start": str(series.index[start]),
                         "test_end": str(series.index[end - 1]),
                         "train_seconds": forecaster.fit_result_.seconds,
                         "metrics": evaluation.metrics})
        if not run.writes:
            return {}
        mean = mean_metrics([row["metrics"] for row in rows])
        best, sentence = verdict(mean, [name])
        results = ForecastResults(metrics=mean, networks=[name], best=best, verdict=sentence)
        record = {**results.record("forecast", kind="backtest", folds=rows), "mean": mean}
        run.write_config({**cfg.to_dict(), "folds": folds}, resolve_data(cfg.data),
                         kind="backtest")
        run.write_json("metrics.json", record)
        _report(run, results, rows, name, series.source, cfg)
    for row, evaluation in zip(rows, evaluations, strict=True):
        print_metrics(row["metrics"], COLUMNS, f"fold {row['fold']}: {row['test_start']} .. "
                      f"{row['test_end']}", evaluation.best, [name])
    results.print(f"mean over {folds} folds")
    console.print(f"run folder: {run.path}\nreport: {run.path / 'report.html'}")
    return record


def mean_metrics(per_fold: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    """Average each model's metrics over folds (NaN-aware)."""
    names = per_fold[0].keys()
    return {
        name: {key: float(np.nanmean([fold[name].get(key, np.nan) for fold in per_fold]))
               for key in per_fold[0][name]}
        for name in names
    }


def _report(run: RunFolder, results: ForecastResults, folds: list[dict], network: str,
            source: str, cfg: ForecastConfig) -> None:
    figure = plots.fold_lines(
        [row["fold"] for row in folds],
        {m: np.array([row["metrics"][m]["mase"] for row in folds]) for m in results.metrics},
        run.file("plots/mase_by_fold.png"), "MASE per fold", "MASE",
    )
    sections = [(f"Fold {row['fold']}: {row['test_start']} .. {row['test_end']}",
                 html.metrics_table(row["metrics"], COLUMNS)) for row in folds]
    run.write_text("report.html", html.run_page(
        f"rnnlab forecast backtest: {network}", f"{source}, {len(folds)} expanding-window folds",
        results, "Mean over folds", [("MASE of each model in each fold", figure)],
        {network: cfg}, sections=sections))
