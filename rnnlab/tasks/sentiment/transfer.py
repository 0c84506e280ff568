"""Transfer learning (ULMFiT, Howard & Ruder 2018): start the classifier from a language model.

The classifier takes the language model's architecture, its encoder weights unchanged and its
embedding rows mapped by token. Its vocabulary is that of the labelled training texts extended
by every word the language model knows (`with_lm_words`): with a few hundred labelled texts the
training vocabulary alone would turn most test words into <unk> and waste what the language
model learned about them. Each token gets the language model's row for it, or the mean row
when the language model never saw it. Fine-tuning then uses discriminative learning rates and
gradual unfreezing (see SentimentModule).

`--pretrained` may also name a sentiment run (supervised transfer, e.g. an IMDB classifier
adapted to another kind of review with few labels): the same mapping from its embedding and
encoder, its pooling and head layout, and its head weights too when it predicts the same
classes.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import torch

from rnnlab.data.text import PAD, PAD_ID, UNK, Tokenizer, Vocabulary, WordTokenizer
from rnnlab.errors import UserError
from rnnlab.models.lm import WordLanguageModel
from rnnlab.tasks.sentiment.config import SentimentConfig
from rnnlab.tasks.sentiment.model import TextClassifierNet

_RAW = re.compile(r"_raw$")


class Pretrained(NamedTuple):
    """What `--pretrained` hands the classifier: a network whose `body` holds the embedding
    and encoder, its tokenizer, and the classes it predicts (None for a language model)."""

    net: WordLanguageModel | TextClassifierNet
    tokenizer: Tokenizer
    classes: list[str] | None = None


def pretrained_config(cfg: SentimentConfig, state: dict) -> SentimentConfig:
    """The classifier's config with the language model's architecture (bidirectional when
    the language model is), reading direction and tokenizer kind; the other options
    (dropout, pooling, training) stay as given."""
    if state["tokenizer"]["kind"] == "char":
        raise UserError(f"--pretrained {cfg.pretrained} is a character-level language model; a "
                        "classifier starts from a word or bpe one (`rnnlab lm fit --level "
                        "word`)")
    arch = state["architecture"]
    return cfg.replace(model=arch["cell"], embed=arch["embed"], hidden=arch["hidden"],
                       layers=arch["layers"], bidirectional=arch["bidirectional"],
                       backward=state["config"]["backward"],
                       tokenizer=state["tokenizer"]["kind"])


def classifier_config(cfg: SentimentConfig, source: SentimentConfig) -> SentimentConfig:
    """The config with the architecture of the sentiment run it starts from (the other options
    stay as given)."""
    return cfg.replace(model=source.model, embed=source.embed, hidden=source.hidden,
                       layers=source.layers, bidirectional=source.bidirectional,
                       backward=source.backward, tokenizer=source.tokenizer,
                       pooling=source.pooling, head_hidden=source.head_hidden)


def with_lm_words(tokenizer: WordTokenizer, lm_tokenizer: WordTokenizer) -> WordTokenizer:
    """Append the language model's words to `tokenizer` (fitted on the labelled training
    texts), in place, after its own: ids of the training words do not change."""
    itos = list(tokenizer.vocab.itos)
    known = set(itos)
    itos += [t for t in lm_tokenizer.vocab.itos if t not in known and t not in (PAD, UNK)]
    tokenizer.vocab_ = Vocabulary(itos)
    return tokenizer


def mapped_embedding(lm_weight: torch.Tensor, lm_tokenizer: Tokenizer,
                     tokenizer: Tokenizer) -> tuple[torch.Tensor, float]:
    """Embedding for `tokenizer`'s ids from the language model's rows, matched by token text;
    unseen tokens get the mean row. Returns the matrix and the share of ids found."""
    mean = lm_weight[PAD_ID + 1:].mean(dim=0)
    weight = mean.repeat(tokenizer.vocab_size, 1)
    found = 0
    for index in range(tokenizer.vocab_size):
        source = lm_tokenizer.token_to_id(tokenizer.id_to_token(index))
        if source is not None and source < lm_weight.size(0):
            weight[index] = lm_weight[source]
            found += 1
    weight[PAD_ID] = 0.0
    return weight, found / tokenizer.vocab_size


def transfer_weights(net: TextClassifierNet, lm: WordLanguageModel | TextClassifierNet,
                     lm_tokenizer: Tokenizer, tokenizer: Tokenizer) -> float:
    """Copy encoder and mapped embedding of `lm` (a language model, or a classifier) into
    `net`; returns the vocabulary coverage."""
    source = {_RAW.sub("", k): v for k, v in lm.body.encoder.state_dict().items()}
    target = net.body.encoder.state_dict()
    missing = [k for k in target if _RAW.sub("", k) not in source]
    if missing:
        raise ValueError(f"language model encoder lacks {missing[:3]}")
    net.body.encoder.load_state_dict({k: source[_RAW.sub("", k)] for k in target})
    weight, coverage = mapped_embedding(lm.body.embedding.weight.detach(), lm_tokenizer,
                                        tokenizer)
    with torch.no_grad():
        net.body.embedding.weight.copy_(weight)
    return coverage
