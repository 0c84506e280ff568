"""Transfer learning: weights and vocabulary mapping from a language model, gradual unfreezing,
the label curve."""

import json

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from rnnlab.config import TrainConfig
from rnnlab.data.text import EOS, WordTokenizer
from rnnlab.models.lm import WordLanguageModel
from rnnlab.tasks.language import LanguageModel, LanguageModelConfig
from rnnlab.tasks.sentiment import SentimentClassifier, SentimentConfig
from rnnlab.tasks.sentiment.data import load_corpus
from rnnlab.tasks.sentiment.model import TextClassifierNet
from rnnlab.tasks.sentiment.transfer import mapped_embedding, transfer_weights, with_lm_words
from tests.tasks.sentiment.conftest import FAST, synthetic_reviews


def test_embedding_rows_are_mapped_by_token_and_unknown_tokens_get_the_mean():
    lm_tokenizer = WordTokenizer(min_freq=1, specials=[EOS]).fit(["good film", "bad film"])
    tokenizer = WordTokenizer(min_freq=1).fit(["film good zyzzyva"])
    lm_weight = torch.arange(lm_tokenizer.vocab_size * 2, dtype=torch.float).view(-1, 2)
    weight, coverage = mapped_embedding(lm_weight, lm_tokenizer, tokenizer)
    for word in ("film", "good"):
        assert weight[tokenizer.token_to_id(word)].tolist() == \
            lm_weight[lm_tokenizer.token_to_id(word)].tolist()
    assert weight[tokenizer.token_to_id("zyzzyva")].tolist() == lm_weight[1:].mean(0).tolist()
    assert weight[0].tolist() == [0.0, 0.0]
    assert coverage == pytest.approx(4 / 5)  # <pad>, <unk>, film, good found; zyzzyva not


def test_classifier_vocabulary_keeps_its_ids_and_adds_the_language_models_words():
    lm_tokenizer = WordTokenizer(min_freq=1, specials=[EOS]).fit(["good film", "bad film film"])
    tokenizer = WordTokenizer(min_freq=1).fit(["film good zyzzyva zyzzyva"])
    before = list(tokenizer.vocab.itos)
    extended = with_lm_words(tokenizer, lm_tokenizer)
    assert extended.vocab.itos[: len(before)] == before  # training ids unchanged
    assert extended.vocab.itos[len(before):] == [EOS, "bad"]  # LM words it lacked, LM order
    assert extended.encode("a bad film") == [1, extended.token_to_id("bad"),
                                             extended.token_to_id("film")]


def test_encoder_weights_are_copied_across_weight_drop_names():
    lm_tokenizer = WordTokenizer(min_freq=1, specials=[EOS]).fit(["a b c"])
    lm = WordLanguageModel(lm_tokenizer.vocab_size, embed=4, hidden=6, layers=2,
                           weight_drop=0.3)
    net = TextClassifierNet(lm_tokenizer.vocab_size, 2, embed=4, hidden=6, layers=2,
                            bidirectional=False, weight_drop=0.0)
    transfer_weights(net, lm, lm_tokenizer, lm_tokenizer)
    source = lm.body.encoder.rnn
    target = net.body.encoder.rnn
    torch.testing.assert_close(target.weight_hh_l1, source.weight_hh_l1_raw)
    torch.testing.assert_close(target.weight_ih_l0, source.weight_ih_l0)
    torch.testing.assert_close(net.body.embedding.weight[2:], lm.body.embedding.weight[2:])


@pytest.fixture(scope="module")
def pretrained_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lm")
    train = TrainConfig(epochs=2, batch_size=8, lr=0.01, device="cpu", quiet=True)
    lm = LanguageModel(LanguageModelConfig(embed=16, hidden=16, bptt=10, min_freq=1,
                                           train=train))
    lm.fit(synthetic_reviews(300, seed=5)["text"].tolist()).save(folder / "run" / "model")
    return folder / "run"


def test_first_fine_tuning_epoch_trains_only_the_head(pretrained_run, reviews_csv):
    train = TrainConfig(epochs=1, batch_size=32, lr=0.01, device="cpu", quiet=True)
    cfg = SentimentConfig(data=str(reviews_csv), pretrained=str(pretrained_run), train=train)
    corpus = load_corpus(cfg)
    lm_net = LanguageModel.load(pretrained_run).net_
    classifier = SentimentClassifier(cfg).fit(corpus)
    assert classifier.config.bidirectional is False and classifier.config.hidden == 16
    assert classifier.config.network_name == "pretrained_lstm"
    assert classifier.vocab_coverage_ == pytest.approx(1.0)
    encoder = classifier.net_.body.encoder.rnn
    torch.testing.assert_close(encoder.weight_ih_l0, lm_net.body.encoder.rnn.weight_ih_l0)
    tokenizer = classifier.tokenizer_
    row = tokenizer.token_to_id("excellent")
    lm_row = LanguageModel.load(pretrained_run).tokenizer_.token_to_id("excellent")
    torch.testing.assert_close(classifier.net_.body.embedding.weight[row],
                               lm_net.body.embedding.weight[lm_row])


def test_fit_with_pretrained_and_label_curve_cli(cli, pretrained_run, reviews_csv, tmp_path):
    result = cli(["sentiment", "label-curve", "--data", reviews_csv, "--pretrained",
                  pretrained_run, "--sizes", "60,all", "--out", tmp_path / "curve", *FAST])
    assert result.code == 0, result.err
    record = json.loads((tmp_path / "curve" / "metrics.json").read_text())
    examples = sorted({row["examples"] for row in record["curve"]})
    assert examples == [60, 384]
    models = {row["model"] for row in record["curve"]}
    assert models == {"bilstm", "pretrained_lstm", "tfidf_lr", "vader"}
    vader = [row["accuracy"] for row in record["curve"] if row["model"] == "vader"]
    assert np.ptp(vader) == 0  # no labels: the same at every size
    for name in ("label_curve.csv", "plots/label_curve_accuracy.png", "report.html"):
        assert (tmp_path / "curve" / name).is_file()


def test_pretrained_must_be_a_language_model_run(cli, reviews_csv, tmp_path):
    result = cli(["sentiment", "fit", "--data", reviews_csv, "--pretrained", tmp_path,
                  "--out", tmp_path / "run"])
    assert result.code == 2 and "--pretrained" in result.err_lines[0]


def _fit(data, pretrained=None, **options):
    train = TrainConfig(**{"epochs": 3, "patience": 3, "batch_size": 32, "lr": 0.01,
                           "device": "cpu", "quiet": True, **options.pop("train", {})})
    options = {"embed": 16, "hidden": 16, **options}
    return SentimentClassifier(SentimentConfig(data=str(data), pretrained=pretrained,
                                               train=train, **options)).fit()


def test_a_sentiment_run_passes_on_its_architecture_embedding_encoder_and_head(
        fitted_run, reviews_csv):
    source = SentimentClassifier.load(fitted_run)
    # one epoch trains only the head (gradual unfreezing), at a rate too small to move it
    tuned = _fit(reviews_csv, str(fitted_run), hidden=8, pooling="last", bidirectional=False,
                 train={"epochs": 1, "lr": 1e-7})
    for option in ("hidden", "pooling", "bidirectional", "embed", "layers", "head_hidden"):
        assert getattr(tuned.config, option) == getattr(source.config, option)
    assert tuned.config.network_name == "pretrained_bilstm"
    torch.testing.assert_close(tuned.net_.body.encoder.rnn.weight_hh_l0_reverse,
                               source.net_.body.encoder.rnn.weight_hh_l0_reverse)
    texts = synthetic_reviews(40, seed=9)["text"].tolist()
    # same classes: the head comes along, so it predicts what the source predicts
    np.testing.assert_allclose(tuned.predict_proba(texts), source.predict_proba(texts),
                               atol=1e-4)


def test_a_classifier_of_other_classes_lends_its_features_to_learn_from_few_labels(
        fitted_run, tmp_path):
    """Supervised transfer: other class names (a new head), 24 labelled texts."""
    data = tmp_path / "stars.csv"
    synthetic_reviews(480, seed=3, labels=("1 star", "5 stars")).to_csv(data, index=False)
    few = {"train_examples": 24, "train": {"epochs": 4, "patience": 4}}
    scratch, tuned = _fit(data, None, **few), _fit(data, str(fitted_run), **few)
    assert tuned.classes_ == ["1 star", "5 stars"] and tuned.split_["train"] < 24
    corpus = load_corpus(tuned.config)
    auc = {name: roc_auc_score(corpus.test_labels, model.predict_proba(corpus.test_texts)[:, 1])
           for name, model in (("scratch", scratch), ("tuned", tuned))}
    assert auc["tuned"] > 0.95 and auc["tuned"] > auc["scratch"] + 0.1, auc


def test_pretrained_folder_without_a_model_file_is_a_user_error(cli, reviews_csv, tmp_path):
    (tmp_path / "empty" / "model").mkdir(parents=True)
    result = cli(["sentiment", "fit", "--data", reviews_csv, "--pretrained", tmp_path / "empty",
                  "--out", tmp_path / "run"])
    assert result.code == 2 and len(result.err_lines) == 1
    assert "is not a run folder of `rnnlab lm fit` or `rnnlab sentiment fit`" in \
        result.err_lines[0]
