"""Settings every training job shares. Job configs nest a `TrainConfig` (see tasks/*/config.py)."""

from __future__ import annotations

import typing
from dataclasses import asdict, dataclass, field, fields, is_dataclass, replace
from typing import Any, Literal, Self

from rnnlab.errors import UserError, check_finite, check_range

Device = Literal["cpu", "cuda", "auto"]
SCHEDULES = ("constant", "slanted")  # learning-rate schedules (rnnlab.training)
# Lightning precisions offered: bf16 autocast needs no loss scaling, so the modules that call
# backward themselves (forecasting) stay correct; fp16 would need a GradScaler.
PRECISIONS = ("32", "bf16-mixed")
SCHEDULE_HELP = ("Learning rate over the run: constant, or slanted (ULMFiT: rise over the first "
                 "10% of the steps --epochs allows, then fall linearly to lr/32).")


@dataclass(frozen=True)
class Cli:
    """How a config field appears on the command line (`rnnlab.cli_common.config_options`
    turns every field that has one into a typer option named `--field-name`)."""

    help: str
    panel: str = ""  # the --help section
    flags: tuple[str, ...] = ()  # e.g. ("--log",) or ("--highway/--no-highway",)
    zero_is_none: bool = False  # the option's 0 stands for the field's None ("0: no limit")
    low: float | None = None  # the smallest value allowed (JobConfig.check_ranges)
    high: float | None = None  # the largest


def option(default: Any, help: str, panel: str = "", *, flags: tuple[str, ...] = (),
           zero_is_none: bool = False, low: float | None = None, high: float | None = None
           ) -> Any:
    """A dataclass field with its default, its command-line option and its allowed range: the
    one place they are declared, so `rnnlab <job> fit` and `<Job>Config()` cannot disagree."""
    return field(default=default,
                 metadata={"cli": Cli(help, panel, flags, zero_is_none, low, high)})


@dataclass(frozen=True)
class TrainConfig:
    """How to train; `rnnlab.training.build_trainer` is the only reader of the Lightning knobs."""

    epochs: int = option(100, "Maximum epochs (early stopping may end sooner).", "Training")
    max_time: float | None = option(None, "Stop training after this many minutes.", "Training")
    batch_size: int = option(32, "Windows / examples per batch.", "Training")
    lr: float = option(1e-3, "Adam learning rate.", "Training")
    weight_decay: float = option(0.0, "Adam weight decay (L2).", "Training")
    clip: float | None = option(1.0, "Clip the gradient norm at this value (0: off).",
                                "Training", zero_is_none=True)
    patience: int = option(20, "Epochs without validation improvement before early stopping.",
                           "Training")
    seed: int = option(0, "Seed for every random number generator.", "Training")
    device: Device = option("auto", "cpu, cuda or auto.", "Training")
    devices: int = option(1, "Processes / GPUs per node (DDP when > 1).", "Scale-out")
    strategy: str = option("auto", "Lightning strategy: auto, ddp, ddp_spawn, ...", "Scale-out")
    num_nodes: int = option(1, "Machines (with torchrun or SLURM).", "Scale-out")
    quiet: bool = option(False, "No progress bar.", "Training", flags=("--quiet",))
    # "bf16-mixed": matrix products in bfloat16, weights and optimizer state in float32
    precision: str = option("32", "32, or bf16-mixed: matrix products in bfloat16 (faster on "
                            "CPUs with AVX512-BF16 / AMX and recent GPUs; weights stay "
                            "float32).", "Training")

    def validate(self) -> None:
        for name in ("max_time", "lr", "weight_decay", "clip"):
            value = getattr(self, name)
            if value is not None:
                check_finite(value, "--" + name.replace("_", "-"))
        check_range(self.epochs, "--epochs", 1)
        check_range(self.weight_decay, "--weight-decay", 0.0)
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


class JobConfig:
    """What every job's config (a frozen dataclass) shares: the dict round trip that
    config.yaml and the saved model use, `replace`, and the choice check."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Self:
        """The config saved by `to_dict` (lists back to tuples; keys this version does not
        know are ignored, fields it lacks keep their defaults)."""
        return _from_dict(cls, values)

    def replace(self, **changes: Any) -> Self:
        return replace(self, **changes)  # type: ignore[type-var]

    def check_ranges(self) -> None:
        """UserError naming the option when a field lies outside the range its `option(...)`
        declares (fields that are None are not checked)."""
        for f in fields(self):  # type: ignore[arg-type]
            cli = f.metadata.get("cli")
            value = getattr(self, f.name)
            if cli is None or value is None or isinstance(value, bool):
                continue
            flag = "--" + f.name.replace("_", "-")
            if isinstance(value, float):
                check_finite(value, flag)
            if cli.low is not None:
                check_range(value, flag, cli.low, cli.high)

    def check_choices(self, choices: dict[str, tuple[str, ...]]) -> None:
        """UserError naming the option when a field is not one of its allowed values."""
        for name, allowed in choices.items():
            value = getattr(self, name)
            if value not in allowed:
                flag = "--" + name.replace("_", "-")
                raise UserError(f"{flag} must be one of {', '.join(allowed)}; got {value!r}")


def _from_dict(cls: type, values: dict[str, Any], defaults: Any = None) -> Any:
    """`cls` from saved values; missing fields (and a nested config's missing fields) keep the
    defaults of `defaults` (default: `cls()`), so a job's own training defaults survive."""
    defaults = cls() if defaults is None else defaults
    hints = typing.get_type_hints(cls)
    kept = {}
    for f in fields(cls):
        if f.name not in values:
            continue
        value, hint, default = values[f.name], hints[f.name], getattr(defaults, f.name)
        if is_dataclass(default) and isinstance(value, dict):
            value = _from_dict(type(default), value, default)
        elif tuple in (typing.get_origin(hint), *map(typing.get_origin, typing.get_args(hint))):
            optional = type(None) in typing.get_args(hint)
            value = tuple(value) if value is not None else (None if optional else ())
        kept[f.name] = value
    return replace(defaults, **kept)
