"""End to end: the network learns, the run folder, predict / evaluate, save and load."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from rnnlab.tasks.sentiment import SentimentClassifier, SentimentConfig
from rnnlab.tasks.sentiment.data import load_corpus
from rnnlab.tasks.sentiment.evaluation import evaluate
from rnnlab.tasks.sentiment.workflows import evaluate_run
from tests.tasks.sentiment.conftest import FAST


@pytest.fixture
def fitted(reviews_csv, tiny_train):
    cfg = SentimentConfig(data=str(reviews_csv), embed=16, hidden=16, train=tiny_train)
    corpus = load_corpus(cfg)
    corpus.val_texts[0] += " quuxval"  # words that only held-out texts contain
    corpus.test_texts[0] += " zyzzyva"
    return SentimentClassifier(cfg).fit(corpus), corpus, cfg


def test_network_learns_separable_texts_and_its_auc_equals_scikit_learn(fitted):
    classifier, corpus, cfg = fitted
    evaluation = evaluate({"bilstm": classifier}, corpus, cfg)
    ours = evaluation.metrics["bilstm"]
    assert ours["auc"] > 0.9 and ours["accuracy"] > 0.8
    for name in ("bilstm", "tfidf_lr", "vader"):
        expected = roc_auc_score(corpus.test_labels, evaluation.scores[name])
        assert evaluation.metrics[name]["auc"] == pytest.approx(expected, abs=1e-12)
    history = classifier.fit_result_.history
    assert all("val_auc" in row for row in history)
    assert classifier.padding_ratio_ < 0.10


def test_vocabulary_is_fitted_on_the_training_split_only(fitted):
    classifier, corpus, _ = fitted
    vocab = classifier.tokenizer_.vocab
    train_words = {w for t in corpus.train_texts for w in t.split()}
    assert set(vocab.itos[2:]) == train_words  # min_freq 2: every filler / cue word is common
    assert "quuxval" not in vocab and "zyzzyva" not in vocab
    assert classifier.encode(["zyzzyva"]) == [[1]]  # <unk>


def test_save_and_load_give_the_same_probabilities(fitted, tmp_path):
    classifier, corpus, _ = fitted
    classifier.save(tmp_path / "model")
    again = SentimentClassifier.load(tmp_path)
    texts = corpus.test_texts[:20]
    np.testing.assert_allclose(again.predict_proba(texts), classifier.predict_proba(texts),
                               atol=1e-6)
    assert again.classes_ == ["neg", "pos"]


def test_fit_writes_the_run_folder(fitted_run):
    for name in ("config.yaml", "metrics.json", "report.html", "predictions.csv",
                 "model/weights.safetensors", "model/classifier.json", "plots/roc.png",
                 "plots/pr.png", "plots/confusion.png", "plots/loss_bilstm.png",
                 "plots/auc_bilstm.png"):
        assert (fitted_run / name).is_file(), name
    record = json.loads((fitted_run / "metrics.json").read_text())
    assert record["job"] == "sentiment"
    assert set(record["test"]) == {"bilstm", "tfidf_lr", "vader"}
    assert {"accuracy", "auc", "f1", "precision", "recall"} <= set(record["test"]["bilstm"])
    assert record["split"]["test"] == 96 and record["train_seconds"] > 0
    assert 0 <= record["padding_ratio"] < 0.1
    report = (fitted_run / "report.html").read_text()
    assert "vader" in report and "tfidf_lr" in report and "data:image/png;base64" in report


def test_predict_prints_label_and_probability_per_text(cli, fitted_run, tmp_path):
    result = cli(["sentiment", "predict", "--run", fitted_run, "--json",
                  "an excellent and wonderful film", "awful , boring and tedious"])
    assert result.code == 0, result.err
    rows = [json.loads(line) for line in result.out.splitlines()]
    assert [row["label"] for row in rows] == ["pos", "neg"]
    assert all(0.5 <= row["probability"] <= 1 for row in rows)
    (tmp_path / "texts.txt").write_text("a superb story\n\na dreadful plot\n", encoding="utf-8")
    result = cli(["sentiment", "predict", "--run", fitted_run, "--file", tmp_path / "texts.txt"])
    lines = result.out.splitlines()
    assert len(lines) == 2 and lines[0].startswith("pos\t") and lines[1].startswith("neg\t")


def test_evaluate_rescores_the_same_test_split(cli, fitted_run):
    record = json.loads((fitted_run / "metrics.json").read_text())
    result = cli(["sentiment", "evaluate", "--run", fitted_run])
    assert result.code == 0, result.err
    accuracy = record["test"]["bilstm"]["accuracy"]
    assert f"{accuracy:.4g}" in result.out and "vader" in result.out


def test_predict_with_a_folder_that_is_not_a_run_is_a_user_error(cli, tmp_path):
    result = cli(["sentiment", "predict", "--run", tmp_path, "good"])
    assert result.code == 2 and "is not a run folder" in result.err_lines[0]


def test_evaluate_and_predict_with_several_runs_use_their_mean(cli, fitted_run, tmp_path):
    data = fitted_run.parent / "reviews.csv"  # the fixture's training data
    gru = tmp_path / "gru"
    fitted = cli(["sentiment", "fit", "--data", data, "--out", gru, *FAST, "--model", "gru",
                  "--unidirectional"])
    assert fitted.code == 0, fitted.err
    result = cli(["sentiment", "evaluate", "--run", fitted_run, "--run", gru])
    assert result.code == 0, result.err
    evaluation = evaluate_run([fitted_run, gru])
    first, second = fitted_run.name, "gru"
    assert list(evaluation.metrics)[:3] == [first, second, "ensemble"]
    # the ensemble row = the mean of the two runs' saved test probabilities, scored by hand
    a = pd.read_csv(fitted_run / "predictions.csv")
    b = pd.read_csv(gru / "predictions.csv")
    mean = (a["bilstm_score"] + b["gru_score"]) / 2
    truth = (a["label"] == "pos").to_numpy()
    ensemble = evaluation.metrics["ensemble"]
    assert ensemble["accuracy"] == pytest.approx(((mean > 0.5) == truth).mean())
    assert ensemble["auc"] == pytest.approx(roc_auc_score(truth, mean), abs=1e-4)
    assert evaluation.verdict.startswith("ensemble ")
    assert "ensemble" in result.out
    # predict with both runs: the mean of each run's probabilities
    text = "a wonderful movie with a dreadful ending"
    single = [json.loads(cli(["sentiment", "predict", "--run", run, "--json", text]).out)
              for run in (fitted_run, gru)]
    both = json.loads(cli(["sentiment", "predict", "--run", fitted_run, "--run", gru, "--json",
                           text]).out)
    for label in ("neg", "pos"):
        expected = (single[0]["probabilities"][label] + single[1]["probabilities"][label]) / 2
        assert both["probabilities"][label] == pytest.approx(expected, abs=1e-9)


def test_evaluate_refuses_runs_tested_on_different_texts(cli, fitted_run, tmp_path):
    data = fitted_run.parent / "reviews.csv"
    other = tmp_path / "other"
    assert cli(["sentiment", "fit", "--data", data, "--out", other, *FAST, "--epochs", "1",
                "--test-size", "0.3"]).code == 0
    result = cli(["sentiment", "evaluate", "--run", fitted_run, "--run", other])
    assert result.code == 2 and len(result.err_lines) == 1
    assert "was tested on other texts" in result.err_lines[0]
    result = cli(["sentiment", "evaluate", "--run", fitted_run, "--run", fitted_run])
    assert result.code == 2 and "given twice" in result.err_lines[0]
