"""Per-token attributions: completeness of integrated gradients, the sign of cue words, the
HTML / terminal renderings and the CLI."""

import pytest

from rnnlab.explain.attribution import attribute, integrated_gradients, to_html, to_terminal
from rnnlab.tasks.sentiment import SentimentClassifier


@pytest.fixture(scope="module")
def classifier(fitted_run):
    return SentimentClassifier.load(fitted_run)


def test_integrated_gradients_add_up_to_the_score_difference(classifier):
    ids = classifier.encode(["the plot was excellent but the ending was awful"])[0]
    scores, gap = integrated_gradients(classifier.net_, ids, target=1, steps=64)
    assert scores.shape == (len(ids),)
    assert gap < 0.02 * max(1.0, abs(scores.sum()))


@pytest.mark.parametrize("method", ["ig", "occlusion"])
def test_cue_words_push_towards_their_class(classifier, method):
    text = "the movie was excellent and the music was dreadful"
    result = attribute(classifier, text, method)
    assert result.label == "pos"
    by_token = dict(zip(result.tokens, result.scores, strict=True))
    assert by_token["excellent"] > 0 > by_token["dreadful"]
    strongest = sorted(by_token, key=lambda t: -abs(by_token[t]))[:2]
    assert set(strongest) == {"excellent", "dreadful"}


def test_renderings_colour_every_token(classifier):
    result = attribute(classifier, "a superb <b>cast</b>", "occlusion")
    snippet = to_html(result)
    assert snippet.count("<span") == len(result.tokens) == 3  # the tag is cleaned away
    assert "rgb(" in snippet
    line = to_terminal(result)
    assert line.plain.split() == result.tokens and len(line.spans) == 3


def test_explain_cli_prints_and_writes_html(cli, fitted_run, tmp_path):
    out = tmp_path / "why.html"
    result = cli(["sentiment", "explain", "--run", fitted_run, "a wonderful film",
                  "--out", out])
    assert result.code == 0, result.err
    assert "p(pos)" in result.out and "wonderful" in result.out
    assert "<span" in out.read_text()
    again = cli(["sentiment", "explain", "--run", fitted_run, "a film", "--out", out])
    assert again.code == 2 and "already exists" in again.err_lines[0]
    bad = cli(["sentiment", "explain", "--run", fitted_run, "x", "--method", "shap"])
    assert bad.code == 2 and "--method must be one of ig, occlusion" in bad.err_lines[0]


def test_a_backward_model_reads_reversed_ids_and_explains_tokens_in_text_order(tmp_path):
    from rnnlab.config import TrainConfig
    from rnnlab.tasks.sentiment import SentimentConfig
    from tests.tasks.sentiment.conftest import synthetic_reviews

    synthetic_reviews().to_csv(tmp_path / "reviews.csv", index=False)
    train = TrainConfig(epochs=3, patience=2, batch_size=32, lr=0.01, device="cpu", quiet=True)
    cfg = SentimentConfig(data=str(tmp_path / "reviews.csv"), embed=16, hidden=16,
                          bidirectional=False, backward=True, train=train)
    backward = SentimentClassifier(cfg).fit()
    assert backward.config.network_name == "lstm_backward"
    forward_ids = backward.tokenizer_.encode("the movie was excellent")
    assert backward.encode(["the movie was excellent"]) == [forward_ids[::-1]]
    result = attribute(backward, "the movie was excellent and the music was dreadful",
                       "occlusion")
    by_token = dict(zip(result.tokens, result.scores, strict=True))
    assert result.tokens[3] == "excellent" and by_token["excellent"] > 0 > by_token["dreadful"]
