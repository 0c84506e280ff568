"""Reading the user's table, and the boundary checks in rnnlab.errors."""

from __future__ import annotations

import gzip

import pandas as pd
import pytest

from rnnlab.data.io import read_table, read_text
from rnnlab.errors import UserError, check_columns, check_file, check_range


def test_reads_comma_csv_with_numbers(csv_writer):
    path = csv_writer("a.csv", "date,value\n2000-01-01,1.5\n2000-01-02,2.5\n")
    frame = read_table(path)
    assert list(frame.columns) == ["date", "value"]
    assert frame["value"].tolist() == [1.5, 2.5]


@pytest.mark.parametrize(("name", "text"), [
    ("semi.csv", "date;value\n2000-01-01;1.5\n2000-01-02;2.5\n"),
    ("pipe.txt", "date|value\n2000-01-01|1.5\n2000-01-02|2.5\n"),
    ("tabs.tsv", "date\tvalue\n2000-01-01\t1.5\n2000-01-02\t2.5\n"),
    ("spaced.csv", "date, value\n2000-01-01, 1.5\n2000-01-02, 2.5\n"),
    ("crlf.csv", "\"date\",\"value\"\r\n\"2000-01-01\",1.5\r\n\"2000-01-02\",2.5"),
])
def test_separator_quotes_and_line_ends_are_handled(csv_writer, name, text):
    frame = read_table(csv_writer(name, text))
    assert list(frame.columns) == ["date", "value"]
    assert frame["value"].tolist() == [1.5, 2.5]


def test_single_column_csv(csv_writer):
    frame = read_table(csv_writer("one.csv", "value\n1.5\n2.5\n3\n"))
    assert frame["value"].tolist() == [1.5, 2.5, 3.0]


def test_reads_jsonl_and_gzipped_csv(tmp_path):
    jsonl = tmp_path / "rows.jsonl"
    jsonl.write_text('{"t": 1, "y": 2.5}\n{"t": 2, "y": 3.5}\n')
    assert read_table(jsonl)["y"].tolist() == [2.5, 3.5]
    packed = tmp_path / "rows.csv.gz"
    packed.write_bytes(gzip.compress(b"t,y\n1,2.5\n2,3.5\n"))
    assert read_table(packed)["y"].tolist() == [2.5, 3.5]


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(UserError, match=r"nope\.csv does not exist"):
        read_table(tmp_path / "nope.csv")


def test_folder_instead_of_file(tmp_path):
    with pytest.raises(UserError, match="is a folder"):
        read_table(tmp_path)


def test_zero_byte_file_is_empty(csv_writer):
    with pytest.raises(UserError, match=r"empty\.csv is empty"):
        read_table(csv_writer("empty.csv", b""))


def test_blank_file_is_empty(csv_writer):
    with pytest.raises(UserError, match=r"blank\.csv is empty"):
        read_table(csv_writer("blank.csv", "\n \n"))


def test_header_only_file_has_no_rows(csv_writer):
    with pytest.raises(UserError, match=r"header\.csv has a header but no data rows"):
        read_table(csv_writer("header.csv", "date,value\n"))


def test_ragged_csv_is_a_user_error_naming_the_file(csv_writer):
    with pytest.raises(UserError, match=r"ragged\.csv could not be read as a table"):
        read_table(csv_writer("ragged.csv", "a,b\n1,2\n3,4,5,6\n"))


def test_bad_encoding_names_the_line_and_byte(csv_writer):
    path = csv_writer("latin.csv", b"a,b\n1,2\n3,caf\xe9\n")
    with pytest.raises(UserError, match=r"latin\.csv is not valid utf-8 \(byte 0xe9 on line 3\)"):
        read_text(path)
    assert read_text(path, encoding="cp1252").endswith("caf\u00e9\n")


# -- rnnlab.errors -------------------------------------------------------------------------


def test_check_file_returns_a_path(csv_writer):
    path = csv_writer("x.csv", "a\n1\n")
    assert check_file(str(path)) == path


def test_check_columns_lists_what_exists():
    with pytest.raises(UserError) as info:
        check_columns(["Sales", "date"], ["date", "value"], "shop.csv", "--target")
    assert str(info.value) == ("shop.csv has no column 'Sales' (given by --target); its "
                               "columns are: date, value")
    check_columns(["value"], ["date", "value"], "shop.csv", "--target")  # no error


def test_check_columns_shortens_long_column_lists():
    available = [f"c{i}" for i in range(20)]
    with pytest.raises(UserError, match=r"c11 \.\.\.$"):
        check_columns(["x"], available, "wide.csv", "--features")


def test_check_range_message_names_option_bound_and_value():
    with pytest.raises(UserError, match="^--lookback must be >= 1; got 0$"):
        check_range(0, "--lookback", 1)
    with pytest.raises(UserError, match="^--dropout must be between 0.0 and 0.95; got 1.2$"):
        check_range(1.2, "--dropout", 0.0, 0.95)
    check_range(0.95, "--dropout", 0.0, 0.95)  # bounds are inclusive


def test_read_table_strips_column_names(csv_writer):
    frame = read_table(csv_writer("pad.csv", " date , value \n2000-01-01,1\n"))
    assert list(frame.columns) == ["date", "value"]
    assert isinstance(frame, pd.DataFrame)
