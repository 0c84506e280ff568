"""Lightning module of the language model: next-token cross-entropy over BPTT chunks, with the
hidden state carried from chunk to chunk (detached) and reset every epoch."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from rnnlab.models.lm import State, WordLanguageModel, sampled_softmax_loss
from rnnlab.tasks.language.data import BpttChunks
from rnnlab.training import SupervisedModule


class LanguageModelModule(SupervisedModule):
    """Logs train_loss / val_loss (mean nats per token) and val_perplexity every epoch."""

    def __init__(self, net: WordLanguageModel, lr: float = 1e-3, weight_decay: float = 0.0,
                 frequencies: torch.Tensor | None = None, samples: int = 0,
                 schedule: str = "constant") -> None:
        super().__init__(lr=lr, weight_decay=weight_decay, schedule=schedule)
        self.net = net
        self.samples = samples  # > 0: sampled softmax while training (needs `frequencies`)
        self.frequencies = frequencies
        self._states: dict[str, State | None] = {"train": None, "val": None}

    def _chunk_loss(self, batch: tuple[torch.Tensor, ...], stage: str) -> torch.Tensor:
        """Mean cross-entropy of the next token (and, bidirectional, of the previous one)."""
        inputs, targets, previous = batch
        features, state = self.net.features(inputs, self._states[stage])
        self._states[stage] = self.net.carry(state)
        goals = torch.stack([targets, previous][: features.size(2)], dim=2)  # (B, T, D)
        kept = goals.reshape(-1) >= 0  # the stream's first token has no previous one
        features = features.reshape(-1, features.size(-1))[kept]
        goals = goals.reshape(-1)[kept]
        if stage == "train" and self.samples > 0:
            return sampled_softmax_loss(features, goals, self.net.decoder,
                                        self.frequencies.to(features.device), self.samples)
        return F.cross_entropy(self.net.decoder(features), goals)

    def training_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int
                      ) -> torch.Tensor:
        loss = self._chunk_loss(batch, "train")
        self._sums["train"].append(loss.detach())
        return loss

    def validation_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int
                        ) -> torch.Tensor:
        loss = self._chunk_loss(batch, "val")
        self._sums["val"].append(loss.detach())
        return loss

    def on_train_epoch_start(self) -> None:
        self._states["train"] = None

    def on_validation_epoch_start(self) -> None:
        self._states["val"] = None

    def on_validation_epoch_end(self) -> None:
        losses = self._sums["val"]
        if losses:
            self.log("val_perplexity", torch.stack(losses).mean().exp())
        super().on_validation_epoch_end()


@torch.no_grad()
def stream_nll(net: WordLanguageModel, chunks: BpttChunks) -> float:
    """Mean negative log-likelihood (nats per token) of every target in `chunks`, the state
    carried through the stream (token-weighted, so a short last chunk counts correctly)."""
    if net.training:  # a fitted or loaded model is already in eval mode: nothing changes
        net.eval()
    state, total, count = None, 0.0, 0
    for index in range(len(chunks)):
        inputs, targets, _ = chunks[index]
        logits, state = net(inputs, state)
        total += float(F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1),
                                       reduction="sum"))
        count += targets.numel()
    return total / count


def perplexity(nll: float) -> float:
    return math.exp(nll)
