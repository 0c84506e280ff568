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


def test_encoding_advice_without_an_encoding_option(csv_writer):
    """Commands that read with a run's encoding have no --encoding to suggest."""
    path = csv_writer("latin.csv", b"a,b\n1,2\n3,caf\xe9\n")
    with pytest.raises(UserError) as info:
        read_table(path, option=None)
    assert str(info.value).endswith("(byte 0xe9 on line 3); convert it to utf-8")


@pytest.mark.parametrize(("content", "reason"), [
    (b"a,b\n1,2\n", "Not a gzipped file"),  # plain text with a .gz name
    (gzip.compress(b"a,b\n" + b"1,2\n" * 500)[:30], "ended before the end-of-stream"),
    (gzip.compress(b"a,b\n1,2\n")[:-8] + b"\x00" * 8, "CRC check failed"),  # bad checksum
])
def test_corrupt_gzip_is_a_user_error(tmp_path, content, reason):
    path = tmp_path / "data.csv.gz"
    path.write_bytes(content)
    with pytest.raises(UserError) as info:
        read_table(path)
    message = str(info.value)
    assert f"{path} is not a valid gzip file (" in message and reason in message
    assert "\n" not in message


@pytest.mark.parametrize(("content", "line"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 3),  # binary that is not even utf-8
    (b"a,b\n1,2\n3,\x00\x004\n", 3),  # NULs inside a readable csv
])
def test_binary_data_is_named_once(csv_writer, content, line):
    with pytest.raises(UserError, match=rf"bin\.csv holds binary data \(a NUL byte on line "
                                        rf"{line}\), not text"):
        read_table(csv_writer("bin.csv", content))


def test_utf16_with_its_encoding_is_not_binary(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_bytes("a,b\n1,2\n".encode("utf-16"))
    assert read_table(path, encoding="utf-16")["b"].tolist() == [2]


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


@pytest.mark.parametrize("header", ["date,value,value", "date;value; value",
                                    '"value",date,"value"'])
def test_a_column_named_twice_in_the_header(csv_writer, header):
    sep = ";" if ";" in header else ","
    path = csv_writer("twice.csv", f"{header}\n" + f"1{sep}2{sep}3\n" * 3)
    with pytest.raises(UserError, match=r"twice\.csv: the header names column 'value' twice"):
        read_table(path)


def test_a_malformed_jsonl_line_is_named(tmp_path):
    path = tmp_path / "reviews.jsonl"
    path.write_text('{"text": "fine", "label": "pos"}\n\n{"text": oops}\n', encoding="utf-8")
    with pytest.raises(UserError, match=r"reviews.jsonl line 3 is not valid JSON: Expecting "
                                        r"value \(column 10\); fix or remove that line"):
        read_table(path)
    path.write_text('{"text": "fine"}\n[1, 2]\n', encoding="utf-8")
    with pytest.raises(UserError, match="line 2 is a JSON list, not an object"):
        read_table(path)
