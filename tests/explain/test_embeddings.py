"""`rnnlab explain embeddings` on a tiny language-model run and the shared sentiment run:
neighbours against a hand cosine computation, the map and JSON, unknown words and runs
without embeddings."""

import json

import numpy as np
import pytest

from rnnlab.explain.embeddings import load_table, nearest


def hand_cosines(vectors: np.ndarray, row: int) -> list[float]:
    """cos(a, b) = a.b / (|a| |b|), one pair at a time."""
    a = vectors[row]
    return [float(np.dot(a, b) / (np.sqrt(np.dot(a, a)) * np.sqrt(np.dot(b, b))))
            for b in vectors]


def test_nearest_tokens_match_a_hand_cosine_computation(lm_run):
    table = load_table(lm_run)
    assert "<pad>" not in table.tokens and "<eos>" not in table.tokens
    assert table.tokens[0] == "the"  # most frequent first
    row = table.index("cat")
    cosines = hand_cosines(table.vectors, row)
    cosines[row] = -np.inf
    best = int(np.argmax(cosines))
    found = nearest(table, row, 3)
    assert found[0] == (table.tokens[best], pytest.approx(cosines[best], abs=1e-9))
    assert [c for _, c in found] == sorted((c for _, c in found), reverse=True)
    assert "cat" not in [t for t, _ in found]
    assert table.index("CAT") == row  # the word vocabulary is lower-case


def test_cli_writes_map_json_and_page(cli, lm_run, tmp_path):
    out = tmp_path / "emb"
    result = cli(["explain", "embeddings", "--run", lm_run, "--words", "cat,dog,unicorn",
                  "--top", "3", "--out", out])
    assert result.code == 0, result.err
    assert "'unicorn' is not in the vocabulary" in result.out and "skipped" in result.out
    data = json.loads((out / "embeddings.json").read_text())
    assert data["job"] == "lm" and data["unknown_words"] == ["unicorn"]
    assert list(data["neighbours"]) == ["cat", "dog"]
    table = load_table(lm_run)
    cosines = hand_cosines(table.vectors, table.index("dog"))
    for entry in data["neighbours"]["dog"]:
        assert entry["cosine"] == pytest.approx(cosines[table.index(entry["token"])], abs=1e-9)
    points = data["map"]
    assert len(points["tokens"]) == len(points["x"]) == len(table.tokens)  # < --limit 300
    assert 1 <= points["perplexity"] <= 30
    assert (out / "plots" / "embeddings_map.png").read_bytes()[:4] == b"\x89PNG"
    assert "Nearest tokens" in (out / "report.html").read_text()


def test_sentiment_run_without_out_prints_the_table_only(cli, fitted_run, tmp_path):
    result = cli(["explain", "embeddings", "--run", fitted_run, "--words", "excellent",
                  "--top", "4"])
    assert result.code == 0, result.err
    assert "excellent" in result.out and "nearest" in result.out
    table = load_table(fitted_run)
    expected = nearest(table, table.index("excellent"), 4)
    assert all(token in result.out for token, _ in expected)


@pytest.mark.parametrize("args,words", [
    (["--words", "unicorn,griffin"], ["none of --words unicorn,griffin is in the vocabulary",
                                      "the most frequent: the"]),
    (["--top", "0"], ["--top must be >= 1"]),
])
def test_bad_words_and_options_are_one_error_line(cli, lm_run, tmp_path, args, words):
    result = cli(["explain", "embeddings", "--run", lm_run, *args, "--out", tmp_path / "e"])
    assert result.code == 2 and len(result.err_lines) == 1, result.err
    for word in words:
        assert word in result.err_lines[0]
    assert not (tmp_path / "e").exists()


def test_a_forecast_run_has_no_token_embeddings(cli, tmp_path):
    from pathlib import Path

    run = Path(__file__).parents[1] / "fixtures" / "legacy_runs" / "forecast"
    result = cli(["explain", "embeddings", "--run", run])
    assert result.code == 2 and len(result.err_lines) == 1
    assert "is a forecast run, which has no token embeddings" in result.err_lines[0]
    missing = cli(["explain", "embeddings", "--run", tmp_path / "nowhere"])
    assert missing.code == 2 and "does not exist" in missing.err_lines[0]
