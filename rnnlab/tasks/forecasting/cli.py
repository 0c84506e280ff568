"""`rnnlab forecast ...`: thin commands that build a ForecastConfig and call the API."""

from __future__ import annotations

from typing import Annotated, Any

from rnnlab.cli_common import (
    Opt,
    new_app,
    output_options,
    split_list,
    train_config,
    train_options,
    with_options,
)
from rnnlab.config import TrainConfig
from rnnlab.tasks.forecasting.config import ForecastConfig

app = new_app("Forecast time series from a CSV with LSTM / GRU / RNN / MLP networks, "
              "beside naive, seasonal-naive, drift and ARIMA baselines.",
              no_args_is_help=True)

TRAIN_DEFAULTS = TrainConfig(epochs=200, patience=20, batch_size=32, lr=1e-3, clip=1.0)
EXAMPLE = ("rnnlab forecast fit --data airline-passengers --time-col Month --target Passengers "
           "--lookback 24 --horizon 12 --log")


def data_options(
    *,
    data: Annotated[str, Opt(help="CSV / TSV / JSONL file, or a bundled name (rnnlab datasets).",
                             rich_help_panel="Data")] = "airline-passengers",
    target: Annotated[str | None, Opt(help="Column(s) to forecast, comma-separated.",
                                      rich_help_panel="Data")] = None,
    time_col: Annotated[str | None, Opt(help="Time column (parsed, sorted, frequency inferred)."
                                        , rich_help_panel="Data")] = None,
    features: Annotated[str | None, Opt(help="Extra covariate columns, comma-separated.",
                                        rich_help_panel="Data")] = None,
    time_format: Annotated[str | None, Opt(help="strftime format of the time column, e.g. %Y-%m."
                                           , rich_help_panel="Data")] = None,
    encoding: Annotated[str, Opt(help="Text encoding of the data file, e.g. cp1252.",
                                 rich_help_panel="Data")] = "utf-8",
    fill: Annotated[str, Opt(help="none | ffill | interpolate: fill NaNs and missing timestamps."
                             , rich_help_panel="Data")] = "none",
    lookback: Annotated[int, Opt(help="L: input steps per window.", rich_help_panel="Windows")
                        ] = 24,
    horizon: Annotated[int, Opt(help="H: steps forecast from each origin.",
                                rich_help_panel="Windows")] = 1,
    stride: Annotated[int, Opt(help="Step between training windows.",
                               rich_help_panel="Windows")] = 1,
    test_size: Annotated[float, Opt(help="Held-out end of the series: fraction (< 1) or rows.",
                                    rich_help_panel="Windows")] = 0.2,
    val_size: Annotated[float, Opt(help="Validation part before it: fraction or rows.",
                                   rich_help_panel="Windows")] = 0.1,
    test_stride: Annotated[int | None, Opt(help="Step between test origins (default H).",
                                           rich_help_panel="Windows")] = None,
    scale: Annotated[str, Opt(help="standard | minmax | none (fitted on training rows only).",
                              rich_help_panel="Transforms")] = "standard",
    log: Annotated[bool, Opt("--log", help="Model log(y) (positive, multiplicative series).",
                             rich_help_panel="Transforms")] = False,
    diff: Annotated[bool, Opt("--diff", help="Model first differences.",
                              rich_help_panel="Transforms")] = False,
    calendar: Annotated[str | None, Opt(help="Calendar features: auto, or any of hour,dow,month,"
                                        "doy.", rich_help_panel="Transforms")] = None,
    lags: Annotated[str | None, Opt(help="Extra lagged copies of targets and features, e.g. "
                                    "365.", rich_help_panel="Transforms")] = None,
    model: Annotated[str, Opt(help="lstm | gru | rnn | mlp.", rich_help_panel="Model")] = "lstm",
    layout: Annotated[str, Opt(help="timesteps (L steps x F) or features (1 step x L·F).",
                               rich_help_panel="Model")] = "timesteps",
    hidden: Annotated[int, Opt(help="Hidden units per layer.", rich_help_panel="Model")] = 64,
    layers: Annotated[int, Opt(help="Stacked layers.", rich_help_panel="Model")] = 1,
    bidirectional: Annotated[bool, Opt("--bidirectional", help="Read the window both ways.",
                                       rich_help_panel="Model")] = False,
    dropout: Annotated[float, Opt(help="Dropout between layers and before the head.",
                                  rich_help_panel="Model")] = 0.0,
    window_norm: Annotated[str, Opt(help="last: forecast relative to the window's last value; "
                                    "none.", rich_help_panel="Model")] = "last",
    multi_step: Annotated[str, Opt(help="direct (H outputs) or recursive (one-step rollout).",
                                   rich_help_panel="Model")] = "direct",
    loss: Annotated[str, Opt(help="mse | mae | huber.", rich_help_panel="Model")] = "mse",
    highway: Annotated[bool, Opt("--highway/--no-highway", help="Add a linear autoregression "
                                 "on the target window (LSTNet).", rich_help_panel="Model")
                       ] = True,
    ensemble: Annotated[int, Opt(help="Train N networks from consecutive seeds; average them.",
                                 rich_help_panel="Model")] = 1,
    refit: Annotated[bool, Opt("--refit", help="After early stopping, retrain on training + "
                               "validation for the chosen number of epochs.",
                               rich_help_panel="Model")] = False,
    level: Annotated[float, Opt(help="Prediction-interval level (split-conformal).",
                                rich_help_panel="Evaluation")] = 0.9,
    season: Annotated[int | None, Opt(help="Seasonal period m (default: from the frequency).",
                                      rich_help_panel="Evaluation")] = None,
    arima_order: Annotated[str | None, Opt(help="Fix ARIMA as p,d,q[,P,D,Q] (default: AIC).",
                                           rich_help_panel="Evaluation")] = None,
    arima_budget: Annotated[float, Opt(help="Seconds for ARIMA's stepwise order search.",
                                       rich_help_panel="Evaluation")] = 60.0,
) -> None:
    """Parameters only: the forecasting options of fit, compare and backtest."""


def build_config(options: dict[str, Any]) -> ForecastConfig:
    """CLI options -> a validated ForecastConfig (the shared training options included)."""
    train = train_config(options, TRAIN_DEFAULTS)
    options.pop("out", None), options.pop("overwrite", None)
    options["target"] = split_list(options["target"], "--target")
    options["features"] = split_list(options["features"], "--features")
    options["calendar"] = split_list(options["calendar"], "--calendar")
    options["lags"] = split_list(options["lags"], "--lags", int)
    order = split_list(options["arima_order"], "--arima-order", int)
    options["arima_order"] = order or None
    config = ForecastConfig(train=train, **options)
    config.validate()
    return config


@app.command()
@with_options(data_options, train_options, output_options)
def fit(**options: Any) -> None:
    """Train a network, score it and every baseline on the same test windows, write a run.

    Example: rnnlab forecast fit --data airline-passengers --time-col Month --target Passengers
    --lookback 24 --horizon 12 --log
    """
    from rnnlab.tasks.forecasting.workflows import fit_run

    fit_run(build_config(dict(options)), options["out"], options["overwrite"])


@app.command()
@with_options(data_options, train_options, output_options)
def compare(**options: Any) -> None:
    """Train the lecture's five variants (MLP on windows, LSTM 1 step x L features, LSTM L
    steps x 1 feature, GRU, RNN) on one split; one table with the baselines.

    Example: rnnlab forecast compare --data airline-passengers --time-col Month
    --target Passengers --lookback 12 --horizon 1
    """
    from rnnlab.tasks.forecasting.workflows import compare_run

    compare_run(build_config(dict(options)), options["out"], options["overwrite"])


@app.command()
@with_options(data_options, train_options, output_options)
def backtest(
    folds: Annotated[int, Opt(help="Expanding-window folds over the test part.")] = 3,
    **options: Any,
) -> None:
    """Rolling-origin evaluation: per-fold and mean metrics of the network and all baselines.

    Example: rnnlab forecast backtest --data airline-passengers --time-col Month
    --target Passengers --lookback 24 --horizon 6 --log --test-size 36 --folds 3
    """
    from rnnlab.tasks.forecasting.backtest import backtest as run_backtest

    run_backtest(build_config(dict(options)), folds, options["out"], options["overwrite"])


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
