"""The forecasting jobs behind the CLI verbs: fit, compare, evaluate, predict.

Each returns its results and writes its outputs; printing is done here too so the CLI and
Python users see the same table.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from rnnlab.console import console
from rnnlab.data.datasets import resolve_data
from rnnlab.outputs import check_output_file
from rnnlab.runs import atomic_write_text, staged_run
from rnnlab.tasks.forecasting.api import Forecaster
from rnnlab.tasks.forecasting.config import ForecastConfig, check_level
from rnnlab.tasks.forecasting.data import make_split
from rnnlab.tasks.forecasting.evaluation import Evaluation, evaluate
from rnnlab.tasks.forecasting.phases import Phases
from rnnlab.tasks.forecasting.report import write_run
from rnnlab.tasks.forecasting.series import load_series

# The lecture's five variants (EI320A demo): name -> config changes.
VARIANTS = {
    "mlp": {"model": "mlp"},
    "lstm_features": {"model": "lstm", "layout": "features"},  # 1 step x L features
    "lstm_timesteps": {"model": "lstm", "layout": "timesteps"},  # L steps x 1 feature
    "gru": {"model": "gru", "layout": "timesteps"},
    "rnn": {"model": "rnn", "layout": "timesteps"},
}


def network_name(cfg: ForecastConfig) -> str:
    return ("bi" if cfg.bidirectional else "") + cfg.model


def _run_jobs(
    job_title: str, cfg: ForecastConfig, configs: dict[str, ForecastConfig], out: str | None,
    overwrite: bool, resume: bool = False,
) -> tuple[dict[str, Forecaster], Evaluation | None, Path | None]:
    """Fit every config on the same split, evaluate all with the baselines, write one run."""
    cfg.validate()
    options = {n: c.to_dict() for n, c in configs.items()}
    with staged_run(out, "forecast", overwrite, resume, options) as run:
        series = load_series(cfg)
        forecasters = {}
        for name, variant in configs.items():
            if len(configs) > 1:
                console.print(f"[dim]training {name} ...[/dim]")
            checkpoints = run.checkpoints / name
            forecasters[name] = Forecaster(variant).fit(series, checkpoints=checkpoints,
                                                        resume=resume)
        reference = next(iter(forecasters.values()))
        if not reference.fit_result_.is_global_zero or not run.writes:
            run.discard()
            return forecasters, None, None  # DDP worker: rank 0 writes the run
        phases = Phases(cfg.train.quiet)
        evaluation = evaluate(forecasters, series, reference.test_origins(),
                              reference.split_.val_end, phases)
        run.write_config(options if len(configs) > 1 else cfg.to_dict(), resolve_data(cfg.data))
        with phases("plots and report"):
            write_run(run, forecasters, evaluation, job_title, phases.seconds)
    evaluation.show(f"{job_title}: test metrics ({series.source})")
    if not cfg.train.quiet:
        console.print(f"[dim]besides training: {phases.summary()}[/dim]")
    console.print(f"run folder: {run.path}\nreport: {run.path / 'report.html'}")
    return forecasters, evaluation, run.path


def fit_run(cfg: ForecastConfig, out: str | None = None, overwrite: bool = False,
            resume: bool = False) -> tuple[Forecaster, Evaluation | None, Path | None]:
    """`rnnlab forecast fit`: train one network, score it beside the baselines, write a run."""
    forecasters, evaluation, path = _run_jobs(
        f"rnnlab forecast: {network_name(cfg)}", cfg, {network_name(cfg): cfg}, out, overwrite,
        resume)
    return next(iter(forecasters.values())), evaluation, path


def fit_models(cfg: ForecastConfig, configs: dict[str, ForecastConfig], out: str | None = None,
               overwrite: bool = False
               ) -> tuple[dict[str, Forecaster], Evaluation | None, Path | None]:
    """Several named networks on one split, scored together with the baselines in one run
    (bench/finance.py: LSTM and GRU beside naive, drift and ARIMA)."""
    return _run_jobs(f"rnnlab forecast: {', '.join(configs)}", cfg, configs, out, overwrite)


def compare_run(cfg: ForecastConfig, out: str | None = None, overwrite: bool = False,
                resume: bool = False
                ) -> tuple[dict[str, Forecaster], Evaluation | None, Path | None]:
    """`rnnlab forecast compare`: the lecture's five variants on one split, one table."""
    configs = {name: cfg.replace(**changes) for name, changes in VARIANTS.items()}
    return _run_jobs("rnnlab forecast compare", cfg, configs, out, overwrite, resume)


def evaluate_run(run_dir: str | Path, data: str | None = None) -> Evaluation:
    """`rnnlab forecast evaluate`: score a saved model and the baselines on the test part of
    its data (or of `data`, split with the run's own sizes)."""
    forecaster = Forecaster.load(run_dir)
    cfg = forecaster.config if data is None else forecaster.config.replace(data=data)
    series = load_series(cfg, fitted=True)
    split = make_split(cfg, len(series), forecaster.preprocessor_.first_valid, series.source,
                       fitted=True)
    forecaster.split_ = split
    evaluation = evaluate({network_name(cfg): forecaster}, series, forecaster.test_origins(),
                          split.val_end)
    evaluation.show(f"evaluation of {run_dir} on {series.source}")
    return evaluation


def predict_run(run_dir: str | Path, data: str, out: str | None = None, overwrite: bool = False,
                level: float | None = None) -> pd.DataFrame:
    """`rnnlab forecast predict`: the next H steps after the end of `data`."""
    forecaster = Forecaster.load(run_dir)
    if level is not None:
        check_level(level)
    frame = forecaster.predict(resolve_data(data), level)
    if out is not None:
        check_output_file(Path(out), overwrite)
        atomic_write_text(Path(out), frame.to_csv())
    return frame
