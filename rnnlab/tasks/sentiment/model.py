"""The sentiment network: embedding -> RecurrentEncoder -> pooling -> classifier, and its
Lightning module (cross-entropy, validation AUC, discriminative learning rates, gradual
unfreezing for fine-tuning a pretrained language model)."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from rnnlab.models.heads import ClassifierHead
from rnnlab.models.lm import TextBody
from rnnlab.tasks.sentiment.metrics import macro_auc
from rnnlab.training import SupervisedModule

_LAYER = re.compile(r"_l(\d+)")


class TextClassifierNet(nn.Module):
    """tokens (batch, time) + lengths (batch,) -> class logits (batch, n_classes)."""

    def __init__(self, vocab_size: int, n_classes: int, embed: int = 128, hidden: int = 128,
                 layers: int = 1, cell: str = "lstm", bidirectional: bool = True,
                 dropout: float = 0.3, weight_drop: float = 0.0, embed_dropout: float = 0.1,
                 input_dropout: float = 0.1, pooling: str = "maxmean",
                 head_hidden: int = 0) -> None:
        super().__init__()
        self.body = TextBody(vocab_size, embed, hidden, layers, cell, bidirectional, dropout,
                             weight_drop, embed_dropout, input_dropout)
        self.head = ClassifierHead(self.body.output_size, n_classes, pooling, head_hidden,
                                   dropout)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        outputs, last = self.body(tokens, lengths)
        return self.head(outputs, last, lengths)

    def forward_embedded(self, embedded: torch.Tensor, lengths: torch.Tensor | None = None
                         ) -> torch.Tensor:
        """Logits from already embedded inputs (batch, time, embed): for attributions."""
        outputs, last = self.body.encoder(embedded, lengths)
        return self.head(outputs, last, lengths)

    def layer_groups(self) -> list[list[nn.Parameter]]:
        """Parameters from the bottom up: embedding, each encoder layer, the head."""
        layers: dict[int, list[nn.Parameter]] = {}
        for name, parameter in self.body.encoder.named_parameters():
            match = _LAYER.search(name)
            layers.setdefault(int(match.group(1)) if match else 0, []).append(parameter)
        return [list(self.body.embedding.parameters()),
                *(layers[k] for k in sorted(layers)), list(self.head.parameters())]


class SentimentModule(SupervisedModule):
    """Cross-entropy training; logs val_loss, val_auc and val_accuracy every epoch.

    lr_decay > 1: discriminative learning rates, group k from the top gets lr / lr_decay**k.
    unfreeze: gradual unfreezing, epoch e trains only the top e + 1 layer groups.
    schedule: "slanted" for ULMFiT's slanted triangular rates (all groups scaled alike).
    """

    def __init__(self, net: TextClassifierNet, lr: float = 1e-3, weight_decay: float = 0.0,
                 lr_decay: float = 1.0, unfreeze: bool = False,
                 schedule: str = "constant") -> None:
        super().__init__(lr=lr, weight_decay=weight_decay, schedule=schedule)
        self.net = net
        self.lr_decay, self.unfreeze = lr_decay, unfreeze
        self._val_outputs: list[tuple[torch.Tensor, torch.Tensor]] = []

    def loss(self, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        tokens, lengths, labels = batch
        return F.cross_entropy(self.net(tokens, lengths), labels)

    def validation_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> torch.Tensor:
        tokens, lengths, labels = batch
        logits = self.net(tokens, lengths)
        loss = F.cross_entropy(logits, labels)
        self._sums["val"].append(loss.detach())
        self._val_outputs.append((logits.softmax(-1).detach().cpu(), labels.cpu()))
        return loss

    def on_validation_epoch_end(self) -> None:
        if self._val_outputs:
            probabilities = torch.cat([p for p, _ in self._val_outputs]).double().numpy()
            labels = torch.cat([y for _, y in self._val_outputs]).numpy()
            present = len(np.unique(labels)) > 1
            auc = macro_auc(labels, probabilities) if present else 0.5
            self.log("val_auc", auc, prog_bar=True)
            self.log("val_accuracy", float(np.mean(probabilities.argmax(1) == labels)))
        self._val_outputs = []
        super().on_validation_epoch_end()

    def configure_optimizers(self) -> Any:
        groups = self.net.layer_groups()
        top = len(groups) - 1
        param_groups = [{"params": params, "lr": self.lr / self.lr_decay ** (top - k)}
                        for k, params in enumerate(groups)]
        return self.scheduled(torch.optim.Adam(param_groups, lr=self.lr,
                                               weight_decay=self.weight_decay))

    def on_train_epoch_start(self) -> None:
        if not self.unfreeze:
            return
        groups = self.net.layer_groups()
        trainable = self.current_epoch + 1
        for k, params in enumerate(groups):
            for parameter in params:
                parameter.requires_grad_(k >= len(groups) - trainable)
