"""One Trainer factory and one base LightningModule: the only place that knows Lightning's knobs.

Every job trains through `fit_module`: seeding, early stopping on a validation metric, the best
checkpoint (restored with `weights_only=True`), gradient clipping, `--max-time`, the progress
bar, DDP pass-through (`--devices/--strategy/--num-nodes`) and resuming an interrupted fit from
its checkpoint folder (`checkpoints=DIR, resume=True`) all live here.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import logging
import math
import random
import shutil
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
from lightning.pytorch.callbacks import Callback, EarlyStopping, ModelCheckpoint
from lightning.pytorch.utilities import rank_zero_only

from rnnlab.config import SCHEDULES, TrainConfig
from rnnlab.errors import UserError
from rnnlab.runs import atomic_write_text

for _name in ("lightning.pytorch", "lightning.fabric", "lightning"):
    logging.getLogger(_name).setLevel(logging.WARNING)
warnings.filterwarnings("ignore", message=".*does not have many workers.*")
warnings.filterwarnings("ignore", message=".*smaller than the logging interval.*")
warnings.filterwarnings("ignore", message=".*LeafSpec.*")

# The files of a `fit_module(checkpoints=DIR)` folder.
LAST_CHECKPOINT = "last.ckpt"  # the full training state after the latest epoch
BEST_CHECKPOINT = "best.ckpt"  # the best epoch's weights (when a metric is monitored)
DONE_FILE = "done.json"  # the FitResult of a completed fit
# Lightning >= 2.6 lets `fit` load a checkpoint with torch.load(weights_only=True); older
# versions leave it to torch's default (True from torch 2.6).
_LOAD_WEIGHTS_ONLY = ({"weights_only": True}
                      if "weights_only" in inspect.signature(pl.Trainer.fit).parameters else {})


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

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """A resumed fit: the interrupted run made its modules' first-pass draws before its
        checkpoint (whose random state is restored), so they must not draw again."""
        for module in self.modules():
            if hasattr(module, "skip_first_pass_draws"):
                module.skip_first_pass_draws()

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
    save_last: bool = False,
) -> tuple[pl.Trainer, ModelCheckpoint | None, History]:
    """The Trainer every job uses: early stopping and a best-only checkpoint on `monitor`
    (`monitor=None`: a fixed number of epochs, the final weights are kept).
    `trainer_clips=False` for modules that optimise manually and clip gradients themselves.
    `save_last=True` also writes `checkpoint_dir/last.ckpt`, the full training state, at the
    end of every epoch, after early stopping and the best checkpoint have seen the epoch."""
    checkpoint, history = None, History()
    callbacks: list[Callback] = [history, *(extra_callbacks or [])]
    if monitor is not None:
        checkpoint = ModelCheckpoint(
            dirpath=checkpoint_dir, filename=Path(BEST_CHECKPOINT).stem, monitor=monitor,
            mode=mode, save_top_k=1, save_weights_only=True, enable_version_counter=False,
        )
        callbacks += [checkpoint, EarlyStopping(monitor=monitor, mode=mode, patience=cfg.patience)]
    if save_last:  # Lightning runs checkpoint callbacks last, in this order
        callbacks.append(ModelCheckpoint(
            dirpath=checkpoint_dir, filename=Path(LAST_CHECKPOINT).stem, save_top_k=1,
            save_on_train_epoch_end=True, enable_version_counter=False,
        ))
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
        enable_checkpointing=monitor is not None or save_last,
        enable_progress_bar=not cfg.quiet,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        deterministic=False,
    )
    return trainer, checkpoint, history


@dataclass
class FitResult:
    """What a training run produced: per-epoch history, timing, the epoch of the weights."""

    history: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0  # training time, the interrupted parts of a resumed fit included
    epochs: int = 0  # epochs run
    best_epoch: int | None = None  # 0-based epoch of the restored (best) weights
    is_global_zero: bool = True
    world_size: int = 1  # processes that trained together (DDP)


@contextlib.contextmanager
def _checkpoint_folder(checkpoints: Path | None, resume: bool) -> Iterator[Path]:
    """`checkpoints` (emptied first unless resuming), or a temporary folder."""
    if checkpoints is None:
        if resume:
            raise ValueError("resume=True needs the checkpoints folder of the interrupted fit")
        with tempfile.TemporaryDirectory(prefix="rnnlab-ckpt-") as folder:
            yield Path(folder)
        return
    if not resume and rank_zero_only.rank == 0 and checkpoints.exists():
        shutil.rmtree(checkpoints)  # DDP workers start later: only the first process clears
    checkpoints.mkdir(parents=True, exist_ok=True)
    yield checkpoints


def _load_weights(module: pl.LightningModule, checkpoint: Path) -> None:
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)["state_dict"]
    module.load_state_dict(state)


def _best_epoch(history: list[dict[str, float]], monitor: str | None, mode: str) -> int | None:
    scored = [row for row in history if monitor is not None and monitor in row]
    if not scored:
        return None
    pick = min if mode == "min" else max
    return int(pick(scored, key=lambda row: row[monitor])["epoch"])


def _save_done(folder: Path, result: FitResult, weights: str) -> None:
    """done.json: the result of the completed fit and the checkpoint holding its weights."""
    fields = asdict(result)
    del fields["is_global_zero"]
    atomic_write_text(folder / DONE_FILE, json.dumps({**fields, "weights": weights}))


def _finished_fit(module: pl.LightningModule, folder: Path) -> FitResult:
    """A completed fit's result from done.json; its weights are loaded into `module`."""
    fields = json.loads((folder / DONE_FILE).read_text(encoding="utf-8"))
    _load_weights(module, folder / fields.pop("weights"))
    module.cpu().eval()
    return FitResult(**fields, is_global_zero=rank_zero_only.rank == 0)


def fit_module(
    module: SupervisedModule,
    datamodule: pl.LightningDataModule,
    cfg: TrainConfig,
    monitor: str | None = "val_loss",
    mode: str = "min",
    checkpoints: Path | None = None,
    resume: bool = False,
    callbacks: list[Callback] | None = None,
) -> FitResult:
    """Train `module`, then load the best checkpoint's weights into it (`weights_only=True`).

    `monitor=None` trains `cfg.epochs` epochs without early stopping and keeps the final
    weights (used to refit on training + validation data for a known number of epochs).

    `checkpoints=None` keeps the checkpoints in a temporary folder. `checkpoints=DIR` (one
    folder per fit: a fresh fit deletes everything in it) keeps `best.ckpt` (the best epoch's
    weights, when monitoring), `last.ckpt` (after every epoch: weights, optimizer and
    learning-rate scheduler states, loop counters, the callbacks' states: early stopping, best
    checkpoint, History, ResumeState's random generators and seconds) and, once the fit is
    complete, `done.json` (the FitResult). `resume=True` continues from `DIR/last.ckpt`, or
    returns the saved result of a completed fit with its weights loaded and trains no more,
    or starts from scratch when DIR holds neither. The module and data must be built the same
    way (same seed and configuration) as in the interrupted call. Lightning >= 2.6 loads
    last.ckpt with `weights_only=True` (plain types and tensors only; older versions, and the
    FSDP/DeepSpeed strategies, with torch's default); our own loads always pass it.
    """
    seed_everything(cfg.seed)
    if resume and checkpoints is not None and (checkpoints / DONE_FILE).is_file():
        return _finished_fit(module, checkpoints)
    with _checkpoint_folder(checkpoints, resume) as folder:
        result, weights = _train(module, datamodule, cfg, monitor, mode, folder,
                                 persistent=checkpoints is not None, resume=resume,
                                 callbacks=callbacks)
    module.cpu().eval()
    if checkpoints is not None and result.is_global_zero:
        _save_done(checkpoints, result, weights.name)
    return result


def _train(module: SupervisedModule, datamodule: pl.LightningDataModule, cfg: TrainConfig,
           monitor: str | None, mode: str, folder: Path, persistent: bool, resume: bool,
           callbacks: list[Callback] | None) -> tuple[FitResult, Path]:
    """One `trainer.fit` with checkpoints in `folder` (continuing from its last.ckpt when
    resuming), the best weights loaded into `module`; returns the result and the checkpoint
    that holds the weights `module` ends with."""
    state = ResumeState()
    trainer, checkpoint, history = build_trainer(
        cfg, folder, monitor, mode, [state, *(callbacks or [])],
        trainer_clips=module.automatic_optimization, save_last=persistent,
    )
    last = folder / LAST_CHECKPOINT
    state.start_clock()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*exists and is not empty.*")  # resuming
        trainer.fit(module, datamodule=datamodule, **_LOAD_WEIGHTS_ONLY,
                    ckpt_path=last if resume and last.is_file() else None)
    seconds = state.seconds()
    best = Path(checkpoint.best_model_path) if checkpoint and checkpoint.best_model_path else None
    weights = last  # no monitor, or nothing scored: the final weights
    if best is not None and best.is_file():
        weights = best
        if trainer.is_global_zero:
            _load_weights(module, best)
    result = FitResult(
        history=history.epochs,
        seconds=seconds,
        epochs=trainer.current_epoch,
        best_epoch=_best_epoch(history.epochs, monitor, mode),
        is_global_zero=trainer.is_global_zero,
        world_size=trainer.world_size,
    )
    return result, weights
