"""The inspectable step-by-step cells give the fused layers' outputs and expose their gates."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch import nn

from rnnlab.models.cells import InspectableRNN
from rnnlab.models.encoder import RecurrentEncoder

GATE_NAMES = {"rnn": {"h"}, "lstm": {"f", "i", "o", "C_tilde", "C", "h"},
              "gru": {"r", "z", "n", "h"}}
CASES = list(itertools.product(["rnn", "lstm", "gru"], [1, 2], [False, True]))


def _encoder(cell: str, layers: int, bidirectional: bool, seed: int = 0) -> RecurrentEncoder:
    torch.manual_seed(seed)
    return RecurrentEncoder(input_size=3, hidden_size=5, num_layers=layers, cell=cell,
                            bidirectional=bidirectional).eval()


@pytest.mark.parametrize(("cell", "layers", "bidirectional"), CASES)
def test_inspectable_twin_matches_the_fused_layer(cell, layers, bidirectional):
    encoder = _encoder(cell, layers, bidirectional)
    twin = InspectableRNN.from_fused(encoder)
    x = torch.randn(4, 7, 3)
    with torch.no_grad():
        fused, _ = encoder(x)
        stepwise, trace = twin(x)
    assert stepwise.shape == fused.shape == (4, 7, 5 * (2 if bidirectional else 1))
    assert (stepwise - fused).abs().max().item() < 1e-5
    assert len(trace) == layers and all(len(t) == (2 if bidirectional else 1) for t in trace)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_twin_of_a_bare_module_without_bias(cell):
    torch.manual_seed(1)
    fused = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell](
        2, 4, num_layers=2, bias=False, batch_first=True, bidirectional=True)
    twin = InspectableRNN.from_fused(fused)
    x = torch.randn(3, 6, 2)
    with torch.no_grad():
        expected, _ = fused(x)
        got, _ = twin(x)
    assert (got - expected).abs().max().item() < 1e-5


def test_the_twin_is_a_copy_not_a_view():
    encoder = _encoder("lstm", 1, False)
    twin = InspectableRNN.from_fused(encoder)
    x = torch.randn(2, 5, 3)
    with torch.no_grad():
        before, _ = twin(x)
        encoder.rnn.weight_hh_l0.add_(1.0)
        after, _ = twin(x)
    assert torch.equal(before, after)


def test_relu_elman_has_no_twin():
    with pytest.raises(ValueError, match="tanh"):
        InspectableRNN.from_fused(nn.RNN(2, 3, nonlinearity="relu"))


@pytest.mark.parametrize(("cell", "layers", "bidirectional"), CASES)
def test_gates_have_documented_names_and_shapes(cell, layers, bidirectional):
    twin = InspectableRNN.from_fused(_encoder(cell, layers, bidirectional))
    outputs, trace = twin(torch.randn(4, 7, 3))
    for layer in trace:
        for direction, gates in enumerate(layer):
            assert set(gates) == GATE_NAMES[cell]
            for value in gates.values():
                assert value.shape == (4, 7, 5)
            if layer is trace[-1]:  # the top layer's h is the output, in input time order
                columns = slice(direction * 5, (direction + 1) * 5)
                torch.testing.assert_close(gates["h"], outputs[..., columns])


@pytest.mark.parametrize("bidirectional", [False, True])
def test_lstm_cell_state_update_holds_on_the_trace(bidirectional):
    twin = InspectableRNN.from_fused(_encoder("lstm", 1, bidirectional))
    _, trace = twin(torch.randn(2, 6, 3))
    for direction, gates in enumerate(trace[0]):
        f, i, o, C_tilde, C, h = (gates[k] for k in ("f", "i", "o", "C_tilde", "C", "h"))
        # forward: C_{t-1} is the previous step; backward: the next step in input order
        zeros = torch.zeros_like(C[:, :1])
        previous = torch.cat([zeros, C[:, :-1]], 1) if direction == 0 else torch.cat(
            [C[:, 1:], zeros], 1)
        torch.testing.assert_close(C, f * previous + i * C_tilde)
        torch.testing.assert_close(h, o * torch.tanh(C))
        for gate in (f, i, o):
            assert gate.min() >= 0 and gate.max() <= 1  # sigmoids
        assert C_tilde.abs().max() <= 1  # tanh


def test_gru_update_holds_on_the_trace():
    twin = InspectableRNN.from_fused(_encoder("gru", 1, False))
    _, trace = twin(torch.randn(2, 6, 3))
    gates = trace[0][0]
    z, n, h = gates["z"], gates["n"], gates["h"]
    previous = torch.cat([torch.zeros_like(h[:, :1]), h[:, :-1]], 1)
    torch.testing.assert_close(h, (1 - z) * n + z * previous)


def test_elman_step_is_tanh_of_an_affine_map():
    twin = InspectableRNN(input_size=2, hidden_size=3, cell="rnn")
    x = torch.randn(1, 4, 2)
    out, _ = twin(x)
    step = twin.layers[0][0]
    h = torch.zeros(1, 3)
    for t in range(4):
        h = torch.tanh(step.W(torch.cat([h, x[:, t]], dim=-1)))
        torch.testing.assert_close(out[:, t], h)
