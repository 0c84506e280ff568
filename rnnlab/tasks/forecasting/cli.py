"""`rnnlab forecast ...`: thin commands that build a ForecastConfig and call the API."""

from __future__ import annotations

from typing import Annotated, Any

from rnnlab.cli_common import JobCommands, Opt, output_options, run_options, with_options
from rnnlab.tasks.forecasting.config import ForecastConfig

commands = JobCommands("forecast", ForecastConfig)
app = commands.app


@app.command()
@with_options(commands.options, output_options)
def fit(**options: Any) -> None:
    """Train a network, score it and every baseline on the same test windows, write a run.

    Example: rnnlab forecast fit --data airline-passengers --time-col Month --target Passengers
    --lookback 24 --horizon 12 --log
    """
    from rnnlab.tasks.forecasting.workflows import fit_run

    fit_run(commands.config(options), **run_options(options))


@app.command()
@with_options(commands.options, output_options)
def compare(**options: Any) -> None:
    """Train the lecture's five variants (MLP on windows, LSTM 1 step x L features, LSTM L
    steps x 1 feature, GRU, RNN) on one split; one table with the baselines.

    Example: rnnlab forecast compare --data airline-passengers --time-col Month
    --target Passengers --lookback 12 --horizon 1
    """
    from rnnlab.tasks.forecasting.workflows import compare_run

    compare_run(commands.config(options), **run_options(options))


@app.command()
@with_options(commands.options, output_options)
def backtest(
    folds: Annotated[int, Opt(help="Expanding-window folds over the test part.")] = 3,
    **options: Any,
) -> None:
    """Rolling-origin evaluation: per-fold and mean metrics of the network and all baselines.

    Example: rnnlab forecast backtest --data airline-passengers --time-col Month
    --target Passengers --lookback 24 --horizon 6 --log --test-size 36 --folds 3
    """
    from rnnlab.tasks.forecasting.backtest import backtest as run_backtest

    run_backtest(commands.config(options), folds, **run_options(options))


RunDir = Annotated[str, Opt("--run", help="A run folder written by `rnnlab forecast fit`.")]


@app.command()
def predict(
    run: RunDir,
    data: Annotated[str, Opt(help="Recent history (same columns as training); forecasts start "
                             "after its last row.")],
    out: Annotated[str | None, Opt(help="Also write the forecast to this CSV.")] = None,
    overwrite: Annotated[bool, Opt("--overwrite", help="Replace --out if it exists.")] = False,
    level: Annotated[float | None, Opt(help="Interval level (default: the run's).")] = None,
) -> None:
    """Forecast the next H steps after the end of --data with a trained run.

    Example: rnnlab forecast predict --run runs/demo-airline --data airline-passengers
    """
    from rnnlab.console import console
    from rnnlab.tasks.forecasting.workflows import predict_run

    frame = predict_run(run, data, out, overwrite, level)
    console.print(frame.to_string(float_format=lambda v: f"{v:.4g}"))
    if out:
        console.print(f"written: {out}")


@app.command()
def evaluate(
    run: RunDir,
    data: Annotated[str | None, Opt(help="Score on this data's test part instead of the run's."
                                    )] = None,
) -> None:
    """Score a trained run and every baseline on the test part of its data (or of --data).

    Example: rnnlab forecast evaluate --run runs/demo-airline
    """
    from rnnlab.tasks.forecasting.workflows import evaluate_run

    evaluate_run(run, data)


@app.command()
def anomalies(
    run: RunDir,
    data: Annotated[str | None, Opt(help="Series to scan (default: the run's data).")] = None,
    level: Annotated[float, Opt(help="Interval level; residuals outside it are flagged.")
                     ] = 0.99,
    out: Annotated[str | None, Opt(help="Folder for anomalies.csv and the plot (default "
                                   "`<run>/anomalies`).")] = None,
    overwrite: Annotated[bool, Opt("--overwrite", help="Replace the output folder.")] = False,
) -> None:
    """Flag observations whose one-step-ahead residual falls outside the prediction interval.

    Example: rnnlab forecast anomalies --run runs/demo-airline --level 0.95
    """
    from rnnlab.tasks.forecasting.anomalies import anomalies_run

    anomalies_run(run, data, level, out, overwrite)
