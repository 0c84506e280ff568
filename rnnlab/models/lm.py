"""Word-level recurrent language model: the body (embedding + encoder) and a tied softmax.

`TextBody` is what a text classifier and a language model share: token embedding with
embedding dropout (whole words dropped, as in AWD-LSTM), then a `RecurrentEncoder` that may
carry its state across chunks for truncated backpropagation through time. `WordLanguageModel`
puts a decoder on it whose weight *is* the embedding matrix (tied embeddings, Press & Wolf
2017), so a pretrained body moves into a classifier unchanged (ULMFiT).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from rnnlab.data.text import Tokenizer, tokenizer_from_dict
from rnnlab.models.text_encoder import State, TextEncoder


def embedding_dropout(embedded: torch.Tensor, tokens: torch.Tensor, vocab_size: int, p: float,
                      training: bool) -> torch.Tensor:
    """Drop whole word types (every occurrence of a word in the batch) with probability `p`,
    rescaling the rest; embedded (batch, time, embed), tokens (batch, time)."""
    if not training or p <= 0:
        return embedded
    keep = embedded.new_empty((vocab_size, 1)).bernoulli_(1 - p) / (1 - p)
    return embedded * keep[tokens]


class TextBody(nn.Module):
    """Token ids -> per-step encoder outputs; the part shared by language model and classifier.
    The encoder is a `TextEncoder` (exact, unpacked on CPU; packed on GPU).

    Parameters
    ----------
    vocab_size: rows of the embedding (id 0 is padding).
    embed: embedding width.  hidden, layers, cell, bidirectional, dropout, weight_drop: as
    `RecurrentEncoder`.  embed_dropout: share of word types dropped per batch while training.
    input_dropout: dropout on the embedded inputs.
    """

    def __init__(self, vocab_size: int, embed: int = 128, hidden: int = 128, layers: int = 1,
                 cell: str = "lstm", bidirectional: bool = False, dropout: float = 0.0,
                 weight_drop: float = 0.0, embed_dropout: float = 0.0,
                 input_dropout: float = 0.0) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed, padding_idx=0)
        self.embed_dropout = embed_dropout
        self.input_dropout = nn.Dropout(input_dropout)
        self.encoder = TextEncoder(embed, hidden, layers, cell, bidirectional, dropout,
                                   weight_drop)

    @property
    def output_size(self) -> int:
        return self.encoder.output_size

    def embed(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens (batch, time) -> (batch, time, embed)."""
        embedded = embedding_dropout(self.embedding(tokens), tokens,
                                     self.embedding.num_embeddings, self.embed_dropout,
                                     self.training)
        return self.input_dropout(embedded)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """-> outputs (batch, time, output_size), last (batch, output_size); packed when
        `lengths` are given."""
        return self.encoder(self.embed(tokens), lengths)

    def forward_with_state(self, tokens: torch.Tensor, state: State | None = None
                           ) -> tuple[torch.Tensor, State]:
        return self.encoder.forward_with_state(self.embed(tokens), state)


class WordLanguageModel(nn.Module):
    """Predict the next token: TextBody -> dropout -> [projection] -> decoder tied to the
    embedding. A projection to the embedding width is added when hidden != embed.

    bidirectional (one layer only): a second direction reads the text backwards and predicts
    the previous token through the same projection and decoder, so a bidirectional
    classifier can start from pretrained weights in both directions (ELMo-style). With more
    layers the fused encoder would feed each direction the other's view of the future.
    """

    def __init__(self, vocab_size: int, embed: int = 128, hidden: int = 256, layers: int = 1,
                 cell: str = "lstm", dropout: float = 0.1, weight_drop: float = 0.0,
                 embed_dropout: float = 0.0, input_dropout: float = 0.0,
                 output_dropout: float = 0.1, tie: bool = True,
                 bidirectional: bool = False) -> None:
        super().__init__()
        if bidirectional and layers != 1:
            raise ValueError("a bidirectional language model has one layer")
        self.directions = 2 if bidirectional else 1
        self.body = TextBody(vocab_size, embed, hidden, layers, cell, bidirectional, dropout,
                             weight_drop, embed_dropout, input_dropout)
        self.output_dropout = nn.Dropout(output_dropout)
        needs_projection = tie and hidden != embed
        self.projection = nn.Linear(hidden, embed) if needs_projection else None
        self.decoder = nn.Linear(embed if tie else hidden, vocab_size)
        if tie:
            self.decoder.weight = self.body.embedding.weight  # one matrix, two uses

    def features(self, tokens: torch.Tensor, state: State | None = None
                 ) -> tuple[torch.Tensor, State]:
        """tokens (batch, time) -> softmax inputs (batch, time, directions, width), state;
        direction 0 predicts the next token, direction 1 (if any) the previous one."""
        outputs, state = self.body.forward_with_state(tokens, state)
        features = self.output_dropout(outputs)
        features = features.view(*features.shape[:2], self.directions, -1)
        if self.projection is not None:
            features = self.projection(features)
        return features, state

    def forward(self, tokens: torch.Tensor, state: State | None = None
                ) -> tuple[torch.Tensor, State]:
        """tokens (batch, time) -> next-token logits (batch, time, vocab), state."""
        features, state = self.features(tokens, state)
        return self.decoder(features[:, :, 0]), state

    def carry(self, state: State) -> State:
        """The state to start the next chunk from: detached, the backward direction's reset
        (it would need the next chunk, which it has not read)."""
        state = detach_state(state)
        if self.directions == 1:
            return state
        parts = state if isinstance(state, tuple) else (state,)
        reset = []
        for part in parts:
            part = part.clone()
            part[1::2] = 0.0  # (layers * directions, batch, hidden): odd rows run backwards
            reset.append(part)
        return tuple(reset) if isinstance(state, tuple) else reset[0]


def sampled_softmax_loss(features: torch.Tensor, targets: torch.Tensor, decoder: nn.Linear,
                         frequencies: torch.Tensor, samples: int) -> torch.Tensor:
    """Cross-entropy over a candidate set instead of the whole vocabulary (Jean et al. 2015).

    Candidates: this batch's targets plus `samples` words drawn from `frequencies` (unigram
    probabilities); every candidate's logit is corrected by the log of its chance of being in
    the set, so the scores still estimate full-softmax logits. Training only; perplexity is
    always measured with the full softmax.
    features (n, width), targets (n,) -> scalar.
    """
    drawn = torch.multinomial(frequencies, samples, replacement=True)
    candidates, inverse = torch.unique(torch.cat([targets, drawn]), return_inverse=True)
    draws = targets.numel() + samples
    inclusion = -torch.expm1(draws * torch.log1p(-frequencies[candidates].clamp(max=1 - 1e-6)))
    logits = F.linear(features, decoder.weight[candidates], decoder.bias[candidates])
    logits = logits - torch.log(inclusion.clamp(min=1e-12))
    return F.cross_entropy(logits, inverse[: targets.numel()])


def detach_state(state: State | None) -> State | None:
    """Cut the graph between BPTT chunks while keeping the values."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


# -- from a saved state: what `rnnlab lm fit` writes and `sentiment fit --pretrained` reads --
LM_FILE = "language_model.json"  # the language model's JSON state in a run's model/ folder


def language_model_from_state(state: dict[str, Any]) -> tuple[WordLanguageModel, Tokenizer]:
    """An (untrained) network of the saved architecture and the saved tokenizer; the run
    folder's files are read by `rnnlab.store`."""
    # runs saved before `--bidirectional` / `--backward` existed read forwards only
    state["architecture"] = {"bidirectional": False, **state["architecture"]}
    state["config"] = {"backward": False, **state.get("config", {})}
    tokenizer = tokenizer_from_dict(state["tokenizer"])
    return WordLanguageModel(tokenizer.vocab_size, **state["architecture"]), tokenizer


def load_language_model(run_or_model_dir: str | Path
                        ) -> tuple[WordLanguageModel, Tokenizer, dict[str, Any]]:
    """(model in eval mode, its tokenizer, the saved JSON state) from a pretrain run folder."""
    from rnnlab import store

    model_dir = store.model_dir(run_or_model_dir, "lm")
    state = store.read_state(model_dir, LM_FILE)
    try:
        model, tokenizer = language_model_from_state(state)
    except (KeyError, TypeError, ValueError) as exc:
        raise store.damaged(run_or_model_dir, f"{LM_FILE} lacks or mangles {exc}") from None
    store.load_weights(model, model_dir / store.WEIGHTS_FILE)
    return model.eval(), tokenizer, state
