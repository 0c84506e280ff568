"""Sentence pairs as the translation model reads them: a tokenizer per side (or one shared),
fitted on the training pairs only; ids with <eos> on the source, <bos> / <eos> around the
target; over-long training pairs dropped and counted; length-bucketed batches."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch.utils.data import Dataset

from rnnlab.data.batching import pad_sequences
from rnnlab.data.parallel import ParallelText
from rnnlab.data.text import (
    BOS,
    EOS,
    UNK_ID,
    SubwordTokenizer,
    Tokenizer,
    WordTokenizer,
)
from rnnlab.tasks.translation.config import TranslationConfig

SPECIALS = (BOS, EOS)  # ids 2 and 3, after <pad> and <unk>
BOS_ID, EOS_ID = 2, 3


def make_side_tokenizer(cfg: TranslationConfig) -> Tokenizer:
    """An unfitted tokenizer of --level; BPE marks word starts so that output decodes exactly."""
    if cfg.level == "bpe":
        return SubwordTokenizer(cfg.bpe_vocab, cfg.min_freq, cfg.lowercase, SPECIALS,
                                reversible=True)
    return WordTokenizer(cfg.min_freq, cfg.max_vocab, cfg.lowercase, SPECIALS)


def fit_tokenizers(cfg: TranslationConfig, train: ParallelText) -> tuple[Tokenizer, Tokenizer]:
    """(source tokenizer, target tokenizer), fitted on the training pairs (--shared-vocab: the
    same tokenizer, fitted on both sides)."""
    if cfg.shared_vocab:
        shared = make_side_tokenizer(cfg).fit([*train.src, *train.tgt])
        return shared, shared
    return make_side_tokenizer(cfg).fit(train.src), make_side_tokenizer(cfg).fit(train.tgt)


@dataclass
class EncodedPairs(Dataset):
    """Source ids (ending in <eos>) and target ids (no specials) of each pair."""

    src: list[list[int]]
    tgt: list[list[int]]

    @property
    def lengths(self) -> list[int]:  # what BucketBatchSampler groups by
        return [len(ids) for ids in self.src]

    def __len__(self) -> int:
        return len(self.src)

    def __getitem__(self, index: int) -> tuple[list[int], list[int]]:
        return self.src[index], self.tgt[index]


def encode_sources(tokenizer: Tokenizer, sentences: Sequence[str]) -> list[list[int]]:
    return [tokenizer.encode(sentence) + [EOS_ID] for sentence in sentences]


def read_source(tokenizer: Tokenizer, sentence: str) -> tuple[list[str], list[int]]:
    """(the source tokens as the encoder reads them, <eos> last; their ids): one tokenizing
    pass serves the encoder and the heat-map labels / unknown-word copies."""
    tokens = [*tokenizer.tokenize(sentence), EOS]
    return tokens, [tokenizer.token_to_id(token) or UNK_ID for token in tokens]


def encode_pairs(src_tokenizer: Tokenizer, tgt_tokenizer: Tokenizer, pairs: ParallelText,
                 max_len: int | None = None) -> tuple[EncodedPairs, int]:
    """(encoded pairs, pairs dropped because a side has more than `max_len` tokens)."""
    src = encode_sources(src_tokenizer, pairs.src)
    tgt = [tgt_tokenizer.encode(sentence) for sentence in pairs.tgt]
    if max_len is None:
        return EncodedPairs(src, tgt), 0
    kept = [i for i in range(len(src)) if len(src[i]) - 1 <= max_len and len(tgt[i]) <= max_len]
    return EncodedPairs([src[i] for i in kept], [tgt[i] for i in kept]), len(src) - len(kept)


def collate_pairs(items: Sequence[tuple[list[int], list[int]]], bos_id: int = BOS_ID,
                  eos_id: int = EOS_ID) -> tuple[torch.Tensor, ...]:
    """(src, tgt) id lists -> src (batch, source), source lengths, decoder input <bos> + target,
    decoder goal target + <eos>, all right-padded with <pad>."""
    src, lengths = pad_sequences([s for s, _ in items])
    tgt_in, _ = pad_sequences([[bos_id, *t] for _, t in items])
    tgt_out, _ = pad_sequences([[*t, eos_id] for _, t in items])
    return src, lengths, tgt_in, tgt_out
