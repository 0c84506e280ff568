"""`rnnlab toy ...`: fit the toy job and predict from a run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from rnnlab.cli_common import JobCommands, Opt, output_options, run_options, with_options
from rnnlab.console import console
from rnnlab.errors import check_range
from rnnlab.report import html
from rnnlab.results import Results
from rnnlab.runs import staged_run
from tests.toyjob.api import ToyModel
from tests.toyjob.config import ToyConfig

commands = JobCommands("toy", ToyConfig)  # the job's help comes from its registry entry
app = commands.app


class ToyResults(Results):
    columns = ("mae",)


def evaluate(model: ToyModel) -> ToyResults:
    """The toy beside the unscaled mean, on the training rows."""
    metrics = {"toy": {"mae": model.mae_}, "mean_baseline": {"mae": model.baseline_mae_}}
    best = "toy" if model.mae_ <= model.baseline_mae_ else "mean_baseline"
    relation = "matches or beats" if best == "toy" else "does not beat"
    verdict = (f"toy {relation} the plain mean: MAE {model.mae_:.4g} vs "
               f"{model.baseline_mae_:.4g}.")
    return ToyResults(metrics=metrics, networks=["toy"], best=best, verdict=verdict)


@app.command()
@with_options(commands.options, output_options)
def fit(**options: Any) -> None:
    """Learn `--scale` times the mean of `--column` and write a run folder.

    Example: rnnlab toy fit --data values.csv --column y --out runs/toy
    """
    cfg = commands.config(options)
    with staged_run(job="toy", **run_options(options)) as run:
        model = ToyModel(cfg).fit()
        results = evaluate(model)
        run.write_config(cfg.to_dict(), Path(cfg.data))
        model.save(run.file("model"))
        run.write_json("metrics.json", results.record("toy", rows=model.n_rows_))
        run.write_text("report.html", html.run_page(
            "rnnlab toy fit", f"{cfg.data}: {model.n_rows_} rows of {cfg.column}", results,
            "MAE on the training rows", [], {"toy": cfg}))
    results.show(f"toy on {cfg.data}")
    console.print(f"run folder: {run.path}")


@app.command()
def predict(
    run: Annotated[str, Opt("--run", help="A run folder written by `rnnlab toy fit`.")],
    n: Annotated[int, Opt("--n", help="How many predictions.")] = 1,
) -> None:
    """Print the learned mean N times, one per line.

    Example: rnnlab toy predict --run runs/toy --n 3
    """
    check_range(n, "--n", 1)
    for value in ToyModel.load(run).predict(n):
        print(value)
