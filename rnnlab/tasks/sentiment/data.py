"""Sentiment data: read labelled texts in any of the supported layouts, split, encode, batch.

Layouts of `--data` (and `--test`):
- a table (CSV / TSV / JSONL, optionally .gz) with `--text-col` and `--label-col`;
- a folder with one sub-folder of .txt files per class (`pos/*.txt`, `neg/*.txt`), or with
  `train/` and `test/` folders laid out that way (the original aclImdb release);
- line files, one text per line and one file per class: `--data rt-polarity.pos,rt-polarity.neg`
  or a folder holding just those files; the class is the file's extension (or its name).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split
from torch.utils.data import Dataset

from rnnlab.data.datasets import resolve_data
from rnnlab.data.io import TABLE_SUFFIXES, read_table, read_text
from rnnlab.data.text import (
    Tokenizer,
    is_blank,
    truncate,
)
from rnnlab.errors import UserError, check_columns, check_file
from rnnlab.tasks.sentiment.config import SentimentConfig

UNLABELLED_FOLDERS = ("unsup",)  # aclImdb's unlabelled reviews: not a class
LEAK_SHARE = 0.5  # this share of test texts also in training: the comparison is leaked


@dataclass
class LabelledTexts:
    """Texts and their labels (as strings) read from one source."""

    texts: list[str]
    labels: list[str]
    source: str
    where: list[str] = field(default_factory=list)  # "data row 3", "pos/12_9.txt", ... per text


@dataclass
class Corpus:
    """Train / validation / test texts with integer labels indexing `classes`."""

    classes: list[str]
    train_texts: list[str]
    train_labels: np.ndarray
    val_texts: list[str]
    val_labels: np.ndarray
    test_texts: list[str]
    test_labels: np.ndarray
    source: str
    test_source: str
    test_in_train: int = 0  # test texts that also occur verbatim in train / validation

    @property
    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train_texts), "val": len(self.val_texts),
                "test": len(self.test_texts), "test_in_train": self.test_in_train}

    @property
    def leaked(self) -> bool:
        """At least `LEAK_SHARE` of the test texts also occur in training / validation."""
        return self.test_in_train > 0 and self.test_in_train >= LEAK_SHARE * len(self.test_texts)

    def count_test_in(self, texts: list[str]) -> int:
        """Set `test_in_train` to the number of test texts that occur verbatim in `texts`."""
        seen = set(texts)
        self.test_in_train = sum(text in seen for text in self.test_texts)
        return self.test_in_train


# -- reading ---------------------------------------------------------------------------------
def read_labelled(spec: str, cfg: SentimentConfig) -> dict[str, LabelledTexts]:
    """{"all": texts} or {"train": ..., "test": ...} when the data carries its own split."""
    if "," in spec:
        return {"all": read_line_files([check_file(p.strip()) for p in spec.split(",")], cfg)}
    path = resolve_data(spec)
    if not path.is_dir():
        return {"all": read_labelled_table(path, cfg)}
    if (path / "train").is_dir() and (path / "test").is_dir():
        return {"train": read_class_folders(path / "train", cfg),
                "test": read_class_folders(path / "test", cfg)}
    if any(p.is_dir() for p in _visible(path)):
        return {"all": read_class_folders(path, cfg)}
    return {"all": read_line_files([p for p in _visible(path) if p.is_file()], cfg)}


def _visible(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


def read_labelled_table(path: Path, cfg: SentimentConfig) -> LabelledTexts:
    if path.suffix.lower() not in (*TABLE_SUFFIXES, ".gz"):
        raise UserError(f"{path} is not a table (.csv, .tsv, .jsonl); for one text per line and "
                        "one file per class give the files as --data a.pos,b.neg")
    frame = read_table(path, cfg.encoding)
    check_columns([cfg.text_col], list(frame.columns), path.name, "--text-col")
    check_columns([cfg.label_col], list(frame.columns), path.name, "--label-col")
    where = [f"data row {i + 1}" for i in range(len(frame))]
    labels = frame[cfg.label_col]
    _check_labels(labels, where, f"{path.name} column {cfg.label_col!r} (--label-col)")
    texts = ["" if pd.isna(t) else str(t) for t in frame[cfg.text_col]]
    result = LabelledTexts(texts, [_label_text(v) for v in labels], path.name, where)
    return _check_texts(result, f"column {cfg.text_col!r}")


def _check_labels(labels: pd.Series, where: list[str], column: str) -> None:
    """UserError for missing labels and for numbers that are not whole (scores, not classes)."""
    missing = np.flatnonzero(labels.isna().to_numpy())
    if len(missing) == len(labels):
        raise UserError(f"{column} has no labels at all (all {len(labels)} rows are empty); "
                        "give the column of class labels with --label-col")
    if len(missing):
        raise UserError(f"{column} has no label on {where[missing[0]]} ({len(missing)} rows in "
                        "all); fill or drop them")
    fractional = [i for i, v in enumerate(labels)
                  if isinstance(v, float) and not v.is_integer()]
    if fractional:
        first = fractional[0]
        raise UserError(f"{column} holds the number {labels.iloc[first]:g} on {where[first]} "
                        f"({len(fractional)} rows with fractions): labels are classes (names or "
                        "whole numbers); bin such scores into classes or choose another "
                        "--label-col")


def read_class_folders(folder: Path, cfg: SentimentConfig) -> LabelledTexts:
    texts, labels, where = [], [], []
    for class_dir in (p for p in _visible(folder) if p.is_dir()):
        if class_dir.name in UNLABELLED_FOLDERS:
            continue
        for file in sorted(p for p in class_dir.iterdir() if p.is_file()
                           and not p.name.startswith(".")):
            texts.append(read_text(file, cfg.encoding) if file.stat().st_size else "")
            labels.append(class_dir.name)
            where.append(f"{class_dir.name}/{file.name}")
    if not texts:
        raise UserError(f"{folder} has no class folders with text files (expected e.g. "
                        "pos/*.txt and neg/*.txt)")
    return _check_texts(LabelledTexts(texts, labels, folder.name, where), "the file")


def read_line_files(files: list[Path], cfg: SentimentConfig) -> LabelledTexts:
    """One text per non-blank line; the class is the file's extension (or its name)."""
    if len(files) < 2:
        raise UserError(f"line-file layout needs one file per class (at least 2); got "
                        f"{', '.join(map(str, files)) or 'none'}")
    texts, labels, where = [], [], []
    for file in files:
        label = file.suffix.lstrip(".") if file.suffix.lower() not in (".txt", "") else file.stem
        # split on "\n" only: str.splitlines also breaks at U+0085, which latin-1 text holds
        for number, line in enumerate(read_text(file, cfg.encoding).split("\n"), start=1):
            if line.strip():
                texts.append(line.strip())
                labels.append(label)
                where.append(f"line {number} of {file.name}")
    if len(set(labels)) < len(files):
        raise UserError(f"line files {', '.join(f.name for f in files)} do not give one class "
                        "each (name them by class, e.g. reviews.pos and reviews.neg)")
    return _check_texts(LabelledTexts(texts, labels, ",".join(f.name for f in files), where),
                        "the file")


def _label_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _check_texts(data: LabelledTexts, what: str) -> LabelledTexts:
    """UserError for a text with no tokens: empty, whitespace or HTML tags only."""
    empty = [i for i, text in enumerate(data.texts) if is_blank(text)]
    if empty:
        raise UserError(f"{data.source}: {data.where[empty[0]]} has an empty text in {what} "
                        f"({len(empty)} empty in all: nothing but whitespace or HTML tags); "
                        "remove those rows")
    return data


def check_new_texts(texts: list[str], where: list[str] | None = None) -> None:
    """Texts to classify must have tokens, as fit requires of its texts: UserError naming
    the first empty one by `where` (default: its position)."""
    empty = [i for i, text in enumerate(texts) if is_blank(text)]
    if empty:
        first = empty[0]
        place = where[first] if where else f"text {first + 1} of {len(texts)}"
        raise UserError(f"{place} is empty ({len(empty)} empty in all: nothing but whitespace "
                        "or HTML tags); a classifier needs words to score, as fit does: "
                        "remove it or give it some words")


# -- labels and splits -----------------------------------------------------------------------
def class_names(labels: list[str], source: str) -> list[str]:
    """Sorted distinct labels (numerically when all are integers); at least two."""
    names = sorted(set(labels))
    if all(_is_int(n) for n in names):
        names = sorted(names, key=int)
    if len(names) < 2:
        raise UserError(f"{source} has a single class ({names[0]!r}); a classifier needs at "
                        "least 2 (check --label-col)")
    return names


def _is_int(text: str) -> bool:
    return text.lstrip("-").isdigit()


def encode_labels(data: LabelledTexts, classes: list[str]) -> np.ndarray:
    index = {name: i for i, name in enumerate(classes)}
    unknown = [i for i, label in enumerate(data.labels) if label not in index]
    if unknown:
        first = unknown[0]
        raise UserError(
            f"{data.source}: label {data.labels[first]!r} ({data.where[first]}) never occurs in "
            f"the training data (labels: {', '.join(classes)}); drop those rows or relabel them"
        )
    return np.array([index[label] for label in data.labels], dtype=np.int64)


def _stratified(labels: np.ndarray, size: float | int, seed: int, what: str,
                classes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Indices (kept, held out), the held-out part stratified by label (ids into `classes`)."""
    counts = np.bincount(labels, minlength=len(classes))
    rare = np.flatnonzero(counts == 1)
    if len(rare):
        more = f" (and {len(rare) - 1} more classes)" if len(rare) > 1 else ""
        raise UserError(f"cannot split off the {what}: class {classes[rare[0]]!r} has only 1 "
                        f"example{more}; a stratified split needs at least 2 of each class: add "
                        "examples of it or drop its rows")
    try:
        return train_test_split(np.arange(len(labels)), test_size=size, random_state=seed,
                                stratify=labels)
    except ValueError as exc:
        raise UserError(f"cannot split off the {what}: {exc} (add examples or change the size)"
                        ) from None


def load_corpus(cfg: SentimentConfig) -> Corpus:
    """Read `cfg.data` (and `cfg.test`), then split train / validation / test as configured."""
    parts = read_labelled(cfg.data, cfg)
    train = parts.get("train", parts.get("all"))
    test = parts.get("test")
    if cfg.test:
        given = read_labelled(cfg.test, cfg)
        test = given.get("test", given.get("all"))
    return make_corpus(cfg, train, test)


def make_corpus(cfg: SentimentConfig, train: LabelledTexts, test: LabelledTexts | None
                ) -> Corpus:
    seed = cfg.train.seed
    classes = class_names(train.labels, train.source)
    labels = encode_labels(train, classes)
    texts = np.array(train.texts, dtype=object)
    if test is None:
        kept, held = _stratified(labels, cfg.test_size, seed,
                                 f"test split of {train.source} (--test-size)", classes)
        test_texts, test_labels = texts[held].tolist(), labels[held]
        texts, labels = texts[kept], labels[kept]
        test_source = f"{cfg.test_size:g} of {train.source} held out (stratified, seed {seed})"
    else:
        test_texts, test_labels = test.texts, encode_labels(test, classes)
        test_source = test.source if cfg.test else f"{train.source}'s own test split"
    fit_texts, fit_labels, val_texts, val_labels = split_training(
        texts.tolist(), labels, cfg.train_examples, cfg.val_size, seed, classes, train.source)
    corpus = Corpus(classes, fit_texts, fit_labels, val_texts, val_labels, list(test_texts),
                    np.asarray(test_labels), train.source, test_source)
    corpus.count_test_in(texts.tolist())
    return corpus


def leak_warning(corpus: Corpus, cfg: SentimentConfig) -> str | None:
    """The warning for a leaked test set (`Corpus.leaked`), else None."""
    if not corpus.leaked:
        return None
    files = [spec for spec in (cfg.data, cfg.test) if spec and "," not in spec]
    same = len(files) == 2 and resolve_data(cfg.test).resolve() == resolve_data(cfg.data).resolve()
    cause = f"--test {cfg.test} is the --data file itself: " if same else ""
    return (f"{cause}{corpus.test_in_train} of {len(corpus.test_texts)} test texts also occur "
            "in the training data, so the test scores are leaked; give test texts the models "
            "never trained on")


def split_training(texts: list[str], labels: np.ndarray, examples: int | None,
                   val_size: float, seed: int, classes: list[str], source: str = "the data"
                   ) -> tuple[list[str], np.ndarray, list[str], np.ndarray]:
    """Keep `examples` labelled texts (stratified; None: all), then split off the validation
    texts from those, so a run with N examples never sees more than N labels."""
    texts_array, labels = np.array(texts, dtype=object), np.asarray(labels)
    if examples is not None and examples < len(texts_array):
        source = f"{examples} training examples of {source}"
        kept, _ = _stratified(labels, len(texts_array) - examples, seed, source, classes)
        source = f"the {source}"
        texts_array, labels = texts_array[kept], labels[kept]
    n_classes = len(np.unique(labels))
    fit, val = _stratified(labels, max(val_size, n_classes / len(texts_array)), seed,
                           f"validation split of {source} (--val-size)", classes)
    return texts_array[fit].tolist(), labels[fit], texts_array[val].tolist(), labels[val]


def with_train_examples(corpus: Corpus, examples: int | None, val_size: float, seed: int
                        ) -> Corpus:
    """The same test texts; training + validation drawn from `examples` of the corpus's
    labelled training texts (train and validation pooled)."""
    texts = corpus.train_texts + corpus.val_texts
    labels = np.concatenate([corpus.train_labels, corpus.val_labels])
    fit_texts, fit_labels, val_texts, val_labels = split_training(texts, labels, examples,
                                                                  val_size, seed, corpus.classes,
                                                                  corpus.source)
    return Corpus(corpus.classes, fit_texts, fit_labels, val_texts, val_labels,
                  corpus.test_texts, corpus.test_labels, corpus.source, corpus.test_source,
                  corpus.test_in_train)


# -- encoding and batching -------------------------------------------------------------------
def encode_texts(tokenizer: Tokenizer, texts: list[str], max_len: int | None,
                 keep: str = "head", backward: bool = False) -> list[list[int]]:
    """Token ids of each text truncated to `max_len`; `backward`: then last token first."""
    ids = [truncate(tokenizer.encode(text), max_len, keep) for text in texts]
    return [i[::-1] for i in ids] if backward else ids


class EncodedTexts(Dataset):
    """Token id lists and their labels; items are (ids, label)."""

    def __init__(self, ids: list[list[int]], labels: np.ndarray) -> None:
        self.ids, self.labels = ids, np.asarray(labels)
        self.lengths = [max(1, len(i)) for i in ids]

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index: int) -> tuple[list[int], int]:
        return self.ids[index], int(self.labels[index])
