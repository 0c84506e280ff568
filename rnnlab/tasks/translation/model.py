"""Lightning module of the translation model: label-smoothed cross-entropy of each target word
given the source and the true previous words (teacher forcing, with --teacher-forcing below 1
some steps read the model's own prediction). Validation loss is the plain cross-entropy, so
exp(val_loss) is the validation perplexity."""

from __future__ import annotations

import math

import torch

from rnnlab.models.seq2seq import Seq2Seq, sequence_loss
from rnnlab.training import SupervisedModule


class TranslationModule(SupervisedModule):
    def __init__(self, net: Seq2Seq, lr: float = 1e-3, weight_decay: float = 0.0,
                 schedule: str = "constant", smoothing: float = 0.0,
                 teacher_forcing: float = 1.0) -> None:
        super().__init__(lr=lr, weight_decay=weight_decay, schedule=schedule)
        self.net, self.smoothing, self.teacher_forcing = net, smoothing, teacher_forcing

    def loss(self, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        src, lengths, tgt_in, tgt_out = batch
        if self.training:
            logits, _ = self.net(src, lengths, tgt_in, self.teacher_forcing)
            return sequence_loss(logits, tgt_out, self.smoothing)
        logits, _ = self.net(src, lengths, tgt_in)
        return sequence_loss(logits, tgt_out)


@torch.no_grad()
def perplexity(net: Seq2Seq, batches: list[tuple[torch.Tensor, ...]]) -> float:
    """exp(mean cross-entropy per target token, <eos> included), teacher-forced."""
    net.eval()
    total, count = 0.0, 0
    for src, lengths, tgt_in, tgt_out in batches:
        logits, _ = net(src, lengths, tgt_in)
        tokens = int((tgt_out != 0).sum())
        total += float(sequence_loss(logits, tgt_out)) * tokens
        count += tokens
    return math.exp(total / max(count, 1))
