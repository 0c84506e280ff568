"""Read the user's table (CSV, TSV, JSON lines; optionally gzipped) with errors one can act on."""

from __future__ import annotations

import codecs
import csv
import io
import json
from pathlib import Path

import pandas as pd

from rnnlab.errors import UserError, check_file

TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".jsonl", ".json")


def _suffix(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def read_text(path: str | Path, encoding: str = "utf-8", option: str | None = "--encoding"
              ) -> str:
    """Whole file as text (a .gz file is decompressed); a decoding error names the line and
    suggests an encoding. `option`: the flag that sets the encoding, or None where the command
    has none (the advice is then to convert the file)."""
    path = check_file(path)
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise UserError(f"{option or '--encoding'} {encoding!r} is not a known text encoding "
                        "(e.g. utf-8, cp1252, latin-1)") from None
    raw = path.read_bytes()
    if path.suffix.lower() == ".gz":
        raw = _decompress(path, raw)
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        nul = raw.find(b"\x00", 0, 1 << 16)
        if nul >= 0:  # undecodable and holding NULs: binary (or UTF-16 read as something else)
            raise _binary(path, raw[:nul].count(b"\n") + 1, option) from None
        advice = (f"convert it to UTF-8 or pass {option} (e.g. {option} cp1252)" if option
                  else f"convert it to {encoding}")
        raise UserError(
            f"{path} is not valid {encoding} (byte 0x{raw[exc.start]:02x} on line {line}); "
            f"{advice}"
        ) from None


def _decompress(path: Path, raw: bytes) -> bytes:
    """gzip bytes -> bytes; a file that is not gzip, or is cut short, is the user's to fix."""
    import gzip
    import zlib

    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise UserError(
            f"{path} is not a valid gzip file ({reason}); download or compress it again, or "
            "drop the .gz ending if it is plain text"
        ) from None


def _binary(path: Path, line: int, option: str | None = None) -> UserError:
    utf16 = f", or pass {option} utf-16 if it is UTF-16 text" if option else ""
    return UserError(
        f"{path} holds binary data (a NUL byte on line {line}), not text; give a plain-text "
        f"file (CSV, TSV, JSON lines){utf16}"
    )


def read_table(path: str | Path, encoding: str = "utf-8", option: str | None = "--encoding"
               ) -> pd.DataFrame:
    """Read a CSV / TSV / JSONL file into a DataFrame of strings and numbers.

    The separator of a .csv/.txt file is sniffed (comma, semicolon, tab, pipe). `option`: as
    for `read_text`.
    """
    path = check_file(path)
    text = read_text(path, encoding, option)
    if "\x00" in text:
        raise _binary(path, text.count("\n", 0, text.index("\x00")) + 1, option)
    if not text.strip():
        raise UserError(f"{path} is empty (no header, no rows)")
    kind = _suffix(path)
    try:
        if kind in (".jsonl", ".json"):
            frame = _read_json(path, text, lines=kind == ".jsonl")
        else:
            sep = "\t" if kind == ".tsv" else _sniff_separator(text)
            _check_header(path, text, sep)
            frame = pd.read_csv(io.StringIO(text), sep=sep, skipinitialspace=True)
    except (ValueError, pd.errors.ParserError) as exc:
        reason = str(exc).strip().splitlines()[0]
        raise UserError(f"{path} could not be read as a table: {reason}") from None
    if frame.empty:
        raise UserError(f"{path} has a header but no data rows")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _check_header(path: Path, text: str, sep: str) -> None:
    """pandas renames a repeated column name to `name.1`; refuse it instead."""
    try:
        header = next((row for row in csv.reader(io.StringIO(text), delimiter=sep) if row), [])
    except csv.Error:
        return  # pandas reports the malformed file
    names = [name.strip() for name in header]
    twice = [name for name in names if name and names.count(name) > 1]
    if twice:
        raise UserError(f"{path}: the header names column {twice[0]!r} twice; give each column "
                        "its own name")


def _read_json(path: Path, text: str, lines: bool) -> pd.DataFrame:
    """pandas' reading (its number and date inference), and when it fails on JSON lines, the
    number of the first malformed line."""
    try:
        return pd.read_json(io.StringIO(text), lines=lines)
    except (ValueError, TypeError) as exc:
        if lines:
            _read_json_lines(path, text)
        raise ValueError(str(exc)) from None


def _read_json_lines(path: Path, text: str) -> pd.DataFrame:
    """One JSON object per non-blank line; a malformed line is an error naming its number."""
    rows = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UserError(f"{path.name} line {number} is not valid JSON: {exc.msg} (column "
                            f"{exc.colno}); fix or remove that line") from None
        if not isinstance(row, dict):
            raise UserError(f"{path.name} line {number} is a JSON {type(row).__name__}, not an "
                            "object {...}; give one object per line")
        rows.append(row)
    return pd.DataFrame.from_records(rows)


def _sniff_separator(text: str) -> str:
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","
