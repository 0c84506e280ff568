"""explain activations: the inspectable twin equals the fused layer, units are ranked by a
text signal as computed by hand, the page and JSON are written, bad input is one line."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import rnnlab
from rnnlab.explain.activations import rank_units, signal, trace_text
from rnnlab.models.cells import InspectableRNN

LEGACY = Path(__file__).parents[1] / "fixtures" / "legacy_runs"
TEXT = 'He said "yes" and\nshe said "no".\n' * 30


@pytest.fixture(scope="module", params=["lstm", "gru"])
def char_run(request, tmp_path_factory):
    from tests.conftest import run_cli

    folder = tmp_path_factory.mktemp(f"char-{request.param}")
    corpus = folder / "corpus.txt"
    corpus.write_text(TEXT, encoding="utf-8")
    result = run_cli(["lm", "fit", "--data", corpus, "--level", "char", "--model",
                      request.param, "--hidden", "12", "--embed", "6", "--layers", "2",
                      "--bptt", "16", "--epochs", "1", "--batch-size", "4", "--quiet",
                      "--weight-drop", "0.3", "--out", folder / "run"])
    assert result.code == 0, result.err
    return folder / "run"


def test_inspectable_cells_equal_the_fused_layers_outputs(char_run):
    model = rnnlab.load_run(char_run)
    trace = trace_text(model, TEXT[:200])
    assert trace.max_difference < 1e-5
    ids = torch.tensor([model.tokenizer_.encode(TEXT[:200])])
    with torch.no_grad():
        fused, _ = model.net_.body.forward_with_state(ids)
        twin, _ = InspectableRNN.from_fused(model.net_.body.encoder)(
            model.net_.body.embedding(ids))
    torch.testing.assert_close(twin, fused, atol=1e-5, rtol=0)
    last = trace.layers[-1]["h"]
    np.testing.assert_allclose(last, fused[0].numpy(), atol=1e-5)
    gates = {"lstm": {"i", "f", "o", "C"}, "gru": {"r", "z"}}[model.config.model]
    assert gates <= set(trace.layers[0])
    assert len(trace.guesses) == 200 and all(len(g) == 3 for g in trace.guesses)


def test_signals_and_the_ranking_are_what_they_say():
    assert signal('a"bc"d', "quotes").tolist() == [0, 1, 1, 1, 0, 0]
    assert signal("ab\ncd", "line-position").tolist() == [0, 1, 2, 0, 1]
    assert signal("xaay", "regex:a+").tolist() == [0, 1, 1, 0]
    rng = np.random.default_rng(0)
    target = rng.normal(size=50)
    states = rng.normal(size=(50, 4))
    states[:, 2] = -3 * target + 1  # perfectly anti-correlated
    ranking = rank_units(states, target)
    assert ranking[0][0] == 2 and ranking[0][1] == pytest.approx(-1.0)
    by_hand = np.corrcoef(states[:, 1], target)[0, 1]
    assert dict(ranking)[1] == pytest.approx(by_hand)


def test_explain_activations_writes_the_page_and_json(cli, char_run, tmp_path):
    text = tmp_path / "text.txt"
    text.write_text(TEXT[:120], encoding="utf-8")
    out = tmp_path / "act"
    result = cli(["explain", "activations", "--run", char_run, "--text", text, "--find",
                  "quotes", "--out", out])
    assert result.code == 0, result.err
    record = json.loads((out / "activations.json").read_text())
    assert record["fused_max_difference"] < 1e-5 and record["text"] == TEXT[:120]
    best = record["ranking"][0]["unit"]
    assert str(best) in record["units"] and len(record["units"][str(best)]["h" if record[
        "cell"] == "gru" else "C"]) == 120
    again = cli(["explain", "activations", "--run", char_run, "--text", text, "--find",
                 "quotes", "--out", out, "--overwrite"])
    assert again.code == 0, again.err  # its own output folder may be replaced
    page = (out / "activations.html").read_text()
    assert "correlation" in page and "next-character guesses" in page
    chosen = cli(["explain", "activations", "--run", char_run, "--text", text, "--units",
                  "0,5", "--out", tmp_path / "units"])
    assert chosen.code == 0, chosen.err
    assert set(json.loads((tmp_path / "units" / "activations.json").read_text())["units"]) == {
        "0", "5"}


def test_explain_activations_bad_input_is_one_line(cli, char_run, tmp_path):
    text = tmp_path / "text.txt"
    text.write_text("said €", encoding="utf-8")
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    good = tmp_path / "good.txt"
    good.write_text("he said", encoding="utf-8")
    for args, message in [
        (["--run", char_run, "--text", text], "never saw"),
        (["--run", char_run, "--text", empty], "empty"),
        (["--run", char_run, "--text", good, "--units", "99"], "--units 99"),
        (["--run", char_run, "--text", good, "--find", "commas"], "--find"),
        (["--run", char_run, "--text", good, "--find", "regex:("], "regular expression"),
        (["--run", LEGACY / "lm", "--text", good], "word-level"),
        (["--run", LEGACY / "sentiment", "--text", good], "SentimentClassifier"),
    ]:
        result = cli(["explain", "activations", *args, "--out", tmp_path / "x"])
        assert result.code == 2, (args, result.err)
        assert result.err.startswith("error: ") and message in result.err, result.err
        assert result.err.count("\n") == 1


def test_explain_tokens_is_the_sentiment_attribution(cli):
    text = "a gripping , moving film"
    ours = cli(["explain", "tokens", "--run", LEGACY / "sentiment", text])
    theirs = cli(["sentiment", "explain", "--run", LEGACY / "sentiment", text])
    assert ours.code == theirs.code == 0, ours.err + theirs.err
    assert ours.out == theirs.out and "gripping" in ours.out
    wrong = cli(["explain", "tokens", "--run", LEGACY / "lm", text])
    assert wrong.code == 2 and wrong.err.startswith("error: ") and wrong.err.count("\n") == 1
