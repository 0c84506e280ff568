"""ToyModel: learns `scale` times the mean of one CSV column into a one-parameter module.

>>> model = ToyModel(ToyConfig(data="values.csv", column="y")).fit()   # doctest: +SKIP
>>> model.predict(3)                                                   # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import torch
from torch import nn

from rnnlab import store
from rnnlab.errors import UserError, check_columns, check_file
from rnnlab.estimator import Estimator
from tests.toyjob.config import ToyConfig

STATE_FILE = "toy.json"


class MeanNet(nn.Module):
    """One float64 parameter: the learned (scaled) mean."""

    def __init__(self) -> None:
        super().__init__()
        self.mean = nn.Parameter(torch.zeros(1, dtype=torch.float64), requires_grad=False)


def read_column(cfg: ToyConfig) -> pd.Series:
    """The numeric column `cfg.column` of the CSV `cfg.data`, without missing values."""
    path = check_file(cfg.data)
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise UserError(f"{path} is not a readable CSV file ({exc})") from None
    check_columns([cfg.column], list(frame.columns), str(path), "--column")
    values = pd.to_numeric(frame[cfg.column], errors="coerce").dropna()
    if values.empty:
        raise UserError(f"column {cfg.column!r} of {path} has no numbers")
    return values


class ToyModel(Estimator):
    """Fitted attributes: `net_` (the mean), `n_rows_`, `mae_` and `baseline_mae_` (on the
    training rows: this toy has no test split)."""

    def __init__(self, config: ToyConfig | None = None) -> None:
        super().__init__(config if config is not None else ToyConfig())

    def fit(self) -> ToyModel:
        cfg = self.config
        cfg.validate()
        values = read_column(cfg)
        mean = float(values.mean())
        net = MeanNet()
        with torch.no_grad():
            net.mean.fill_(mean * cfg.scale)
        self.net_ = net
        self.n_rows_ = int(len(values))
        self.mae_ = float((values - mean * cfg.scale).abs().mean())
        self.baseline_mae_ = float((values - mean).abs().mean())
        return self

    def predict(self, n: int) -> list[float]:
        """[learned mean] * n."""
        self.check_is_fitted()
        return [float(self.net_.mean.item())] * n

    def save(self, directory: str | Path) -> Path:
        """weights.safetensors + toy.json (config) + model.json."""
        self.check_is_fitted()
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        store.save_weights(self.net_, directory / store.WEIGHTS_FILE)
        store.write_state(directory, STATE_FILE,
                          {"config": self.config.to_dict(), "n_rows": self.n_rows_})
        self.write_manifest(directory)
        return directory

    @classmethod
    def load(cls, run_or_model_dir: str | Path) -> ToyModel:
        model_dir = store.model_dir(run_or_model_dir, "toy")
        state = store.read_state(model_dir, STATE_FILE)
        try:
            self = cls(ToyConfig.from_dict(state["config"]))
            self.n_rows_ = int(state["n_rows"])
        except (KeyError, TypeError, ValueError) as exc:
            raise store.damaged(model_dir, f"{STATE_FILE} lacks or mangles {exc}") from None
        self.net_ = store.load_weights(MeanNet(), model_dir / store.WEIGHTS_FILE)
        return self
