"""One Trainer factory and one base LightningModule: the only place that knows Lightning's knobs.

Every job trains through `fit_module`: seeding, early stopping on a validation metric, the best
checkpoint (restored with `weights_only=True`), gradient clipping, `--max-time`, the progress
bar and DDP pass-through (`--devices/--strategy/--num-nodes`) all live here.
"""

from __future__ import annotations

import logging
import math
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import Callback, EarlyStopping, ModelCheckpoint

from rnnlab.config import SCHEDULES, TrainConfig
from rnnlab.errors import UserError

for _name in ("lightning.pytorch", "lightning.fabric", "lightning"):
    logging.getLogger(_name).setLevel(logging.WARNING)
warnings.filterwarnings("ignore", message=".*does not have many workers.*")
warnings.filterwarnings("ignore", message=".*smaller than the logging interval.*")
warnings.filterwarnings("ignore", message=".*LeafSpec.*")


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch (and dataloader workers) for a repeatable run."""
    pl.seed_everything(seed, workers=True, verbose=False)


def passes_per_epoch(items: int, batch_size: int, min_steps: int) -> int:
    """How many shuffled passes over `items` make an epoch of at least `min_steps` batches:
    with little data an epoch of one pass would be a couple of steps, and the per-epoch
    validation and early-stopping check would judge a barely trained network."""
    return max(1, -(-min_steps * batch_size // max(items, 1)))


def slanted_triangular(step: int, total: int, cut_frac: float = 0.1, ratio: float = 32.0
                       ) -> float:
    """ULMFiT's slanted triangular learning rate (Howard & Ruder 2018, eq. 3) as a multiple
    of the peak rate: a linear rise over the first `cut_frac` of the `total` steps from
    1/ratio to 1, then a linear fall back to 1/ratio. The short warm-up lets a new head settle
    before large steps disturb pretrained weights; the long decay ends training at small
    steps instead of bouncing around at the peak rate."""
    cut = max(1, math.floor(total * cut_frac))
    if step < cut:
        progress = step / cut
    else:
        progress = max(0.0, 1.0 - (step - cut) / max(1, total - cut))
    return (1.0 + progress * (ratio - 1.0)) / ratio


class SupervisedModule(pl.LightningModule):
    """Base for job modules: subclasses implement `loss(batch) -> scalar tensor`.

    Losses are summed on the device and logged once per epoch (not per step) because for
    small models the per-step cost of `self.log` is comparable to the step itself.
    `schedule="slanted"` scales every parameter group's rate by `slanted_triangular` over
    all the steps `--epochs` allows (early stopping or `--max-time` may end it sooner).
    """

    def __init__(self, lr: float = 1e-3, weight_decay: float = 0.0,
                 schedule: str = "constant") -> None:
        super().__init__()
        self.lr = lr
        self.weight_decay = weight_decay
        self.schedule = schedule
        self._sums: dict[str, list[torch.Tensor]] = {"train": [], "val": []}

    def loss(self, batch: Any) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def _shared_step(self, batch: Any, stage: str) -> torch.Tensor:
        loss = self.loss(batch)
        self._sums[stage].append(loss.detach())
        return loss

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        return self._shared_step(batch, "train")

    def validation_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        return self._shared_step(batch, "val")

    def _log_epoch(self, stage: str) -> None:
        losses = self._sums[stage]
        if losses:
            self.log(f"{stage}_loss", torch.stack(losses).mean(), sync_dist=True, prog_bar=True)
        self._sums[stage] = []

    def on_train_epoch_end(self) -> None:
        self._log_epoch("train")

    def on_validation_epoch_end(self) -> None:
        self._log_epoch("val")

    def configure_optimizers(self) -> Any:
        return self.scheduled(torch.optim.Adam(self.parameters(), lr=self.lr,
                                               weight_decay=self.weight_decay))

    def scheduled(self, optimizer: torch.optim.Optimizer) -> Any:
        """`optimizer`, with the learning-rate schedule stepped after every batch."""
        if self.schedule == "constant":
            return optimizer
        if self.schedule != "slanted":
            raise ValueError(f"schedule must be one of {SCHEDULES}; got {self.schedule!r}")
        total = max(1, int(self.trainer.estimated_stepping_batches))
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: slanted_triangular(step, total))
        return {"optimizer": optimizer,
                "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}


class History(Callback):
    """Records every epoch's logged metrics (train_loss, val_loss, ...) for plots and JSON."""

    def __init__(self) -> None:
        self.epochs: list[dict[str, float]] = []

    def on_validation_epoch_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        row = {"epoch": trainer.current_epoch}
        row.update({k: float(v) for k, v in trainer.callback_metrics.items()})
        self.epochs.append(row)

    def on_train_epoch_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        if self.epochs and self.epochs[-1]["epoch"] == trainer.current_epoch:
            self.epochs[-1].update({k: float(v) for k, v in trainer.callback_metrics.items()})


def _accelerator(device: str) -> str:
    if device == "cuda":
        if not torch.cuda.is_available():
            raise UserError("--device cuda was given but no CUDA GPU is visible; use --device cpu")
        return "gpu"
    return device  # "cpu" or "auto"


def build_trainer(
    cfg: TrainConfig,
    checkpoint_dir: Path,
    monitor: str | None = "val_loss",
    mode: str = "min",
    extra_callbacks: list[Callback] | None = None,
    trainer_clips: bool = True,
) -> tuple[pl.Trainer, ModelCheckpoint | None, History]:
    """The Trainer every job uses: early stopping and a best-only checkpoint on `monitor`
    (`monitor=None`: a fixed number of epochs, the final weights are kept).
    `trainer_clips=False` for modules that optimise manually and clip gradients themselves."""
    checkpoint, history = None, History()
    callbacks: list[Callback] = [history, *(extra_callbacks or [])]
    if monitor is not None:
        checkpoint = ModelCheckpoint(
            dirpath=checkpoint_dir, filename="best", monitor=monitor, mode=mode,
            save_top_k=1, save_weights_only=True, enable_version_counter=False,
        )
        callbacks += [checkpoint, EarlyStopping(monitor=monitor, mode=mode, patience=cfg.patience)]
    trainer = pl.Trainer(
        max_epochs=cfg.epochs,
        max_time=timedelta(minutes=cfg.max_time) if cfg.max_time else None,
        accelerator=_accelerator(cfg.device),
        devices=cfg.devices,
        strategy=cfg.strategy,
        num_nodes=cfg.num_nodes,
        precision=cfg.precision,
        gradient_clip_val=cfg.clip if trainer_clips else None,
        callbacks=callbacks,
        logger=False,
        enable_checkpointing=monitor is not None,
        enable_progress_bar=not cfg.quiet,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        deterministic=False,
    )
    return trainer, checkpoint, history


@dataclass
class FitResult:
    """What a training run produced: best weights, per-epoch history, timing."""

    state_dict: dict[str, torch.Tensor]
    history: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0
    epochs: int = 0  # epochs run
    best_epoch: int | None = None  # 0-based epoch of the restored (best) weights
    best_score: float | None = None
    is_global_zero: bool = True
    world_size: int = 1  # processes that trained together (DDP)


def fit_module(
    module: SupervisedModule,
    datamodule: pl.LightningDataModule,
    cfg: TrainConfig,
    monitor: str | None = "val_loss",
    mode: str = "min",
) -> FitResult:
    """Train `module`, then load the best checkpoint's weights into it (`weights_only=True`).

    `monitor=None` trains `cfg.epochs` epochs without early stopping and keeps the final
    weights (used to refit on training + validation data for a known number of epochs).
    """
    seed_everything(cfg.seed)
    with tempfile.TemporaryDirectory(prefix="rnnlab-ckpt-") as checkpoint_dir:
        trainer, checkpoint, history = build_trainer(
            cfg, Path(checkpoint_dir), monitor, mode,
            trainer_clips=module.automatic_optimization,
        )
        started = time.perf_counter()
        trainer.fit(module, datamodule=datamodule)
        seconds = time.perf_counter() - started
        best = checkpoint.best_model_path if checkpoint else ""
        if trainer.is_global_zero and best and Path(best).is_file():
            state = torch.load(best, map_location="cpu", weights_only=True)["state_dict"]
            module.load_state_dict(state)
    module.cpu().eval()
    score = checkpoint.best_model_score if checkpoint else None
    best_epoch = None
    if monitor is not None:
        scored = [row for row in history.epochs if monitor in row]
        if scored:
            pick = min if mode == "min" else max
            best_epoch = int(pick(scored, key=lambda row: row[monitor])["epoch"])
    return FitResult(
        state_dict={k: v.detach().clone() for k, v in module.state_dict().items()},
        history=history.epochs,
        seconds=seconds,
        epochs=trainer.current_epoch,
        best_epoch=best_epoch,
        best_score=float(score) if score is not None else None,
        is_global_zero=trainer.is_global_zero,
        world_size=trainer.world_size,
    )
