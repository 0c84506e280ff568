"""Character-level language models and generation: the tokenizer keeps text byte for byte,
truncated BPTT keeps the text's order, sampling is seeded and respects temperature / top-k /
top-p, the reported numbers are what their definitions say, and bad input is one line."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnlab.config import TrainConfig
from rnnlab.data.chars import CharTokenizer
from rnnlab.data.text import tokenizer_from_dict
from rnnlab.models.sampling import choose_next, filter_logits
from rnnlab.tasks.language import LanguageModel, LanguageModelConfig
from rnnlab.tasks.language.baselines import kneser_ney_nll, unigram_nll
from rnnlab.tasks.language.data import BpttChunks, split_text
from rnnlab.tasks.language.generation import generate_tokens
from rnnlab.tasks.language.model import stream_nll

LEGACY = Path(__file__).parents[2] / "fixtures" / "legacy_runs"  # runs of each job
PATTERN = "abcabd\n" * 400  # after "ab", c and d alternate: a 3-character context decides


@given(st.text(min_size=1))
@settings(max_examples=200, deadline=None, derandomize=True)
def test_char_tokenizer_round_trips_any_unicode_text(text):
    tokenizer = CharTokenizer().fit([text])
    restored = tokenizer_from_dict(json.loads(json.dumps(tokenizer.to_dict())))
    decoded = restored.decode(restored.encode(text))
    assert decoded == text
    assert decoded.encode("utf-8", "surrogatepass") == text.encode("utf-8", "surrogatepass")


def test_char_tokenizer_keeps_layout_and_names_unseen_characters():
    text = "ROMEO:\n  Ça va?\r\n\tÉté\u00a0\u200b\n"
    tokenizer = CharTokenizer().fit([text])
    assert tokenizer.decode(tokenizer.encode(text)) == text  # no folding, no normalisation
    assert tokenizer.unseen("Ça€va😀") == ["€", "😀"]
    assert tokenizer.encode("€") == [1]  # <unk>


def test_truncated_bptt_chunks_keep_the_text_order_across_batches():
    stream = np.arange(1000)
    chunks = BpttChunks(stream, batch_size=4, bptt=16)
    rows = [torch.cat([chunks[i][0][r] for i in range(len(chunks))]) for r in range(4)]
    joined = torch.cat(rows).tolist()
    assert joined == list(range(len(joined)))  # row after row, chunk after chunk: the text
    for i in range(len(chunks)):
        inputs, targets, _ = chunks[i]
        assert (targets == inputs + 1).all()  # each target is the next character
    assert split_text("abcdefghij", 0.2) == ("abcdefgh", "ij")


class KnownModel(torch.nn.Module):
    """A 'language model' whose next-token distribution is fixed: softmax(LOGITS)."""

    LOGITS = torch.tensor([-9.0, -9.0, 2.0, 1.5, 1.0, 0.0, -1.0, -3.0])

    def forward(self, tokens, state=None):
        return self.LOGITS.expand(*tokens.shape, -1).clone(), state


@pytest.fixture
def known():
    tokenizer = CharTokenizer().fit(["abcdef"])  # ids 2..7 are characters
    return KnownModel(), tokenizer


def draw(model_tokenizer, n=400, **kwargs):
    model, tokenizer = model_tokenizer
    return [t.id for t in generate_tokens(model, tokenizer, "char", [2], n, **kwargs)]


def test_sampling_with_a_seed_repeats_and_temperature_zero_is_greedy(known):
    assert draw(known, temperature=1.0, seed=3) == draw(known, temperature=1.0, seed=3)
    assert draw(known, temperature=1.0, seed=3) != draw(known, temperature=1.0, seed=4)
    assert draw(known, temperature=0.0) == [int(KnownModel.LOGITS.argmax())] * 400
    logits = torch.randn(5, 11)
    assert choose_next(logits, 0.0).tolist() == logits.argmax(-1).tolist()


def test_top_k_and_top_p_never_leave_their_set(known):
    assert set(draw(known, temperature=1.0, top_k=2, seed=0)) == {2, 3}
    probabilities = KnownModel.LOGITS.softmax(-1)  # 2: .47, 3: .29, 4: .17, 5: .06, ...
    assert probabilities[2] + probabilities[3] < 0.8 < probabilities[2:5].sum()
    assert set(draw(known, temperature=1.0, top_p=0.8, seed=0)) == {2, 3, 4}
    assert set(draw(known, temperature=1.0, top_p=0.3, seed=0)) == {2}  # the top one stays
    assert set(draw(known, temperature=5.0, seed=0, n=2000)) == {2, 3, 4, 5, 6, 7}  # <pad>,
    # top-p applies to the top-k tokens renormalised: .47 / .93 = .51 for the first
    kept = filter_logits(KnownModel.LOGITS, top_k=3, top_p=0.5)  # <unk> never drawn
    assert torch.isfinite(kept).nonzero().flatten().tolist() == [2]
    kept = filter_logits(KnownModel.LOGITS, top_k=3, top_p=0.6)
    assert torch.isfinite(kept).nonzero().flatten().tolist() == [2, 3]


def test_kneser_ney_5gram_is_a_distribution_and_learns_a_long_context():
    rng = np.random.default_rng(0)
    train = np.concatenate([np.tile([2, 3, 4, 2, 3, 5], 50), rng.integers(2, 8, 100)])
    vocab = 8
    for history in ([2, 3, 4, 2], [7, 7, 7, 7], [0, 1, 0, 1]):  # seen, rare, never seen
        before = math.exp(-3 * kneser_ney_nll(train, np.array(history), vocab, 5))
        total = sum(math.exp(-4 * kneser_ney_nll(train, np.array([*history, w]), vocab, 5))
                    for w in range(vocab)) / before
        assert total == pytest.approx(1.0, abs=1e-9)
    test = np.tile([2, 3, 4, 2, 3, 5], 20)
    assert kneser_ney_nll(train, test, vocab, 5) < 0.3 * kneser_ney_nll(train, test, vocab, 2)
    assert kneser_ney_nll(train, test, vocab, 2) < unigram_nll(train, test, vocab)


@pytest.fixture(scope="module")
def char_lm():
    cfg = LanguageModelConfig(
        level="char", embed=16, hidden=48, bptt=24, dropout=0.0, weight_drop=0.0,
        input_dropout=0.0, output_dropout=0.0, embed_dropout=0.0, val_size=0.1,
        train=TrainConfig(epochs=25, patience=25, batch_size=8, lr=0.01, device="cpu",
                          quiet=True, seed=0))
    return LanguageModel(cfg).fit([PATTERN], source="pattern")


def test_a_char_model_learns_the_pattern_and_its_numbers_follow_their_definitions(char_lm):
    metrics = char_lm.metrics_["lstm"]
    assert metrics["bits"] == pytest.approx(metrics["nats"] / math.log(2))
    assert metrics["perplexity"] == pytest.approx(math.exp(metrics["nats"]))
    assert metrics["bits"] < 0.25 * char_lm.metrics_["unigram"]["bits"]
    # perplexity = exp(mean NLL), the NLL summed by hand over every next character
    text = "abcabd\nabcabd\n"
    ids = torch.tensor([char_lm.tokenizer_.encode(text)])
    with torch.no_grad():
        logits, _ = char_lm.net_(ids[:, :-1])
    log_p = torch.log_softmax(logits[0], -1)
    nll = -log_p[torch.arange(ids.size(1) - 1), ids[0, 1:]].mean()
    assert char_lm.perplexity([text]) == pytest.approx(math.exp(float(nll)), rel=1e-5)
    greedy = "".join(t.text for t in char_lm.generate("abcabd\nab", 12, temperature=0))
    assert greedy == "cabd\nabcabd\n"  # the pattern, continued


def test_stream_nll_carries_state_across_chunks(char_lm):
    ids = np.asarray(char_lm.tokenizer_.encode(PATTERN[:400]))
    whole = BpttChunks(ids, 1, 1000, min_columns=1)
    pieces = BpttChunks(ids, 1, 7, min_columns=1)
    assert stream_nll(char_lm.net_, pieces) == pytest.approx(stream_nll(char_lm.net_, whole),
                                                            rel=1e-5)


def test_char_fit_generate_and_errors_through_the_cli(cli, tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(PATTERN[:1400], encoding="utf-8")
    run = tmp_path / "run"
    result = cli(["lm", "fit", "--data", corpus, "--level", "char", "--hidden", "16",
                  "--embed", "8", "--bptt", "16", "--epochs", "2", "--batch-size", "4",
                  "--quiet", "--out", run])
    assert result.code == 0, result.err
    record = json.loads((run / "metrics.json").read_text())
    assert record["level"] == "char" and set(record["test"]) == {"lstm", "kn_5gram", "unigram"}
    assert "Sample" in (run / "report.html").read_text()
    args = ["lm", "generate", "--run", run, "--prompt", "ab", "--length", "30", "--seed", "5"]
    first, second = cli(args), cli(args)
    assert first.code == 0 and first.out == second.out and first.out.startswith("ab")
    assert len(first.out) == len("ab") + 30 + 1  # prompt, 30 characters, a final line break
    as_json = json.loads(cli([*args, "--json", "--num-samples", "2"]).out)
    assert [s["seed"] for s in as_json["samples"]] == [5, 6]
    assert as_json["samples"][0]["text"] == first.out[2:-1]
    assert all(t["logprob"] <= 0 for t in as_json["samples"][0]["tokens"])
    empty = tmp_path / "empty.txt"
    empty.write_text(" \n\n\t\n", encoding="utf-8")
    for bad, message in [
        (["lm", "fit", "--data", empty, "--level", "char"], "holds no text"),
        (["lm", "generate", "--run", run, "--length", "0"], "--length must be at least 1"),
        (["lm", "generate", "--run", run, "--prompt", "abz€"], "'z', '€'"),
        (["lm", "generate", "--run", run, "--top-p", "0"], "--top-p"),
        (["lm", "generate", "--run", run, "--temperature", "-1"], "--temperature"),
    ]:
        result = cli(bad)
        assert result.code == 2, (bad, result.err)
        assert result.err.startswith("error: ") and message in result.err
        assert result.err.count("\n") == 1


def test_a_sentiment_run_given_to_lm_generate_is_one_error_line(cli):
    result = cli(["lm", "generate", "--run", LEGACY / "sentiment", "--length", "5"])
    assert result.code == 2 and result.err.startswith("error: ")
    assert result.err.count("\n") == 1 and "sentiment" in result.err


def test_backward_models_do_not_generate(tmp_path):
    cfg = LanguageModelConfig(level="word", backward=True, min_freq=1, embed=8, hidden=8,
                              bptt=5, train=TrainConfig(epochs=1, batch_size=2, device="cpu",
                                                        quiet=True))
    lm = LanguageModel(cfg).fit(["the cat sat on the mat"] * 6 + ["a dog"] * 4)
    with pytest.raises(Exception, match="reads text backwards"):
        lm.generate("the", 5)
