"""`fit_module` with a checkpoint folder: an interrupted fit resumed from `last.ckpt` ends with
the same weights and history as an uninterrupted one (random states, optimizer, scheduler,
early stopping and the best checkpoint all restored); a completed fit is not trained again."""

from __future__ import annotations

import json
from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from rnnlab.config import TrainConfig
from rnnlab.training import (
    BEST_CHECKPOINT,
    DONE_FILE,
    LAST_CHECKPOINT,
    FitResult,
    SupervisedModule,
    fit_module,
)

torch.set_num_threads(1)

EPOCHS = 4


class Interrupted(RuntimeError):
    """Stands in for a crash or a killed job."""


class InterruptAt(pl.Callback):
    """Raises when epoch `epoch` (0-based) starts: epochs 0 .. epoch-1 are done and saved."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_train_epoch_start(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        if trainer.current_epoch == self.epoch:
            raise Interrupted(f"interrupted before epoch {self.epoch}")


class CountSteps(pl.Callback):
    def __init__(self) -> None:
        self.steps = 0

    def on_train_batch_start(self, *args: object) -> None:
        self.steps += 1


class Regressor(SupervisedModule):
    """A small network with dropout: its masks draw from torch's generator every step."""

    def __init__(self, schedule: str = "constant") -> None:
        super().__init__(lr=0.05, schedule=schedule)
        self.net = nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Dropout(0.3), nn.Linear(16, 1))

    def loss(self, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        inputs, targets = batch
        return nn.functional.mse_loss(self.net(inputs), targets)


class NoisyData(pl.LightningDataModule):
    """Noise targets (the network overfits, so early stopping has something to judge); the
    training loader shuffles with torch's generator every epoch."""

    def __init__(self) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(1)
        self.inputs = torch.randn(96, 3, generator=generator)
        self.targets = torch.randn(96, 1, generator=generator)

    def train_dataloader(self) -> DataLoader:
        data = TensorDataset(self.inputs[:64], self.targets[:64])
        return DataLoader(data, batch_size=8, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(TensorDataset(self.inputs[64:], self.targets[64:]), batch_size=32)


def config(**changes: object) -> TrainConfig:
    return TrainConfig(**{"epochs": EPOCHS, "patience": 2, "batch_size": 8, "device": "cpu",
                          "quiet": True, "seed": 0, **changes})


def new_module(schedule: str = "constant") -> Regressor:
    torch.manual_seed(0)  # the same initial weights every time
    return Regressor(schedule)


def fit(folder: Path | None, monitor: str | None = "val_loss", resume: bool = False,
        callbacks: list[pl.Callback] | None = None, schedule: str = "constant",
        **changes: object) -> tuple[Regressor, FitResult]:
    module = new_module(schedule)
    result = fit_module(module, NoisyData(), config(**changes), monitor=monitor,
                        checkpoints=folder, resume=resume, callbacks=callbacks)
    return module, result


def max_difference(a: nn.Module, b: nn.Module) -> float:
    pairs = zip(a.state_dict().values(), b.state_dict().values(), strict=True)
    return max(float((x - y).abs().max()) for x, y in pairs)


def assert_same_fit(a: tuple[Regressor, FitResult], b: tuple[Regressor, FitResult]) -> None:
    (module_a, result_a), (module_b, result_b) = a, b
    assert max_difference(module_a, module_b) <= 1e-6
    assert result_b.history == result_a.history
    assert (result_b.epochs, result_b.best_epoch) == (result_a.epochs, result_a.best_epoch)


@pytest.mark.parametrize(("monitor", "schedule"), [("val_loss", "constant"), (None, "slanted")])
def test_an_interrupted_fit_resumes_to_the_uninterrupted_result(tmp_path, monitor, schedule):
    """Dropout, shuffling, Adam's moments, the learning-rate schedule, early stopping and the
    best checkpoint continue where the interruption left them: same weights and history."""
    whole = fit(tmp_path / "whole", monitor, schedule=schedule)
    assert whole[1].epochs == EPOCHS and len(whole[1].history) == EPOCHS
    if monitor is not None:
        assert whole[1].best_epoch not in (None, EPOCHS - 1)  # the best checkpoint matters

    folder = tmp_path / "interrupted"
    with pytest.raises(Interrupted):
        fit(folder, monitor, callbacks=[InterruptAt(2)], schedule=schedule)
    assert (folder / LAST_CHECKPOINT).is_file() and not (folder / DONE_FILE).exists()
    saved = torch.load(folder / LAST_CHECKPOINT, map_location="cpu", weights_only=True)
    assert saved["epoch"] == 1
    earlier = saved["callbacks"]["ResumeState"]["seconds"]

    resumed = fit(folder, monitor, resume=True, schedule=schedule)
    assert_same_fit(whole, resumed)
    assert [row["epoch"] for row in resumed[1].history] == list(range(EPOCHS))
    assert all("train_loss" in row and "val_loss" in row for row in resumed[1].history)
    assert resumed[1].seconds > earlier > 0


def test_resuming_a_completed_fit_loads_its_weights_and_does_not_train(tmp_path):
    first = fit(tmp_path, "val_loss")
    done = json.loads((tmp_path / DONE_FILE).read_text())
    assert done["weights"] == BEST_CHECKPOINT and done["epochs"] == first[1].epochs

    counter = CountSteps()
    again = fit(tmp_path, "val_loss", resume=True, callbacks=[counter])
    assert counter.steps == 0
    assert_same_fit(first, again)
    assert again[1] == first[1]  # the saved result, seconds included


def test_resuming_a_fixed_length_fit_loads_the_final_weights(tmp_path):
    first = fit(tmp_path, monitor=None)
    assert sorted(p.name for p in tmp_path.iterdir()) == [DONE_FILE, LAST_CHECKPOINT]
    again = fit(tmp_path, monitor=None, resume=True)
    assert max_difference(first[0], again[0]) == 0 and again[1] == first[1]


def test_an_early_stop_saved_before_done_json_is_not_trained_past(tmp_path):
    """Interrupted between the last checkpoint and done.json: the stop decision is part of
    the checkpoint, so the resume trains no further epoch."""
    first = fit(tmp_path, "val_loss", epochs=30, patience=1)
    assert first[1].epochs < 30  # stopped early
    (tmp_path / DONE_FILE).unlink()
    counter = CountSteps()
    again = fit(tmp_path, "val_loss", resume=True, callbacks=[counter], epochs=30, patience=1)
    assert counter.steps == 0
    assert_same_fit(first, again)
    assert (tmp_path / DONE_FILE).is_file()


def test_resuming_from_an_empty_folder_trains_from_scratch(tmp_path):
    whole = fit(None, "val_loss")
    resumed = fit(tmp_path / "missing", "val_loss", resume=True)
    assert_same_fit(whole, resumed)


def test_a_fresh_fit_clears_the_folder(tmp_path):
    (tmp_path / "stale.txt").write_text("old")
    (tmp_path / LAST_CHECKPOINT).write_bytes(b"not a checkpoint")
    (tmp_path / DONE_FILE).write_text("{}")
    module, result = fit(tmp_path, "val_loss")
    assert sorted(p.name for p in tmp_path.iterdir()) == [BEST_CHECKPOINT, DONE_FILE,
                                                          LAST_CHECKPOINT]
    assert json.loads((tmp_path / DONE_FILE).read_text())["epochs"] == result.epochs


def test_without_a_folder_nothing_is_kept_and_resume_is_refused(tmp_path):
    _, result = fit(None, "val_loss")
    assert result.epochs == EPOCHS and result.is_global_zero and result.world_size == 1
    with pytest.raises(ValueError, match="checkpoints folder"):
        fit(None, "val_loss", resume=True)


def test_a_manually_optimised_forecaster_resumes_exactly(tmp_path):
    """ForecastModule steps Adam itself and anneals its rate per epoch (`monitor=None`)."""
    from rnnlab.tasks.forecasting.data import WindowDataModule, WindowTensors
    from rnnlab.tasks.forecasting.model import ForecastEnsemble, ForecastModule, ForecastNet

    rng = np.random.default_rng(0)
    train = WindowTensors(rng.normal(size=(48, 6, 1)), rng.normal(size=(48, 1, 1)))
    val = WindowTensors(rng.normal(size=(16, 6, 1)), rng.normal(size=(16, 1, 1)))

    def run(folder: Path, resume: bool = False, callbacks: list | None = None) -> tuple:
        torch.manual_seed(0)
        net = ForecastEnsemble([ForecastNet(1, 1, 6, 1, hidden=8, dropout=0.2)])
        module = ForecastModule(net, lr=0.02, anneal=True, clip=1.0, batch_size=8)
        data = WindowDataModule(train, val, 8, min_steps=4, steps_per_call=2)
        result = fit_module(module, data, config(), monitor=None, checkpoints=folder,
                            resume=resume, callbacks=callbacks)
        return module, result

    whole = run(tmp_path / "whole")
    with pytest.raises(Interrupted):
        run(tmp_path / "interrupted", callbacks=[InterruptAt(2)])
    resumed = run(tmp_path / "interrupted", resume=True)
    assert_same_fit(whole, resumed)
