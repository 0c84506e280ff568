"""Hostile input to `rnnlab lm pretrain | evaluate`: an empty vocabulary (--min-freq above every
count, texts with no tokens), an empty file, a file of words the model never saw. Each ends as
exactly one `error:` line with exit code 2."""

from __future__ import annotations

import pytest

from tests.tasks.language.test_language_model import SENTENCES
from tests.tasks.sentiment.test_hostile import assert_one_error

TINY = ["--epochs", "1", "--embed", "8", "--hidden", "8", "--bptt", "6", "--batch-size", "4",
        "--min-freq", "1", "--device", "cpu", "--quiet"]


@pytest.mark.parametrize("tokenizer,words", [
    ("word", ["no token of the training texts occurs --min-freq 1000 times",
              "the most frequent, 'the', occurs", "--max-vocab 20000"]),
    ("bpe", ["no pair of symbols", "--min-freq 1000", "single characters"]),
])
def test_pretrain_with_min_freq_above_every_count_is_refused(cli, tmp_path, tokenizer, words):
    (tmp_path / "corpus.txt").write_text("\n".join(SENTENCES * 20), encoding="utf-8")
    result = cli(["lm", "pretrain", "--data", tmp_path / "corpus.txt", "--out", tmp_path / "lm",
                  *TINY, "--tokenizer", tokenizer, "--min-freq", "1000"])
    assert_one_error(result, "the vocabulary is empty", *words, "lower --min-freq")
    assert not (tmp_path / "lm").exists()


@pytest.mark.parametrize("tokenizer", ["word", "bpe"])
def test_pretrain_on_texts_without_tokens_is_refused(cli, tmp_path, tokenizer):
    (tmp_path / "tags.txt").write_text("<br />\n<p> &nbsp; </p>\n" * 20, encoding="utf-8")
    result = cli(["lm", "pretrain", "--data", tmp_path / "tags.txt", "--out", tmp_path / "lm",
                  *TINY, "--tokenizer", tokenizer])
    assert_one_error(result, "tags.txt has 0 non-empty document(s)", "HTML tags",
                     "at least 2")


@pytest.mark.parametrize("content,words", [
    ("", ["empty.txt", "is empty"]),
    ("\n  \n<br />\n", ["empty.txt has 0 non-empty document(s)", "some to score"]),
    ("zyzzyva quux\nfoo bar baz\n", ["none of the 5 tokens of empty.txt", "vocabulary",
                                     "<unk>"]),
])
def test_evaluate_on_text_without_known_tokens_is_one_error_line(cli, lm_run, tmp_path,
                                                                 content, words):
    (tmp_path / "empty.txt").write_text(content, encoding="utf-8")
    result = cli(["lm", "evaluate", "--run", lm_run, "--data", tmp_path / "empty.txt"])
    assert_one_error(result, *words)


def test_evaluate_scores_a_single_one_word_document(cli, lm_run, tmp_path):
    (tmp_path / "one.txt").write_text("cat\n", encoding="utf-8")
    result = cli(["lm", "evaluate", "--run", lm_run, "--data", tmp_path / "one.txt"])
    assert result.code == 0, result.err
    assert "perplexity of" in result.out and "0.0% of tokens unknown" in result.out
