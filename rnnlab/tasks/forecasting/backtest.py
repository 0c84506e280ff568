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
from rnnlab.tasks.forecasting.data import Preprocessor, size_in_rows
from rnnlab.tasks.forecasting.evaluation import COLUMNS, ForecastResults, evaluate
from rnnlab.tasks.forecasting.metrics import verdict
from rnnlab.tasks.forecasting.series import load_series


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


def checked_folds(cfg: ForecastConfig, n: int, folds: int, source: str
                  ) -> list[tuple[int, int]]:
    """The folds' row ranges, refused (naming --test-size / --folds) when the series is too
    short for them or the first fold has too little history to train on."""
    if folds < 1:
        raise UserError(f"--folds must be >= 1; got {folds}")
    train_min = Preprocessor(cfg).first_valid + cfg.lookback + cfg.output_steps
    _check_length(cfg, n, folds, source, train_min)
    test_rows = size_in_rows(cfg.test_size, n, "--test-size")
    if test_rows >= n:
        raise UserError(f"{source} has {n} rows but --test-size {cfg.test_size:g} asks for "
                        f"{test_rows}; give a fraction (e.g. --test-size 0.2) or fewer rows")
    ends = fold_ends(n, test_rows, folds, cfg.horizon)
    start, end = ends[0]
    val = max(size_in_rows(cfg.val_size, end, "--val-size"), cfg.horizon)
    if start < train_min + val:
        raise UserError(
            f"{source} has {n} rows; --test-size {cfg.test_size:g} with --folds {folds} leaves "
            f"{start} rows before the first fold, fewer than the {train_min + val} it trains on "
            f"(--lookback {cfg.lookback}, --horizon {cfg.horizon}, validation {val}); use a "
            "smaller --test-size or --lookback, or a longer series"
        )
    return ends


def _check_length(cfg: ForecastConfig, n: int, folds: int, source: str, train_min: int) -> None:
    """Whatever --test-size: training, validation (>= H) and K blocks of >= H rows must fit."""
    shortest = train_min + cfg.horizon + folds * cfg.horizon
    if n < shortest:
        raise UserError(
            f"{source} has {n} rows; --folds {folds} with --lookback {cfg.lookback} and "
            f"--horizon {cfg.horizon} needs at least {shortest} (training {train_min}, "
            f"validation {cfg.horizon}, {folds} test blocks of {cfg.horizon}); use a longer "
            "series, fewer --folds or a smaller --lookback/--horizon"
        )


def backtest(cfg: ForecastConfig, folds: int = 3, out: str | None = None,
             overwrite: bool = False, resume: bool = False) -> dict:
    """Per-fold and mean metrics of the network and all baselines; writes a run folder."""
    cfg.validate()
    name = ("bi" if cfg.bidirectional else "") + cfg.model
    options = {**cfg.to_dict(), "folds": folds}
    with staged_run(out, "forecast", overwrite, resume, options) as run:
        series = load_series(cfg)
        ends = checked_folds(cfg, len(series), folds, series.source)
        evaluations, rows = [], []
        for i, (start, end) in enumerate(ends):
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
        run.write_config(options, resolve_data(cfg.data), kind="backtest")
        run.write_json("metrics.json", record)
        _report(run, results, rows, name, series.source, cfg)
    for row, evaluation in zip(rows, evaluations, strict=True):
        print_metrics(evaluation.shown_metrics(), COLUMNS, f"fold {row['fold']}: "
                      f"{row['test_start']} .. {row['test_end']}", evaluation.best, [name])
    results.show(f"mean over {folds} folds")
    console.print(f"run folder: {run.path}\nreport: {run.path / 'report.html'}")
    return record


def mean_metrics(per_fold: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    """Average each model's metrics over folds (NaN-aware); a model that failed in any fold
    is failed in the mean (with that fold's reason), never averaged over the others."""
    mean: dict[str, dict] = {}
    for name in per_fold[0]:
        failed = [fold[name]["failed"] for fold in per_fold if "failed" in fold[name]]
        if failed:
            mean[name] = {"failed": failed[0]}
            continue
        mean[name] = {key: float(np.nanmean([fold[name].get(key, np.nan) for fold in per_fold]))
                      for key in per_fold[0][name]}
    return mean


def _report(run: RunFolder, results: ForecastResults, folds: list[dict], network: str,
            source: str, cfg: ForecastConfig) -> None:
    figure = plots.fold_lines(
        [row["fold"] for row in folds],
        {m: np.array([row["metrics"][m].get("mase", np.nan) for row in folds])
         for m in results.metrics},
        run.file("plots/mase_by_fold.png"), "MASE per fold", "MASE",
    )
    sections = [(f"Fold {row['fold']}: {row['test_start']} .. {row['test_end']}",
                 ForecastResults(metrics=row["metrics"]).html_table()) for row in folds]
    run.write_text("report.html", html.run_page(
        f"rnnlab forecast backtest: {network}", f"{source}, {len(folds)} expanding-window folds",
        results, "Mean over folds", [("MASE of each model in each fold", figure)],
        {network: cfg}, sections=sections))
