"""Options every job shares, defined once, and the helpers the job CLIs are built from.

`@with_options(train_options)` appends the parameters of `train_options` to a command's
signature, so `--epochs`, `--seed`, `--device` ... are declared in one place for every `fit`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Annotated, Any

import typer

from rnnlab.config import TrainConfig
from rnnlab.errors import UserError

Opt = typer.Option


def new_app(help: str, **settings: Any) -> typer.Typer:
    """A typer app for a job or the top level. Markdown help, so the hard-wrapped first
    paragraph of a docstring is one line in the command list (rich mode keeps the breaks)."""
    return typer.Typer(help=help, rich_markup_mode="markdown", **settings)


def train_options(
    *,
    epochs: Annotated[int | None, Opt(help="Maximum epochs (early stopping may end sooner).",
                                      rich_help_panel="Training")] = None,
    max_time: Annotated[float | None, Opt(help="Stop training after this many minutes.",
                                          rich_help_panel="Training")] = None,
    batch_size: Annotated[int | None, Opt(help="Windows / examples per batch.",
                                          rich_help_panel="Training")] = None,
    lr: Annotated[float | None, Opt(help="Adam learning rate.", rich_help_panel="Training")] = None,
    weight_decay: Annotated[float | None, Opt(help="Adam weight decay (L2).",
                                              rich_help_panel="Training")] = None,
    clip: Annotated[float | None, Opt(help="Clip the gradient norm at this value (0: off).",
                                      rich_help_panel="Training")] = None,
    patience: Annotated[int | None, Opt(help="Epochs without validation improvement before "
                                        "early stopping.", rich_help_panel="Training")] = None,
    seed: Annotated[int, Opt(help="Seed for every random number generator.",
                             rich_help_panel="Training")] = 0,
    device: Annotated[str, Opt(help="cpu, cuda or auto.", rich_help_panel="Training")] = "auto",
    devices: Annotated[int, Opt(help="Processes / GPUs per node (DDP when > 1).",
                                rich_help_panel="Scale-out")] = 1,
    strategy: Annotated[str, Opt(help="Lightning strategy: auto, ddp, ddp_spawn, ...",
                                 rich_help_panel="Scale-out")] = "auto",
    num_nodes: Annotated[int, Opt(help="Machines (with torchrun or SLURM).",
                                  rich_help_panel="Scale-out")] = 1,
    quiet: Annotated[bool, Opt("--quiet", help="No progress bar.",
                               rich_help_panel="Training")] = False,
    precision: Annotated[str | None, Opt(help="32, or bf16-mixed: matrix products in bfloat16 "
                                         "(faster on CPUs with AVX512-BF16 / AMX and recent "
                                         "GPUs; weights stay float32).",
                                         rich_help_panel="Training")] = None,
) -> None:
    """Parameters only: their names, types, defaults and help are the shared training options."""


# `--schedule` of the jobs whose modules take a schedule (sentiment, lm); forecasting anneals
# its own refits (ForecastModule).
Schedule = Annotated[str, Opt(help="Learning rate over the run: constant, or slanted (ULMFiT: "
                              "rise over the first 10% of the steps --epochs allows, then "
                              "fall linearly to lr/32).", rich_help_panel="Training")]


def output_options(
    *,
    out: Annotated[str | None, Opt(help="Run folder to write (default `runs/<job>-<time>`).",
                                   rich_help_panel="Output")] = None,
    overwrite: Annotated[bool, Opt("--overwrite", help="Replace an existing run folder.",
                                   rich_help_panel="Output")] = False,
) -> None:
    """Parameters only: where a run is written."""


TRAIN_KEYS = tuple(inspect.signature(train_options).parameters)


def with_options(*option_sets: Callable[..., None]) -> Callable[[Callable], Callable]:
    """Append the keyword parameters of each option set to the decorated command's signature."""

    def decorate(command: Callable) -> Callable:
        params = list(inspect.signature(command, eval_str=True).parameters.values())
        params = [p for p in params if p.kind is not inspect.Parameter.VAR_KEYWORD]
        annotations = dict(command.__annotations__)
        for option_set in option_sets:
            for param in inspect.signature(option_set, eval_str=True).parameters.values():
                params.append(param)
                annotations[param.name] = param.annotation
        command.__signature__ = inspect.Signature(params)
        command.__annotations__ = annotations
        return command

    return decorate


def train_config(options: dict[str, Any], defaults: TrainConfig) -> TrainConfig:
    """Pop the shared training options out of `options`; unset ones keep the job's defaults."""
    given = {key: options.pop(key) for key in TRAIN_KEYS if key in options}
    values = {k: v for k, v in given.items() if v is not None}
    if values.get("clip") == 0:
        values["clip"] = None
    config = TrainConfig(**{**vars(defaults), **values})
    config.validate()
    return config


def split_list(value: str | None, option: str, cast: Callable[[str], Any] = str) -> tuple:
    """"a,b" -> ("a", "b"); `cast` each item (int for --lags)."""
    if value is None or not value.strip():
        return ()
    try:
        return tuple(cast(item.strip()) for item in value.split(",") if item.strip())
    except ValueError:
        raise UserError(f"{option} takes a comma-separated list; got {value!r}") from None
