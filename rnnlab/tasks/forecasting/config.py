"""ForecastConfig: every option of a forecasting run, validated once at the boundary."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

from pandas.tseries.frequencies import to_offset

from rnnlab.config import JobConfig, TrainConfig, option
from rnnlab.data.timeseries import CALENDAR_FIELDS, normalise_alias
from rnnlab.errors import UserError, check_range

MODELS = ("lstm", "gru", "rnn", "mlp")
# The forecasting job's training defaults (small series: many short epochs, long patience).
TRAIN_DEFAULTS = TrainConfig(epochs=200, patience=20, batch_size=32, lr=1e-3, clip=1.0)
D, W, T, M, E = "Data", "Windows", "Transforms", "Model", "Evaluation"  # --help panels


def check_level(level: float, flag: str = "--level") -> None:
    """A prediction-interval level: the one rule for fit, predict and anomalies."""
    check_range(level, flag, 0.5, 0.999)


@dataclass(frozen=True)
class ForecastConfig(JobConfig):
    """Options of `rnnlab forecast fit`: each field is the option `--field-name`, with this
    default and help (rnnlab.cli_common.config_options)."""

    # -- data ------------------------------------------------------------------------------
    data: str = option("airline-passengers", "CSV / TSV / JSONL file, or a bundled name "
                       "(rnnlab datasets).", D)
    target: tuple[str, ...] = option((), "Column(s) to forecast, comma-separated.", D)
    time_col: str | None = option(None, "Time column (parsed, sorted, frequency inferred); "
                                  "without it rows are equally spaced steps in file order.", D)
    features: tuple[str, ...] = option((), "Extra covariate columns, comma-separated (past "
                                       "covariates, observed up to the forecast origin).", D)
    time_format: str | None = option(None, "strftime format of the time column, e.g. %Y-%m.", D)
    encoding: str = option("utf-8", "Text encoding of the data file, e.g. cp1252.", D)
    fill: str = option("none", "none | ffill | interpolate: fill NaNs and missing timestamps.", D)
    freq: str | None = option(None, "Calendar: a pandas alias (B trading days, D, h, W, MS, "
                              "...) or none (rows in order, no dates); default inferred.", D)
    # -- windows -------------------------------------------------------------------------
    lookback: int = option(24, "L: input steps per window.", W, low=1)
    horizon: int = option(1, "H: steps forecast from each origin.", W, low=1)
    stride: int = option(1, "Step between training windows.", W, low=1)
    test_size: float = option(0.2, "Held-out end of the series: fraction (< 1) or rows.", W,
                              low=0.01)
    val_size: float = option(0.1, "Validation part before it (at least H rows): fraction or "
                             "rows.", W, low=0.01)
    test_stride: int | None = option(None, "Step between test origins (default H: no overlap).",
                                     W, low=1)
    # -- transforms ----------------------------------------------------------------------
    scale: str = option("standard", "standard | minmax | none (fitted on training rows only).",
                        T)
    log: bool = option(False, "Model log(y) (positive, multiplicative series).", T)
    diff: bool = option(False, "Model first differences (y_t - y_{t-1}).", T)
    transform: str = option("none", "none | returns | log-returns: model price changes "
                            "(metrics on prices and on returns).", T)
    calendar: tuple[str, ...] = option((), "Calendar features: auto, or any of hour,dow,month,"
                                       "doy.", T)
    lags: tuple[int, ...] = option((), "Extra lagged copies of targets and features, e.g. 365.",
                                   T)
    # -- model ---------------------------------------------------------------------------
    model: str = option("lstm", "lstm | gru | rnn | mlp.", M)
    layout: str = option("timesteps", "timesteps (L steps x F) or features (1 step x L·F).", M)
    hidden: int = option(64, "Hidden units per layer.", M, low=1)
    layers: int = option(1, "Stacked layers.", M, low=1)
    bidirectional: bool = option(False, "Read the window both ways.", M)
    dropout: float = option(0.0, "Dropout between layers and before the head.", M,
                            low=0.0, high=0.95)
    window_norm: str = option("last", "last: forecast relative to the window's last value; "
                              "none.", M)
    highway: bool = option(True, "Add a linear autoregression on the target window (LSTNet).",
                           M)
    multi_step: str = option("direct", "direct (H outputs) or recursive (one-step rollout).", M)
    loss: str = option("mse", "mse | mae | huber.", M)
    ensemble: int = option(1, "Train N networks in one loop from different initialisations; "
                           "average their forecasts.", M, low=1)
    refit: bool = option(False, "After early stopping, retrain on training + validation for "
                         "the chosen number of epochs.", M)
    # -- evaluation ----------------------------------------------------------------------
    level: float = option(0.9, "Prediction-interval level (conformal, see --intervals).", E)
    intervals: str = option("adaptive", "adaptive: conformal scores scaled by recent volatility, "
                            "updated as test origins move on; split: one validation width.", E)
    season: int | None = option(None, "Seasonal period m (default: from the frequency).", E, low=1)
    arima_order: tuple[int, ...] | None = option(None, "Fix ARIMA as p,d,q[,P,D,Q] (default: "
                                                 "chosen by AIC).", E)
    arima_budget: float = option(20.0, "Seconds for ARIMA's stepwise order search (the best "
                                 "model so far is kept).", E, low=1)
    train: TrainConfig = field(default_factory=lambda: TRAIN_DEFAULTS)

    @property
    def output_steps(self) -> int:
        """Steps the network emits per window: H for direct, 1 for recursive rollout."""
        return self.horizon if self.multi_step == "direct" else 1

    def validate(self) -> None:
        """Raise UserError for options that cannot work whatever the data."""
        if not self.target:
            raise UserError("--target is required: the column(s) to forecast, e.g. --target Sales")
        self.check_ranges()
        check_level(self.level)
        choices = {
            "model": MODELS, "layout": ("timesteps", "features"), "scale": ("standard", "minmax",
            "none"), "fill": ("none", "ffill", "interpolate"), "window_norm": ("last", "none"),
            "multi_step": ("direct", "recursive"), "loss": ("mse", "mae", "huber"),
            "transform": ("none", "returns", "log-returns"), "intervals": ("adaptive", "split"),
        }
        self.check_choices(choices)
        unknown = [c for c in self.calendar if c not in CALENDAR_FIELDS and c != "auto"]
        if unknown:
            raise UserError(
                f"--calendar {unknown[0]!r} is not a calendar field; use auto or any of "
                f"{', '.join(CALENDAR_FIELDS)}"
            )
        self._check_each_column_once()
        self._check_freq()
        if self.transform != "none" and (self.log or self.diff):
            used = "--log" if self.log else "--diff"
            raise UserError(f"--transform {self.transform} already models changes of the "
                            f"prices; drop {used}")
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

    def _check_freq(self) -> None:
        if self.freq is None or self.freq == "none":
            return
        if self.time_col is None:
            raise UserError(f"--freq {self.freq} needs --time-col (the dates it describes); "
                            "without one rows are steps in file order")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                to_offset(normalise_alias(self.freq))
        except ValueError:
            raise UserError(f"--freq {self.freq!r} is not a pandas frequency; use e.g. B "
                            "(trading days), D, h, W, MS, or none") from None

    def _check_each_column_once(self) -> None:
        for flag, names in (("--target", self.target), ("--features", self.features)):
            twice = [name for name in names if names.count(name) > 1]
            if twice:
                raise UserError(f"{flag} names column {twice[0]!r} twice; give each column once")
        both = [name for name in self.features if name in self.target]
        if both:
            raise UserError(
                f"column {both[0]!r} is given to both --target and --features; a column is "
                "forecast or a covariate, not both: drop it from --features"
            )
