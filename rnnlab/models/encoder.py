"""RecurrentEncoder: the fused PyTorch RNN / LSTM / GRU every task trains with.

One module for all jobs: cell type, hidden size, stacked layers, bidirectional, inter-layer
dropout, optional DropConnect ("weight-drop", Merity et al. 2017) on the hidden-to-hidden
weights, and variable-length batches through `pack_padded_sequence`.

An eval-mode forward pass changes no module state (DropConnect included), so one model can
serve predictions from several threads at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
import torch.nn.functional as F
from torch import _VF, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

CellType = Literal["rnn", "lstm", "gru"]
State = torch.Tensor | tuple[torch.Tensor, torch.Tensor]
FUSED = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
# The kernels behind FUSED's forward (nn.RNN's default nonlinearity is tanh).
KERNELS = {"rnn": _VF.rnn_tanh, "lstm": _VF.lstm, "gru": _VF.gru}


def _permute(state: State, index: torch.Tensor | None) -> State:
    """Reorder the batch dimension (dim 1) of a recurrent state, as nn.RNNBase does for packed
    batches that were sorted by length."""
    if index is None:
        return state
    if isinstance(state, tuple):
        return tuple(part.index_select(1, index) for part in state)
    return state.index_select(1, index)


def _reshare_after_load(module: nn.Module, incompatible_keys: object) -> None:
    """load_state_dict post-hook (a module-level function, so the model still pickles)."""
    module._share_raw_weights()


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
        # DropConnect: the trainable hidden-to-hidden weights live under a `_raw` name, and every
        # forward pass hands the recurrence explicit weights (`_weights_for_pass`): a fresh
        # dropped copy of each raw matrix while training (as in AWD-LSTM), the raw matrix itself
        # in evaluation. Nothing is assigned onto the fused layer during a forward pass, so an
        # eval-mode forward changes no module state and one model can serve many threads; and
        # in-place loads into the raw weights (`load_state_dict`, safetensors) are seen at once.
        self._dropped = [n for n in self.rnn._flat_weights_names if n.startswith("weight_hh")]
        if weight_drop > 0:
            for name in self._dropped:
                weight = getattr(self.rnn, name)
                del self.rnn._parameters[name]
                self.rnn.register_parameter(f"{name}_raw", nn.Parameter(weight.data))
            self._share_raw_weights()
            # Keep the views current when a load replaces the raw Parameters (assign=True).
            self.register_load_state_dict_post_hook(_reshare_after_load)

    @property
    def output_size(self) -> int:
        return self.hidden_size * self.num_directions

    def _share_raw_weights(self) -> None:
        """Point the fused layer's `weight_hh_*` attributes at views of the raw weights (same
        storage, no autograd link), for code that reads them, e.g. `InspectableRNN.from_fused`.
        Called at construction, after `.to()` / `.half()`, loading a state dict, deepcopy or
        unpickling; never by `forward`, which passes its weights explicitly."""
        for name in self._dropped:
            setattr(self.rnn, name, getattr(self.rnn, f"{name}_raw").detach())

    def _apply(self, fn: Callable[[torch.Tensor], torch.Tensor], recurse: bool = True
               ) -> RecurrentEncoder:
        module = super()._apply(fn, recurse)
        if self.weight_drop > 0:
            self._share_raw_weights()
        return module

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        if self.weight_drop > 0:  # copy.deepcopy / pickle copy the views apart from the raw
            self._share_raw_weights()

    def _weights_for_pass(self) -> list[torch.Tensor]:
        """The fused layer's weights for one forward pass, in `_flat_weights_names` order."""
        weights = []
        for name in self.rnn._flat_weights_names:
            if self.weight_drop > 0 and name in self._dropped:
                raw = getattr(self.rnn, f"{name}_raw")
                weights.append(F.dropout(raw, self.weight_drop, True) if self.training else raw)
            else:
                weights.append(getattr(self.rnn, name))
        return weights

    def _run(self, x: torch.Tensor | PackedSequence, state: State | None = None
             ) -> tuple[torch.Tensor | PackedSequence, State]:
        """`self.rnn(x, state)`, but with DropConnect's weights passed explicitly (the same
        `_VF` kernels nn.LSTM / GRU / RNN call) instead of assigned onto the module."""
        rnn = self.rnn
        if self.weight_drop <= 0:
            return rnn(x, state)
        packed = isinstance(x, PackedSequence)
        data, batch_sizes, sorted_indices, unsorted_indices = (
            x if packed else (x, None, None, None))
        if state is None:
            zeros = data.new_zeros(rnn.num_layers * self.num_directions,
                                   int(batch_sizes[0]) if packed else data.size(0),
                                   self.hidden_size)
            state = (zeros, zeros) if self.cell == "lstm" else zeros
        else:
            state = _permute(state, sorted_indices)
        rnn.check_forward_args(data, state, batch_sizes)  # nn.RNNBase's own shape checks
        options = (rnn.bias, rnn.num_layers, float(rnn.dropout), rnn.training, rnn.bidirectional)
        head = (data, batch_sizes) if packed else (data,)
        tail = () if packed else (rnn.batch_first,)
        result = KERNELS[self.cell](*head, state, self._weights_for_pass(), *options, *tail)
        output = result[0]
        new_state = tuple(result[1:]) if self.cell == "lstm" else result[1]
        if packed:
            output = PackedSequence(output, batch_sizes, sorted_indices, unsorted_indices)
        return output, _permute(new_state, unsorted_indices)

    def forward(
        self, x: torch.Tensor, lengths: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (batch, time, input_size); lengths: (batch,) valid steps when padded.

        Returns outputs (batch, time, output_size), zero past each length, and last
        (batch, output_size): the top layer's final state, both directions concatenated
        (for a padded batch, the state at each sequence's own last step).
        """
        if lengths is not None:
            packed = pack_padded_sequence(
                x, lengths.cpu(), batch_first=True, enforce_sorted=False
            )
            packed_out, state = self._run(packed)
            outputs, _ = pad_packed_sequence(packed_out, batch_first=True, total_length=x.size(1))
        else:
            outputs, state = self._run(x)
        h_n = state[0] if self.cell == "lstm" else state  # (layers * directions, batch, hidden)
        top = h_n.view(self.num_layers, self.num_directions, x.size(0), self.hidden_size)[-1]
        last = top.transpose(0, 1).reshape(x.size(0), self.output_size)
        return outputs, last
