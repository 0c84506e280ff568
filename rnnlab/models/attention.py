"""Attention over an encoder's outputs: Bahdanau (additive) and Luong (dot, general).

Every kind scores each query against every non-padding source position and returns the
weighted sum of the encoder outputs (the context) and the weights themselves, which are exactly
zero on padding and sum to one over the real positions (a masked softmax).

    Bahdanau et al. 2015, "additive":  score(q, m) = v . tanh(W_q q + W_m m)
    Luong et al. 2015, "dot":          score(q, m) = q . m
    Luong et al. 2015, "general":      score(q, m) = q . (W m)

The parts that depend only on the source (`W_m m`, `W m`) are computed once per sentence by
`keys` and reused at every decoder step.
"""

from __future__ import annotations

import torch
from torch import nn

KINDS = ("bahdanau", "dot", "general")


def masked_softmax(scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """softmax over the last axis where `mask` (broadcastable, True = real) holds; exact zeros
    elsewhere."""
    weights = scores.masked_fill(~mask, float("-inf")).softmax(dim=-1)
    return weights.masked_fill(~mask, 0.0)


class Attention(nn.Module):
    """query (batch, steps, query_size) x memory (batch, source, memory_size) -> context
    (batch, steps, memory_size), weights (batch, steps, source)."""

    def __init__(self, kind: str, query_size: int, memory_size: int, size: int | None = None
                 ) -> None:
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"attention must be one of {KINDS}; got {kind!r}")
        if kind == "dot" and query_size != memory_size:
            raise ValueError(f"dot attention needs query_size == memory_size; got "
                             f"{query_size} and {memory_size}")
        self.kind = kind
        size = size or query_size
        if kind == "bahdanau":
            self.query_proj = nn.Linear(query_size, size, bias=False)
            self.memory_proj = nn.Linear(memory_size, size)
            self.score = nn.Linear(size, 1, bias=False)
        elif kind == "general":
            self.memory_proj = nn.Linear(memory_size, query_size, bias=False)

    def keys(self, memory: torch.Tensor) -> torch.Tensor:
        """The source side of the score, computed once per batch of sentences."""
        return memory if self.kind == "dot" else self.memory_proj(memory)

    def forward(self, query: torch.Tensor, keys: torch.Tensor, memory: torch.Tensor,
                mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """`mask` (batch, source): True at real source positions."""
        if self.kind == "bahdanau":
            hidden = torch.tanh(self.query_proj(query).unsqueeze(2) + keys.unsqueeze(1))
            scores = self.score(hidden).squeeze(-1)  # (batch, steps, source)
        else:
            scores = torch.bmm(query, keys.transpose(1, 2))
        weights = masked_softmax(scores, mask.unsqueeze(1))
        return torch.bmm(weights, memory), weights
