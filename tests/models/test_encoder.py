"""RecurrentEncoder: shapes, the summary vector, padded batches and DropConnect."""

from __future__ import annotations

import pytest
import torch

from rnnlab.models.encoder import RecurrentEncoder


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("layers", [1, 3])
def test_shapes(cell, bidirectional, layers):
    encoder = RecurrentEncoder(4, hidden_size=6, num_layers=layers, cell=cell,
                               bidirectional=bidirectional)
    outputs, last = encoder(torch.randn(5, 9, 4))
    width = 6 * (2 if bidirectional else 1)
    assert encoder.output_size == width
    assert outputs.shape == (5, 9, width) and last.shape == (5, width)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_last_is_the_final_state_of_each_direction(cell):
    torch.manual_seed(0)
    encoder = RecurrentEncoder(3, hidden_size=4, num_layers=2, cell=cell, bidirectional=True)
    outputs, last = encoder(torch.randn(2, 7, 3))
    # forward direction ends at the last step, backward direction at the first
    torch.testing.assert_close(last[:, :4], outputs[:, -1, :4])
    torch.testing.assert_close(last[:, 4:], outputs[:, 0, 4:])


def test_unknown_cell_is_rejected():
    with pytest.raises(ValueError, match="cell must be one of"):
        RecurrentEncoder(3, cell="transformer")


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_padded_batch_matches_each_sequence_on_its_own(cell):
    torch.manual_seed(0)
    encoder = RecurrentEncoder(3, hidden_size=4, cell=cell, bidirectional=True).eval()
    lengths = torch.tensor([5, 2, 4])
    x = torch.randn(3, 5, 3)
    for row, length in enumerate(lengths):
        x[row, length:] = 99.0  # padding must not leak into the result
    outputs, last = encoder(x, lengths)
    assert outputs.shape == (3, 5, 8)
    for row, length in enumerate(lengths.tolist()):
        alone_out, alone_last = encoder(x[row:row + 1, :length])
        torch.testing.assert_close(outputs[row:row + 1, :length], alone_out)
        torch.testing.assert_close(last[row:row + 1], alone_last)
        assert torch.all(outputs[row, length:] == 0)


def test_weight_drop_is_random_in_training_and_off_in_evaluation():
    torch.manual_seed(0)
    encoder = RecurrentEncoder(3, hidden_size=8, cell="lstm", weight_drop=0.5)
    names = dict(encoder.named_parameters())
    assert "rnn.weight_hh_l0_raw" in names and "rnn.weight_hh_l0" not in names
    x = torch.randn(2, 6, 3)
    encoder.train()
    first, _ = encoder(x)
    second, _ = encoder(x)
    assert not torch.allclose(first, second)
    encoder.eval()
    a, _ = encoder(x)
    b, _ = encoder(x)
    torch.testing.assert_close(a, b)
    # in evaluation the raw weights are used unchanged: same as a plain encoder
    plain = RecurrentEncoder(3, hidden_size=8, cell="lstm").eval()
    state = {k.replace("_raw", ""): v for k, v in encoder.state_dict().items()}
    plain.load_state_dict(state)
    torch.testing.assert_close(plain(x)[0], a)


def test_weight_drop_survives_validation_between_training_epochs():
    """eval -> train -> eval, as Lightning does: the state dict keeps its keys, training works."""
    torch.manual_seed(0)
    encoder = RecurrentEncoder(3, hidden_size=4, num_layers=2, cell="lstm", weight_drop=0.5)
    keys = set(encoder.state_dict())
    x = torch.randn(2, 5, 3)
    for training in (False, True, False, True):
        encoder.train(training)
        encoder(x)[1].sum().backward()
        assert set(encoder.state_dict()) == keys
    assert encoder.rnn.weight_hh_l1_raw.grad is not None


def test_weight_drop_trains_the_raw_weights():
    torch.manual_seed(0)
    encoder = RecurrentEncoder(3, hidden_size=4, cell="gru", weight_drop=0.3).train()
    _, last = encoder(torch.randn(2, 5, 3))
    last.sum().backward()
    raw = encoder.rnn.weight_hh_l0_raw
    assert raw.grad is not None and raw.grad.abs().sum() > 0


def test_dropout_between_layers_is_ignored_with_one_layer():
    assert RecurrentEncoder(3, num_layers=1, dropout=0.5).rnn.dropout == 0.0
    assert RecurrentEncoder(3, num_layers=2, dropout=0.5).rnn.dropout == 0.5
