"""Hostile input to `rnnlab sentiment fit | evaluate | predict | label-curve | explain`: an
empty vocabulary, empty texts, labels that are no classes, classes too small to split, test
texts that are the training texts. Each ends as exactly one `error:` line with exit code 2, or
(a leaked test set) as a warning line and a verdict that says so."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from rnnlab.errors import UserError
from rnnlab.tasks.sentiment import SentimentClassifier
from rnnlab.tasks.sentiment.baselines import TfidfLogisticRegression
from rnnlab.tasks.sentiment.data import load_corpus
from rnnlab.tasks.sentiment.workflows import evaluate_run
from tests.tasks.sentiment.conftest import FAST, synthetic_reviews

LEAKED = "test texts also occur in the training data: this comparison is leaked."


def assert_one_error(result, *words):
    """Exit code 2, one stderr line `error: ...` holding every word, no traceback."""
    assert result.code == 2, (result.out, result.err)
    assert len(result.err_lines) == 1, result.err
    line = result.err_lines[0]
    assert line.startswith("error: ") and "Traceback" not in result.err + result.out
    for word in words:
        assert word in line, line


def _tables(tmp_path):
    """name -> (--data file, words its error must hold)."""
    good = synthetic_reviews(80)
    blank = good.copy()
    blank.loc[3, "text"] = "<br /><br /> &nbsp;"
    floats = good.assign(label=[0.5, 1.0] * 40)
    missing = good.assign(label=np.nan)
    rare = good.copy()
    rare.loc[7, "label"] = "neutral"
    frames = {"blank": (blank, ["data row 4 has an empty text", "HTML tags"]),
              "floats": (floats, ["column 'label'", "holds the number 0.5 on data row 1",
                                  "--label-col"]),
              "missing": (missing, ["column 'label'", "has no labels at all", "80 rows",
                                    "--label-col"]),
              "single": (good.assign(label="pos"), ["has a single class ('pos')"]),
              "rare": (rare, ["class 'neutral' has only 1 example", "test split"])}
    for name, (frame, _) in frames.items():
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
    return {name: (tmp_path / f"{name}.csv", words) for name, (_, words) in frames.items()}


@pytest.mark.parametrize("case", ["blank", "floats", "missing", "single", "rare"])
def test_bad_labels_and_texts_are_one_error_line(cli, tmp_path, case):
    data, words = _tables(tmp_path)[case]
    result = cli(["sentiment", "fit", "--data", data, "--out", tmp_path / "run", *FAST])
    assert_one_error(result, data.name, *words)
    assert not (tmp_path / "run").exists()


def test_a_line_file_line_of_html_tags_only_is_an_empty_text(cli, tmp_path):
    (tmp_path / "r.pos").write_text("a fine film\n<br />\nwarm\n" * 5, encoding="utf-8")
    (tmp_path / "r.neg").write_text("dull\nflat\n" * 5, encoding="utf-8")
    result = cli(["sentiment", "fit", "--data", f"{tmp_path / 'r.pos'},{tmp_path / 'r.neg'}",
                  "--out", tmp_path / "run", *FAST])
    assert_one_error(result, "line 2 of r.pos has an empty text")


@pytest.mark.parametrize("tokenizer,words", [
    ("word", ["--min-freq 100000", "the most frequent", "occurs", "--max-vocab 30000",
              "lower --min-freq to"]),
    ("bpe", ["--min-freq 100000", "pair of symbols", "single characters", "lower --min-freq"]),
])
def test_min_freq_above_every_count_is_an_empty_vocabulary(cli, reviews_csv, tmp_path,
                                                           tokenizer, words):
    result = cli(["sentiment", "fit", "--data", reviews_csv, "--tokenizer", tokenizer,
                  "--min-freq", "100000", "--out", tmp_path / "run", *FAST])
    assert_one_error(result, "the vocabulary is empty", *words)
    result = cli(["sentiment", "label-curve", "--data", reviews_csv, "--sizes", "100",
                  "--tokenizer", tokenizer, "--min-freq", "100000", "--out", tmp_path / "lc",
                  *FAST])
    assert_one_error(result, "the vocabulary is empty", "--min-freq 100000")


def test_a_class_too_small_for_the_validation_split_is_named(cli, tmp_path):
    train = synthetic_reviews(80)
    train.loc[5, "label"] = "neutral"
    train.to_csv(tmp_path / "train.csv", index=False)
    synthetic_reviews(20, seed=9).to_csv(tmp_path / "test.csv", index=False)
    result = cli(["sentiment", "fit", "--data", tmp_path / "train.csv", "--test",
                  tmp_path / "test.csv", "--out", tmp_path / "run", *FAST])
    assert_one_error(result, "validation split of train.csv (--val-size)",
                     "class 'neutral' has only 1 example", "add examples of it")


def test_predict_refuses_empty_texts_naming_their_place(cli, fitted_run, tmp_path):
    result = cli(["sentiment", "predict", "--run", fitted_run, "a superb film", "   "])
    assert_one_error(result, "text argument 2 is empty", "whitespace or HTML tags")
    (tmp_path / "texts.txt").write_text("a superb story\n\n<br />\nawful\n", encoding="utf-8")
    result = cli(["sentiment", "predict", "--run", fitted_run, "--file", tmp_path / "texts.txt"])
    assert_one_error(result, "line 3 of", "texts.txt is empty")  # blank line 2 is skipped
    result = cli(["sentiment", "explain", "--run", fitted_run, " "])
    assert_one_error(result, "no tokens")
    classifier = SentimentClassifier.load(fitted_run)
    with pytest.raises(UserError, match="text 2 of 2 is empty"):
        classifier.predict_proba(["good", ""])


def test_evaluate_names_a_class_the_model_never_saw(cli, fitted_run, tmp_path):
    frame = synthetic_reviews(60, seed=5)
    frame.loc[::3, "label"] = "neutral"
    frame.to_csv(tmp_path / "three.csv", index=False)
    result = cli(["sentiment", "evaluate", "--run", fitted_run, "--data", tmp_path / "three.csv"])
    assert_one_error(result, "'neutral'", "never saw", "neg, pos")
    result = cli(["sentiment", "evaluate", "--run", fitted_run, "--test", tmp_path / "three.csv"])
    assert_one_error(result, "label 'neutral'", "never occurs in the training data")


def test_evaluate_with_data_and_test_the_same_fits_tfidf_on_the_runs_training_texts(
        cli, fitted_run, tmp_path):
    synthetic_reviews(60, seed=5).to_csv(tmp_path / "new.csv", index=False)
    args = ["--data", tmp_path / "new.csv", "--test", tmp_path / "new.csv"]
    result = cli(["sentiment", "evaluate", "--run", fitted_run, *args])
    assert result.code == 0, result.err
    assert f"tfidf_lr: fitted on the 345 training texts of {fitted_run}" in result.out
    assert "warning" not in result.out  # new texts: nothing leaked
    evaluation = evaluate_run(fitted_run, *map(str, args[1::2]))
    classifier = SentimentClassifier.load(fitted_run)
    own = load_corpus(classifier.config)
    new = load_corpus(classifier.config.replace(data=str(tmp_path / "new.csv"),
                                                test=str(tmp_path / "new.csv")))
    cfg = classifier.config
    tfidf = TfidfLogisticRegression(cfg.tfidf_ngrams, cfg.tfidf_c, seed=cfg.train.seed)
    predicted = tfidf.fit(own.train_texts, own.train_labels).predict_proba(new.test_texts)
    accuracy = float(np.mean(predicted.argmax(1) == new.test_labels))
    assert evaluation.metrics["tfidf_lr"]["accuracy"] == pytest.approx(accuracy)


def test_evaluate_on_the_training_file_warns_and_says_leaked(cli, fitted_run):
    data = fitted_run.parent / "reviews.csv"  # the run's own --data
    result = cli(["sentiment", "evaluate", "--run", fitted_run, "--test", data])
    assert result.code == 0, result.err
    warnings = [line for line in result.out.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1 and "is the --data file itself" in warnings[0]
    assert "384 of 480 test texts also occur in the training data" in warnings[0]
    assert "384 of 480 " + LEAKED in " ".join(result.out.split())


def test_fit_with_test_equal_to_data_warns_before_training_and_says_leaked(cli, tmp_path):
    synthetic_reviews(120).to_csv(tmp_path / "r.csv", index=False)
    result = cli(["sentiment", "fit", "--data", tmp_path / "r.csv", "--test", tmp_path / "r.csv",
                  "--out", tmp_path / "run", *FAST, "--epochs", "1"])
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    warning = next(i for i, line in enumerate(lines) if line.startswith("warning: "))
    assert "--test" in lines[warning] and "120 of 120 test texts" in lines[warning]
    assert warning < next(i for i, line in enumerate(lines) if line.startswith("verdict"))
    record = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert record["verdict"].endswith("; 120 of 120 " + LEAKED)
    assert record["split"]["test_in_train"] == 120


def test_a_test_file_half_made_of_training_texts_is_leaked(tmp_path):
    from rnnlab.tasks.sentiment.config import SentimentConfig
    from rnnlab.tasks.sentiment.data import leak_warning

    train = synthetic_reviews(100, seed=3)
    train.to_csv(tmp_path / "train.csv", index=False)
    for overlap, leaked in ((10, True), (9, False)):
        test = pd.concat([synthetic_reviews(20 - overlap, seed=4), train.head(overlap)])
        test.to_csv(tmp_path / "test.csv", index=False)
        cfg = SentimentConfig(data=str(tmp_path / "train.csv"), test=str(tmp_path / "test.csv"))
        corpus = load_corpus(cfg)
        assert corpus.test_in_train == overlap and len(corpus.test_texts) == 20
        assert corpus.leaked is leaked and (leak_warning(corpus, cfg) is not None) is leaked


@pytest.mark.parametrize("sizes", ["", "0", "-5,all", "3"])
def test_label_curve_sizes_must_be_four_or_more_or_all(cli, reviews_csv, tmp_path, sizes):
    result = cli(["sentiment", "label-curve", "--data", reviews_csv, "--sizes", sizes,
                  "--out", tmp_path / "lc", *FAST])
    assert_one_error(result, "--sizes takes numbers or 'all'", "4 or more")


def test_explain_out_that_is_a_folder_is_refused(cli, fitted_run, tmp_path):
    (tmp_path / "why.html").mkdir()
    result = cli(["sentiment", "explain", "--run", fitted_run, "a superb film", "--out",
                  tmp_path / "why.html", "--overwrite"])
    assert_one_error(result, "why.html is a folder")
