"""Seq2Seq and its parts: attention masking, packed vs unpacked encoders, stepwise vs fused
decoding, greedy vs beam search of width 1; and the BLEU / chrF scores against sacrebleu."""

from __future__ import annotations

import pytest
import sacrebleu
import torch

from rnnlab.models.attention import Attention, masked_softmax
from rnnlab.models.decoding import beam_search, greedy_decode, max_lengths
from rnnlab.models.encoder import RecurrentEncoder
from rnnlab.models.seq2seq import Seq2Seq
from rnnlab.models.text_encoder import TextEncoder
from rnnlab.tasks.translation.metrics import corpus_scores, signatures

BOS, EOS = 2, 3
LENGTHS = [5, 2, 7, 1, 4, 6]  # source lengths (with <eos>) of the padded test batch


def padded_batch(vocab: int, lengths: list[int] = LENGTHS, seed: int = 1
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """Random ids >= 4 (no specials), right-padded with 0; lengths."""
    generator = torch.Generator().manual_seed(seed)
    lengths_t = torch.tensor(lengths)
    src = torch.randint(4, vocab, (len(lengths), max(lengths)), generator=generator)
    src[torch.arange(max(lengths))[None, :] >= lengths_t[:, None]] = 0
    return src, lengths_t


def real_mask(lengths: torch.Tensor, width: int) -> torch.Tensor:
    return torch.arange(width)[None, :] < lengths[:, None]


def seq2seq(cell: str, attention: str, seed: int = 0, **kwargs: object) -> Seq2Seq:
    torch.manual_seed(seed)
    values = {"embed": 8, "hidden": 8, "layers": 2, "dropout": 0.3, **kwargs}
    return Seq2Seq(20, 25, cell=cell, attention=attention, **values).eval()


# -- attention -------------------------------------------------------------------------------
def test_masked_softmax_is_zero_on_padding_and_sums_to_one():
    scores = torch.tensor([[3.0, -1.0, 50.0, 7.0], [0.5, 0.5, 0.5, 0.5]])
    mask = torch.tensor([[True, True, False, False], [True, True, True, True]])
    weights = masked_softmax(scores, mask)
    assert weights[0, 2:].eq(0).all()  # exactly zero, even for the largest score
    torch.testing.assert_close(weights.sum(-1), torch.ones(2))
    torch.testing.assert_close(weights[0, :2], torch.tensor([3.0, -1.0]).softmax(-1))
    torch.testing.assert_close(weights[1], torch.full((4,), 0.25))


@pytest.mark.parametrize("kind", ["bahdanau", "dot", "general"])
def test_attention_weights_sum_to_one_over_the_real_source_and_ignore_padding(kind):
    torch.manual_seed(0)
    attention = Attention(kind, 6, 6, size=5)
    lengths = torch.tensor(LENGTHS)
    mask = real_mask(lengths, max(LENGTHS))
    memory = torch.randn(len(LENGTHS), max(LENGTHS), 6)
    query = torch.randn(len(LENGTHS), 3, 6)
    context, weights = attention(query, attention.keys(memory), memory, mask)
    assert weights.shape == (len(LENGTHS), 3, max(LENGTHS)) and context.shape == (6, 3, 6)
    torch.testing.assert_close(weights.sum(-1), torch.ones(len(LENGTHS), 3))
    assert weights.masked_select(~mask[:, None, :].expand_as(weights)).eq(0).all()
    assert (weights.masked_select(mask[:, None, :].expand_as(weights)) > 0).all()
    # whatever the padding positions hold, nothing of them reaches the context
    noisy = torch.where(mask[..., None], memory, 1e3 * torch.randn_like(memory))
    context2, weights2 = attention(query, attention.keys(noisy), noisy, mask)
    torch.testing.assert_close(weights2, weights)
    torch.testing.assert_close(context2, context)


def test_dot_attention_refuses_different_sizes():
    with pytest.raises(ValueError, match="query_size == memory_size"):
        Attention("dot", 4, 6)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
@pytest.mark.parametrize("kind", ["bahdanau", "dot", "general", "none"])
def test_seq2seq_forward_attention_weights_are_masked(cell, kind):
    model = seq2seq(cell, kind)
    src, lengths = padded_batch(20)
    tgt_in = torch.randint(4, 25, (len(LENGTHS), 4), generator=torch.Generator().manual_seed(2))
    logits, weights = model(src, lengths, tgt_in)
    assert logits.shape == (len(LENGTHS), 4, 25)
    if kind == "none":
        assert weights is None
        return
    mask = real_mask(lengths, src.size(1))[:, None, :].expand_as(weights)
    torch.testing.assert_close(weights.sum(-1), torch.ones(len(LENGTHS), 4))
    assert weights.masked_select(~mask).eq(0).all()


# -- encoders --------------------------------------------------------------------------------
@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_unpacked_text_encoder_equals_the_packed_recurrent_encoder(cell):
    torch.manual_seed(0)
    packed = RecurrentEncoder(5, 7, num_layers=2, cell=cell, bidirectional=True,
                              dropout=0.5).eval()
    unpacked = TextEncoder(5, 7, num_layers=2, cell=cell, bidirectional=True, dropout=0.5)
    unpacked.load_state_dict(packed.state_dict())
    unpacked.eval()
    lengths = torch.tensor([7, 3, 1, 5, 7, 2])
    x = torch.randn(len(lengths), 7, 5)  # padding steps hold noise: neither may read it
    expected_out, expected_last = packed(x, lengths)
    out, last = unpacked(x, lengths)
    mask = real_mask(lengths, 7)
    assert out.shape == expected_out.shape == (6, 7, 14) and last.shape == (6, 14)
    torch.testing.assert_close(out[mask], expected_out[mask], atol=1e-5, rtol=1e-5)
    assert out[~mask].eq(0).all() and expected_out[~mask].eq(0).all()
    torch.testing.assert_close(last, expected_last, atol=1e-5, rtol=1e-5)
    # the unpadded sentence alone gives the same as inside the batch
    alone_out, alone_last = unpacked(x[2:3, :1], lengths[2:3])
    torch.testing.assert_close(alone_out[0], out[2, :1], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(alone_last[0], last[2], atol=1e-5, rtol=1e-5)


# -- decoding --------------------------------------------------------------------------------
@pytest.mark.parametrize("cell", ["gru", "lstm"])
@pytest.mark.parametrize("kind", ["dot", "general", "none", "bahdanau"])
def test_stepwise_decoding_equals_the_teacher_forced_forward(cell, kind):
    model = seq2seq(cell, kind)
    src, lengths = padded_batch(20)
    tgt_in = torch.cat([torch.full((len(LENGTHS), 1), BOS),
                        torch.randint(4, 25, (len(LENGTHS), 5),
                                      generator=torch.Generator().manual_seed(3))], dim=1)
    with torch.no_grad():
        fused, fused_weights = model(src, lengths, tgt_in)
        memory, state = model.encode(src, lengths)
        steps, step_weights = [], []
        for t in range(tgt_in.size(1)):
            logits, state, weights = model.step(tgt_in[:, t], state, memory)
            steps.append(logits)
            step_weights.append(weights)
    torch.testing.assert_close(torch.stack(steps, 1), fused, atol=1e-5, rtol=1e-5)
    if kind == "none":
        assert fused_weights is None and all(w is None for w in step_weights)
    else:
        torch.testing.assert_close(torch.stack(step_weights, 1), fused_weights, atol=1e-5,
                                   rtol=1e-5)


def _endings(hypotheses, limits) -> set[str]:
    """"early" for a hypothesis that produced <eos> before its length limit, "limit" for one
    that ran into it (where <eos> is forced)."""
    return {"early" if len(h.ids) < int(limit) - 1 else "limit"
            for h, limit in zip(hypotheses, limits, strict=True)}


@pytest.mark.parametrize("cell", ["gru", "lstm"])
@pytest.mark.parametrize("kind", ["bahdanau", "dot", "general", "none"])
def test_beam_of_one_is_greedy_decoding(cell, kind):
    """Same ids, log-probabilities and attention for every sentence of a padded batch; over a
    range of <eos> biases, from none (every sentence runs into its own length limit, so the
    sentences finish at different steps) to one where <eos> comes early."""
    src, lengths = padded_batch(20)
    limits = max_lengths(lengths)
    assert len(set(limits.tolist())) == len(LENGTHS)
    endings = set()
    for bias in (0.0, 0.3, 0.6, 1.0, 1.5, 3.0):
        model = seq2seq(cell, kind)
        with torch.no_grad():
            model.output.weight.mul_(3.0)  # logits that vary more from step to step
            model.output.bias[EOS] += bias
        greedy = greedy_decode(model, src, lengths, BOS, EOS, limits)
        beam = beam_search(model, src, lengths, BOS, EOS, limits, beam=1, length_penalty=1.0)
        for g, b, length, limit in zip(greedy, beam, lengths, limits, strict=True):
            assert g.ids == b.ids, bias
            assert EOS not in g.ids and len(g.ids) <= int(limit) - 1
            assert g.logprob == pytest.approx(b.logprob, abs=1e-5)
            assert g.logprob < 0
            if kind == "none":
                assert g.attention is None and b.attention is None
            else:
                assert g.attention.shape == (len(g.ids) + 1, int(length))
                torch.testing.assert_close(torch.from_numpy(g.attention),
                                           torch.from_numpy(b.attention))
        endings |= _endings(greedy, limits)
    assert endings == {"early", "limit"}


@pytest.mark.parametrize("beam", [1, 3])
@pytest.mark.parametrize("kind", ["bahdanau", "general", "dot", "none"])
def test_decoded_score_and_attention_are_those_of_the_returned_output(kind, beam):
    """What greedy / beam search report for each sentence (log-probability, attention rows)
    is what the teacher-forced forward gives for the ids it returns followed by <eos>; so
    beam search reorders ids, states, scores and attention history consistently. Several
    logit scales and <eos> biases, so that beams overtake each other in some of them."""
    src, lengths = padded_batch(20)
    limits = max_lengths(lengths)
    for scale, bias in ((1.0, 0.0), (1.0, 0.6), (3.0, 0.0), (3.0, 0.6), (10.0, 0.0)):
        model = seq2seq("lstm", kind)
        with torch.no_grad():
            model.output.weight.mul_(scale)
            model.output.bias[EOS] += bias
        if beam == 1:
            hypotheses = greedy_decode(model, src, lengths, BOS, EOS, limits)
        else:
            hypotheses = beam_search(model, src, lengths, BOS, EOS, limits, beam, 1.0)
        for b, hypothesis in enumerate(hypotheses):
            length = int(lengths[b])
            tgt_in = torch.tensor([[BOS, *hypothesis.ids]])
            goal = torch.tensor([*hypothesis.ids, EOS])
            with torch.no_grad():
                logits, weights = model(src[b:b + 1, :length], lengths[b:b + 1], tgt_in)
            expected = float(logits[0].log_softmax(-1).gather(1, goal[:, None]).sum())
            assert hypothesis.logprob == pytest.approx(expected, abs=1e-4), (scale, bias)
            if kind == "none":
                assert hypothesis.attention is None
            else:
                torch.testing.assert_close(torch.from_numpy(hypothesis.attention), weights[0],
                                           atol=1e-5, rtol=1e-5)


def test_wider_beam_finds_an_output_at_least_as_likely_without_length_penalty():
    """With no length normalisation, beam 5 never returns a less likely output than beam 1
    here (its first step keeps greedy's best token among five)."""
    model = seq2seq("gru", "general")
    with torch.no_grad():
        model.output.weight.mul_(3.0)
        model.output.bias[EOS] += 0.6
    src, lengths = padded_batch(20)
    limits = max_lengths(lengths)
    greedy = beam_search(model, src, lengths, BOS, EOS, limits, beam=1, length_penalty=0.0)
    wide = beam_search(model, src, lengths, BOS, EOS, limits, beam=5, length_penalty=0.0)
    for g, w in zip(greedy, wide, strict=True):
        assert w.logprob >= g.logprob - 1e-5


# -- metrics ---------------------------------------------------------------------------------
HYPOTHESES = ["The cat sat on the mat.", "A dog runs through the snow!",
              "two men are playing football in a park", "Hello, world."]
REFERENCES = ["The cat is sitting on the mat.", "A dog is running in the snow.",
              "Two men play soccer in the park.", "Hello world!"]


@pytest.mark.parametrize("lowercase", [False, True])
def test_corpus_scores_are_sacrebleus(lowercase):
    scores = corpus_scores(HYPOTHESES, REFERENCES, lowercase)
    assert scores["bleu"] == pytest.approx(
        sacrebleu.corpus_bleu(HYPOTHESES, [REFERENCES], lowercase=lowercase).score, abs=1e-9)
    # sacrebleu's corpus_chrf has no lowercase option: lower-case the strings instead
    case = str.lower if lowercase else str
    assert scores["chrf"] == pytest.approx(sacrebleu.corpus_chrf(
        [case(h) for h in HYPOTHESES], [[case(r) for r in REFERENCES]]).score, abs=1e-9)
    assert 0 < scores["bleu"] < 100 and 0 < scores["chrf"] < 100


def test_corpus_scores_by_hand():
    identical = corpus_scores(REFERENCES, REFERENCES)
    assert identical == {"bleu": pytest.approx(100.0), "chrf": pytest.approx(100.0)}
    assert corpus_scores(["a b c d"], ["w x y z"]) == {"bleu": 0.0, "chrf": 0.0}
    # precisions 4/5, 3/4, 2/3, 1/2 and no brevity penalty: 100 * (1/5) ** (1/4)
    assert corpus_scores(["a b c d e"], ["a b c d f"])["bleu"] == pytest.approx(
        100 * 0.2 ** 0.25, abs=1e-9)
    cased = (["The Cat sat down"], ["the cat sat down"])
    assert corpus_scores(*cased, lowercase=True)["bleu"] == pytest.approx(100.0)
    assert corpus_scores(*cased)["bleu"] < 100.0
    with pytest.raises(ValueError, match="2 hypotheses for 1 references"):
        corpus_scores(["a", "b"], ["a"])


def test_signatures_name_one_reference_and_13a_tokenisation():
    found = signatures()
    assert set(found) == {"bleu", "chrf"}
    assert "nrefs:1" in found["bleu"] and "tok:13a" in found["bleu"]
    assert "case:mixed" in found["bleu"] and "nrefs:1" in found["chrf"]
    assert "case:lc" in signatures(lowercase=True)["bleu"]
