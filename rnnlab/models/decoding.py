"""Batched greedy and beam-search decoding for `Seq2Seq`.

Greedy decoding picks each token with `rnnlab.models.sampling.choose_next` (temperature 0), the
step the language model's generation uses. Beam search keeps the `beam` best partial
translations of every sentence (all sentences of a batch at once), lets a finished one keep its
slot with its score frozen, and chooses among the finished ones by log-probability divided by
length ** `length_penalty` (0: raw log-probability, which favours short outputs). Every sentence
stops at its own maximum length (`max_lengths`), where <eos> is forced.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from rnnlab.models.sampling import choose_next
from rnnlab.models.seq2seq import Seq2Seq, select_state


@dataclass
class Hypothesis:
    """One decoded sentence: target ids (without <eos>), the total log-probability (with
    <eos>) and the attention weights (steps with <eos>, source length), or None."""

    ids: list[int]
    logprob: float
    attention: np.ndarray | None


def max_lengths(lengths: torch.Tensor, ratio: float = 1.5, extra: int = 10) -> torch.Tensor:
    """Most target tokens (with <eos>) allowed per sentence: ratio * source length + extra."""
    return torch.ceil(lengths.float() * ratio).long() + extra


def _finish(ids: torch.Tensor, logprob: float, attention: torch.Tensor | None, source: int,
            eos_id: int) -> Hypothesis:
    tokens = ids.tolist()
    steps = tokens.index(eos_id) + 1 if eos_id in tokens else len(tokens)
    weights = None if attention is None else attention[:steps, :source].float().numpy()
    return Hypothesis(tokens[: steps - 1] if eos_id in tokens else tokens, logprob, weights)


@torch.no_grad()
def greedy_decode(model: Seq2Seq, src: torch.Tensor, lengths: torch.Tensor, bos_id: int,
                  eos_id: int, limits: torch.Tensor) -> list[Hypothesis]:
    """The most likely next token at every step, for each sentence of the batch."""
    memory, state = model.encode(src, lengths)
    batch = src.size(0)
    previous = torch.full((batch,), bos_id, dtype=torch.long, device=src.device)
    done = torch.zeros(batch, dtype=torch.bool, device=src.device)
    total = torch.zeros(batch, device=src.device)
    chosen, weights = [], []
    for t in range(int(limits.max())):
        logits, state, attention = model.step(previous, state, memory)
        logp = logits.float().log_softmax(dim=-1)
        token = choose_next(logp, temperature=0)
        token = torch.where(t + 1 >= limits.to(src.device), torch.full_like(token, eos_id), token)
        total += torch.where(done, 0.0, logp.gather(1, token[:, None]).squeeze(1))
        token = torch.where(done, torch.full_like(token, eos_id), token)
        chosen.append(token)
        weights.append(attention)
        done |= token == eos_id
        previous = token
        if bool(done.all()):
            break
    ids = torch.stack(chosen, dim=1).cpu()
    stacked = None if weights[0] is None else torch.stack(weights, dim=1).cpu()
    return [_finish(ids[b], float(total[b]), None if stacked is None else stacked[b],
                    int(lengths[b]), eos_id) for b in range(batch)]


@torch.no_grad()
def beam_search(model: Seq2Seq, src: torch.Tensor, lengths: torch.Tensor, bos_id: int,
                eos_id: int, limits: torch.Tensor, beam: int = 5, length_penalty: float = 1.0
                ) -> list[Hypothesis]:
    """The best of `beam` hypotheses per sentence (see the module docstring)."""
    memory, state = model.encode(src, lengths)
    batch, device = src.size(0), src.device
    rows = torch.arange(batch, device=device).repeat_interleave(beam)
    memory, state = memory.select(rows), select_state(state, rows)
    scores = torch.full((batch, beam), -math.inf, device=device)
    scores[:, 0] = 0.0
    ids = torch.zeros(batch, beam, 0, dtype=torch.long, device=device)
    history: torch.Tensor | None = None
    done = torch.zeros(batch, beam, dtype=torch.bool, device=device)
    produced = torch.zeros(batch, beam, device=device)
    previous = torch.full((batch * beam,), bos_id, dtype=torch.long, device=device)
    offsets = (torch.arange(batch, device=device) * beam)[:, None]
    at_limit_of = limits.to(device)[:, None, None]
    not_eos = only_eos = None  # (vocab,) rows, built at the first step
    for t in range(int(limits.max())):
        logits, state, attention = model.step(previous, state, memory)
        logp = logits.float().log_softmax(dim=-1).view(batch, beam, -1)
        if only_eos is None:
            not_eos = torch.arange(logp.size(-1), device=device) != eos_id
            only_eos = torch.zeros(logp.size(-1), device=device).masked_fill(not_eos, -math.inf)
        # at a sentence's limit only <eos> may follow (its log-probability counts); a finished
        # hypothesis is continued by <eos> at no cost, so its score stays frozen
        logp = torch.where(t + 1 >= at_limit_of, logp.masked_fill(not_eos, -math.inf), logp)
        logp = torch.where(done[..., None], only_eos, logp)
        top, flat = (scores[..., None] + logp).view(batch, -1).topk(beam, dim=-1)
        origin, token = flat // logp.size(-1), flat % logp.size(-1)
        reorder = (origin + offsets).view(-1)
        state = select_state(state, reorder)
        ids = torch.cat([ids.gather(1, origin[..., None].expand_as(ids)), token[..., None]], 2)
        if attention is not None:
            step = attention.view(batch, beam, 1, -1)  # rows of the beams before reordering
            history = step if history is None else torch.cat([history, step], dim=2)
            history = history.gather(1, origin[..., None, None].expand_as(history))
        was_done = done.gather(1, origin)
        produced = produced.gather(1, origin) + (~was_done).float()
        done = was_done | (token == eos_id)
        scores, previous = top, token.view(-1)
        if bool(done.all()):
            break
    normalized = scores / produced.clamp(min=1.0) ** length_penalty
    best = normalized.argmax(dim=1)
    ids = ids.cpu()
    return [_finish(ids[b, best[b]], float(scores[b, best[b]]),
                    None if history is None else history[b, best[b]].cpu(),
                    int(lengths[b]), eos_id) for b in range(batch)]
