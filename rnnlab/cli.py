"""The `rnnlab` command: one typer app per registered job (rnnlab.jobs) plus the tools, built
here; user errors become one `error: ...` line with exit code 2, internal failures exit 1
(traceback with --debug)."""

from __future__ import annotations

import shlex
import sys

import typer

from rnnlab import runs
from rnnlab.cli_common import new_app
from rnnlab.errors import Terminated, UserError
from rnnlab.jobs import JOBS

try:  # typer >= 0.26 ships its own copy of click
    from typer._click import exceptions as click_exceptions
except ImportError:  # pragma: no cover - older typer uses click itself
    import click.exceptions as click_exceptions

HELP = ("Train, evaluate and explain recurrent neural networks beside honest baselines.\n\n"
        "Example: rnnlab forecast fit --data airline-passengers --time-col Month "
        "--target Passengers --lookback 24 --horizon 12 --log")
datasets_app = new_app("Bundled and downloadable data sets.", no_args_is_help=False)


@datasets_app.callback(invoke_without_command=True)
def datasets(ctx: typer.Context) -> None:
    """List the data sets `--data NAME` accepts.

    Example: rnnlab datasets
    """
    if ctx.invoked_subcommand is not None:
        return
    from rich.table import Table

    from rnnlab.console import console
    from rnnlab.data.datasets import DATASETS

    table = Table(title="rnnlab data sets (pass the name as --data)", title_justify="left")
    for column in ("name", "job", "where", "description", "options"):
        table.add_column(column)
    for d in DATASETS.values():
        table.add_row(d.name, d.job, "bundled" if d.url is None else "download", d.description,
                      d.options)
    console.print(table)


@datasets_app.command("fetch")
def fetch(name: str = typer.Argument(help="A data set name from `rnnlab datasets`.")) -> None:
    """Download (once, checksum verified) and print the local path of a data set.

    Example: rnnlab datasets fetch monthly-car-sales
    """
    from rnnlab.data.datasets import DATASETS, resolve_data

    if name not in DATASETS:
        raise UserError(f"{name!r} is not a data set name; `rnnlab datasets` lists them (a file "
                        "of your own needs no fetching: pass its path as --data)")
    print(resolve_data(name))


def build_app() -> typer.Typer:
    """The `rnnlab` app: a command group per registered job, then the tools."""
    app = new_app(name="rnnlab", help=HELP, no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
    for job in JOBS.values():
        app.add_typer(job.cli_app(), name=job.name, help=job.help)
    from rnnlab.explain.cli import HELP as EXPLAIN_HELP
    from rnnlab.explain.cli import app as explain_app

    app.add_typer(explain_app, name="explain", help=EXPLAIN_HELP)
    app.add_typer(datasets_app, name="datasets")
    return app


INTERRUPTED, TERMINATED = 130, 143  # the shell's codes for SIGINT and SIGTERM


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]
    runs.set_command(shlex.join(["rnnlab", *args]))
    try:
        code = build_app()(args=args, prog_name="rnnlab", standalone_mode=False)
        if code == INTERRUPTED:  # typer turns Ctrl-C into a returned 130 in this mode
            return stopped(INTERRUPTED)
        return code if isinstance(code, int) else 0
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except click_exceptions.NoArgsIsHelpError:
        return 2  # the help text has been printed
    except click_exceptions.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx else "rnnlab"
        print(f"error: {exc.format_message()} (see `{command} --help`)", file=sys.stderr)
        return 2
    except typer.Exit as exc:
        return exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        return stopped(INTERRUPTED)
    except Terminated:
        return stopped(TERMINATED)
    except SystemExit as exc:  # Lightning exits itself on Ctrl-C (1) and on SIGTERM (0)
        if type(exc).__name__ == "SIGTERMException":
            return stopped(TERMINATED)
        if isinstance(exc.__context__, KeyboardInterrupt):
            return stopped(INTERRUPTED)
        raise
    except Exception as exc:  # noqa: BLE001 - the one place internal failures are reported
        if debug:
            raise
        print(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for the "
              "traceback)", file=sys.stderr)
        return 1
    finally:
        runs.set_command(None)


def stopped(code: int) -> int:
    """One line for a run stopped by a signal; nothing half-written is left (staged runs)."""
    print("interrupted" if code == INTERRUPTED else "terminated", file=sys.stderr)
    return code


def console_main() -> None:
    from rnnlab.entry import console_main as entry

    entry()
