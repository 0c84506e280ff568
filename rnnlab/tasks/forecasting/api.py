"""Forecaster: fit a network on a series, forecast from any origin, save / load a run.

>>> from rnnlab.tasks.forecasting import ForecastConfig, Forecaster
>>> cfg = ForecastConfig(data="airline-passengers", time_col="Month", target=("Passengers",),
...                      lookback=24, horizon=12, log=True)
>>> forecaster = Forecaster(cfg).fit()                       # doctest: +SKIP
>>> forecaster.predict(new_frame)                            # doctest: +SKIP
>>> Forecaster.load("runs/demo-airline").predict(new_frame)  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from rnnlab import store
from rnnlab.data.timeseries import future_index, gather, season_for, window_origins
from rnnlab.errors import UserError
from rnnlab.estimator import Estimator
from rnnlab.jobs import job_of_api
from rnnlab.tasks.forecasting.config import ForecastConfig
from rnnlab.tasks.forecasting.data import (
    Preprocessor,
    Split,
    WindowDataModule,
    WindowTensors,
    make_split,
)
from rnnlab.tasks.forecasting.intervals import online_halfwidths, recent_volatility
from rnnlab.tasks.forecasting.metrics import (
    conformal_halfwidth,
    conformal_residuals_needed,
    mase_scale,
)
from rnnlab.tasks.forecasting.model import (
    RIDGE_PENALTIES,
    ForecastEnsemble,
    ForecastModule,
    ForecastNet,
    ridge_autoregression,
)
from rnnlab.tasks.forecasting.series import Series, load_series
from rnnlab.training import FitResult, fit_module, seed_everything

STEPS_PER_CALL = 32  # optimizer steps per Lightning training step (see ForecastModule)
MODEL_FILE = "forecaster.json"


class Forecaster(Estimator):
    """A forecasting network with its preprocessing, fitted on the training part of a series.

    Fitted attributes end in `_`: `series_`, `split_`, `preprocessor_`, `net_` (an ensemble of
    `config.ensemble` networks), `fit_results_` (the early-stopped fit, then the refit if any),
    `fit_result_` (the first, with the total seconds), `season_`, `val_abs_residuals_`
    (validation |errors| behind the prediction intervals).
    """

    def __init__(self, config: ForecastConfig | None = None) -> None:
        super().__init__(config if config is not None else ForecastConfig())

    # -- fitting ---------------------------------------------------------------------------
    def fit(self, data: pd.DataFrame | Series | None = None, source: str | None = None,
            checkpoints: Path | None = None, resume: bool = False) -> Forecaster:
        """Read `config.data` (or use the table / Series `data`), split it in time, train;
        returns self. `checkpoints`: a folder for resumable training checkpoints; `resume`
        continues the fit interrupted there."""
        cfg = self.config
        cfg.validate()
        series = load_series(cfg, data, source)
        pre = Preprocessor(cfg, series.freq)
        if cfg.multi_step == "recursive" and pre.calendar and series.freq is None:
            raise UserError("--multi-step recursive with --calendar needs a regular time column")
        split = make_split(cfg, len(series), pre.first_valid, series.source)
        pre.fit(series, split.train_end)
        self.series_, self.split_, self.preprocessor_ = series, split, pre
        self.season_ = cfg.season or season_for(series.freq)
        if cfg.arima_order is not None and any(cfg.arima_order[3:]) and self.season_ < 2:
            raise UserError(
                f"--arima-order {','.join(map(str, cfg.arima_order))} has a seasonal part but "
                f"{series.source} has no seasonal period; pass --season M or give p,d,q only"
            )
        self.mase_scale_ = mase_scale(series.targets[: split.val_end], self.season_)

        inputs, scaled = pre.inputs(series), pre.scaled_targets(series)
        steps, lookback = cfg.output_steps, cfg.lookback

        def windows(start: int, stop: int, stride: int = 1) -> WindowTensors:
            origins = window_origins(len(series), lookback, steps, start, stop, stride)
            return WindowTensors(gather(inputs, origins, -lookback, 0),
                                 gather(scaled, origins, 0, steps))

        first = pre.first_valid + lookback
        train = windows(first, split.train_end, cfg.stride)
        val = windows(split.train_end, split.val_end)
        self.n_windows_ = {"train": len(train), "val": len(val)}
        self.n_inputs_ = inputs.shape[1]
        stages = {stage: checkpoints / stage if checkpoints else None for stage in ("fit", "refit")}
        self.net_, result = self._train(train, val, cfg.train.epochs, "val_loss",
                                        stages["fit"], resume)
        self._validation_scores(series)
        results = [result]
        if cfg.refit:  # the chosen number of epochs, now on every window before the test part
            best = result.best_epoch if result.best_epoch is not None else result.epochs
            everything = windows(first, split.val_end, cfg.stride)
            self.net_, refit = self._train(everything, val, best + 1, None, stages["refit"],
                                           resume)
            results.append(refit)
        self.fit_results_ = results
        self.fit_result_ = replace(result, seconds=sum(r.seconds for r in results))
        return self

    def _validation_scores(self, series: Series) -> None:
        """|errors| of the validation forecasts and the volatility before each origin: what
        the intervals are calibrated on (intervals.py)."""
        origins = self.val_origins()
        truth = gather(series.targets, origins, 0, self.config.horizon)
        self.val_abs_residuals_ = np.abs(self.forecast(series, origins) - truth)
        self.val_scales_ = recent_volatility(series.targets, origins)

    def _train(self, train: WindowTensors, val: WindowTensors, epochs: int,
               monitor: str | None, checkpoints: Path | None, resume: bool
               ) -> tuple[ForecastEnsemble, FitResult]:
        """Train `config.ensemble` networks (one loop, different initialisations), each
        starting from the ridge autoregression when the highway is on."""
        cfg = self.config
        seed_everything(cfg.train.seed)
        net = ForecastEnsemble([self._build_net(self.n_inputs_) for _ in range(cfg.ensemble)])
        if cfg.highway:
            # the penalty is chosen on the validation part once; a refit reuses it
            penalties = (self.ridge_penalty_,) if monitor is None else RIDGE_PENALTIES
            weight, bias, self.ridge_penalty_ = ridge_autoregression(
                net.members[0], (train.inputs, train.targets), (val.inputs, val.targets),
                penalties)
            for member in net.members:
                member.start_from_linear(weight, bias)
        module = ForecastModule(net, cfg.loss, cfg.train.lr, cfg.train.weight_decay,
                                anneal=monitor is None, clip=cfg.train.clip,
                                batch_size=cfg.train.batch_size)
        datamodule = WindowDataModule(train, val, cfg.train.batch_size,
                                      steps_per_call=STEPS_PER_CALL)
        result = fit_module(module, datamodule, replace(cfg.train, epochs=epochs), monitor=monitor,
                            checkpoints=checkpoints, resume=resume)
        return net.eval(), result

    def _build_net(self, n_inputs: int) -> ForecastNet:
        cfg = self.config
        return ForecastNet(
            n_inputs, len(cfg.target), cfg.lookback, cfg.output_steps, cfg.model, cfg.hidden,
            cfg.layers, cfg.bidirectional, cfg.dropout, cfg.layout, cfg.window_norm, cfg.highway,
        )

    def val_origins(self) -> np.ndarray:
        """Every origin whose H targets lie in the validation part (stride 1)."""
        return window_origins(self.split_.n, self.config.lookback, self.config.horizon,
                              self.split_.train_end, self.split_.val_end)

    def test_origins(self) -> np.ndarray:
        """Origins every `test_stride` (default H) steps across the test part."""
        cfg = self.config
        return window_origins(self.split_.n, cfg.lookback, cfg.horizon, self.split_.val_end,
                              self.split_.n, cfg.test_stride or cfg.horizon)

    # -- forecasting -----------------------------------------------------------------------
    @torch.no_grad()
    def forecast(self, series: Series, origins: np.ndarray) -> np.ndarray:
        """Forecasts (windows, H, k) in original units from each origin (first step index).

        Only the rows the windows need are transformed, so one forecast costs one window.
        """
        self.check_is_fitted()
        cfg, pre = self.config, self.preprocessor_
        if len(origins) == 0:
            return np.zeros((0, cfg.horizon, len(cfg.target)))
        start = max(0, int(origins.min()) - cfg.lookback - pre.first_valid)
        recent = series.rows(start, int(origins.max()))
        local = origins - start
        inputs = torch.from_numpy(gather(pre.inputs(recent), local, -cfg.lookback, 0))
        if cfg.multi_step == "direct":
            scaled = self.net_(inputs)
        else:
            scaled = self._rollout(inputs, recent, local)
        return pre.invert(scaled.numpy().astype(np.float64), origins, series.targets)

    def _rollout(self, window: torch.Tensor, series: Series, origins: np.ndarray) -> torch.Tensor:
        """Recursive multi-step: feed each one-step forecast back as the newest input row."""
        pre, horizon = self.preprocessor_, self.config.horizon
        index = series.index
        if pre.calendar:
            index = index.append(future_index(index[-1], pre.freq, horizon))
        calendar = torch.from_numpy(pre.calendar_columns(index).astype(np.float32))
        outputs = []
        for step in range(horizon):
            next_value = self.net_(window)[:, 0, :]  # (windows, k)
            outputs.append(next_value)
            if pre.calendar:
                row = torch.cat([next_value, calendar[origins + step]], dim=1)
            else:
                row = next_value
            window = torch.cat([window[:, 1:], row[:, None, :]], dim=1)
        return torch.stack(outputs, dim=1)

    def halfwidth(self, level: float | None = None) -> np.ndarray:
        """Prediction-interval half-width (H, k) at `level` (default: the configured level)."""
        return conformal_halfwidth(self.val_abs_residuals_,
                                   self.config.level if level is None else level)

    def halfwidths(self, series: Series, origins: np.ndarray, point: np.ndarray | None = None,
                   level: float | None = None) -> np.ndarray:
        """(windows, H, k) interval half-widths for the forecasts from `origins`.

        `--intervals adaptive` (intervals.py): validation scores scaled by the volatility
        before each origin; with `point`, the forecasts from `origins` whose targets are in
        `series` (evaluation), each joins the pool once its target is observed. `split`, or a
        run saved before adaptive intervals: the validation half-width everywhere.
        """
        cfg = self.config
        level = cfg.level if level is None else level
        shape = (len(origins), cfg.horizon, len(cfg.target))
        if cfg.intervals == "split" or self.val_scales_ is None:
            return np.broadcast_to(self.halfwidth(level), shape).copy()
        val_scores = self.val_abs_residuals_ / self.val_scales_[:, None, :]
        seen, scores = origins[:0], np.zeros((0, *shape[1:]))
        if point is not None:
            truth = gather(series.targets, origins, 0, cfg.horizon)
            seen = origins
            scores = np.abs(point - truth) / recent_volatility(series.targets, origins)[:, None]
        return online_halfwidths(val_scores, scores, seen, origins,
                                 recent_volatility(series.targets, origins), level)

    def interval_note(self, level: float | None = None) -> str | None:
        """A warning when too few validation forecasts back the interval's `level`."""
        level = self.config.level if level is None else level
        n, needed = len(self.val_abs_residuals_), conformal_residuals_needed(level)
        if n >= needed:
            return None
        return (f"{level:.0%} interval from only {n} validation forecasts (>= {needed} "
                "needed for its coverage): widen --val-size")

    def predict(self, data: pd.DataFrame | str | Path, level: float | None = None) -> pd.DataFrame:
        """Forecast the H steps after the end of `data` (a table with the training columns).

        Returns one row per future step: each target, and `<target>_lower` / `<target>_upper`.
        """
        self.check_is_fitted()
        cfg = self.config
        if isinstance(data, str | Path):
            series = load_series(cfg.replace(data=str(data)), fitted=True)
        else:
            series = load_series(cfg, data, "the data", fitted=True)
        needed = self.preprocessor_.first_valid + cfg.lookback
        if len(series) < needed:
            raise UserError(
                f"{series.source} has {len(series)} rows; forecasting needs the last {needed} "
                f"(the run was fitted with --lookback {cfg.lookback}); give a longer history"
            )
        origin = np.array([len(series)])
        point = self.forecast(series, origin)[0]  # (H, k)
        width = self.halfwidths(series, origin, level=level)[0]
        if isinstance(series.index, pd.DatetimeIndex) and series.freq:
            index = future_index(series.index[-1], series.freq, cfg.horizon)
        else:
            index = pd.RangeIndex(len(series), len(series) + cfg.horizon)
        table = {}
        for j, name in enumerate(cfg.target):
            table[name] = point[:, j]
            table[f"{name}_lower"] = point[:, j] - width[:, j]
            table[f"{name}_upper"] = point[:, j] + width[:, j]
        return pd.DataFrame(table, index=pd.Index(index, name=cfg.time_col or "step"))

    # -- persistence -----------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        """weights.safetensors + forecaster.json + the manifest model.json (no pickles)."""
        self.check_is_fitted()
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        store.save_weights(self.net_, directory / store.WEIGHTS_FILE)
        state = {
            "config": self.config.to_dict(),
            "preprocessor": self.preprocessor_.to_dict(),
            "n_inputs": self.n_inputs_,
            "season": self.season_,
            "mase_scale": self.mase_scale_.tolist(),
            "split": vars(self.split_),
            "val_abs_residuals": self.val_abs_residuals_.tolist(),
            "val_scales": None if self.val_scales_ is None else self.val_scales_.tolist(),
        }
        store.write_state(directory, MODEL_FILE, state)
        self.write_manifest(directory)
        return directory

    @classmethod
    def write_variants_manifest(cls, directory: Path, variants: list[str]) -> Path:
        """The manifest of a `compare` run's model/ folder: one saved model per variant."""
        job = job_of_api(cls)
        return store.write_manifest(directory, job.name, job.api, None, variants=variants)

    @classmethod
    def load(cls, run_or_model_dir: str | Path) -> Forecaster:
        """Load from a run folder written by `fit`, or from a model folder (`save`, or one
        variant of a `compare` run: RUN/model/<variant>)."""
        model_dir = store.model_dir(run_or_model_dir, "forecast")
        state = store.read_state(model_dir, MODEL_FILE)
        try:
            self = cls(ForecastConfig.from_dict(state["config"]))
            self.preprocessor_ = Preprocessor.from_dict(state["preprocessor"])
            self.season_ = state["season"]
            self.mase_scale_ = np.asarray(state["mase_scale"], dtype=np.float64)
            self.split_ = Split(**state["split"])
            self.val_abs_residuals_ = np.asarray(state["val_abs_residuals"], dtype=np.float64)
            scales = state.get("val_scales")  # None: a run from before adaptive intervals
            self.val_scales_ = None if scales is None else np.asarray(scales, dtype=np.float64)
            self.n_inputs_ = state["n_inputs"]
            members = [self._build_net(self.n_inputs_) for _ in range(self.config.ensemble)]
        except (KeyError, TypeError, ValueError) as exc:
            raise store.damaged(run_or_model_dir, f"{MODEL_FILE} lacks or mangles {exc}"
                                ) from None
        net = ForecastEnsemble(members)
        store.load_weights(net, model_dir / store.WEIGHTS_FILE)
        self.net_ = net.eval()
        return self
