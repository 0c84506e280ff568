"""Every bad input to `rnnlab forecast` gives one `error: ...` line naming the file / column /
line / option, exit code 2, no traceback, and leaves no run folder behind."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import FAST_FIT, seasonal_frame


@pytest.fixture
def fit(cli, tmp_path):
    """Run `rnnlab forecast fit` on DATA (a path) with the tiny-series options."""

    def run(data, *extra: str, target: str = "value", lookback: str = "14"):
        args = ["forecast", "fit", "--data", data, "--time-col", "date", "--target", target,
                "--lookback", lookback, "--horizon", "3", *FAST_FIT,
                "--out", tmp_path / "run", *extra]
        return cli(args)

    return run


def assert_user_error(result, *fragments: str) -> str:
    assert result.code == 2, (result.code, result.err)
    assert len(result.err_lines) == 1, result.err
    line = result.err_lines[0]
    assert line.startswith("error: "), line
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    assert "Traceback" not in result.err + result.out
    return line


def assert_no_run_left(tmp_path):
    leftovers = [p.name for p in tmp_path.iterdir() if p.name == "run" or ".partial" in p.name]
    assert leftovers == []


def test_missing_file(fit, tmp_path):
    assert_user_error(fit(tmp_path / "nope.csv"), "nope.csv does not exist")
    assert_no_run_left(tmp_path)


def test_missing_column(fit, csv_writer, tmp_path):
    path = csv_writer("tiny.csv", seasonal_frame())
    line = assert_user_error(fit(path, target="Sales"), "tiny.csv has no column 'Sales'",
                             "--target", "date, value")
    assert line.endswith("its columns are: date, value")
    assert_no_run_left(tmp_path)


def test_missing_time_column(fit, csv_writer):
    frame = seasonal_frame().rename(columns={"date": "day"})
    assert_user_error(fit(csv_writer("tiny.csv", frame)), "no column 'date'", "--time-col")


def test_non_numeric_column(fit, csv_writer, tmp_path):
    frame = seasonal_frame().astype({"value": object})
    frame.loc[9, "value"] = "twelve"
    assert_user_error(fit(csv_writer("words.csv", frame)),
                      "words.csv line 11: column 'value' has 'twelve', which is not a number")
    assert_no_run_left(tmp_path)


def test_bad_date(fit, csv_writer):
    frame = seasonal_frame()
    frame.loc[4, "date"] = "2000-13-45"
    assert_user_error(fit(csv_writer("dates.csv", frame)),
                      "dates.csv line 6: time column 'date' has '2000-13-45'", "--time-format")


def test_series_shorter_than_lookback_horizon_and_test_part(fit, csv_writer, tmp_path):
    # 30 rows: test 6, validation 3, training 21 < lookback 24 + horizon 3 -> 27 + 3 + 6 = 36
    path = csv_writer("short.csv", seasonal_frame(n=30))
    assert_user_error(fit(path, lookback="24"), "short.csv has 30 rows", "--lookback 24",
                      "--horizon 3", "needs at least 36")
    assert_no_run_left(tmp_path)


def test_nan_without_fill_then_interpolate_works(fit, csv_writer, tmp_path):
    frame = seasonal_frame()
    frame.loc[[20, 21], "value"] = np.nan
    path = csv_writer("holes.csv", frame)
    assert_user_error(fit(path), "holes.csv line 22: column 'value' is empty (NaN)",
                      "--fill interpolate")
    assert_no_run_left(tmp_path)
    result = fit(path, "--fill", "interpolate", "--epochs", "1")
    assert result.code == 0, result.err
    assert (tmp_path / "run" / "metrics.json").is_file()


def test_missing_dates_without_fill(fit, csv_writer):
    frame = seasonal_frame().drop(index=[30, 31, 32])
    assert_user_error(fit(csv_writer("gaps.csv", frame)), "gaps.csv: 3 timestamp(s) missing",
                      "first 2000-01-31", "--fill")


def test_duplicate_timestamps(fit, csv_writer, tmp_path):
    frame = seasonal_frame()
    frame.loc[50, "date"] = frame.loc[49, "date"]
    assert_user_error(fit(csv_writer("dups.csv", frame)),
                      "dups.csv: timestamp 2000-02-19 00:00:00 appears twice (lines 51 and 52)")
    assert_no_run_left(tmp_path)


def test_empty_file(fit, csv_writer, tmp_path):
    assert_user_error(fit(csv_writer("empty.csv", b"")), "empty.csv is empty")
    assert_no_run_left(tmp_path)


def test_header_only_file(fit, csv_writer, tmp_path):
    assert_user_error(fit(csv_writer("header.csv", "date,value\n")),
                      "header.csv has a header but no data rows")
    assert_no_run_left(tmp_path)


def test_data_that_is_a_folder(fit, tmp_path):
    (tmp_path / "folder.csv").mkdir()
    assert_user_error(fit(tmp_path / "folder.csv"), "folder.csv is a folder")


def test_bad_encoding_names_the_line(fit, csv_writer):
    path = csv_writer("latin.csv", b"date,value\n2000-01-01,1\n2000-01-02,caf\xe9\n")
    assert_user_error(fit(path), "latin.csv is not valid utf-8 (byte 0xe9 on line 3)")


def test_encoding_advice_names_an_option_fit_accepts(fit, csv_writer, cli):
    """The message says 'pass --encoding'; `forecast fit` must then accept --encoding."""
    path = csv_writer("latin.csv", b"date,value\n2000-01-01,1\n2000-01-02,caf\xe9\n")
    line = assert_user_error(fit(path))
    if "--encoding" in line:
        assert "--encoding" in cli(["forecast", "fit", "--help"]).out


def test_existing_out_without_overwrite(fit, csv_writer, tmp_path):
    path = csv_writer("tiny.csv", seasonal_frame())
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "notes.txt").write_text("keep me")
    assert_user_error(fit(path), f"--out {tmp_path / 'run'} already exists", "--overwrite")
    assert (tmp_path / "run" / "notes.txt").read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "tiny.csv"]


def test_out_that_is_a_file(fit, csv_writer, tmp_path):
    path = csv_writer("tiny.csv", seasonal_frame())
    (tmp_path / "run").write_text("a file")
    assert_user_error(fit(path), "is a file")


@pytest.mark.parametrize(("extra", "message"), [
    (["--lookback", "0"], "--lookback must be >= 1; got 0"),
    (["--model", "transformer"], "--model must be one of lstm, gru, rnn, mlp; got 'transformer'"),
    (["--fill", "zero"], "--fill must be one of none, ffill, interpolate; got 'zero'"),
    (["--level", "1.5"], "--level must be between 0.5 and 0.999; got 1.5"),
    (["--dropout", "1"], "--dropout must be between 0.0 and 0.95; got 1.0"),
    (["--calendar", "week"], "--calendar 'week' is not a calendar field"),
    (["--lags", "0"], "--lags must be positive integers; got [0]"),
    (["--lags", "a"], "--lags takes a comma-separated list; got 'a'"),
    (["--arima-order", "1,1"], "--arima-order takes p,d,q or p,d,q,P,D,Q"),
    (["--epochs", "0"], "--epochs must be >= 1; got 0"),
    (["--devices", "0"], "--devices must be >= 1; got 0"),
    (["--device", "tpu"], "--device must be cpu, cuda or auto; got 'tpu'"),
    (["--multi-step", "recursive", "--lags", "7"], "--multi-step recursive feeds its own"),
])
def test_bad_option_values_name_the_option(fit, csv_writer, tmp_path, extra, message):
    path = csv_writer("tiny.csv", seasonal_frame())
    assert_user_error(fit(path, *extra), message)
    assert_no_run_left(tmp_path)


def test_missing_target(cli, csv_writer):
    path = csv_writer("tiny.csv", seasonal_frame())
    assert_user_error(cli(["forecast", "fit", "--data", path]), "--target is required")


def test_cuda_without_a_gpu(fit, csv_writer, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is visible")
    path = csv_writer("tiny.csv", seasonal_frame())
    assert_user_error(fit(path, "--device", "cuda"), "--device cuda was given but no CUDA GPU")
    assert_no_run_left(tmp_path)


def test_seasonal_arima_order_without_a_season_is_a_user_error(cli, csv_writer, tmp_path):
    """No time column: the season is 1, so a seasonal ARIMA order cannot be fitted."""
    path = csv_writer("steps.csv", seasonal_frame().drop(columns="date"))
    result = cli(["forecast", "fit", "--data", path, "--target", "value", "--lookback", "14",
                  "--horizon", "3", *FAST_FIT, "--arima-order", "0,1,1,0,1,1", "--epochs", "1",
                  "--out", tmp_path / "run"])
    assert_user_error(result, "--arima-order")
    assert_no_run_left(tmp_path)


# -- predict / evaluate / anomalies on something that is not a run ---------------------------


@pytest.mark.parametrize("command", ["predict", "evaluate", "anomalies"])
def test_run_option_that_is_not_a_run_folder(cli, tmp_path, command):
    (tmp_path / "empty").mkdir()
    args = ["forecast", command, "--run", tmp_path / "empty"]
    if command == "predict":
        args += ["--data", "airline-passengers"]
    assert_user_error(cli(args), f"{tmp_path / 'empty'} is not a run folder: it holds nothing")
