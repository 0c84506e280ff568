"""Reading every supported layout, splitting, and the one-line errors for bad input."""

import json

import numpy as np
import pandas as pd
import pytest

from rnnlab.errors import UserError
from rnnlab.tasks.sentiment.config import SentimentConfig
from rnnlab.tasks.sentiment.data import load_corpus, with_train_examples
from tests.tasks.sentiment.conftest import synthetic_reviews


def _config(data, **changes) -> SentimentConfig:
    return SentimentConfig(data=str(data), **changes)


def test_table_is_split_stratified_into_train_validation_test(reviews_csv):
    corpus = load_corpus(_config(reviews_csv, test_size=0.25, val_size=0.1))
    assert corpus.classes == ["neg", "pos"]
    assert len(corpus.test_texts) == 120 and len(corpus.val_texts) == 36
    assert len(corpus.train_texts) == 480 - 120 - 36
    for labels in (corpus.train_labels, corpus.val_labels, corpus.test_labels):
        assert abs(np.mean(labels) - 0.5) < 0.05
    assert not set(corpus.test_texts) & set(corpus.train_texts + corpus.val_texts)


def test_train_examples_caps_labelled_texts_including_validation(reviews_csv):
    corpus = load_corpus(_config(reviews_csv, train_examples=100))
    assert len(corpus.train_texts) + len(corpus.val_texts) == 100
    again = with_train_examples(corpus, 40, 0.1, seed=0)
    assert len(again.train_texts) + len(again.val_texts) == 40
    assert again.test_texts == corpus.test_texts


def test_tsv_and_jsonl_with_integer_labels_and_three_classes(tmp_path):
    frame = synthetic_reviews(90)
    frame["label"] = [i % 3 for i in range(90)]
    frame.to_csv(tmp_path / "r.tsv", sep="\t", index=False)
    with open(tmp_path / "r.jsonl", "w", encoding="utf-8") as handle:
        for row in frame.to_dict("records"):
            handle.write(json.dumps(row) + "\n")
    for name in ("r.tsv", "r.jsonl"):
        corpus = load_corpus(_config(tmp_path / name, test_size=0.2))
        assert corpus.classes == ["0", "1", "2"]
        assert sorted(set(corpus.test_labels.tolist())) == [0, 1, 2]


def _write_class_folders(root, frame):
    for i, row in frame.iterrows():
        folder = root / row["label"]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{i}_7.txt").write_text(row["text"] + "<br /><br />end", encoding="utf-8")


def test_imdb_style_train_and_test_folders_keep_their_own_split(tmp_path):
    _write_class_folders(tmp_path / "aclImdb" / "train", synthetic_reviews(40, seed=1))
    _write_class_folders(tmp_path / "aclImdb" / "test", synthetic_reviews(20, seed=2))
    (tmp_path / "aclImdb" / "train" / "unsup").mkdir()  # unlabelled reviews are skipped
    (tmp_path / "aclImdb" / "train" / "unsup" / "0_0.txt").write_text("x", encoding="utf-8")
    corpus = load_corpus(_config(tmp_path / "aclImdb"))
    assert corpus.classes == ["neg", "pos"]
    assert len(corpus.test_texts) == 20
    assert len(corpus.train_texts) + len(corpus.val_texts) == 40
    assert "own test split" in corpus.test_source


def test_line_files_one_class_each_in_cp1252_split_only_at_newlines(tmp_path):
    # 0x85 is "..." in cp1252 but NEL (a line break for str.splitlines) in latin-1
    (tmp_path / "rt.pos").write_bytes(b"a fine film \x85 really\nwarm and funny\n" * 10)
    (tmp_path / "rt.neg").write_bytes(b"dull\n\ncaf\xe9 talk , flat\n" * 10)
    data = f"{tmp_path / 'rt.pos'},{tmp_path / 'rt.neg'}"
    corpus = load_corpus(_config(data, encoding="cp1252", test_size=0.25))
    texts = corpus.train_texts + corpus.val_texts + corpus.test_texts
    assert len(texts) == 40  # blank lines skipped, no extra split at 0x85
    assert "a fine film \u2026 really" in texts and "caf\u00e9 talk , flat" in texts
    assert corpus.classes == ["neg", "pos"]


def test_test_file_and_overlap_with_training_texts_is_counted(tmp_path):
    train = synthetic_reviews(60, seed=3)
    test = pd.concat([synthetic_reviews(20, seed=4), train.head(3)])
    train.to_csv(tmp_path / "train.csv", index=False)
    test.to_csv(tmp_path / "test.csv", index=False)
    corpus = load_corpus(_config(tmp_path / "train.csv", test=str(tmp_path / "test.csv")))
    assert len(corpus.test_texts) == 23 and corpus.test_in_train == 3


# -- bad input: one `error:` line, exit code 2 -------------------------------------------------
def _bad_inputs(tmp_path):
    good = synthetic_reviews(40)
    good.to_csv(tmp_path / "good.csv", index=False)
    empty = good.copy()
    empty.loc[5, "text"] = "   "
    empty.to_csv(tmp_path / "empty.csv", index=False)
    single = good.assign(label="pos")
    single.to_csv(tmp_path / "single.csv", index=False)
    unknown = good.head(10).copy()
    unknown.loc[2, "label"] = "neutral"
    unknown.to_csv(tmp_path / "unknown.csv", index=False)
    (tmp_path / "latin.csv").write_bytes(b"text,label\ngood film,pos\ncaf\xe9,neg\n")
    return {
        "missing column": (["--data", tmp_path / "good.csv", "--text-col", "review"],
                           "has no column 'review' (given by --text-col)"),
        "empty text": (["--data", tmp_path / "empty.csv"], "data row 6 has an empty text"),
        "single class": (["--data", tmp_path / "single.csv"], "has a single class ('pos')"),
        "unknown test label": (["--data", tmp_path / "good.csv", "--test",
                                tmp_path / "unknown.csv"],
                               "label 'neutral' (data row 3) never occurs in the training"),
        "not utf-8": (["--data", tmp_path / "latin.csv"],
                      "is not valid utf-8 (byte 0xe9 on line 3)"),
        "missing file": (["--data", tmp_path / "nope.csv"], "does not exist"),
        "bad option": (["--data", tmp_path / "good.csv", "--pooling", "median"],
                       "--pooling must be one of last, maxmean, concat"),
    }


@pytest.mark.parametrize("case", ["missing column", "empty text", "single class",
                                  "unknown test label", "not utf-8", "missing file",
                                  "bad option"])
def test_bad_input_gives_one_error_line_and_exit_2(cli, tmp_path, case):
    args, message = _bad_inputs(tmp_path)[case]
    result = cli(["sentiment", "fit", *args, "--out", tmp_path / "run", "--device", "cpu"])
    assert result.code == 2
    assert len(result.err_lines) == 1 and result.err_lines[0].startswith("error: ")
    assert message in result.err_lines[0]
    assert not (tmp_path / "run").exists()


def test_non_utf8_error_suggests_an_encoding_that_then_works(tmp_path):
    (tmp_path / "latin.csv").write_bytes(b"text,label\n" + b"caf\xe9 ok,pos\nbad,neg\n" * 10)
    with pytest.raises(UserError, match="--encoding cp1252"):
        load_corpus(_config(tmp_path / "latin.csv"))
    corpus = load_corpus(_config(tmp_path / "latin.csv", encoding="cp1252"))
    assert "caf\u00e9 ok" in corpus.train_texts + corpus.val_texts + corpus.test_texts
