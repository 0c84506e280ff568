"""Inspectable Elman / LSTM / GRU cells written from the lecture equations.

They run one time step at a time in Python and return every gate, so rnnlab can show gate
activations and gradient flow through time. They are for explanation, not training (the fused
`RecurrentEncoder` is ~1.6x faster); `InspectableRNN.from_fused` copies a trained encoder's
weights so both give the same outputs (tested to 1e-5).

With `[h, x]` the concatenation of the previous hidden state and the input:

- Elman: h_t = tanh(W [h_{t-1}, x_t] + b)
- LSTM:  f_t = s(W_f [h_{t-1}, x_t] + b_f), i_t = s(W_i [..] + b_i), o_t = s(W_o [..] + b_o),
         C~_t = tanh(W_C [..] + b_C), C_t = f_t * C_{t-1} + i_t * C~_t, h_t = o_t * tanh(C_t)
- GRU:   r_t = s(W_r [..] + b_r), z_t = s(W_z [..] + b_z),
         n_t = tanh(W_nx x_t + b_nx + r_t * (W_nh h_{t-1} + b_nh)),
         h_t = (1 - z_t) n_t + z_t h_{t-1}
  (PyTorch's / cuDNN's form: the reset gate scales W_nh h rather than h; z_t is the share of
  the old state kept, which the colah diagrams write as 1 - z_t.)
"""

from __future__ import annotations

import torch
from torch import nn

from rnnlab.models.encoder import RecurrentEncoder

GATES = {"rnn": 1, "lstm": 4, "gru": 3}


class ElmanCell(nn.Module):
    """h_t = tanh(W [h_{t-1}, x_t] + b)."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.W = nn.Linear(hidden_size + input_size, hidden_size)

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, dict]:
        h_new = torch.tanh(self.W(torch.cat([h, x], dim=-1)))
        return h_new, {"h": h_new}


class LSTMCell(nn.Module):
    """Forget / input / output gates and candidate C~ over [h_{t-1}, x_t]; state is (h, C)."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.W_f = nn.Linear(hidden_size + input_size, hidden_size)
        self.W_i = nn.Linear(hidden_size + input_size, hidden_size)
        self.W_C = nn.Linear(hidden_size + input_size, hidden_size)
        self.W_o = nn.Linear(hidden_size + input_size, hidden_size)

    def forward(
        self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]
    ) -> tuple[tuple[torch.Tensor, torch.Tensor], dict]:
        h, C = state
        hx = torch.cat([h, x], dim=-1)
        f = torch.sigmoid(self.W_f(hx))
        i = torch.sigmoid(self.W_i(hx))
        C_tilde = torch.tanh(self.W_C(hx))
        C_new = f * C + i * C_tilde
        o = torch.sigmoid(self.W_o(hx))
        h_new = o * torch.tanh(C_new)
        return (h_new, C_new), {"f": f, "i": i, "o": o, "C_tilde": C_tilde, "C": C_new, "h": h_new}


class GRUCell(nn.Module):
    """Reset r and update z gates over [h_{t-1}, x_t]; candidate n with reset applied to W_nh h."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.W_r = nn.Linear(hidden_size + input_size, hidden_size)
        self.W_z = nn.Linear(hidden_size + input_size, hidden_size)
        self.W_nx = nn.Linear(input_size, hidden_size)
        self.W_nh = nn.Linear(hidden_size, hidden_size)

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, dict]:
        hx = torch.cat([h, x], dim=-1)
        r = torch.sigmoid(self.W_r(hx))
        z = torch.sigmoid(self.W_z(hx))
        n = torch.tanh(self.W_nx(x) + r * self.W_nh(h))
        h_new = (1 - z) * n + z * h
        return h_new, {"r": r, "z": z, "n": n, "h": h_new}


CELLS = {"rnn": ElmanCell, "lstm": LSTMCell, "gru": GRUCell}


class InspectableRNN(nn.Module):
    """Stacked, optionally bidirectional, step-by-step RNN that records its gates.

    `forward(x)` returns `(outputs, trace)`: outputs `(batch, time, hidden * directions)` like
    the fused layer, and `trace[layer][direction][gate]` of shape `(batch, time, hidden)`,
    in input time order for both directions.
    """

    def __init__(
        self, input_size: int, hidden_size: int, num_layers: int = 1,
        cell: str = "lstm", bidirectional: bool = False,
    ) -> None:
        super().__init__()
        self.cell_type = cell
        self.hidden_size = hidden_size
        self.num_directions = 2 if bidirectional else 1
        layers = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * self.num_directions
            layers.append(nn.ModuleList(
                CELLS[cell](layer_input, hidden_size) for _ in range(self.num_directions)
            ))
        self.layers = nn.ModuleList(layers)

    @classmethod
    def from_fused(cls, encoder: RecurrentEncoder | nn.RNNBase) -> InspectableRNN:
        """Copy the weights of a fused encoder (or a bare nn.RNN/LSTM/GRU) into step-wise cells."""
        fused = encoder.rnn if isinstance(encoder, RecurrentEncoder) else encoder
        cell = {nn.RNN: "rnn", nn.LSTM: "lstm", nn.GRU: "gru"}[type(fused)]
        if cell == "rnn" and fused.nonlinearity != "tanh":
            raise ValueError("only tanh Elman RNNs have an inspectable twin")
        model = cls(fused.input_size, fused.hidden_size, fused.num_layers, cell,
                    fused.bidirectional)
        with torch.no_grad():
            for layer, cells in enumerate(model.layers):
                for direction, step in enumerate(cells):
                    suffix = f"_l{layer}" + ("_reverse" if direction else "")
                    _copy_fused(step, cell, *(
                        getattr(fused, name + suffix)
                        if fused.bias or name.startswith("weight") else None
                        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
                    ))
        return model

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[list[dict]]]:
        """x: (batch, time, input_size) -> outputs (batch, time, hidden * directions), trace."""
        batch, steps, _ = x.shape
        trace: list[list[dict]] = []
        layer_input = x
        for cells in self.layers:
            outputs, layer_trace = [], []
            for direction, step in enumerate(cells):
                order = range(steps - 1, -1, -1) if direction else range(steps)
                zeros = x.new_zeros(batch, self.hidden_size)
                state = (zeros, zeros) if self.cell_type == "lstm" else zeros
                gates: dict[str, list[torch.Tensor]] = {}
                hidden = [None] * steps
                for t in order:
                    state, step_gates = step(layer_input[:, t], state)
                    hidden[t] = step_gates["h"]
                    for name, value in step_gates.items():
                        gates.setdefault(name, []).append(value)
                if direction:  # recorded backwards; store in input time order
                    gates = {k: v[::-1] for k, v in gates.items()}
                layer_trace.append({k: torch.stack(v, dim=1) for k, v in gates.items()})
                outputs.append(torch.stack(hidden, dim=1))
            layer_input = torch.cat(outputs, dim=-1)
            trace.append(layer_trace)
        return layer_input, trace


def _copy_fused(
    step: nn.Module, cell: str, w_ih: torch.Tensor, w_hh: torch.Tensor,
    b_ih: torch.Tensor | None, b_hh: torch.Tensor | None,
) -> None:
    """Split PyTorch's stacked gate matrices (LSTM: i,f,g,o; GRU: r,z,n) into named cells."""
    hidden = w_hh.shape[1]
    b_ih = b_ih if b_ih is not None else w_ih.new_zeros(w_ih.shape[0])
    b_hh = b_hh if b_hh is not None else w_hh.new_zeros(w_hh.shape[0])

    def chunk(k: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        rows = slice(k * hidden, (k + 1) * hidden)
        return w_ih[rows], w_hh[rows], b_ih[rows], b_hh[rows]

    def set_concat(linear: nn.Linear, k: int) -> None:
        wi, wh, bi, bh = chunk(k)
        linear.weight.copy_(torch.cat([wh, wi], dim=1))  # columns follow [h, x]
        linear.bias.copy_(bi + bh)

    if cell == "rnn":
        set_concat(step.W, 0)
    elif cell == "lstm":
        for k, linear in enumerate([step.W_i, step.W_f, step.W_C, step.W_o]):
            set_concat(linear, k)
    else:
        set_concat(step.W_r, 0)
        set_concat(step.W_z, 1)
        wi, wh, bi, bh = chunk(2)
        step.W_nx.weight.copy_(wi)
        step.W_nx.bias.copy_(bi)
        step.W_nh.weight.copy_(wh)
        step.W_nh.bias.copy_(bh)
