"""Seq2Seq: an encoder-decoder of sentences with or without attention, readable in one file.

    source ids -> embedding -> bidirectional GRU / LSTM (packed on GPU, exact unpacked on CPU)
               -> memory (batch, source, 2 * hidden) + a summary that starts the decoder
    target ids -> embedding -> GRU / LSTM decoder (2 * hidden units) -> attention over the memory
               -> tanh(W [h; context]) -> dropout -> softmax over the target vocabulary

attention "dot" / "general" (Luong, without input feeding): the decoder reads only the previous
word, so in training it runs fused over the whole target and attention is one batched product,
the fastest kind on a CPU. "bahdanau": the previous decoder state chooses the context, which is
fed to the decoder with the previous word, so training steps through the target. "none": the
decks' plain encoder-decoder, one fixed context vector (the encoder's summary) fed at every
step. `step` decodes one token for all kinds (greedy and beam search, `rnnlab.models.decoding`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from rnnlab.data.text import PAD_ID
from rnnlab.models.attention import Attention
from rnnlab.models.encoder import FUSED
from rnnlab.models.text_encoder import TextEncoder

ATTENTIONS = ("bahdanau", "dot", "general", "none")
State = torch.Tensor | tuple[torch.Tensor, torch.Tensor]


def select_state(state: State, index: torch.Tensor) -> State:
    """The decoder state of batch rows `index` (beam expansion and reordering)."""
    if isinstance(state, tuple):
        return tuple(part.index_select(1, index) for part in state)  # type: ignore[return-value]
    return state.index_select(1, index)


@dataclass
class Memory:
    """What the decoder reads of the encoded source sentences."""

    outputs: torch.Tensor  # (batch, source, 2 * hidden), zero on padding
    keys: torch.Tensor | None  # the attention's precomputed source side
    mask: torch.Tensor  # (batch, source) True at real positions
    summary: torch.Tensor  # (batch, 2 * hidden): the fixed context of attention "none"

    def select(self, index: torch.Tensor) -> Memory:
        keys = None if self.keys is None else self.keys.index_select(0, index)
        return Memory(self.outputs.index_select(0, index), keys, self.mask.index_select(0, index),
                      self.summary.index_select(0, index))


class Seq2Seq(nn.Module):
    """Encoder-decoder translation model (see the module docstring)."""

    def __init__(self, src_vocab: int, tgt_vocab: int, embed: int = 256, hidden: int = 256,
                 layers: int = 1, cell: str = "gru", attention: str = "general",
                 dropout: float = 0.3, tie: bool = False) -> None:
        super().__init__()
        if attention not in ATTENTIONS:
            raise ValueError(f"attention must be one of {ATTENTIONS}; got {attention!r}")
        self.cell, self.kind, self.layers = cell, attention, layers
        size = 2 * hidden  # memory and decoder width
        self.src_embedding = nn.Embedding(src_vocab, embed, padding_idx=PAD_ID)
        self.encoder = TextEncoder(embed, hidden, layers, cell, bidirectional=True,
                                   dropout=dropout)
        self.bridge = nn.Linear(size, layers * size)
        self.tgt_embedding = nn.Embedding(tgt_vocab, embed, padding_idx=PAD_ID)
        feeds_context = attention in ("bahdanau", "none")
        self.decoder = FUSED[cell](embed + (size if feeds_context else 0), size, layers,
                                   batch_first=True, dropout=dropout if layers > 1 else 0.0)
        self.attention = None if attention == "none" else Attention(attention, size, size)
        out_size = embed if tie else size
        self.combine = nn.Linear(2 * size, out_size)
        self.output = nn.Linear(out_size, tgt_vocab)
        if tie:  # Press & Wolf 2017: the output layer shares the target embedding
            self.output.weight = self.tgt_embedding.weight
        self.drop = nn.Dropout(dropout)

    # -- encoder ----------------------------------------------------------------------------
    def encode(self, src: torch.Tensor, lengths: torch.Tensor) -> tuple[Memory, State]:
        """src (batch, source) right-padded ids, lengths (batch,) -> memory, decoder state."""
        outputs, last = self.encoder(self.drop(self.src_embedding(src)), lengths)
        steps = torch.arange(src.size(1), device=src.device)
        mask = steps[None, :] < lengths.to(src.device)[:, None]
        start = torch.tanh(self.bridge(last))  # (batch, layers * size)
        start = start.view(src.size(0), self.layers, -1).transpose(0, 1).contiguous()
        state = (start, torch.zeros_like(start)) if self.cell == "lstm" else start
        keys = None if self.attention is None else self.attention.keys(outputs)
        return Memory(outputs, keys, mask, last), state

    # -- decoder ----------------------------------------------------------------------------
    def _readout(self, hidden: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        """Decoder output and context -> logits over the target vocabulary."""
        attentional = torch.tanh(self.combine(torch.cat([hidden, context], dim=-1)))
        return self.output(self.drop(attentional))

    def step(self, previous: torch.Tensor, state: State, memory: Memory
             ) -> tuple[torch.Tensor, State, torch.Tensor | None]:
        """One decoder step: previous ids (batch,) -> logits (batch, vocab), the new state and
        the attention weights (batch, source) (None without attention)."""
        embedded = self.drop(self.tgt_embedding(previous)).unsqueeze(1)
        weights = None
        if self.kind == "bahdanau":
            top = (state[0] if isinstance(state, tuple) else state)[-1].unsqueeze(1)
            context, weights = self.attention(top, memory.keys, memory.outputs, memory.mask)
            hidden, state = self.decoder(torch.cat([embedded, context], dim=-1), state)
        elif self.kind == "none":
            context = memory.summary.unsqueeze(1)
            hidden, state = self.decoder(torch.cat([embedded, context], dim=-1), state)
        else:
            hidden, state = self.decoder(embedded, state)
            context, weights = self.attention(hidden, memory.keys, memory.outputs, memory.mask)
        logits = self._readout(hidden, context).squeeze(1)
        return logits, state, None if weights is None else weights.squeeze(1)

    def forward(self, src: torch.Tensor, lengths: torch.Tensor, tgt_in: torch.Tensor,
                teacher_forcing: float = 1.0) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits (batch, target, vocab) for every target position and the attention weights
        (batch, target, source). `tgt_in`: <bos> + target ids. With `teacher_forcing` < 1 each
        step reads the model's own previous prediction with probability 1 - teacher_forcing."""
        memory, state = self.encode(src, lengths)
        if self.kind == "bahdanau" or teacher_forcing < 1.0:
            return self._stepwise(tgt_in, state, memory, teacher_forcing)
        embedded = self.drop(self.tgt_embedding(tgt_in))
        if self.kind == "none":
            context = memory.summary.unsqueeze(1).expand(-1, tgt_in.size(1), -1)
            hidden, _ = self.decoder(torch.cat([embedded, context], dim=-1), state)
            return self._readout(hidden, context), None
        hidden, _ = self.decoder(embedded, state)
        context, weights = self.attention(hidden, memory.keys, memory.outputs, memory.mask)
        return self._readout(hidden, context), weights

    def _stepwise(self, tgt_in: torch.Tensor, state: State, memory: Memory,
                  teacher_forcing: float) -> tuple[torch.Tensor, torch.Tensor | None]:
        logits, weights, previous = [], [], tgt_in[:, 0]
        for t in range(tgt_in.size(1)):
            step_logits, state, step_weights = self.step(previous, state, memory)
            logits.append(step_logits)
            weights.append(step_weights)
            if t + 1 < tgt_in.size(1):
                previous = tgt_in[:, t + 1]
                if teacher_forcing < 1.0:
                    own = step_logits.argmax(dim=-1)
                    use_own = torch.rand(own.shape, device=own.device) >= teacher_forcing
                    previous = torch.where(use_own, own, previous)
        stacked = None if weights[0] is None else torch.stack(weights, dim=1)
        return torch.stack(logits, dim=1), stacked


def sequence_loss(logits: torch.Tensor, targets: torch.Tensor, smoothing: float = 0.0
                  ) -> torch.Tensor:
    """Mean cross-entropy per real target token (padding ignored), optionally label-smoothed."""
    return F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1),
                           ignore_index=PAD_ID, label_smoothing=smoothing)
