"""Hostile input to every `rnnlab forecast` verb: non-finite numbers, corrupt or binary files,
option values that cannot split the series, columns named twice, short / gappy / duplicated
data. Each ends as exactly one `error:` line with exit code 2, naming the file, column, line or
option, and its advice names only options the verb has (predict, evaluate and anomalies have no
--fill, --time-format, --encoding, --lookback, --test-size)."""

from __future__ import annotations

import gzip
import json
import shutil

import numpy as np
import pytest

from tests.conftest import FAST_FIT, run_cli, seasonal_frame, write_csv
from tests.tasks.forecasting.test_errors import assert_user_error

FITTED_VERBS = ("predict", "evaluate", "anomalies")  # use a trained run's settings
VERBS = ("fit", "backtest", *FITTED_VERBS)
WINDOWS = ["--time-col", "date", "--target", "value", "--lookback", "14", "--horizon", "3"]


def frame_with_covariate(n: int = 120):
    """date, value (the target) and x (a covariate), 120 daily rows."""
    frame = seasonal_frame(n=n)
    frame["x"] = np.round(np.cos(np.arange(n)), 3)
    return frame


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    """One cheap fit (target `value`, covariate `x`, no --fill) shared by every test here."""
    folder = tmp_path_factory.mktemp("hostile")
    data = write_csv(folder / "clean.csv", frame_with_covariate())
    result = run_cli(["forecast", "fit", "--data", data, *WINDOWS, "--features", "x", *FAST_FIT,
                      "--epochs", "1", "--out", folder / "run"])
    assert result.code == 0, result.err
    return folder / "run"


def variant(trained, tmp_path, **changes):
    """A copy of the trained run whose saved config differs (as if fitted with those options)."""
    run = shutil.copytree(trained, tmp_path / "variant")
    state_file = run / "model" / "forecaster.json"
    state = json.loads(state_file.read_text())
    state["config"].update(changes)
    state_file.write_text(json.dumps(state))
    return run


@pytest.fixture
def verb(cli, trained, tmp_path):
    """Run VERB on DATA: fit / backtest with the tiny-series options, the others on the run."""

    def run(name, data, *extra, run_dir=None):
        if name in FITTED_VERBS:
            args = ["forecast", name, "--run", run_dir or trained, "--data", data, *extra]
            if name == "anomalies":
                args += ["--out", tmp_path / "anomalies"]
            return cli(args)
        return cli(["forecast", name, "--data", data, *WINDOWS, "--features", "x", *FAST_FIT,
                    "--epochs", "1", "--out", tmp_path / "out", *extra])

    return run


def edited_csv(tmp_path, name, column, row, text, frame=None):
    """Write FRAME (default: the clean series) with the cell (row, column) replaced by TEXT,
    exactly as typed in the file."""
    frame = frame_with_covariate() if frame is None else frame
    frame = frame.astype({column: object})
    frame.loc[row, column] = text
    path = tmp_path / name
    frame.to_csv(path, index=False, na_rep="")
    return path


def assert_no_foreign_option(line, verb_name, *options):
    if verb_name in FITTED_VERBS:
        for option in options:
            assert f"pass {option}" not in line and f"or {option}" not in line, line


# -- 1. non-finite numbers -------------------------------------------------------------------


# every verb on the target and on a covariate; every spelling pandas reads as +-inf (or NaN)
# on the two ways in: a fit's data and the history given to a trained run
EVERY_VERB_BOTH_COLUMNS = [(v, c) for v in VERBS for c in ("value", "x")]


def spellings(texts, default):
    return ([(v, c, default) for v, c in EVERY_VERB_BOTH_COLUMNS]
            + [(v, "value", t) for v in ("fit", "predict") for t in texts])


@pytest.mark.parametrize(("verb_name", "column", "text"),
                         spellings(["-inf", "Infinity", "-Infinity"], "inf"))
def test_infinity_is_refused_with_file_column_and_line(verb, tmp_path, verb_name, column, text):
    path = edited_csv(tmp_path, "prices.csv", column, 50, text)
    shown = "-inf" if text.startswith("-") else "inf"
    assert_user_error(verb(verb_name, path), f"prices.csv column '{column}' has {shown} on line 52",
                      "remove or fix that value")


@pytest.mark.parametrize(("verb_name", "column", "text"),
                         [(v, c, "1e39" if c == "value" else "-3.5e38")
                          for v, c in EVERY_VERB_BOTH_COLUMNS])
def test_values_beyond_float32_are_refused(verb, tmp_path, verb_name, column, text):
    path = edited_csv(tmp_path, "huge.csv", column, 7, text)
    shown = f"{float(text):g}"
    assert_user_error(verb(verb_name, path), f"huge.csv column '{column}' has {shown} on line 9",
                      "float32")


@pytest.mark.parametrize(("verb_name", "column", "text"), spellings(["nan", "NaN", "NA"], ""))
def test_nan_names_the_line_and_fill_only_where_the_verb_has_it(verb, tmp_path, verb_name,
                                                                column, text):
    path = edited_csv(tmp_path, "holes.csv", column, 30, text)
    line = assert_user_error(verb(verb_name, path),
                             f"holes.csv line 32: column '{column}' is empty (NaN)")
    if verb_name in FITTED_VERBS:
        assert "the run was fitted without --fill" in line
        assert "pass --fill" not in line
    else:
        assert "pass --fill ffill or --fill interpolate" in line


def test_predict_fills_nan_when_the_run_was_fitted_with_fill(cli, trained, tmp_path):
    run = variant(trained, tmp_path, fill="interpolate")
    path = edited_csv(tmp_path, "holes.csv", "value", 100, "")
    result = cli(["forecast", "predict", "--run", run, "--data", path])
    assert result.code == 0, result.err
    assert "inf" not in result.out and "nan" not in result.out.lower()


def test_inf_is_refused_even_when_the_run_fills_nan(cli, trained, tmp_path):
    run = variant(trained, tmp_path, fill="interpolate")
    path = edited_csv(tmp_path, "prices.csv", "value", 100, "inf")
    assert_user_error(cli(["forecast", "predict", "--run", run, "--data", path]),
                      "prices.csv column 'value' has inf on line 102")


@pytest.mark.parametrize("verb_name", ["fit", "predict"])
def test_log_with_a_non_positive_target(verb, cli, trained, tmp_path, verb_name):
    path = edited_csv(tmp_path, "neg.csv", "value", 40, "-1")
    if verb_name == "fit":
        line = assert_user_error(verb("fit", path, "--log"), "neg.csv line 42",
                                 "--log needs positive targets", "drop --log")
    else:
        run = variant(trained, tmp_path, log=True)
        line = assert_user_error(cli(["forecast", "predict", "--run", run, "--data", path]),
                                 "neg.csv line 42", "the run was fitted with --log")
        assert "drop --log" not in line


# -- 2. corrupt and binary files -------------------------------------------------------------


@pytest.mark.parametrize("verb_name", ["fit", "predict"])
@pytest.mark.parametrize(("content", "reason"), [
    (b"this is not gzip at all\n", "Not a gzipped file"),
    (gzip.compress(b"date,value,x\n" + b"2000-01-01,1.0,2.0\n" * 200)[:40], "ended before"),
])
def test_corrupt_gzip_is_a_data_error(verb, tmp_path, verb_name, content, reason):
    path = tmp_path / "data.csv.gz"
    path.write_bytes(content)
    assert_user_error(verb(verb_name, path), "data.csv.gz is not a valid gzip file", reason)


@pytest.mark.parametrize("verb_name", ["fit", "predict"])
@pytest.mark.parametrize(("content", "line_number"), [
    (bytes(range(256)) * 4, 1),  # random binary, not even utf-8
    (b"date,value,x\n2000-01-01,1,2\n2000-01-02,\x00\x00\x00,2\n", 3),  # NULs in a csv
])
def test_binary_garbage_in_a_csv(verb, tmp_path, verb_name, content, line_number):
    path = tmp_path / "garbage.csv"
    path.write_bytes(content)
    assert_user_error(verb(verb_name, path),
                      f"garbage.csv holds binary data (a NUL byte on line {line_number})")


# -- 3. messages name the right option -------------------------------------------------------


@pytest.mark.parametrize(("extra", "fragments"), [
    (["--test-size", "1.5"], ["--test-size 1.5 is neither a fraction below 1 nor a whole"]),
    (["--val-size", "2.5"], ["--val-size 2.5 is neither a fraction below 1 nor a whole"]),
    (["--test-size", "500"], ["has 120 rows but --test-size 500 asks for 500"]),
    (["--test-size", "120"], ["has 120 rows but --test-size 120 asks for 120"]),
    (["--val-size", "300"], ["has 120 rows but --val-size 300 asks for 300"]),
    (["--test-size", "2"], ["--test-size 2 gives 2 test row(s)", "fewer than --horizon 3"]),
    (["--test-size", "0.95"], ["--test-size 0.95 (114 rows)", "--val-size 0.1 (12 rows)",
                               "leave no rows for training", "smaller --test-size"]),
    (["--val-size", "0.7"], ["--test-size 0.2 (24 rows)", "--val-size 0.7 (84 rows)",
                             "leave 12 for training, which needs 17"]),
])
def test_split_problems_name_the_size_option_and_the_counts(verb, tmp_path, extra, fragments):
    path = write_csv(tmp_path / "tiny.csv", frame_with_covariate())
    assert_user_error(verb("fit", path, *extra), *fragments)


@pytest.mark.parametrize(("test_size", "fragments"), [
    ("500", ["has 120 rows but --test-size 500 asks for 500"]),
    ("1.5", ["--test-size 1.5 is neither a fraction"]),
    ("100", ["--test-size 100 with --folds 3 leaves 21 rows before the first fold"]),
])
def test_backtest_test_size_larger_than_the_series(verb, tmp_path, test_size, fragments):
    path = write_csv(tmp_path / "tiny.csv", frame_with_covariate())
    assert_user_error(verb("backtest", path, "--test-size", test_size), *fragments)


@pytest.mark.parametrize(("extra", "message"), [
    (["--target", "value,value"], "--target names column 'value' twice"),
    (["--features", "x,x"], "--features names column 'x' twice"),
    (["--target", "value,x"], "column 'x' is given to both --target and --features"),
])
def test_a_column_named_twice(verb, tmp_path, extra, message):
    path = write_csv(tmp_path / "tiny.csv", frame_with_covariate())
    assert_user_error(verb("fit", path, *extra), message)


@pytest.mark.parametrize("verb_name", VERBS)
def test_a_column_twice_in_the_header(verb, tmp_path, verb_name):
    """pandas would silently read the second one as `value.1`."""
    path = tmp_path / "twice.csv"
    path.write_text("date,value,x,value\n" + "".join(
        f"2000-01-{d:02d},{d}.0,1.0,{30 - d}.0\n" for d in range(1, 31)))
    assert_user_error(verb(verb_name, path), "twice.csv: the header names column 'value' twice")


# -- 4. short, unparsable, duplicated, gappy, empty, mis-encoded data --------------------------


@pytest.mark.parametrize(("verb_name", "fragments"), [
    ("predict", ["short.csv has 10 rows; forecasting needs the last 14",
                 "the run was fitted with --lookback 14"]),
    ("evaluate", ["short.csv has 10 rows; the run (--lookback 14, --horizon 3", "needs at least",
                  "give a longer series"]),
    ("anomalies", ["short.csv has 10 rows; the run (--lookback 14", "give a longer series"]),
    ("backtest", ["short.csv has 10 rows"]),
])
def test_too_few_rows(verb, tmp_path, verb_name, fragments):
    path = write_csv(tmp_path / "short.csv", frame_with_covariate(10))
    line = assert_user_error(verb(verb_name, path), *fragments)
    assert_no_foreign_option(line, verb_name, "--lookback", "--test-size")


@pytest.mark.parametrize("verb_name", VERBS)
def test_time_column_that_does_not_parse(verb, tmp_path, verb_name):
    path = edited_csv(tmp_path, "dates.csv", "date", 4, "2000-13-45")
    line = assert_user_error(verb(verb_name, path),
                             "dates.csv line 6: time column 'date' has '2000-13-45'")
    assert ("--time-format" in line) == (verb_name not in FITTED_VERBS)


@pytest.mark.parametrize("verb_name", VERBS)
def test_duplicated_timestamps(verb, tmp_path, verb_name):
    path = edited_csv(tmp_path, "dups.csv", "date", 50, "2000-02-19")
    assert_user_error(verb(verb_name, path),
                      "dups.csv: timestamp 2000-02-19 00:00:00 appears twice (lines 51 and 52)")


@pytest.mark.parametrize("verb_name", VERBS)
def test_missing_timestamps(verb, tmp_path, verb_name):
    path = write_csv(tmp_path / "gaps.csv", frame_with_covariate().drop(index=[30, 31]))
    line = assert_user_error(verb(verb_name, path), "gaps.csv: 2 timestamp(s) missing",
                             "first 2000-01-31")
    assert_no_foreign_option(line, verb_name, "--fill")


@pytest.mark.parametrize("verb_name", VERBS)
@pytest.mark.parametrize("column", ["value", "x"])
def test_an_empty_column(verb, tmp_path, verb_name, column):
    frame = frame_with_covariate()
    frame[column] = np.nan
    path = write_csv(tmp_path / "blank.csv", frame)
    line = assert_user_error(verb(verb_name, path),
                             f"blank.csv line 2: column '{column}' is empty (NaN)")
    assert_no_foreign_option(line, verb_name, "--fill")


@pytest.mark.parametrize("verb_name", VERBS)
def test_bad_encoding_advice_fits_the_verb(verb, tmp_path, verb_name):
    path = tmp_path / "latin.csv"
    path.write_bytes(b"date,value,x\n2000-01-01,1,2\n2000-01-02,caf\xe9,2\n")
    line = assert_user_error(verb(verb_name, path), "latin.csv is not valid utf-8",
                             "byte 0xe9 on line 3")
    assert ("--encoding" in line) == (verb_name not in FITTED_VERBS)
