"""Translator: an encoder-decoder translation model with (or without) attention.

>>> from rnnlab.tasks.translation import Translator, TranslationConfig
>>> tr = Translator(TranslationConfig(data="multi30k-demo")).fit()      # doctest: +SKIP
>>> tr.predict(["Ein Hund läuft im Schnee."])                            # doctest: +SKIP
>>> tr.translate(["Ein Hund läuft im Schnee."], beam=5)[0].attention    # doctest: +SKIP

`fit(train, val)` also takes `ParallelText` pairs read elsewhere (`read_parallel`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from rnnlab.data.batching import TextDataModule, length_sorted_batches
from rnnlab.data.parallel import ParallelText, read_parallel, split_parallel
from rnnlab.data.text import BOS, EOS, UNK, WordTokenizer, detokenize, tokenizer_from_dict
from rnnlab.errors import UserError
from rnnlab.estimator import Estimator
from rnnlab.models.decoding import Hypothesis, beam_search, greedy_decode, max_lengths
from rnnlab.models.seq2seq import Seq2Seq
from rnnlab.tasks.translation.config import TranslationConfig
from rnnlab.tasks.translation.data import (
    BOS_ID,
    EOS_ID,
    EncodedPairs,
    collate_pairs,
    encode_pairs,
    fit_tokenizers,
    read_source,
)
from rnnlab.tasks.translation.model import TranslationModule, perplexity
from rnnlab.training import FitResult, fit_module, seed_everything

DECODE_BATCH = 64  # sentences decoded together


@dataclass
class Translation:
    """One translated sentence, with what the attention heat-map needs."""

    source: str
    text: str
    source_tokens: list[str]  # as the encoder read them, <eos> last
    tokens: list[str]  # generated, <eos> last when it was produced
    attention: np.ndarray | None  # (len(tokens), len(source_tokens)); None without attention
    logprob: float


def read_splits(cfg: TranslationConfig) -> tuple[ParallelText, ParallelText, ParallelText]:
    """(train, validation, test) pairs: --val / --test files when given, else shares of the
    training pairs (drawn with --seed)."""
    for option, split, needs in (("val", "validation", "early stopping needs"),
                                 ("test", "test", "the scores need")):
        if getattr(cfg, f"{option}_size") == 0 and getattr(cfg, option) is None:
            raise UserError(f"--{option}-size 0 without --{option} leaves no {split} pairs, "
                            f"which {needs}; give --{option} PAIRS or a --{option}-size above 0")
    spec, flag = cfg.training_spec()
    pairs = read_parallel(spec, cfg.src_col, cfg.tgt_col, cfg.encoding, flag)
    val = None if cfg.val is None else read_parallel(cfg.val, cfg.src_col, cfg.tgt_col,
                                                     cfg.encoding, "--val")
    test = None if cfg.test is None else read_parallel(cfg.test, cfg.src_col, cfg.tgt_col,
                                                       cfg.encoding, "--test")
    train, held_val, held_test = split_parallel(pairs, 0.0 if val else cfg.val_size,
                                                0.0 if test else cfg.test_size, cfg.train.seed)
    if cfg.max_pairs is not None and len(train) > cfg.max_pairs:
        train = train.subset(range(cfg.max_pairs))
    return (train, val if val is not None else held_val,
            test if test is not None else held_test)


class Translator(Estimator):
    """Fitted attributes: `src_tokenizer_`, `tgt_tokenizer_`, `net_`, `fit_result_`, `split_`
    (pair counts and the over-long training pairs dropped)."""

    def __init__(self, config: TranslationConfig | None = None) -> None:
        super().__init__(config if config is not None else TranslationConfig())

    def fit(self, train: ParallelText | None = None, val: ParallelText | None = None,
            checkpoints: Path | None = None, resume: bool = False,
            callbacks: list | None = None) -> Translator:
        """Fit the tokenizers on `train`, drop its pairs longer than --max-len, train with early
        stopping on the validation loss; self. Without `train` / `val`: the config's data
        (`read_splits`; its test part is left for `evaluate`)."""
        cfg = self.config
        cfg.validate()
        if train is None or val is None:
            train, val, _ = read_splits(cfg)
        seed_everything(cfg.train.seed)
        self.src_tokenizer_, self.tgt_tokenizer_ = fit_tokenizers(cfg, train)
        assert self.tgt_tokenizer_.token_to_id(BOS) == BOS_ID
        assert self.tgt_tokenizer_.token_to_id(EOS) == EOS_ID
        train_ids, dropped = encode_pairs(self.src_tokenizer_, self.tgt_tokenizer_, train,
                                          cfg.max_len)
        if len(train) and not len(train_ids):
            raise UserError(f"all {len(train)} training pairs have a side longer than --max-len "
                            f"{cfg.max_len} tokens, so none is left to train on; raise --max-len")
        val_ids, _ = encode_pairs(self.src_tokenizer_, self.tgt_tokenizer_, val)
        net = Seq2Seq(self.src_tokenizer_.vocab_size, self.tgt_tokenizer_.vocab_size,
                      **cfg.architecture())
        module = TranslationModule(net, cfg.train.lr, cfg.train.weight_decay, cfg.schedule,
                                   cfg.label_smoothing, cfg.teacher_forcing)
        data = TextDataModule(train_ids, val_ids, cfg.train.batch_size, cfg.train.seed,
                              collate=collate_pairs)
        self.fit_result_: FitResult = fit_module(module, data, cfg.train, monitor="val_loss",
                                                 checkpoints=checkpoints, resume=resume,
                                                 callbacks=callbacks)
        self.net_ = net.eval()
        self.split_ = {"train": len(train_ids), "val": len(val), "dropped_long": dropped,
                       "train_src_tokens": sum(len(s) - 1 for s in train_ids.src),
                       "train_tgt_tokens": sum(len(t) for t in train_ids.tgt)}
        self.source_ = train.source
        return self

    # -- translating ------------------------------------------------------------------------
    def translate(self, sentences: list[str], beam: int | None = None,
                  batch_size: int = DECODE_BATCH) -> list[Translation]:
        """Translations of `sentences`, in their order (decoded in length-sorted batches);
        `beam` 1 is greedy decoding (default: the run's --beam)."""
        self.check_is_fitted()
        beam = self.config.beam if beam is None else beam
        if beam < 1:
            raise ValueError(f"beam must be at least 1; got {beam}")
        sources = [read_source(self.src_tokenizer_, sentence) for sentence in sentences]
        results: list[Translation | None] = [None] * len(sentences)
        for indices in length_sorted_batches([len(ids) for _, ids in sources], batch_size):
            batch = collate_pairs([(sources[i][1], []) for i in indices])
            hypotheses = self._decode(batch[0], batch[1], beam)
            for index, hypothesis in zip(indices, hypotheses, strict=True):
                results[index] = self._translation(sentences[index], sources[index][0],
                                                   hypothesis)
        return results  # type: ignore[return-value]

    def _decode(self, src: torch.Tensor, lengths: torch.Tensor, beam: int) -> list[Hypothesis]:
        limits = max_lengths(lengths, self.config.max_ratio)
        if beam == 1:
            return greedy_decode(self.net_, src, lengths, BOS_ID, EOS_ID, limits)
        return beam_search(self.net_, src, lengths, BOS_ID, EOS_ID, limits, beam,
                           self.config.length_penalty)

    def _translation(self, sentence: str, source_tokens: list[str], hypothesis: Hypothesis
                     ) -> Translation:
        tokens = [self.tgt_tokenizer_.id_to_token(i) for i in hypothesis.ids]
        if isinstance(self.tgt_tokenizer_, WordTokenizer):
            if self.config.replace_unk and hypothesis.attention is not None \
                    and len(source_tokens) > 1:  # the source word attended most, never <eos>
                tokens = [source_tokens[int(np.argmax(hypothesis.attention[t][:-1]))]
                          if token == UNK else token for t, token in enumerate(tokens)]
            text = detokenize([t for t in tokens if t != EOS])
        else:
            text = self.tgt_tokenizer_.decode(hypothesis.ids)
        steps = hypothesis.attention.shape[0] if hypothesis.attention is not None else 0
        shown = tokens + [EOS] * (steps - len(tokens))
        return Translation(sentence, text, source_tokens, shown, hypothesis.attention,
                           hypothesis.logprob)

    def predict(self, sentences: list[str], beam: int | None = None) -> list[str]:
        """One translation per sentence, in order."""
        return [t.text for t in self.translate(list(sentences), beam)]

    def perplexity(self, pairs: ParallelText) -> float:
        """exp(cross-entropy per target token) of the references, teacher-forced."""
        self.check_is_fitted()
        encoded, _ = encode_pairs(self.src_tokenizer_, self.tgt_tokenizer_, pairs)
        return perplexity(self.net_, batches(encoded, DECODE_BATCH))

    # -- persistence ------------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        """weights.safetensors + translator.json (tokenizers, config, split) + model.json."""
        self.check_is_fitted()
        return self.write_model(directory, {
            "config": self.config.to_dict(), "split": self.split_,
            "src_tokenizer": self.src_tokenizer_.to_dict(),
            "tgt_tokenizer": self.tgt_tokenizer_.to_dict(),
            "vocab": [self.src_tokenizer_.vocab_size, self.tgt_tokenizer_.vocab_size]})

    @classmethod
    def load(cls, run_or_model_dir: str | Path) -> Translator:
        def build(state: dict) -> tuple[Translator, Seq2Seq]:
            self = cls(TranslationConfig.from_dict(state["config"]))
            self.split_ = state["split"]
            self.src_tokenizer_ = tokenizer_from_dict(state["src_tokenizer"])
            self.tgt_tokenizer_ = tokenizer_from_dict(state["tgt_tokenizer"])
            return self, Seq2Seq(*state["vocab"], **self.config.architecture())

        return cls.restore(run_or_model_dir, build)


def batches(encoded: EncodedPairs, size: int) -> list[tuple[torch.Tensor, ...]]:
    """Length-sorted, collated batches of every pair (evaluation)."""
    return [collate_pairs([encoded[i] for i in indices])
            for indices in length_sorted_batches(encoded.lengths, size)]
