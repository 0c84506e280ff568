"""Parallel text for translation: line-aligned files, tables, the bundled demo set, and the
errors that name the file and line to fix."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest

from rnnlab.data.datasets import resolve_data
from rnnlab.data.io import read_table
from rnnlab.data.parallel import ParallelText, read_parallel, split_parallel
from rnnlab.errors import UserError

DE = ["Ein Hund läuft.", "Zwei Männer sitzen.", "Eine Frau singt."]
EN = ["A dog runs.", "Two men sit.", "A woman sings."]


def write(path: Path, text: str) -> Path:
    """`text` as UTF-8 bytes, exactly (no newline translation); gzipped for a .gz name."""
    data = text.encode("utf-8")
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


def error(spec: str, **options: str) -> str:
    """The one-line message of the UserError that read_parallel raises."""
    with pytest.raises(UserError) as info:
        read_parallel(spec, **options)
    message = str(info.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(("src_name", "tgt_name"), [
    ("train.de", "train.en"), ("train.de.gz", "train.en.gz"), ("train.de.gz", "train.en"),
])
def test_line_aligned_files_round_trip(tmp_path, src_name, tgt_name):
    src = write(tmp_path / src_name, "\n".join(DE) + "\n")
    tgt = write(tmp_path / tgt_name, "\n".join(EN))  # no final newline
    pairs = read_parallel(f"{src},{tgt}")
    assert pairs.src == DE and pairs.tgt == EN and len(pairs) == 3
    assert pairs.source == f"{src} + {tgt}"


def test_surrounding_whitespace_crlf_and_a_bom_are_stripped(tmp_path):
    src = write(tmp_path / "a.de", "\ufeff  Ein Hund läuft. \r\nZwei Männer sitzen.\t\r\n")
    tgt = write(tmp_path / "a.en", "A dog runs.\r\nTwo men sit.\r\n")
    pairs = read_parallel(f"{src}, {tgt}")
    assert pairs.src == DE[:2] and pairs.tgt == EN[:2]


def test_unicode_line_separators_stay_inside_their_sentence(tmp_path):
    src = write(tmp_path / "a.de", "eins\u2028zwei\x85drei\nvier\u2029fünf\n")
    tgt = write(tmp_path / "a.en", "one\ntwo\n")
    pairs = read_parallel(f"{src},{tgt}")
    assert pairs.src == ["eins\u2028zwei\x85drei", "vier\u2029fünf"]
    assert pairs.tgt == ["one", "two"]
    table = write(tmp_path / "p.tsv", "de\ten\neins\u2028zwei\tone\x85two\ndrei\tthree\n")
    assert read_parallel(str(table)).src == ["eins\u2028zwei", "drei"]
    assert read_parallel(str(table)).tgt == ["one\x85two", "three"]


@pytest.mark.parametrize(("name", "text"), [
    ("pairs.tsv", "de\ten\nEin Hund läuft.\tA dog runs.\nZwei Männer sitzen.\tTwo men sit.\n"
                  "Eine Frau singt.\tA woman sings.\n"),
    ("pairs.csv", 'de,en\nEin Hund läuft.,A dog runs.\n"Zwei Männer sitzen.","Two men sit."\n'
                  "Eine Frau singt.,A woman sings.\n"),
    ("pairs.tsv.gz", "de\ten\r\nEin Hund läuft.\tA dog runs.\r\nZwei Männer sitzen.\tTwo men "
                     "sit.\r\nEine Frau singt.\tA woman sings.\r\n"),
    ("pairs.jsonl", '{"de": "Ein Hund läuft.", "en": "A dog runs."}\n{"de": "Zwei Männer '
                    'sitzen.", "en": "Two men sit."}\n{"de": "Eine Frau singt.", "en": '
                    '"A woman sings."}\n'),
])
def test_two_column_table_is_source_then_target(tmp_path, name, text):
    path = write(tmp_path / name, text)
    pairs = read_parallel(str(path))
    assert pairs.src == DE and pairs.tgt == EN and pairs.source == str(path)


def test_named_columns_of_a_wider_table(tmp_path):
    path = write(tmp_path / "pairs.tsv", "id\ten\tde\n1\tA dog runs.\tEin Hund läuft.\n"
                                         "2\tTwo men sit.\tZwei Männer sitzen.\n")
    pairs = read_parallel(str(path), src_col="de", tgt_col="en")
    assert pairs.src == DE[:2] and pairs.tgt == EN[:2]
    assert read_parallel(str(path), src_col="en", tgt_col="id").tgt == ["1", "2"]


def test_one_named_column_of_a_two_column_table_implies_the_other(tmp_path):
    path = write(tmp_path / "pairs.tsv", "de\ten\nEin Hund läuft.\tA dog runs.\n")
    assert read_parallel(str(path), src_col="en").src == ["A dog runs."]
    assert read_parallel(str(path), tgt_col="de").tgt == ["Ein Hund läuft."]


def test_an_existing_file_with_a_comma_in_its_name_is_a_table(tmp_path):
    path = write(tmp_path / "de,en.tsv", "de\ten\nEin Hund läuft.\tA dog runs.\n")
    assert read_parallel(str(path)).tgt == ["A dog runs."]


def test_wider_table_without_column_names_lists_the_columns(tmp_path):
    path = write(tmp_path / "pairs.tsv", "id\tde\ten\n1\tEin Hund läuft.\tA dog runs.\n")
    message = error(str(path))
    assert message == (f"--data {path} has 3 column(s) (id, de, en); pass --src-col and "
                       "--tgt-col to say which hold the source and the target sentences")


def test_missing_named_column(tmp_path):
    path = write(tmp_path / "pairs.tsv", "de\ten\nEin Hund läuft.\tA dog runs.\n")
    message = error(str(path), src_col="de", tgt_col="fr")
    assert message == (f"{path} (--data) has no column 'fr' (given by --tgt-col); its columns "
                       "are: de, en")


def test_files_of_different_lengths_name_both_counts_and_the_first_unpaired_line(tmp_path):
    src = write(tmp_path / "a.de", "\n".join(DE) + "\n")
    tgt = write(tmp_path / "a.en.gz", "\n".join(EN[:2]) + "\n")
    message = error(f"{src},{tgt}", option="--val")
    assert message.startswith(f"--val: {src} has 3 lines but {tgt} has 2; line 3 of {src} has "
                              "no partner;")


@pytest.mark.parametrize(("de", "en", "empty", "line"), [
    ("eins\n\ndrei\n", "one\ntwo\nthree\n", "a.de", 2),
    ("eins\nzwei\ndrei\n", "one\ntwo\n  \t\n", "a.en", 3),
    ("eins\r\n\r\n", "one\r\ntwo\r\n", "a.de", 2),
    ("eins\nzwei\n\n", "one\ntwo\nthree\n", "a.de", 3),  # a blank line before the end
])
def test_empty_side_of_a_line_pair_names_its_file_and_line(tmp_path, de, en, empty, line):
    src, tgt = write(tmp_path / "a.de", de), write(tmp_path / "a.en", en)
    message = error(f"{src},{tgt}", option="--src")
    side = "source" if empty == "a.de" else "target"
    assert message == (f"--src: {tmp_path / empty} line {line} is empty (the {side} side of "
                       f"pair {line}); remove the pair from both files or fill it")


@pytest.mark.parametrize(("name", "text", "line", "column"), [
    ("p.tsv", "de\ten\neins\tone\n\tTwo\ndrei\tthree\n", 3, "de"),  # a missing (NaN) cell
    ("p.tsv", "de\ten\neins\tone\nzwei\t  \n", 3, "en"),  # only whitespace
    ("p.tsv.gz", "de\ten\n\neins\tone\n\nzwei\t\n", 5, "en"),  # blank lines are counted
    ("p.csv", 'de,en\n"ein\nHund",one\nzwei,\n', 4, "en"),  # a cell spanning two lines
    ("p.jsonl", '{"de": "eins", "en": "one"}\n{"de": "zwei", "en": null}\n', 2, "en"),
])
def test_empty_cell_names_the_file_line(tmp_path, name, text, line, column):
    path = write(tmp_path / name, text)
    message = error(str(path))
    side = "source" if column == "de" else "target"
    assert message == (f"--data: {path} line {line} has an empty {column!r} cell (the {side} "
                       "side); remove the pair or fill it")


@pytest.mark.parametrize("text", ["", "\n\n  \n"])
def test_empty_text_file_is_named(tmp_path, text):
    src, tgt = write(tmp_path / "a.de", "eins\n"), write(tmp_path / "a.en", text)
    message = error(f"{src},{tgt}", option="--test")
    assert f"--test target file {tgt} is empty" in message


def test_empty_table_is_named_with_its_option(tmp_path):
    path = write(tmp_path / "p.tsv", "\n \n")
    assert error(str(path), option="--val") == f"--val: {path} is empty (no header, no rows)"


def test_missing_files_and_names(tmp_path):
    src = write(tmp_path / "a.de", "eins\n")
    missing = tmp_path / "a.en"
    assert error(f"{src},{missing}") == (f"--data target file {missing} does not exist (check "
                                         "the path)")
    assert "--test: data file nope.tsv does not exist and is not a data set name" in error(
        "nope.tsv", option="--test")
    assert "two files joined by one comma" in error(f"{src},{src},{src}")
    assert "--src-col" in error(f"{src},{src}", src_col="de")


def test_split_sizes_are_disjoint_and_deterministic():
    pairs = ParallelText([f"s{i}" for i in range(100)], [f"t{i}" for i in range(100)], "p.tsv")
    train, val, test = split_parallel(pairs, val_size=0.1, test_size=0.2, seed=3)
    assert (len(train), len(val), len(test)) == (70, 10, 20)
    seen = [s for part in (train, val, test) for s in part.src]
    assert sorted(seen) == sorted(pairs.src)  # disjoint, nothing lost
    assert all(t == "t" + s[1:] for part in (train, val, test)
               for s, t in zip(part.src, part.tgt, strict=True))  # pairs stay paired
    assert train.source == "p.tsv"
    again = split_parallel(pairs, val_size=0.1, test_size=0.2, seed=3)
    assert [part.src for part in again] == [part.src for part in (train, val, test)]
    assert split_parallel(pairs, 0.1, 0.2, seed=4)[2].src != test.src


def test_split_sizes_round_up_to_one_and_zero_is_empty():
    pairs = ParallelText(["a", "b", "c"], ["x", "y", "z"], "tiny")
    train, val, test = split_parallel(pairs, val_size=0.01, test_size=0.0, seed=0)
    assert (len(train), len(val), len(test)) == (2, 1, 0)


def test_split_too_small_names_the_count():
    pairs = ParallelText(["a", "b"], ["x", "y"], "tiny.tsv")
    with pytest.raises(UserError, match=r"^tiny\.tsv has 2 sentence pair\(s\): too few for "
                                        r"--test-size 0\.1 \(1 pair\(s\)\) and --val-size 0\.1"):
        split_parallel(pairs, val_size=0.1, test_size=0.1, seed=0)


def test_bundled_demo_set_is_german_to_english():
    pairs = read_parallel("multi30k-demo")
    assert len(pairs) == 5000 and pairs.source == "multi30k-demo"
    assert all(pairs.src) and all(pairs.tgt)
    assert (pairs.src[0], pairs.tgt[0]) == ("Ein Hund rennt durch das Gras.",
                                            "A dog running through the grass.")
    german = {"ein", "eine", "einem", "einer", "der", "die", "das", "mit", "und"}
    english = {"a", "an", "the", "with", "and", "of", "is", "are"}

    def share(texts: list[str], words: set[str]) -> float:
        return sum(bool(words & set(re.findall(r"\w+", t.lower()))) for t in texts) / len(texts)

    assert share(pairs.src, german) > 0.9 and share(pairs.tgt, english) > 0.9
    assert share(pairs.tgt, german) < 0.01
    frame = read_table(resolve_data("multi30k-demo"))
    assert list(frame.columns) == ["de", "en"] and len(frame) == 5000
    assert not frame.isna().any().any()
