"""The `rnnlab` command: help, usage errors, internal errors, and the shared options."""

from __future__ import annotations

import sys

import pytest

from rnnlab.cli_common import config_from_options, split_list
from rnnlab.errors import UserError
from tests.conftest import FAST_FIT, run_process, seasonal_frame

FORECAST_COMMANDS = ["fit", "compare", "backtest", "predict", "evaluate", "anomalies"]


def test_top_level_help_shows_jobs_and_an_example(cli):
    result = cli(["--help"])
    assert result.code == 0
    assert "forecast" in result.out and "datasets" in result.out
    assert "Example: rnnlab forecast fit" in result.out


@pytest.mark.parametrize("command", FORECAST_COMMANDS)
def test_every_forecast_command_has_help_with_an_example(cli, command):
    result = cli(["forecast", command, "--help"])
    assert result.code == 0, result.err
    assert f"rnnlab forecast {command}" in result.out
    assert "Example:" in result.out
    assert result.err == ""


def test_help_is_markdown_that_keeps_globs_and_placeholders(cli):
    """Help renders as markdown (so wrapped docstrings flow in the command list); `*` and
    `<...>` in option help must survive it."""
    result = cli(["sentiment", "fit", "--help"])
    assert result.code == 0, result.err
    text = " ".join(result.out.replace("│", " ").split())
    assert "pos/*.txt" in text and "runs/<job>-<time>" in text


def test_datasets_help_has_an_example(cli):
    result = cli(["datasets", "fetch", "--help"])
    assert result.code == 0 and "Example: rnnlab datasets fetch" in result.out


def _assert_usage_error(result, *fragments: str) -> None:
    assert result.code == 2, (result.code, result.err)
    assert len(result.err_lines) == 1, result.err
    line = result.err_lines[0]
    assert line.startswith("error: "), line
    for fragment in fragments:
        assert fragment in line, line
    assert "Traceback" not in result.err and "internal error" not in result.err


def test_unknown_option_is_a_one_line_usage_error(cli):
    _assert_usage_error(cli(["forecast", "fit", "--bogus", "1"]), "--bogus")


def test_missing_required_option_is_a_usage_error(cli):
    _assert_usage_error(cli(["forecast", "predict", "--data", "x.csv"]), "--run")


def test_option_of_the_wrong_type_is_a_usage_error(cli):
    _assert_usage_error(cli(["forecast", "fit", "--epochs", "many"]), "--epochs")


def test_unknown_command_is_a_usage_error(cli):
    _assert_usage_error(cli(["forecast", "fitt"]), "fitt")


@pytest.mark.parametrize("args", [[], ["forecast"]])
def test_no_arguments_shows_help_without_an_internal_error(cli, args):
    result = cli(args)
    assert result.code in (0, 2)
    assert "Usage" in result.out + result.err
    assert "internal error" not in result.err


def test_internal_failure_exits_1_with_a_short_message(cli, monkeypatch):
    from rnnlab.tasks.forecasting import workflows

    def broken(*args, **kwargs):
        raise RuntimeError("something inside broke")

    monkeypatch.setattr(workflows, "fit_run", broken)
    result = cli(["forecast", "fit", "--target", "Passengers"])
    assert result.code == 1
    assert result.err_lines == ["internal error: RuntimeError: something inside broke (rerun "
                                "with --debug for the traceback)"]
    with pytest.raises(RuntimeError, match="something inside broke"):
        cli(["forecast", "fit", "--target", "Passengers", "--debug"])


def test_cli_options_reach_the_api_config(cli, monkeypatch):
    """fastapi-cli style: the command maps its options onto ForecastConfig and calls the API."""
    from rnnlab.tasks.forecasting import workflows

    calls = []
    monkeypatch.setattr(workflows, "fit_run", lambda cfg, out, overwrite, resume: calls.append(
        (cfg, out, overwrite)))
    result = cli(["forecast", "fit", "--data", "sales.csv", "--time-col", "day", "--target",
                  "a, b", "--features", "temp", "--lookback", "30", "--horizon", "7", "--lags",
                  "7,14", "--calendar", "dow,month", "--arima-order", "0,1,1", "--model", "gru",
                  "--bidirectional", "--epochs", "9", "--clip", "0", "--seed", "5", "--device",
                  "cpu", "--quiet", "--out", "runs/x", "--overwrite"])
    assert result.code == 0, result.err
    (cfg, out, overwrite), = calls
    assert (out, overwrite) == ("runs/x", True)
    assert cfg.data == "sales.csv" and cfg.time_col == "day"
    assert cfg.target == ("a", "b") and cfg.features == ("temp",)
    assert (cfg.lookback, cfg.horizon, cfg.lags, cfg.calendar) == (30, 7, (7, 14),
                                                                    ("dow", "month"))
    assert cfg.arima_order == (0, 1, 1) and cfg.model == "gru" and cfg.bidirectional
    train = cfg.train
    assert (train.epochs, train.clip, train.seed, train.device, train.quiet) == (
        9, None, 5, "cpu", True)
    assert train.patience == 20 and train.lr == 1e-3  # the forecast job's defaults


def test_backtest_and_compare_pass_their_options(cli, monkeypatch):
    from rnnlab.tasks.forecasting import backtest, workflows

    calls = []
    monkeypatch.setattr(backtest, "backtest", lambda cfg, folds, **run: calls.append(
        ("backtest", cfg, folds)))
    monkeypatch.setattr(workflows, "compare_run", lambda cfg, **run: calls.append(
        ("compare", cfg, None)))
    assert cli(["forecast", "backtest", "--target", "y", "--folds", "4"]).code == 0
    assert cli(["forecast", "compare", "--target", "y", "--hidden", "16"]).code == 0
    assert [(c[0], c[2]) for c in calls] == [("backtest", 4), ("compare", None)]
    assert calls[1][1].hidden == 16 and calls[0][1].target == ("y",)


def test_the_console_script_exits_2_on_a_user_error(tmp_path):
    """A real process: the exit status the shell sees, and no traceback."""
    result = run_process(["forecast", "fit", "--data", "missing.csv", "--target", "y"], tmp_path,
                         timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: data file missing.csv does not exist and is not a data set name (check the "
        "path; `rnnlab datasets` lists the names)"]


# -- rnnlab.cli_common ---------------------------------------------------------------------


def test_config_from_options_converts_lists_zero_and_the_training_part():
    from rnnlab.tasks.forecasting.config import ForecastConfig

    options = {"target": "a, b", "lags": "7,14", "arima_order": "", "epochs": 9, "clip": 0,
               "seed": 3, "device": "cpu", "other": 1}
    config = config_from_options(ForecastConfig, options)
    assert config.target == ("a", "b") and config.lags == (7, 14) and config.arima_order is None
    assert config.train.epochs == 9 and config.train.clip is None and config.train.seed == 3
    assert config.train.lr == ForecastConfig().train.lr  # unset: the job's default
    assert options == {"other": 1}  # the config's options were taken out


@pytest.mark.parametrize(("options", "message"), [
    ({"epochs": 0}, "--epochs must be >= 1; got 0"),
    ({"lr": -1.0}, "--lr must be > 0; got -1.0"),
    ({"device": "tpu"}, "--device must be cpu, cuda or auto; got 'tpu'"),
    ({"devices": 0}, "--devices must be >= 1; got 0"),
    ({"max_time": -2.0}, "--max-time must be > 0 minutes; got -2.0"),
    ({"clip": -1.0}, "--clip must be > 0 (or omitted); got -1.0"),
])
def test_training_option_validation_names_the_option(options, message):
    from rnnlab.tasks.sentiment.config import SentimentConfig

    with pytest.raises(UserError) as info:
        config_from_options(SentimentConfig, options)
    assert str(info.value) == message


def test_split_list():
    assert split_list("a, b ,c", "--target") == ("a", "b", "c")
    assert split_list(None, "--target") == () and split_list("  ", "--target") == ()
    assert split_list("1,7", "--lags", int) == (1, 7)
    with pytest.raises(UserError, match=r"--lags takes a comma-separated list; got '1,x'"):
        split_list("1,x", "--lags", int)


# -- interruptions end in one line and the shell's exit code -----------------------------------


@pytest.mark.parametrize(("raised", "code", "line"), [
    (KeyboardInterrupt, 130, "interrupted"),
    ("lightning-ctrl-c", 130, "interrupted"),
    ("lightning-sigterm", 143, "terminated"),
])
def test_an_interruption_while_the_run_is_written_is_reported(cli, monkeypatch, tmp_path,
                                                              raised, code, line):
    """Ctrl-C (typer returns 130 for it), Lightning's own sys.exit(1) after a Ctrl-C and its
    SIGTERMException (a SystemExit with code 0) are all reported as what they are."""
    from lightning.pytorch.utilities.exceptions import SIGTERMException

    from rnnlab.runs import RunFolder

    def interrupted(self, relative, obj):
        if raised == "lightning-ctrl-c":
            try:
                raise KeyboardInterrupt
            except KeyboardInterrupt:
                sys.exit(1)
        raise SIGTERMException if raised == "lightning-sigterm" else raised

    monkeypatch.setattr(RunFolder, "write_json", interrupted)
    data = tmp_path / "series.csv"
    seasonal_frame().to_csv(data, index=False)
    result = cli(["forecast", "fit", "--data", data, "--time-col", "date", "--target", "value",
                  "--lookback", "14", "--horizon", "3", "--out", tmp_path / "run", *FAST_FIT])
    assert (result.code, result.err_lines) == (code, [line])
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == [".run.checkpoints", "series.csv"]  # no run; checkpoints kept for --resume
