"""Task heads that sit on a `RecurrentEncoder`: pooling over time and a classifier.

One encoder, different heads (as fastai's `get_language_model` / `get_text_classifier`): the
sentiment job puts `ClassifierHead` on the encoder, the language model a tied softmax
(models/lm.py), and pretrained encoder weights move between them unchanged.
"""

from __future__ import annotations

import torch
from torch import nn

POOLINGS = ("last", "maxmean", "concat")


def masked_max_mean(outputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """outputs (batch, time, dim), lengths (batch,) -> [max over time, mean over time]
    (batch, 2 * dim), ignoring the padded steps past each length."""
    steps = torch.arange(outputs.size(1), device=outputs.device)
    valid = (steps[None, :] < lengths.to(outputs.device)[:, None]).unsqueeze(-1)  # (B, T, 1)
    maximum = outputs.masked_fill(~valid, float("-inf")).amax(dim=1)
    mean = (outputs * valid).sum(dim=1) / lengths.to(outputs.device)[:, None].clamp(min=1)
    return torch.cat([maximum, mean], dim=-1)


class SequencePooling(nn.Module):
    """Summarise the encoder's per-step outputs into one vector per sequence.

    "last": the final state (both directions); "maxmean": max and mean over time;
    "concat": last, max and mean (ULMFiT's concat pooling).
    """

    def __init__(self, mode: str, encoder_size: int) -> None:
        super().__init__()
        if mode not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}; got {mode!r}")
        self.mode = mode
        self.output_size = encoder_size * {"last": 1, "maxmean": 2, "concat": 3}[mode]

    def forward(self, outputs: torch.Tensor, last: torch.Tensor,
                lengths: torch.Tensor | None) -> torch.Tensor:
        """outputs (batch, time, dim), last (batch, dim) -> (batch, output_size)."""
        if self.mode == "last":
            return last
        if lengths is None:
            lengths = torch.full((outputs.size(0),), outputs.size(1), dtype=torch.long)
        pooled = masked_max_mean(outputs, lengths)
        return pooled if self.mode == "maxmean" else torch.cat([last, pooled], dim=-1)


class ClassifierHead(nn.Module):
    """Pooling -> dropout -> [Linear -> ReLU -> dropout] -> Linear to class logits."""

    def __init__(self, encoder_size: int, n_classes: int, pooling: str = "maxmean",
                 hidden: int = 0, dropout: float = 0.0) -> None:
        super().__init__()
        self.pooling = SequencePooling(pooling, encoder_size)
        size = self.pooling.output_size
        layers: list[nn.Module] = [nn.Dropout(dropout)]
        if hidden > 0:
            layers += [nn.Linear(size, hidden), nn.ReLU(), nn.Dropout(dropout)]
            size = hidden
        layers.append(nn.Linear(size, n_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, outputs: torch.Tensor, last: torch.Tensor,
                lengths: torch.Tensor | None = None) -> torch.Tensor:
        """-> logits (batch, n_classes)."""
        return self.layers(self.pooling(outputs, last, lengths))
