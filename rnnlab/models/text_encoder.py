"""TextEncoder: a `RecurrentEncoder` for padded text batches that is fast on CPU.

`RecurrentEncoder.forward(x, lengths)` packs the batch (`pack_padded_sequence`). On CPU a packed
LSTM runs PyTorch's step-by-step fallback, measured 5-6x slower than an unpacked one (which uses
oneDNN); on GPU cuDNN handles packed batches well. So on CPU this encoder computes exactly what
packing computes without packing: each layer and direction runs unpacked over the right-padded
batch, the backward direction on each text reversed within its own length, so no direction ever
reads a padding step before a real one. Padding steps are still computed (bucketed batches keep
them to a few percent) and zeroed in the outputs, as `pad_packed_sequence` does.

Same parameters and state-dict names as `RecurrentEncoder`, so weights move freely between the
two (and from / to a language model). Also takes and returns the recurrent state, for truncated
backpropagation through time.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from rnnlab.models.encoder import FUSED, KERNELS, RecurrentEncoder, State

_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def reverse_padded(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse the first `lengths[b]` steps of each row b of x (batch, time, ...); padding steps
    stay where they are. Its own inverse."""
    steps = torch.arange(x.size(1), device=x.device)[None, :]
    index = lengths.to(x.device)[:, None] - 1 - steps
    index = torch.where(index >= 0, index, steps)  # (batch, time)
    return x.gather(1, index.view(*index.shape, *[1] * (x.dim() - 2)).expand_as(x))


class TextEncoder(RecurrentEncoder):
    """`RecurrentEncoder` with an unpacked, exact CPU path for padded batches and a stateful
    forward for language models."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._drawn: set[int] = set()  # layers whose first training pass drew (see below)

    def skip_first_pass_draws(self) -> None:
        """Called when training resumes from a checkpoint made after the first pass."""
        self._drawn.update(range(self.num_layers))

    def _draw_as_before(self, layer: int) -> None:
        """Draw from the global RNG what the first pass of earlier versions drew: they built a
        one-layer module per layer here (its initial weights came from the RNG). Drawing the
        same numbers at the same moment keeps every seeded run, and so every number in
        bench/RESULTS.md, identical. Training only (training is never concurrent); the module
        is thrown away."""
        if layer in self._drawn:
            return
        self._drawn.add(layer)
        size = self.rnn.input_size if layer == 0 else self.output_size
        FUSED[self.cell](size, self.hidden_size, batch_first=True)

    def _direction(self, x: torch.Tensor, weights: dict[str, torch.Tensor], layer: int,
                   reverse: bool) -> torch.Tensor:
        """Run one layer in one direction over x (batch, time, features), from a zero state.
        Calls the fused kernel with explicit weights (no module is touched), so concurrent
        eval-mode forwards share nothing mutable."""
        suffix = f"_l{layer}" + ("_reverse" if reverse else "")
        params = [weights[name + suffix] for name in _NAMES]
        zeros = x.new_zeros(1, x.size(0), self.hidden_size)
        state = (zeros, zeros) if self.cell == "lstm" else zeros
        # kernel(input, state, weights, bias, layers, dropout, train, bidirectional, batch_first)
        return KERNELS[self.cell](x, state, params, self.rnn.bias, 1, 0.0, self.training, False,
                                  True)[0]

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """As `RecurrentEncoder.forward`; on CPU with `lengths`, without packing."""
        if lengths is None or x.is_cuda:
            return super().forward(x, lengths)
        weights = dict(zip(self.rnn._flat_weights_names, self._weights_for_pass(), strict=True))
        lengths = lengths.to(x.device)
        layer_input = x
        for layer in range(self.num_layers):
            if self.training:
                self._draw_as_before(layer)
            forward = self._direction(layer_input, weights, layer, reverse=False)
            parts = [forward]
            if self.num_directions == 2:
                backward = self._direction(reverse_padded(layer_input, lengths), weights, layer,
                                           reverse=True)
                parts.append(reverse_padded(backward, lengths))
            layer_input = torch.cat(parts, dim=-1)
            if layer < self.num_layers - 1 and self.rnn.dropout > 0:
                layer_input = F.dropout(layer_input, self.rnn.dropout, self.training)
        valid = torch.arange(x.size(1), device=x.device)[None, :] < lengths[:, None]
        outputs = layer_input * valid.unsqueeze(-1)
        rows = torch.arange(x.size(0), device=x.device)
        last = outputs[rows, lengths - 1, : self.hidden_size]  # forward: each text's last step
        if self.num_directions == 2:
            last = torch.cat([last, outputs[:, 0, self.hidden_size:]], dim=-1)  # backward: step 0
        return outputs, last

    def forward_with_state(self, x: torch.Tensor, state: State | None = None
                           ) -> tuple[torch.Tensor, State]:
        """x (batch, time, input) and the previous chunk's state -> outputs, new state."""
        return self._run(x, state)
