"""Language model: BPTT chunks, the count baselines, learning, tied weights, the CLI."""

import json

import numpy as np
import pytest
import torch

from rnnlab.config import TrainConfig
from rnnlab.data.text import EOS, WordTokenizer
from rnnlab.models.lm import WordLanguageModel, load_language_model, sampled_softmax_loss
from rnnlab.tasks.language import LanguageModel, LanguageModelConfig
from rnnlab.tasks.language.baselines import kneser_ney_bigram_nll, unigram_nll
from rnnlab.tasks.language.data import BpttChunks, ChunkCycle, split_documents, token_stream

SENTENCES = ["the cat sat on the mat", "a dog ran in the park", "the bird sang in a tree",
             "my cat sat in the sun", "the dog sat on a mat"]


def test_bptt_chunks_are_next_token_pairs_that_continue_row_by_row():
    stream = np.arange(23)
    chunks = BpttChunks(stream, batch_size=2, bptt=4)
    assert len(chunks) == 3  # 11 columns per row: chunks of 4, 4, 3
    inputs, targets, previous = chunks[0]
    assert inputs.tolist() == [[0, 1, 2, 3], [11, 12, 13, 14]]
    assert targets.tolist() == [[1, 2, 3, 4], [12, 13, 14, 15]]
    assert previous.tolist() == [[-100, 0, 1, 2], [10, 11, 12, 13]]
    assert chunks[1][0][:, 0].tolist() == [4, 15]  # row r of chunk 1 continues row r of chunk 0
    assert chunks[2][0].shape == (2, 3)


def test_token_stream_ends_every_document_with_eos():
    tokenizer = WordTokenizer(min_freq=1, specials=[EOS]).fit(["a b", "b c"])
    eos = tokenizer.token_to_id(EOS)
    assert token_stream(tokenizer, ["a b", "c"]).tolist() == [
        tokenizer.token_to_id("a"), tokenizer.token_to_id("b"), eos,
        tokenizer.token_to_id("c"), eos]
    train, val = split_documents([f"doc {i}" for i in range(20)], 0.25, seed=0)
    assert len(val) == 5 and not set(train) & set(val)


def test_kneser_ney_bigram_is_a_distribution_and_beats_unigram_on_structured_text():
    rng = np.random.default_rng(0)
    train = np.concatenate([np.tile([2, 3, 4, 5, 6], 40), rng.integers(2, 9, 50)])
    vocab = 10
    for history in (2, 7, 9):  # seen, rarely seen and never seen histories
        total = sum(np.exp(-kneser_ney_bigram_nll(train, np.array([history, w]), vocab))
                    for w in range(vocab))
        assert total == pytest.approx(1.0, abs=1e-9)
    test = np.tile([2, 3, 4, 5, 6], 10)
    assert kneser_ney_bigram_nll(train, test, vocab) < 0.5 * unigram_nll(train, test, vocab)
    # add-one unigram: (count + 1) / (tokens + vocabulary size)
    counts = np.bincount(train, minlength=vocab) + 1
    assert unigram_nll(train, np.array([0, 2]), vocab) == pytest.approx(
        -np.log(counts[2] / counts.sum()))


@pytest.fixture(scope="module")
def small_lm():
    train = TrainConfig(epochs=4, patience=4, batch_size=4, lr=0.01, device="cpu", quiet=True)
    cfg = LanguageModelConfig(embed=16, hidden=32, bptt=8, min_freq=1, val_size=0.1,
                              weight_drop=0.2, train=train)
    return LanguageModel(cfg).fit(SENTENCES * 40, "sentences")


def test_language_model_learns_and_beats_the_unigram(small_lm):
    metrics = small_lm.metrics_
    assert metrics["lstm"]["perplexity"] < 0.5 * metrics["unigram"]["perplexity"]
    # every epoch validated and trained on with weight-drop (DropConnect) switched on and off
    assert len(small_lm.fit_result_.history) == 4
    assert small_lm.perplexity(["the cat sat on the mat"]) < small_lm.perplexity(
        ["mat the on sat cat the"])


def test_tied_embedding_survives_save_and_load(small_lm, tmp_path):
    net = small_lm.net_
    assert net.decoder.weight is net.body.embedding.weight
    small_lm.save(tmp_path / "model")
    loaded, tokenizer, state = load_language_model(tmp_path)
    assert loaded.decoder.weight is loaded.body.embedding.weight
    tokens = torch.tensor([small_lm.tokenizer_.encode("the dog sat")])
    with torch.no_grad():
        torch.testing.assert_close(loaded(tokens)[0], net(tokens)[0])
    assert state["architecture"]["tie"] and tokenizer.vocab_size == net.decoder.out_features


def test_projection_is_added_when_hidden_differs_from_embed():
    net = WordLanguageModel(20, embed=6, hidden=10)
    logits, state = net(torch.zeros(2, 5, dtype=torch.long))
    assert logits.shape == (2, 5, 20) and net.projection is not None
    assert state[0].shape == (1, 2, 10)


def test_pretrain_cli_writes_a_run_with_perplexities(cli, tmp_path):
    (tmp_path / "corpus.txt").write_text("\n".join(SENTENCES * 20), encoding="utf-8")
    result = cli(["lm", "pretrain", "--data", tmp_path / "corpus.txt", "--out", tmp_path / "lm",
                  "--epochs", "1", "--embed", "8", "--hidden", "8", "--bptt", "6",
                  "--min-freq", "1", "--batch-size", "4", "--device", "cpu", "--quiet",
                  "--epoch-tokens", "200"])
    assert result.code == 0, result.err
    record = json.loads((tmp_path / "lm" / "metrics.json").read_text())
    assert record["job"] == "lm"
    assert set(record["test"]) == {"lstm", "kn_bigram", "unigram"}
    assert all(v["perplexity"] > 1 for v in record["test"].values())
    assert (tmp_path / "lm" / "report.html").is_file()
    result = cli(["lm", "evaluate", "--run", tmp_path / "lm", "--data", tmp_path / "corpus.txt"])
    assert result.code == 0 and "perplexity" in result.out


def test_pretrain_on_a_missing_column_is_a_user_error(cli, tmp_path):
    (tmp_path / "t.csv").write_text("review\nnice\nbad\n", encoding="utf-8")
    result = cli(["lm", "pretrain", "--data", tmp_path / "t.csv", "--out", tmp_path / "lm"])
    assert result.code == 2 and "has no column 'text' (given by --text-col)" in result.err


def test_sampled_softmax_equals_full_cross_entropy_when_every_word_is_a_candidate():
    torch.manual_seed(0)
    decoder = torch.nn.Linear(4, 12)
    features, targets = torch.randn(30, 4), torch.randint(0, 12, (30,))
    frequencies = torch.full((12,), 1 / 12)
    sampled = sampled_softmax_loss(features, targets, decoder, frequencies, samples=5000)
    full = torch.nn.functional.cross_entropy(decoder(features), targets)
    torch.testing.assert_close(sampled, full, atol=1e-4, rtol=0)
    wide = torch.nn.Linear(4, 500)  # 30 targets + 2 samples out of 500 words
    few = sampled_softmax_loss(features, targets, wide, torch.full((500,), 1 / 500), samples=2)
    assert few < torch.nn.functional.cross_entropy(wide(features), targets)


def test_language_model_trained_with_sampled_softmax_beats_the_unigram():
    train = TrainConfig(epochs=4, patience=4, batch_size=4, lr=0.01, device="cpu", quiet=True)
    cfg = LanguageModelConfig(embed=16, hidden=32, bptt=8, min_freq=1, sampled_softmax=5,
                              train=train)
    lm = LanguageModel(cfg).fit(SENTENCES * 40)
    assert lm.metrics_["lstm"]["perplexity"] < 0.5 * lm.metrics_["unigram"]["perplexity"]


def test_chunk_cycle_goes_on_where_the_last_epoch_stopped():
    sampler = ChunkCycle(5, per_epoch=3)
    assert [list(sampler) for _ in range(3)] == [[0, 1, 2], [3, 4, 0], [1, 2, 3]]
    assert len(sampler) == 3 and list(ChunkCycle(4)) == [0, 1, 2, 3]


def test_bidirectional_language_model_never_lets_the_forward_direction_see_ahead():
    torch.manual_seed(0)
    net = WordLanguageModel(30, embed=6, hidden=8, bidirectional=True).eval()
    tokens = torch.randint(2, 30, (2, 9))
    changed = tokens.clone()
    changed[:, 5:] = 3  # a different future from step 5 on
    with torch.no_grad():
        torch.testing.assert_close(net(tokens)[0][:, :5], net(changed)[0][:, :5])
        features, state = net.features(tokens)
    assert features.shape == (2, 9, 2, 6)
    carried = net.carry(state)
    assert carried[0][1].abs().sum() == 0 and carried[0][0].abs().sum() > 0
    with pytest.raises(ValueError, match="one layer"):
        WordLanguageModel(30, layers=2, bidirectional=True)


def test_bidirectional_pretraining_initialises_both_directions_of_the_classifier(tmp_path):
    from rnnlab.tasks.sentiment import SentimentClassifier, SentimentConfig
    from tests.tasks.sentiment.conftest import synthetic_reviews

    train = TrainConfig(epochs=4, batch_size=4, lr=0.01, device="cpu", quiet=True)
    lm = LanguageModel(LanguageModelConfig(embed=16, hidden=32, bptt=8, min_freq=1,
                                           bidirectional=True, train=train))
    lm.fit(SENTENCES * 40)
    assert lm.metrics_["lstm"]["perplexity"] < 0.5 * lm.metrics_["unigram"]["perplexity"]
    texts = synthetic_reviews(200, seed=1)
    lm.save(tmp_path / "lm" / "model")
    texts.to_csv(tmp_path / "reviews.csv", index=False)
    cfg = SentimentConfig(data=str(tmp_path / "reviews.csv"), pretrained=str(tmp_path / "lm"),
                          train=train.__class__(epochs=1, device="cpu", quiet=True))
    classifier = SentimentClassifier(cfg).fit()
    assert classifier.config.bidirectional and classifier.config.network_name == \
        "pretrained_bilstm"
    source, target = lm.net_.body.encoder.rnn, classifier.net_.body.encoder.rnn
    torch.testing.assert_close(target.weight_ih_l0_reverse, source.weight_ih_l0_reverse)
    torch.testing.assert_close(target.weight_hh_l0_reverse, source.weight_hh_l0_reverse_raw)


def test_slanted_schedule_runs_over_token_epochs_and_the_model_still_learns():
    train = TrainConfig(epochs=3, patience=3, batch_size=4, lr=0.01, device="cpu", quiet=True)
    cfg = LanguageModelConfig(embed=16, hidden=32, bptt=8, min_freq=1, val_size=0.1,
                              epoch_tokens=600, schedule="slanted", train=train)
    lm = LanguageModel(cfg).fit(SENTENCES * 40, "sentences")
    assert len(lm.fit_result_.history) == 3
    assert lm.metrics_["lstm"]["perplexity"] < 0.5 * lm.metrics_["unigram"]["perplexity"]


def test_unknown_schedule_is_a_user_error(cli, tmp_path):
    result = cli(["lm", "pretrain", "--schedule", "cosine", "--out", tmp_path / "lm"])
    assert result.code == 2 and "--schedule must be one of constant, slanted" in result.err


def test_init_goes_on_from_a_language_model_with_its_vocabulary_and_architecture(small_lm,
                                                                                tmp_path):
    small_lm.save(tmp_path / "base" / "model")
    other = ["the cat ran in the sun", "a bird sat on my mat", "the dog sang in the park"] * 40
    before = small_lm.perplexity(other)
    train = TrainConfig(epochs=2, patience=2, batch_size=4, lr=0.005, device="cpu", quiet=True)
    cfg = LanguageModelConfig(embed=4, hidden=6, min_freq=1, bptt=8, val_size=0.1,
                              init=str(tmp_path / "base"), train=train)
    tuned = LanguageModel(cfg).fit(other, "other")
    assert tuned.tokenizer_.vocab.itos == small_lm.tokenizer_.vocab.itos
    assert (tuned.config.embed, tuned.config.hidden) == (16, 32)  # the base's, not 4 / 6
    assert tuned.config.weight_drop == small_lm.config.weight_drop
    assert tuned.perplexity(other) < before  # it adapted to the new texts


def test_init_must_name_a_language_model_run(cli, tmp_path):
    result = cli(["lm", "pretrain", "--init", tmp_path, "--out", tmp_path / "lm"])
    assert result.code == 2
    assert "--init" in result.err and "is not a run folder of `rnnlab lm fit`" in result.err


def test_bf16_mixed_precision_trains_under_autocast_and_the_model_still_learns(monkeypatch):
    from rnnlab.tasks.language.model import LanguageModelModule

    autocast = []
    step = LanguageModelModule.training_step

    def recording_step(self, *args, **kwargs):
        autocast.append(torch.is_autocast_enabled("cpu"))
        return step(self, *args, **kwargs)

    monkeypatch.setattr(LanguageModelModule, "training_step", recording_step)
    train = TrainConfig(epochs=4, patience=4, batch_size=4, lr=0.01, device="cpu", quiet=True,
                        precision="bf16-mixed")
    cfg = LanguageModelConfig(embed=16, hidden=32, bptt=8, min_freq=1, sampled_softmax=5,
                              train=train)
    lm = LanguageModel(cfg).fit(SENTENCES * 40)
    assert autocast and all(autocast)
    assert lm.metrics_["lstm"]["perplexity"] < 0.5 * lm.metrics_["unigram"]["perplexity"]
    assert all(p.dtype == torch.float32 for p in lm.net_.parameters())  # weights stay fp32


def test_unknown_precision_is_a_user_error(cli, tmp_path):
    result = cli(["lm", "pretrain", "--precision", "16-mixed", "--out", tmp_path / "lm"])
    assert result.code == 2 and "--precision must be one of 32, bf16-mixed" in result.err


def test_token_stream_backward_reverses_each_document_and_keeps_eos_after_it():
    tokenizer = WordTokenizer(min_freq=1, specials=[EOS]).fit(["a b c", "d e"])
    forward = token_stream(tokenizer, ["a b c", "d e"])
    backward = token_stream(tokenizer, ["a b c", "d e"], backward=True)
    eos = tokenizer.token_to_id(EOS)
    assert backward.tolist() == [*forward[:3][::-1], eos, *forward[4:6][::-1], eos]


def test_backward_language_model_passes_its_direction_on(tmp_path, cli):
    from rnnlab.tasks.sentiment import SentimentClassifier, SentimentConfig
    from tests.tasks.sentiment.conftest import synthetic_reviews

    train = TrainConfig(epochs=4, batch_size=4, lr=0.01, device="cpu", quiet=True)
    lm = LanguageModel(LanguageModelConfig(embed=16, hidden=32, bptt=8, min_freq=1,
                                           backward=True, train=train)).fit(SENTENCES * 40)
    assert lm.metrics_["lstm"]["perplexity"] < 0.5 * lm.metrics_["unigram"]["perplexity"]
    lm.save(tmp_path / "lm" / "model")
    # the saved model scores reversed text as it was trained: better than forward text
    loaded = LanguageModel.load(tmp_path / "lm")
    assert loaded.config.backward
    assert loaded.perplexity(SENTENCES) < loaded.perplexity([" ".join(s.split()[::-1])
                                                             for s in SENTENCES]) / 2
    synthetic_reviews(200, seed=1).to_csv(tmp_path / "reviews.csv", index=False)
    cfg = SentimentConfig(data=str(tmp_path / "reviews.csv"), pretrained=str(tmp_path / "lm"),
                          train=TrainConfig(epochs=1, device="cpu", quiet=True))
    classifier = SentimentClassifier(cfg).fit()
    assert classifier.config.backward and not classifier.config.bidirectional
    assert classifier.config.network_name == "pretrained_lstm_backward"
    ids = classifier.tokenizer_.encode("the cat sat")
    assert classifier.encode(["the cat sat"]) == [ids[::-1]]
    # --init goes on reading backwards; --backward with --bidirectional is refused
    result = cli(["lm", "pretrain", "--init", tmp_path / "lm", "--data", tmp_path /
                  "reviews.csv", "--epochs", "1", "--device", "cpu", "--quiet", "--out",
                  tmp_path / "lm2"])
    assert result.code == 0, result.err
    assert LanguageModel.load(tmp_path / "lm2").config.backward
    result = cli(["lm", "pretrain", "--backward", "--bidirectional", "--out", tmp_path / "x"])
    assert result.code == 2 and "--backward with --bidirectional" in result.err_lines[0]
