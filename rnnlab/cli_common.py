"""The helpers the job CLIs are built from: options derived from the config dataclasses.

A job's options are its config's fields: `config_options(ForecastConfig)` turns every field
that carries `rnnlab.config.option(...)` metadata (and those of its nested `TrainConfig`)
into a typer option with the default of `ForecastConfig()`; `config_from_options` turns the
parsed values back into the config. So the defaults, help texts and panels are declared once,
and `rnnlab forecast fit` with no options trains exactly what `ForecastConfig()` trains.
`@with_options(...)` appends such option sets to a command's signature.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable
from dataclasses import fields, is_dataclass, replace
from typing import Annotated, Any, Literal

import typer

from rnnlab.config import Cli
from rnnlab.errors import UserError
from rnnlab.jobs import get_job

Opt = typer.Option


def new_app(help: str, **settings: Any) -> typer.Typer:
    """A typer app for a job or the top level. Markdown help, so the hard-wrapped first
    paragraph of a docstring is one line in the command list (rich mode keeps the breaks)."""
    return typer.Typer(help=help, rich_markup_mode="markdown", **settings)


def output_options(
    *,
    out: Annotated[str | None, Opt(help="Run folder to write (default `runs/<job>-<time>`).",
                                   rich_help_panel="Output")] = None,
    overwrite: Annotated[bool, Opt("--overwrite", help="Replace an existing run folder.",
                                   rich_help_panel="Output")] = False,
    resume: Annotated[bool, Opt("--resume", help="Continue the interrupted run at --out from "
                                "its last checkpoint (same options as the first time).",
                                rich_help_panel="Output")] = False,
) -> None:
    """Parameters only: where a run is written."""


RUN_KEYS = ("out", "overwrite", "resume")


def run_options(options: dict[str, Any]) -> dict[str, Any]:
    """The output options of a command as keyword arguments of a workflow (out, ...)."""
    return {key: options[key] for key in RUN_KEYS if key in options}


# -- options derived from a config dataclass -------------------------------------------------
def _option_fields(config_class: type, defaults: Any) -> list[tuple[Any, Any, Any]]:
    """(field, type hint, default) of every CLI field of `config_class`, the fields of a nested
    dataclass (its `train`) included, with the values `defaults` holds."""
    hints = typing.get_type_hints(config_class)
    found = []
    for f in fields(config_class):
        value = getattr(defaults, f.name)
        if is_dataclass(value):
            found += _option_fields(type(value), value)
        elif "cli" in f.metadata:
            found.append((f, hints[f.name], value))
    return found


def _cli_type(hint: Any, cli: Cli, default: Any) -> tuple[Any, Any, Callable | None]:
    """(typer annotation, typer default, item cast for comma-separated lists or None)."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    optional = typing.get_origin(hint) in (types.UnionType, typing.Union)
    inner = args[0] if optional else hint
    if typing.get_origin(inner) is tuple:
        cast = typing.get_args(inner)[0]
        shown = ",".join(map(str, default)) if default else None
        return str | None, shown, cast
    if typing.get_origin(inner) is Literal:
        inner = str
    if cli.zero_is_none:
        return inner, 0 if default is None else default, None
    return (inner | None if optional else inner), default, None


def config_options(config_class: type) -> Callable[..., None]:
    """A parameters-only function: one keyword parameter per CLI field of `config_class`,
    defaults from `config_class()` (for `with_options`)."""
    parameters = []
    for f, hint, default in _option_fields(config_class, config_class()):
        cli: Cli = f.metadata["cli"]
        annotation, value, _ = _cli_type(hint, cli, default)
        flags = cli.flags
        if hint is bool and not flags:
            dashed = "--" + f.name.replace("_", "-")
            flags = (f"{dashed}/--no-{dashed[2:]}",) if default else (dashed,)
        option = Opt(*flags, help=cli.help, rich_help_panel=cli.panel or None)
        parameters.append(inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY,
                                            default=value,
                                            annotation=Annotated[annotation, option]))

    def options(**values: Any) -> None:
        """Parameters only: the options of the config's fields."""

    options.__signature__ = inspect.Signature(parameters)
    return options


def _parse(values: dict[str, Any], config_class: type, defaults: Any) -> dict[str, Any]:
    """Pop this config's fields out of the parsed `values` and convert them back."""
    hints = typing.get_type_hints(config_class)
    result: dict[str, Any] = {}
    for f in fields(config_class):
        default = getattr(defaults, f.name)
        if is_dataclass(default):  # the nested TrainConfig: the job's defaults, then options
            result[f.name] = replace(default, **_parse(values, type(default), default))
            continue
        if f.name not in values or "cli" not in f.metadata:
            continue
        value = values.pop(f.name)
        cli: Cli = f.metadata["cli"]
        _, _, cast = _cli_type(hints[f.name], cli, default)
        if cast is not None:
            flag = "--" + f.name.replace("_", "-")
            value = split_list(value, flag, cast)
            if value == () and default is None:
                value = None
        elif cli.zero_is_none and value == 0:
            value = None
        result[f.name] = value
    return result


def config_from_options(config_class: type, options: dict[str, Any]) -> Any:
    """The validated config from a command's parsed options (its fields are popped out of
    `options`; the output and verb-specific options stay)."""
    defaults = config_class()
    config = config_class(**_parse(options, config_class, defaults))
    config.validate()
    return config


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


def split_list(value: str | None, option: str, cast: Callable[[str], Any] = str) -> tuple:
    """"a,b" -> ("a", "b"); `cast` each item (int for --lags)."""
    if value is None or not value.strip():
        return ()
    try:
        return tuple(cast(item.strip()) for item in value.split(",") if item.strip())
    except ValueError:
        raise UserError(f"{option} takes a comma-separated list; got {value!r}") from None


class JobCommands:
    """What a job's CLI module starts from: the typer app of its verbs (help from the job
    registry) and the options of its config, with the parser back to that config."""

    def __init__(self, job: str, config_class: type) -> None:
        self.app = new_app(get_job(job).help, no_args_is_help=True)
        self.config_class = config_class
        self.options = config_options(config_class)

    def config(self, options: dict[str, Any]) -> Any:
        """The command's parsed options -> the validated config (`options` is not changed)."""
        return config_from_options(self.config_class, dict(options))
