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
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import Callback, EarlyStopping, ModelCheckpoint
from lightning.pytorch.utilities import rank_zero_only

from rnnlab.callbacks import History, ResumeState
from rnnlab.config import SCHEDULES, TrainConfig
from rnnlab.errors import UserError
from rnnlab.outputs import process_alive
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
        _sweep_temporary_checkpoints()
        with tempfile.TemporaryDirectory(prefix=f"rnnlab-ckpt-{os.getpid()}-") as folder:
            yield Path(folder)
        return
    if not resume and rank_zero_only.rank == 0 and checkpoints.exists():
        shutil.rmtree(checkpoints)  # DDP workers start later: only the first process clears
    checkpoints.mkdir(parents=True, exist_ok=True)
    yield checkpoints


def _sweep_temporary_checkpoints() -> None:
    """Remove the temporary checkpoint folders of fits killed with SIGKILL (their process is
    gone, so nothing else would ever delete them)."""
    for folder in Path(tempfile.gettempdir()).glob("rnnlab-ckpt-*-*"):
        pid = folder.name.split("-")[2]
        if pid.isdigit() and not process_alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _check_checkpoint(path: Path) -> None:
    """UserError when a checkpoint to resume from is truncated, replaced or holds anything but
    plain values and tensors (it is read with weights_only=True: nothing is unpickled)."""
    try:
        torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure to read it means it is damaged
        reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise UserError(f"--resume: the checkpoint {path} is damaged ({reason}); drop --resume "
                        "to train afresh") from None


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
    try:
        fields = json.loads((folder / DONE_FILE).read_text(encoding="utf-8"))
        weights = folder / fields.pop("weights")
        _check_checkpoint(weights)
        _load_weights(module, weights)
        result = FitResult(**fields, is_global_zero=rank_zero_only.rank == 0)
    except (ValueError, KeyError, TypeError, RuntimeError, OSError) as exc:
        raise UserError(f"--resume: {folder / DONE_FILE} is damaged ({exc}); drop --resume to "
                        "train afresh") from None
    module.cpu().eval()
    return result


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
    resume_from = last if resume and last.is_file() else None
    if resume_from is not None:
        _check_checkpoint(resume_from)
    state.start_clock()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*exists and is not empty.*")  # resuming
        trainer.fit(module, datamodule=datamodule, **_LOAD_WEIGHTS_ONLY, ckpt_path=resume_from)
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
