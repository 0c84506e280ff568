import json

import numpy as np
import pytest
import torch

from rnnlab.data.batching import (
    BucketBatchSampler,
    collate_padded,
    length_sorted_batches,
    padding_ratio,
)
from rnnlab.data.text import (
    EOS,
    PAD_ID,
    UNK_ID,
    SubwordTokenizer,
    Vocabulary,
    WordTokenizer,
    clean_text,
    is_blank,
    tokenizer_from_dict,
    truncate,
    word_tokens,
)
from rnnlab.errors import UserError


def test_clean_text_removes_html_breaks_and_normalises_unicode():
    raw = "Great film.<br /><br />The cast&#39;s work\u2019s fine &amp; the \ufb01nale \uff01"
    assert clean_text(raw) == "Great film. The cast's work's fine & the finale !"
    assert clean_text("  a\t\n b  ") == "a b"
    assert clean_text("<i>so</i> 2 < 3") == "so 2 < 3"


def test_word_tokens_keep_contractions_and_split_punctuation():
    assert word_tokens("Don't miss it -- it's GREAT!") == [
        "don't", "miss", "it", "-", "-", "it's", "great", "!"]
    assert word_tokens("the rock 's new film", lowercase=False) == [
        "the", "rock", "'s", "new", "film"]


def test_vocabulary_min_freq_max_size_specials_and_json_round_trip():
    tokens = [["b", "a", "a", "c"], ["a", "b", "d"]]
    vocab = Vocabulary.fit(tokens, min_freq=2)
    assert vocab.itos == ["<pad>", "<unk>", "a", "b"]  # most frequent first; c, d too rare
    assert vocab.encode(["a", "zzz", "b"]) == [2, UNK_ID, 3]
    assert Vocabulary.fit(tokens, min_freq=1, max_size=3).itos == ["<pad>", "<unk>", "a"]
    with_eos = Vocabulary.fit(tokens, specials=[EOS])
    assert with_eos.itos[:3] == ["<pad>", "<unk>", EOS]
    again = Vocabulary.from_dict(json.loads(json.dumps(vocab.to_dict())))
    assert again.itos == vocab.itos


def test_word_tokenizer_vocabulary_comes_from_the_texts_it_is_fitted_on():
    tokenizer = WordTokenizer(min_freq=1).fit(["a good film", "a bad film"])
    assert "good" in tokenizer.vocab and "zyzzyva" not in tokenizer.vocab
    assert tokenizer.encode("zyzzyva film") == [UNK_ID, tokenizer.vocab.stoi["film"]]
    state = json.loads(json.dumps(tokenizer.to_dict()))
    assert tokenizer_from_dict(state).encode("a good film") == tokenizer.encode("a good film")


def test_subword_tokenizer_trains_bpe_and_round_trips_as_json():
    texts = ["the unbelievable film", "believable actors", "an unfilmable story"] * 30
    tokenizer = SubwordTokenizer(vocab_size=120, min_freq=2).fit(texts)
    assert tokenizer.token_to_id("<pad>") == PAD_ID and tokenizer.token_to_id("<unk>") == UNK_ID
    pieces = tokenizer.tokenize("unbelievably filmable")
    assert len(pieces) >= 2 and "".join(pieces) == "unbelievablyfilmable"
    state = json.loads(json.dumps(tokenizer.to_dict()))
    again = tokenizer_from_dict(state)
    assert again.encode("unbelievably filmable") == tokenizer.encode("unbelievably filmable")


def test_truncate_keeps_head_tail_or_both_ends():
    ids = list(range(10))
    assert truncate(ids, 4) == [0, 1, 2, 3]
    assert truncate(ids, 4, "tail") == [6, 7, 8, 9]
    assert truncate(ids, 5, "both") == [0, 1, 7, 8, 9]
    assert truncate(ids, None) == ids and truncate(ids, 20) == ids


def test_bucket_sampler_covers_every_item_once_reproducibly_with_little_padding():
    lengths = np.random.default_rng(0).lognormal(5, 0.8, 3000).astype(int) + 1
    sampler = BucketBatchSampler(lengths, batch_size=32, seed=7)
    first, second = sampler.batches(0), sampler.batches(1)
    assert sorted(i for batch in first for i in batch) == list(range(3000))
    assert first == BucketBatchSampler(lengths, 32, seed=7).batches(0)
    assert first != second  # a new order every epoch
    assert len(list(iter(sampler))) == len(sampler) == 94
    bucketed = padding_ratio(lengths, first)
    shuffled = np.random.default_rng(1).permutation(3000)
    random_batches = [shuffled[i:i + 32] for i in range(0, 3000, 32)]
    assert bucketed < 0.10 < padding_ratio(lengths, random_batches)
    evaluation = length_sorted_batches(lengths, 32)
    assert padding_ratio(lengths, evaluation) < bucketed


def test_bucket_sampler_buckets_only_the_share_its_sampler_gives_it():
    # under DDP Lightning passes a DistributedSampler: each process buckets its own share
    lengths = np.random.default_rng(2).integers(1, 300, 1000)
    share = BucketBatchSampler(lengths, 16, seed=3, sampler=range(1, 1000, 2))
    assert sorted(i for batch in share.batches(0) for i in batch) == list(range(1, 1000, 2))
    assert len(share) == 32
    ordered = BucketBatchSampler(lengths, 16, shuffle=False, sampler=range(0, 1000, 2))
    firsts = [lengths[batch[0]] for batch in ordered.batches(0)]
    assert firsts == sorted(firsts, reverse=True)


def test_bucket_sampler_repeats_make_an_epoch_several_passes():
    lengths = np.random.default_rng(4).integers(1, 50, 90)
    sampler = BucketBatchSampler(lengths, 64, seed=0, repeats=15)
    batches = sampler.batches(0)
    assert len(batches) == len(sampler) == 22  # ceil(15 * 90 / 64) batches
    counts = np.bincount([i for batch in batches for i in batch], minlength=90)
    assert (counts == 15).all()  # every text once per pass


def test_text_datamodule_gives_few_texts_at_least_min_steps_batches():
    from rnnlab.data.batching import TextDataModule
    from rnnlab.tasks.sentiment.data import EncodedTexts

    few = EncodedTexts([[2, 3, 4]] * 90, [0, 1] * 45)
    assert len(TextDataModule(few, few, 64, min_steps=20).train_dataloader()) >= 20
    many = EncodedTexts([[2, 3]] * 3000, [0, 1] * 1500)
    assert len(TextDataModule(many, many, 64, min_steps=20).train_dataloader()) == 47


def test_collate_pads_with_pad_id_and_returns_lengths():
    tokens, lengths, labels = collate_padded([([5, 6, 7], 1), ([8], 0)])
    assert tokens.tolist() == [[5, 6, 7], [8, PAD_ID, PAD_ID]]
    assert lengths.tolist() == [3, 1] and labels.tolist() == [1, 0]
    assert tokens.dtype == torch.long


def test_padding_ratio_counts_padded_positions():
    assert padding_ratio([4, 4, 4], [[0, 1, 2]]) == 0.0
    assert padding_ratio([4, 2, 2], [[0, 1, 2]]) == pytest.approx(4 / 12)


@pytest.mark.parametrize("text", ["", "   ", "\t\n", "<br />", "<br/><BR >", "<p> </p>",
                                  "&nbsp;", " <i>&#32;</i> ", "a", "<br />ok", "&amp;",
                                  "2 < 3", "<", "\u3000", "\u200b", "&lt;b&gt;"])
def test_is_blank_is_true_exactly_when_clean_text_is_empty(text):
    assert is_blank(text) == (clean_text(text) == "")
    assert is_blank(text) == (word_tokens(text) == [])


def test_word_tokenizer_refuses_an_empty_vocabulary_naming_the_counts():
    with pytest.raises(UserError, match=r"--min-freq 5 times \(the most frequent, 'a', occurs "
                                        r"3 times; 2 distinct tokens, --max-vocab no limit\); "
                                        r"lower --min-freq to 3 or less"):
        WordTokenizer(min_freq=5).fit(["a b a", "a"])
    with pytest.raises(UserError, match="hold no tokens"):
        WordTokenizer(min_freq=1, specials=[EOS]).fit(["<br />", " "])
    with pytest.raises(UserError, match="--max-vocab 2 leaves no room"):
        WordTokenizer(min_freq=1, max_size=2).fit(["a b"])
    assert WordTokenizer(min_freq=3).fit(["a b a", "a"]).vocab.itos == ["<pad>", "<unk>", "a"]


def test_subword_tokenizer_refuses_to_learn_no_subword():
    texts = ["the cat sat", "the dog ran"] * 5
    with pytest.raises(UserError, match="no pair of symbols .* occurs --min-freq 11 times .*"
                                        "'th', occurs 10 times"):
        SubwordTokenizer(vocab_size=200, min_freq=11).fit(texts)
    assert SubwordTokenizer(vocab_size=200, min_freq=10).fit(texts).vocab_size > 14
    with pytest.raises(UserError, match="hold no tokens"):
        SubwordTokenizer(vocab_size=200, min_freq=1).fit(["<br />", ""])
    with pytest.raises(UserError, match="no word of 2 or more characters"):
        SubwordTokenizer(vocab_size=200, min_freq=1).fit(["a b c", "d"])
    with pytest.raises(UserError, match="--bpe-vocab 100 leaves no room"):
        SubwordTokenizer(vocab_size=100).fit(["".join(map(chr, range(0x4e00, 0x4e80))) + " ab"])
