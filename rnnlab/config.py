"""Settings every training job shares. Job configs nest a `TrainConfig` (see tasks/*/config.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rnnlab.errors import UserError, check_range

Device = Literal["cpu", "cuda", "auto"]
SCHEDULES = ("constant", "slanted")  # learning-rate schedules (rnnlab.training)
# Lightning precisions offered: bf16 autocast needs no loss scaling, so the modules that call
# backward themselves (forecasting) stay correct; fp16 would need a GradScaler.
PRECISIONS = ("32", "bf16-mixed")


@dataclass(frozen=True)
class TrainConfig:
    """How to train; `rnnlab.training.build_trainer` is the only reader of the Lightning knobs."""

    epochs: int = 100  # upper bound; early stopping usually ends sooner
    max_time: float | None = None  # minutes of training before stopping (Lightning Timer)
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.0
    clip: float | None = 1.0  # gradient-norm clipping; None turns it off
    patience: int = 20  # epochs without validation improvement before early stopping
    seed: int = 0
    device: Device = "auto"
    devices: int = 1  # processes / GPUs per node (DDP when > 1)
    strategy: str = "auto"  # Lightning strategy: auto | ddp | ddp_spawn | ...
    num_nodes: int = 1
    quiet: bool = False  # no progress bar
    precision: str = "32"  # "bf16-mixed": matrix products in bfloat16 (CPUs with AVX512-BF16/AMX,
    # recent GPUs), weights and optimizer state in float32

    def validate(self) -> None:
        check_range(self.epochs, "--epochs", 1)
        check_range(self.batch_size, "--batch-size", 1)
        check_range(self.patience, "--patience", 1)
        check_range(self.devices, "--devices", 1)
        check_range(self.num_nodes, "--num-nodes", 1)
        if self.lr <= 0:
            raise UserError(f"--lr must be > 0; got {self.lr}")
        if self.clip is not None and self.clip <= 0:
            raise UserError(f"--clip must be > 0 (or omitted); got {self.clip}")
        if self.max_time is not None and self.max_time <= 0:
            raise UserError(f"--max-time must be > 0 minutes; got {self.max_time}")
        if self.device not in ("cpu", "cuda", "auto"):
            raise UserError(f"--device must be cpu, cuda or auto; got {self.device!r}")
        if self.precision not in PRECISIONS:
            raise UserError(f"--precision must be one of {', '.join(PRECISIONS)}; "
                            f"got {self.precision!r}")
