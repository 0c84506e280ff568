"""Rolling-origin evaluation (expanding window): K folds over the end of the series.

The last `test_size` rows are cut into K consecutive blocks. Fold i trains a fresh network on
every row before block i (its own validation part taken from the end of that history), then
the network and every baseline forecast block i from origins every `test_stride` (default H).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rnnlab.console import console, print_metrics, print_verdict
from rnnlab.data.datasets import resolve_data
from rnnlab.errors import UserError
from rnnlab.report import html, plots
from rnnlab.runs import RunFolder, is_global_zero
from rnnlab.tasks.forecasting.api import Forecaster
from rnnlab.tasks.forecasting.config import ForecastConfig
from rnnlab.tasks.forecasting.data import load_series, size_in_rows
from rnnlab.tasks.forecasting.evaluation import evaluate
from rnnlab.tasks.forecasting.metrics import verdict
from rnnlab.tasks.forecasting.report import COLUMNS, mean_metrics


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
             overwrite: bool = False) -> dict:
    """Per-fold and mean metrics of the network and all baselines; writes a run folder."""
    cfg.validate()
    run = RunFolder.create(out, "backtest", overwrite) if is_global_zero() else None
    try:
        series = load_series(cfg)
        name = ("bi" if cfg.bidirectional else "") + cfg.model
        per_fold, rows = [], []
        test_rows = size_in_rows(cfg.test_size, len(series))
        for i, (start, end) in enumerate(fold_ends(len(series), test_rows, folds, cfg.horizon)):
            history = series.rows(0, end)
            fold_cfg = cfg.replace(test_size=end - start)
            console.print(f"[dim]fold {i + 1}/{folds}: train on rows < {start}, test rows "
                          f"{start}..{end - 1}[/dim]")
            forecaster = Forecaster(fold_cfg).fit(history)
            if not forecaster.fit_result_.is_global_zero:
                continue
            evaluation = evaluate({name: forecaster}, history, forecaster.test_origins(),
                                  forecaster.split_.val_end)
            per_fold.append(evaluation.metrics)
            rows.append({"fold": i + 1, "test_start": str(series.index[start]),
                         "test_end": str(series.index[end - 1]),
                         "train_seconds": forecaster.fit_result_.seconds,
                         "metrics": evaluation.metrics})
        if run is None:
            return {}
        mean = mean_metrics(per_fold)
        best, sentence = verdict(mean, [name])
        record = {"job": "forecast-backtest", "folds": rows, "mean": mean, "best": best,
                  "verdict": sentence}
        run.write_config("forecast-backtest", {**cfg.to_dict(), "folds": folds},
                         resolve_data(cfg.data))
        run.write_json("metrics.json", record)
        _report(run, record, name, series.source)
        path = run.commit()
    except BaseException:
        if run is not None:
            run.discard()
        raise
    for row in rows:
        print_metrics(row["metrics"], COLUMNS, f"fold {row['fold']}: {row['test_start']} .. "
                      f"{row['test_end']}", min(row["metrics"], key=lambda k: row["metrics"][k]
                                                ["mase"]), [name])
    print_metrics(mean, COLUMNS, f"mean over {folds} folds", best, [name])
    print_verdict(sentence)
    console.print(f"run folder: {path}\nreport: {Path(path) / 'report.html'}")
    return record


def _report(run: RunFolder, record: dict, network: str, source: str) -> None:
    folds = record["folds"]
    models = list(record["mean"])
    figure = plots.fold_lines(
        [row["fold"] for row in folds],
        {m: np.array([row["metrics"][m]["mase"] for row in folds]) for m in models},
        run.file("plots/mase_by_fold.png"), "MASE per fold", "MASE",
    )
    sections = [("Verdict (mean over folds)", html.paragraph(record["verdict"], "verdict")),
                ("Mean over folds", html.metrics_table(record["mean"], COLUMNS, record["best"]))]
    for row in folds:
        sections.append((f"Fold {row['fold']}: {row['test_start']} .. {row['test_end']}",
                         html.metrics_table(row["metrics"], COLUMNS)))
    sections.append(("Figure", html.figure(figure, "MASE of each model in each fold")))
    run.write_text("report.html", html.page(f"rnnlab forecast backtest: {network}",
                                            f"{source}, {len(folds)} expanding-window folds",
                                            sections))
