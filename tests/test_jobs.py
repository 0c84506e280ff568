"""Adding a job is one folder plus one registry entry: the toy job in `tests/toyjob/` (which
imports nothing from `rnnlab.tasks`) gets its CLI group, run folder, manifest, `load_run` and
error handling from the shared pieces alone."""

from __future__ import annotations

import ast
import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

import rnnlab
from rnnlab import jobs
from rnnlab.errors import UserError
from rnnlab.estimator import NotFittedError
from rnnlab.jobs import JOBS, Job, register, unregister
from tests.toyjob import JOB

TOYJOB = Path(__file__).parent / "toyjob"
REPO = Path(__file__).parent.parent
TOY = JOB
VALUES = [1.0, 2.0, 3.0, 6.0]  # mean 3.0, exact in binary floating point


@contextlib.contextmanager
def toy_registered() -> Iterator[Job]:
    """The toy job in the registry; the registry as it was afterwards, even on failure."""
    before = dict(JOBS)
    register(TOY)
    try:
        yield TOY
    finally:
        unregister("toy")
        JOBS.clear()
        JOBS.update(before)


@pytest.fixture
def toy_job() -> Iterator[Job]:
    with toy_registered() as job:
        yield job


@pytest.fixture
def toy_csv(tmp_path: Path) -> Path:
    path = tmp_path / "values.csv"
    rows = "\n".join(f"{i},{v}" for i, v in enumerate(VALUES))
    path.write_text(f"x,y\n{rows}\n", encoding="utf-8")
    return path


def _fit(cli, csv: Path, out: Path, *extra: str):
    return cli(["toy", "fit", "--data", csv, "--column", "y", "--out", out, *extra])


def test_registry_is_restored_even_when_the_test_fails():
    before = dict(JOBS)
    with pytest.raises(RuntimeError), toy_registered():
        assert "toy" in jobs.JOBS
        raise RuntimeError("a failing test")
    assert JOBS == before and "toy" not in JOBS
    assert jobs.JOBS is JOBS  # mutated in place: modules that imported JOBS see the change


def test_toy_job_needs_nothing_from_rnnlab_tasks():
    sources = sorted(TOYJOB.glob("*.py"))
    assert {p.name for p in sources} >= {"__init__.py", "config.py", "api.py", "cli.py"}
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            assert not [n for n in names if n.startswith("rnnlab.tasks")], (path, names)
    # and at run time: importing the toy job's CLI and API loads no module of rnnlab.tasks
    code = ("import sys; from rnnlab.jobs import register; from tests.toyjob import JOB; "
            "register(JOB); import tests.toyjob.cli, tests.toyjob.api; "
            "print(sorted(m for m in sys.modules if m.startswith('rnnlab.tasks')))")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", done.stdout


def test_help_lists_the_registered_job_and_its_derived_options(cli, toy_job):
    top = cli(["--help"])
    assert top.code == 0, top.err
    assert "toy" in top.out and "Learn the mean of a CSV column" in top.out
    fit_help = cli(["toy", "fit", "--help"])
    assert fit_help.code == 0, fit_help.err
    for flag in ("--data", "--column", "--scale", "--out", "--overwrite"):
        assert flag in fit_help.out, flag
    assert "Example: rnnlab toy fit" in fit_help.out


def test_unregistered_job_has_no_commands(cli):
    assert "toy" not in JOBS
    result = cli(["toy", "fit", "--help"])
    assert result.code == 2
    assert result.err_lines[0].startswith("error: ")


def test_fit_load_run_and_predict_through_the_cli(cli, toy_job, toy_csv, tmp_path):
    run = tmp_path / "run"
    result = _fit(cli, toy_csv, run)
    assert result.code == 0, result.err
    mean = sum(VALUES) / len(VALUES)

    model = rnnlab.load_run(run)
    from tests.toyjob.api import ToyModel

    assert isinstance(model, ToyModel)
    assert model.predict(2) == [mean, mean]
    assert rnnlab.load_run(run / "model").predict(1) == [mean]  # the model folder loads too

    predicted = cli(["toy", "predict", "--run", run, "--n", "2"])
    assert predicted.code == 0, predicted.err
    assert [float(line) for line in predicted.out.split()] == [mean, mean]

    config = yaml.safe_load((run / "config.yaml").read_text(encoding="utf-8"))
    assert config["job"] == "toy"
    assert config["config"] == {"data": str(toy_csv), "column": "y", "scale": 1.0}
    assert config["data"]["path"] == str(toy_csv) and len(config["data"]["sha256"]) == 64
    assert config["command"].startswith("rnnlab toy fit")

    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["job"] == "toy"
    assert set(metrics["test"]) == {"toy", "mean_baseline"}
    assert metrics["test"]["toy"]["mae"] == pytest.approx(1.5)  # |1-3|+|2-3|+0+|6-3| / 4
    assert metrics["best"] in ("toy", "mean_baseline") and metrics["verdict"]

    manifest = json.loads((run / "model" / "model.json").read_text(encoding="utf-8"))
    assert manifest["job"] == "toy"
    assert manifest["api"] == "tests.toyjob.api:ToyModel"
    assert manifest["model_file"] == "toy.json"
    assert manifest["rnnlab_version"] == rnnlab.__version__
    assert isinstance(manifest["format_version"], int)
    assert (run / "model" / "weights.safetensors").is_file()
    assert "<table>" in (run / "report.html").read_text(encoding="utf-8")
    assert "mean_baseline" in result.out  # the console table


def test_scale_is_learned_and_saved(cli, toy_job, toy_csv, tmp_path):
    run = tmp_path / "run"
    assert _fit(cli, toy_csv, run, "--scale", "2").code == 0
    assert rnnlab.load_run(run).predict(1) == [6.0]
    assert rnnlab.load_run(run).config.scale == 2.0


@pytest.mark.parametrize(("args", "fragment"), [
    (["--column", "missing"], "no column 'missing'"),  # found inside the staged run
    (["--column", "y", "--scale", "0"], "--scale must be"),  # refused by ToyConfig.validate
    (["--column", "y", "--scale", "-1.5"], "--scale must be"),
])
def test_bad_value_is_one_error_line_and_leaves_no_run(cli, toy_job, toy_csv, tmp_path, args,
                                                       fragment):
    run = tmp_path / "run"
    result = cli(["toy", "fit", "--data", toy_csv, *args, "--out", run])
    assert result.code == 2, (result.code, result.err)
    assert len(result.err_lines) == 1, result.err
    assert result.err_lines[0].startswith("error: ") and fragment in result.err_lines[0]
    assert "Traceback" not in result.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["values.csv"]  # no run, no staging


def test_missing_data_is_a_user_error(cli, toy_job, tmp_path):
    result = cli(["toy", "fit", "--column", "y", "--out", tmp_path / "run"])
    assert result.code == 2 and result.err_lines == ["error: --data is required: give a CSV "
                                                     "file"]
    assert not (tmp_path / "run").exists()


def test_predict_before_fit_is_not_fitted_error(toy_csv):
    from tests.toyjob.api import ToyModel
    from tests.toyjob.config import ToyConfig

    model = ToyModel(ToyConfig(data=str(toy_csv), column="y"))
    with pytest.raises(NotFittedError, match="not fitted yet"):
        model.predict(1)
    assert model.fit().predict(1) == [3.0]  # the API alone, without the CLI


def test_toy_run_refused_by_another_jobs_api(cli, toy_job, toy_csv, tmp_path):
    from rnnlab.tasks.forecasting import Forecaster

    run = tmp_path / "run"
    assert _fit(cli, toy_csv, run).code == 0
    with pytest.raises(UserError, match="is a toy run") as info:
        Forecaster.load(run)
    assert "forecast" in str(info.value)
    result = cli(["forecast", "predict", "--run", run, "--data", toy_csv])
    assert result.code == 2 and "is a toy run" in result.err
