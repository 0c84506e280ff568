"""RecurrentEncoder: the fused PyTorch RNN / LSTM / GRU every task trains with.

One module for all jobs: cell type, hidden size, stacked layers, bidirectional, inter-layer
dropout, optional DropConnect ("weight-drop", Merity et al. 2017) on the hidden-to-hidden
weights, and variable-length batches through `pack_padded_sequence`.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

CellType = Literal["rnn", "lstm", "gru"]
FUSED = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class RecurrentEncoder(nn.Module):
    """Encode `(batch, time, features)` into per-step outputs and a final summary vector.

    Parameters
    ----------
    input_size: features per time step.
    hidden_size: units per direction and layer.
    num_layers: stacked layers ("deep RNN").
    cell: "rnn" (Elman, tanh), "lstm" or "gru".
    bidirectional: also read the sequence backwards; outputs concatenate both directions.
    dropout: dropout between stacked layers (ignored with one layer).
    weight_drop: DropConnect probability on the hidden-to-hidden matrices while training.

    Examples
    --------
    >>> enc = RecurrentEncoder(input_size=3, hidden_size=8, cell="gru", bidirectional=True)
    >>> outputs, last = enc(torch.zeros(4, 10, 3))
    >>> tuple(outputs.shape), tuple(last.shape)
    ((4, 10, 16), (4, 16))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int = 64,
        num_layers: int = 1,
        cell: CellType = "lstm",
        bidirectional: bool = False,
        dropout: float = 0.0,
        weight_drop: float = 0.0,
    ) -> None:
        super().__init__()
        if cell not in FUSED:
            raise ValueError(f"cell must be one of {sorted(FUSED)}; got {cell!r}")
        self.cell = cell
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.num_directions = 2 if bidirectional else 1
        self.weight_drop = weight_drop
        self.rnn = FUSED[cell](
            input_size, hidden_size, num_layers=num_layers, batch_first=True,
            bidirectional=bidirectional, dropout=dropout if num_layers > 1 else 0.0,
        )
        # DropConnect: keep the trainable hidden-to-hidden weights under a `_raw` name and hand
        # the fused layer a freshly dropped copy on every forward pass (as in AWD-LSTM).
        self._dropped = [n for n in self.rnn._flat_weights_names if n.startswith("weight_hh")]
        if weight_drop > 0:
            for name in self._dropped:
                weight = getattr(self.rnn, name)
                del self.rnn._parameters[name]
                self.rnn.register_parameter(f"{name}_raw", nn.Parameter(weight.data))
                setattr(self.rnn, name, weight.data.clone())

    @property
    def output_size(self) -> int:
        return self.hidden_size * self.num_directions

    def _apply_weight_drop(self) -> None:
        for name in self._dropped:
            raw = getattr(self.rnn, f"{name}_raw")
            # In eval mode F.dropout returns `raw` itself, a Parameter, which setattr would
            # register under the fused name (and then refuse the next training-mode tensor).
            dropped = F.dropout(raw, self.weight_drop, True) if self.training else raw.clone()
            setattr(self.rnn, name, dropped)

    def forward(
        self, x: torch.Tensor, lengths: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (batch, time, input_size); lengths: (batch,) valid steps when padded.

        Returns outputs (batch, time, output_size), zero past each length, and last
        (batch, output_size): the top layer's final state, both directions concatenated
        (for a padded batch, the state at each sequence's own last step).
        """
        if self.weight_drop > 0:
            self._apply_weight_drop()
        if lengths is not None:
            packed = pack_padded_sequence(
                x, lengths.cpu(), batch_first=True, enforce_sorted=False
            )
            packed_out, state = self.rnn(packed)
            outputs, _ = pad_packed_sequence(packed_out, batch_first=True, total_length=x.size(1))
        else:
            outputs, state = self.rnn(x)
        h_n = state[0] if self.cell == "lstm" else state  # (layers * directions, batch, hidden)
        top = h_n.view(self.num_layers, self.num_directions, x.size(0), self.hidden_size)[-1]
        last = top.transpose(0, 1).reshape(x.size(0), self.output_size)
        return outputs, last
