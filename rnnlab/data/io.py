"""Read the user's table (CSV, TSV, JSON lines; optionally gzipped) with errors one can act on."""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

import pandas as pd

from rnnlab.errors import UserError, check_file

TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".jsonl", ".json")


def _suffix(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def read_text(path: str | Path, encoding: str = "utf-8") -> str:
    """Whole file as text; a decoding error names the line and suggests an encoding."""
    path = check_file(path)
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise UserError(f"--encoding {encoding!r} is not a known text encoding "
                        "(e.g. utf-8, cp1252, latin-1)") from None
    raw = path.read_bytes()
    if path.suffix.lower() == ".gz":
        import gzip

        raw = gzip.decompress(raw)
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise UserError(
            f"{path} is not valid {encoding} (byte 0x{raw[exc.start]:02x} on line {line}); "
            "convert it to UTF-8 or pass --encoding (e.g. --encoding cp1252)"
        ) from None


def read_table(path: str | Path, encoding: str = "utf-8") -> pd.DataFrame:
    """Read a CSV / TSV / JSONL file into a DataFrame of strings and numbers.

    The separator of a .csv/.txt file is sniffed (comma, semicolon, tab, pipe).
    """
    path = check_file(path)
    text = read_text(path, encoding)
    if not text.strip():
        raise UserError(f"{path} is empty (no header, no rows)")
    kind = _suffix(path)
    try:
        if kind in (".jsonl", ".json"):
            frame = pd.read_json(io.StringIO(text), lines=kind == ".jsonl")
        else:
            sep = "\t" if kind == ".tsv" else _sniff_separator(text)
            frame = pd.read_csv(io.StringIO(text), sep=sep, skipinitialspace=True)
    except (ValueError, pd.errors.ParserError) as exc:
        reason = str(exc).strip().splitlines()[0]
        raise UserError(f"{path} could not be read as a table: {reason}") from None
    if frame.empty:
        raise UserError(f"{path} has a header but no data rows")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _sniff_separator(text: str) -> str:
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","
