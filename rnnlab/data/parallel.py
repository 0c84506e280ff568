"""Parallel text for translation: source / target sentence pairs from a table, two line-aligned
text files, or a bundled data set, with errors that name the file and line to fix.

Lines are split on "\\n" only: sentences may hold U+0085 or U+2028, which `str.splitlines`
would take for line ends and so shift every later pair against its partner.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnlab.data.datasets import DATASETS, resolve_data
from rnnlab.data.io import _sniff_separator, _suffix, read_table, read_text
from rnnlab.errors import UserError, check_columns, check_file, check_range, printable

_SPEC_HELP = ("give a table (CSV, TSV, JSON lines), two line-aligned text files joined by a "
              "comma (source first, e.g. train.de.gz,train.en.gz) or a data set name "
              "(`rnnlab datasets` lists them)")


@dataclass(frozen=True)
class ParallelText:
    """Aligned sentence pairs; `source` says where they came from, for messages and reports."""

    src: list[str]
    tgt: list[str]
    source: str

    def __post_init__(self) -> None:
        if len(self.src) != len(self.tgt):  # a bug, not the user's: readers check alignment
            raise ValueError(f"{len(self.src)} source but {len(self.tgt)} target sentences")

    def __len__(self) -> int:
        return len(self.src)

    def subset(self, indices: Sequence[int]) -> ParallelText:
        """The pairs at `indices` (in that order), from the same source."""
        return ParallelText([self.src[i] for i in indices], [self.tgt[i] for i in indices],
                            self.source)


def read_parallel(spec: str, src_col: str | None = None, tgt_col: str | None = None,
                  encoding: str = "utf-8", option: str = "--data") -> ParallelText:
    """Sentence pairs from `spec`: a data set name, a table, or "source.txt,target.txt".

    An existing file is a table even when its name holds a comma. `option` is the flag `spec`
    came from, named in messages so the user knows which argument to fix.
    """
    spec = str(spec)
    if not spec.strip():
        raise UserError(f"{option} is empty; {_SPEC_HELP}")
    if "," in spec and not Path(spec).exists() and spec not in DATASETS:
        if src_col is not None or tgt_col is not None:
            raise UserError(f"{option} {spec} names two text files, which have no columns; "
                            "drop --src-col / --tgt-col (they are for a table)")
        return _read_files(spec, encoding, option)
    try:
        path = resolve_data(spec)
    except UserError as exc:
        raise UserError(f"{option}: {exc}") from None
    source = spec if spec in DATASETS and not Path(spec).exists() else str(path)
    return _read_table(path, source, src_col, tgt_col, encoding, option)


def split_parallel(pairs: ParallelText, val_size: float, test_size: float, seed: int
                   ) -> tuple[ParallelText, ParallelText, ParallelText]:
    """(train, validation, test): a seeded shuffle, test taken first, then validation.

    A size is a share of all pairs, rounded but at least one pair when above 0; 0 gives an
    empty split. The same seed always gives the same split.
    """
    check_range(val_size, "--val-size", 0.0, 1.0)
    check_range(test_size, "--test-size", 0.0, 1.0)
    n = len(pairs)
    n_test, n_val = (max(1, round(size * n)) if size > 0 else 0 for size in (test_size, val_size))
    if n - n_test - n_val < 1:
        raise UserError(
            f"{pairs.source} has {n} sentence pair(s): too few for --test-size {test_size:g} "
            f"({n_test} pair(s)) and --val-size {val_size:g} ({n_val}) with at least one pair "
            "left to train on; give more pairs or smaller sizes"
        )
    order = np.random.default_rng(seed).permutation(n).tolist()
    test, val, train = order[:n_test], order[n_test:n_test + n_val], order[n_test + n_val:]
    return pairs.subset(train), pairs.subset(val), pairs.subset(test)


def _read_files(spec: str, encoding: str, option: str) -> ParallelText:
    """Two line-aligned text files: line i of the source translates to line i of the target."""
    parts = [part.strip() for part in spec.split(",")]
    if len(parts) != 2 or not all(parts):
        raise UserError(f"{option} {spec} is not a file, a data set name or two files joined "
                        f"by one comma; {_SPEC_HELP}")
    paths = [check_file(part, f"{option} {side} file")
             for part, side in zip(parts, ("source", "target"), strict=True)]
    src, tgt = (_lines(path, side, encoding, option)
                for path, side in zip(paths, ("source", "target"), strict=True))
    if len(src) != len(tgt):
        longer = paths[0] if len(src) > len(tgt) else paths[1]
        raise UserError(
            f"{option}: {paths[0]} has {len(src)} lines but {paths[1]} has {len(tgt)}; line "
            f"{min(len(src), len(tgt)) + 1} of {longer} has no partner; the files must be "
            "line-aligned (one sentence per line, in the same order)"
        )
    for number, (s, t) in enumerate(zip(src, tgt, strict=True), start=1):
        for text, path, side in ((s, paths[0], "source"), (t, paths[1], "target")):
            if not text.strip():
                raise UserError(f"{option}: {path} line {number} is empty (the {side} side of "
                                f"pair {number}); remove the pair from both files or fill it")
    return ParallelText([s.strip() for s in src], [t.strip() for t in tgt],
                        f"{paths[0]} + {paths[1]}")


def _lines(path: Path, side: str, encoding: str, option: str) -> list[str]:
    """The file's lines, split on "\\n" only, without "\\r" ends or the empty string after a
    final newline."""
    text = read_text(path, encoding, "--encoding").removeprefix("\ufeff")
    if not text.strip():
        raise UserError(f"{option} {side} file {path} is empty (only blank lines); give one "
                        "sentence per line")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def _read_table(path: Path, source: str, src_col: str | None, tgt_col: str | None,
                encoding: str, option: str) -> ParallelText:
    """A table with a source and a target column (the only two, or named by the options)."""
    try:
        frame = read_table(path, encoding, "--encoding")
    except UserError as exc:
        raise UserError(f"{option}: {exc}") from None
    columns = [str(c) for c in frame.columns]
    shown = ", ".join(map(printable, columns[:12])) + (" ..." if len(columns) > 12 else "")
    if src_col is None and tgt_col is None:
        if len(columns) != 2:
            raise UserError(
                f"{option} {path} has {len(columns)} column(s) ({shown}); pass --src-col and "
                "--tgt-col to say which hold the source and the target sentences"
            )
        src_col, tgt_col = columns
    elif src_col is None or tgt_col is None:  # one named: the other of a two-column table
        given, flag = (src_col, "--src-col") if src_col is not None else (tgt_col, "--tgt-col")
        check_columns([given], columns, f"{path} ({option})", flag)
        if len(columns) != 2:
            raise UserError(f"{option} {path} has {len(columns)} columns ({shown}); pass "
                            f"{'--tgt-col' if src_col is not None else '--src-col'} too")
        other = columns[1] if columns[0] == given else columns[0]
        src_col, tgt_col = (given, other) if src_col is not None else (other, given)
    check_columns([src_col], columns, f"{path} ({option})", "--src-col")
    check_columns([tgt_col], columns, f"{path} ({option})", "--tgt-col")
    if src_col == tgt_col:
        raise UserError(f"--src-col and --tgt-col both name column {printable(src_col)!r} of "
                        f"{path}; give two different columns")
    src, tgt = (_cells(frame[col].tolist()) for col in (src_col, tgt_col))
    for row, (s, t) in enumerate(zip(src, tgt, strict=True)):
        for text, col, side in ((s, src_col, "source"), (t, tgt_col, "target")):
            if not text:
                raise UserError(
                    f"{option}: {path} {_row_place(path, encoding, row)} has an empty "
                    f"{printable(col)!r} cell (the {side} side); remove the pair or fill it"
                )
    return ParallelText(src, tgt, source)


def _cells(values: list) -> list[str]:
    """Cells as stripped text; a missing cell (NaN / None) becomes "" (an empty side)."""
    return ["" if value is None or (isinstance(value, float) and math.isnan(value))
            else str(value).strip() for value in values]


def _row_place(path: Path, encoding: str, row: int) -> str:
    """Where data row `row` (0-based) is in the file as the user sees it: its line number,
    counting the header as line 1, lines pandas skips as blank, and quoted cells that span
    lines."""
    kind = _suffix(path)
    if kind == ".json":
        return f"record {row + 1}"
    text = read_text(path, encoding, "--encoding")
    if kind == ".jsonl":
        starts = [n for n, line in enumerate(text.split("\n"), start=1) if line.strip()]
    else:
        delimiter = "\t" if kind == ".tsv" else _sniff_separator(text)
        reader = csv.reader(io.StringIO(text, newline="\n"), delimiter=delimiter)
        starts, end = [], 0
        try:
            for cells in reader:
                if len(cells) > 1 or "".join(cells).strip():
                    starts.append(end + 1)
                end = reader.line_num
        except csv.Error:
            starts = []
        starts = starts[1:]  # the header
    return f"line {starts[row] if row < len(starts) else row + 2}"
