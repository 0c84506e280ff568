"""Choosing the next token from a model's logits: greedy, temperature, top-k and top-p.

Shared by every job that decodes one token at a time (language-model generation,
translation). Pure functions of the logits and a `torch.Generator`, so a seed fixes the output.
"""

from __future__ import annotations

import torch


def filter_logits(logits: torch.Tensor, top_k: int | None = None, top_p: float | None = None
                  ) -> torch.Tensor:
    """Logits (..., vocab) with every token outside the top-k set and outside the smallest set
    whose probability reaches `top_p` (nucleus) set to -inf. The most likely token always stays,
    so something can be drawn."""
    if top_k is not None and 0 < top_k < logits.size(-1):
        kth = torch.topk(logits, top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p is not None and top_p < 1.0:
        ordered, order = torch.sort(logits, dim=-1, descending=True)
        cumulative = ordered.softmax(dim=-1).cumsum(dim=-1)
        # drop a token when the tokens before it already reach top_p
        drop_sorted = (cumulative - ordered.softmax(dim=-1)) >= top_p
        drop = drop_sorted.scatter(-1, order, drop_sorted)
        logits = logits.masked_fill(drop, float("-inf"))
    return logits


def choose_next(logits: torch.Tensor, temperature: float = 1.0, top_k: int | None = None,
                top_p: float | None = None, generator: torch.Generator | None = None
                ) -> torch.Tensor:
    """Next token ids (...,) from logits (..., vocab). `temperature` 0: the most likely token
    (greedy decoding); otherwise a draw from softmax(logits / temperature) restricted to the
    top-k / top-p set."""
    if temperature == 0:
        return logits.argmax(dim=-1)
    filtered = filter_logits(logits / temperature, top_k, top_p)
    probabilities = filtered.softmax(dim=-1)
    flat = probabilities.reshape(-1, probabilities.size(-1))
    drawn = torch.multinomial(flat, 1, generator=generator)
    return drawn.reshape(probabilities.shape[:-1])
