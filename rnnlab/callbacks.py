"""The callbacks every fit uses: the per-epoch history and what a resumed fit needs besides
Lightning's own checkpoint (random generators, seconds trained, a pending stop). Both are
stateful, so Lightning keeps their state in `last.ckpt`."""

from __future__ import annotations

import random
import time
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
from lightning.pytorch.callbacks import Callback


def _logged(trainer: pl.Trainer) -> dict[str, float]:
    return {k: float(v) for k, v in trainer.callback_metrics.items()}


class History(Callback):
    """Records every epoch's logged metrics (train_loss, val_loss, ...) for plots and JSON.

    An epoch's row is opened when its validation ends. The module logs its training loss in
    its own `on_train_epoch_end`, which Lightning calls after this callback's, so the row is
    completed from the logged metrics later: when a checkpoint saves this callback's state,
    when the next epoch starts and when training ends. The rows are part of the checkpointed
    state, so a resumed fit keeps the epochs trained before the interruption.
    """

    def __init__(self) -> None:
        self.epochs: list[dict[str, float]] = []
        self._trainer: pl.Trainer | None = None

    def setup(self, trainer: pl.Trainer, module: pl.LightningModule, stage: str) -> None:
        self._trainer = trainer

    def _complete_last_row(self, trainer: pl.Trainer | None) -> None:
        if self.epochs and trainer is not None:
            self.epochs[-1].update(_logged(trainer))

    def on_validation_epoch_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        self.epochs.append({"epoch": trainer.current_epoch, **_logged(trainer)})

    def on_train_epoch_start(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        self._complete_last_row(trainer)

    def on_train_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        self._complete_last_row(trainer)

    def state_dict(self) -> dict[str, Any]:
        self._complete_last_row(self._trainer)  # saved after the module's on_train_epoch_end
        return {"epochs": [dict(row) for row in self.epochs]}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.epochs = [dict(row) for row in state_dict["epochs"]]


def _random_states() -> dict[str, Any]:
    """The Python, numpy and torch (and initialised CUDA) generator states, as plain types and
    tensors that `torch.load(..., weights_only=True)` reads back."""
    kind, keys, position, has_gauss, gauss = np.random.get_state()
    states: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": [kind, keys.tolist(), int(position), int(has_gauss), float(gauss)],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def _set_random_states(states: dict[str, Any]) -> None:
    """Restore generator states taken by `_random_states`."""
    version, internal, gauss_next = states["python"]
    random.setstate((version, tuple(internal), gauss_next))
    kind, keys, position, has_gauss, gauss = states["numpy"]
    np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), position, has_gauss, gauss))
    torch.set_rng_state(states["torch"])
    cuda = states.get("cuda")
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)


class ResumeState(Callback):
    """What Lightning's checkpoints leave out, kept in them so that a resumed fit continues
    like an uninterrupted one: the random generators' states when the checkpoint is written,
    whether training was told to stop (early stopping or `--max-time` in the checkpointed
    epoch), and the seconds trained so far, so that the result's `seconds` covers the
    interrupted part up to its last checkpoint too.

    The generators are restored as soon as Lightning hands the state back, before it sets up
    the training data: the first draw after a resume (the training loader's iterator, made
    while setting up) is then the one that followed the checkpoint in the uninterrupted run
    (the next epoch's iterator), and dropout masks and shuffles repeat exactly.
    """

    def __init__(self) -> None:
        self.earlier_seconds = 0.0  # trained before this `fit` call
        self._started = time.perf_counter()
        self._trainer: pl.Trainer | None = None
        self._stopped = False

    def start_clock(self) -> None:
        self._started = time.perf_counter()

    def seconds(self) -> float:
        """Seconds trained: earlier parts, then this `fit` call since `start_clock`."""
        return self.earlier_seconds + time.perf_counter() - self._started

    def setup(self, trainer: pl.Trainer, module: pl.LightningModule, stage: str) -> None:
        self._trainer = trainer

    def state_dict(self) -> dict[str, Any]:
        stopped = bool(self._trainer is not None and self._trainer.should_stop)
        return {"seconds": self.seconds(), "stopped": stopped, "random": _random_states()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.earlier_seconds = float(state_dict["seconds"])
        self._stopped = bool(state_dict["stopped"])
        _set_random_states(state_dict["random"])

    def on_train_start(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        trainer.should_stop = trainer.should_stop or self._stopped
