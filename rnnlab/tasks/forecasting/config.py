"""ForecastConfig: every option of a forecasting run, validated once at the boundary."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from rnnlab.config import TrainConfig
from rnnlab.data.timeseries import CALENDAR_FIELDS
from rnnlab.errors import UserError, check_range

MODELS = ("lstm", "gru", "rnn", "mlp")


@dataclass(frozen=True)
class ForecastConfig:
    """Options of `rnnlab forecast fit` (the CLI flag of each field is `--field-name`)."""

    data: str = "airline-passengers"  # CSV path or bundled data set name
    target: tuple[str, ...] = ()  # column(s) to forecast
    time_col: str | None = None  # None: rows are equally spaced steps in file order
    features: tuple[str, ...] = ()  # past covariates (observed up to the forecast origin)
    time_format: str | None = None  # strftime format of the time column, when pandas can't guess
    encoding: str = "utf-8"  # text encoding of the data file (e.g. cp1252)
    fill: str = "none"  # none | ffill | interpolate: how to fill NaNs and missing timestamps
    lookback: int = 24  # L: input steps per window
    horizon: int = 1  # H: steps forecast from each origin
    stride: int = 1  # step between training windows
    test_size: float = 0.2  # < 1: fraction of rows held out at the end; >= 1: number of rows
    val_size: float = 0.1  # same, taken just before the test part (at least `horizon` rows)
    test_stride: int | None = None  # step between test origins; None: horizon (no overlap)
    scale: str = "standard"  # standard | minmax | none (fitted on the training part only)
    log: bool = False  # model log(y): multiplicative seasonality, positive series
    diff: bool = False  # model first differences (y_t - y_{t-1})
    calendar: tuple[str, ...] = ()  # calendar features: hour, dow, month, doy
    lags: tuple[int, ...] = ()  # extra lagged copies of targets and features (e.g. 365)
    model: str = "lstm"  # lstm | gru | rnn | mlp
    layout: str = "timesteps"  # timesteps: L steps x F features; features: 1 step x L*F
    hidden: int = 64
    layers: int = 1
    bidirectional: bool = False
    dropout: float = 0.0
    window_norm: str = "last"  # last: inputs and outputs relative to the window's last value
    highway: bool = True  # add a linear autoregression on the target window (LSTNet)
    multi_step: str = "direct"  # direct: one H-output head; recursive: one-step rollout
    loss: str = "mse"  # mse | mae | huber
    ensemble: int = 1  # networks trained from seeds seed, seed+1, ...; forecasts are averaged
    refit: bool = False  # after early stopping, retrain on training + validation windows
    level: float = 0.9  # prediction-interval level (split-conformal on validation residuals)
    season: int | None = None  # seasonal period m; None: inferred from the frequency
    arima_order: tuple[int, ...] | None = None  # (p,d,q) or (p,d,q,P,D,Q); None: chosen by AIC
    arima_budget: float = 60.0  # seconds for the ARIMA order search (best model so far is kept)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ForecastConfig:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in values.items() if k in known}
        train = TrainConfig(**values.pop("train", {}))
        for name in ("target", "features", "calendar", "lags"):
            values[name] = tuple(values.get(name) or ())
        if values.get("arima_order") is not None:
            values["arima_order"] = tuple(values["arima_order"])
        return cls(train=train, **values)

    def replace(self, **changes: Any) -> ForecastConfig:
        return replace(self, **changes)

    @property
    def output_steps(self) -> int:
        """Steps the network emits per window: H for direct, 1 for recursive rollout."""
        return self.horizon if self.multi_step == "direct" else 1

    def validate(self) -> None:
        """Raise UserError for options that cannot work whatever the data."""
        if not self.target:
            raise UserError("--target is required: the column(s) to forecast, e.g. --target Sales")
        check_range(self.lookback, "--lookback", 1)
        check_range(self.horizon, "--horizon", 1)
        check_range(self.stride, "--stride", 1)
        check_range(self.hidden, "--hidden", 1)
        check_range(self.layers, "--layers", 1)
        check_range(self.ensemble, "--ensemble", 1)
        check_range(self.dropout, "--dropout", 0.0, 0.95)
        check_range(self.level, "--level", 0.5, 0.999)
        check_range(self.arima_budget, "--arima-budget", 1)
        check_range(self.test_size, "--test-size", 0.01)
        check_range(self.val_size, "--val-size", 0.01)
        if self.test_stride is not None:
            check_range(self.test_stride, "--test-stride", 1)
        if self.season is not None:
            check_range(self.season, "--season", 1)
        choices = {
            "model": MODELS, "layout": ("timesteps", "features"), "scale": ("standard", "minmax",
            "none"), "fill": ("none", "ffill", "interpolate"), "window_norm": ("last", "none"),
            "multi_step": ("direct", "recursive"), "loss": ("mse", "mae", "huber"),
        }
        for name, allowed in choices.items():
            value = getattr(self, name)
            if value not in allowed:
                flag = "--" + name.replace("_", "-")
                raise UserError(f"{flag} must be one of {', '.join(allowed)}; got {value!r}")
        unknown = [c for c in self.calendar if c not in CALENDAR_FIELDS and c != "auto"]
        if unknown:
            raise UserError(
                f"--calendar {unknown[0]!r} is not a calendar field; use auto or any of "
                f"{', '.join(CALENDAR_FIELDS)}"
            )
        if any(lag < 1 for lag in self.lags):
            raise UserError(f"--lags must be positive integers; got {list(self.lags)}")
        if self.arima_order is not None and len(self.arima_order) not in (3, 6):
            raise UserError("--arima-order takes p,d,q or p,d,q,P,D,Q (e.g. 0,1,1,0,1,1)")
        if self.multi_step == "recursive" and (self.features or self.lags):
            raise UserError(
                "--multi-step recursive feeds its own forecasts back in, so it cannot use "
                "--features or --lags (their future values are unknown); use --multi-step direct"
            )
        if self.time_col is None and "auto" not in self.calendar and self.calendar:
            raise UserError("--calendar needs --time-col (calendar features come from the time)")
        if self.layout == "features" and self.model == "mlp":
            raise UserError("--layout applies to recurrent models; --model mlp always sees L*F")
        self.train.validate()
