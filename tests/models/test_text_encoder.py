"""TextEncoder's unpacked CPU path computes exactly what packing computes, forward and backward."""

import pytest
import torch

from rnnlab.models.encoder import RecurrentEncoder
from rnnlab.models.text_encoder import TextEncoder, reverse_padded


def test_reverse_padded_reverses_each_row_within_its_length():
    x = torch.tensor([[1, 2, 3, 0], [4, 5, 0, 0]]).unsqueeze(-1)
    flipped = reverse_padded(x, torch.tensor([3, 2]))
    assert flipped.squeeze(-1).tolist() == [[3, 2, 1, 0], [5, 4, 0, 0]]
    assert torch.equal(reverse_padded(flipped, torch.tensor([3, 2])), x)


@pytest.mark.parametrize("cell,layers,bidirectional", [
    ("lstm", 1, True), ("lstm", 2, True), ("gru", 2, False), ("rnn", 1, True), ("gru", 3, True),
])
def test_unpacked_path_equals_packed_path_with_gradients(cell, layers, bidirectional):
    torch.manual_seed(0)
    encoder = TextEncoder(5, 7, layers, cell, bidirectional, dropout=0.3).eval()
    x = torch.randn(4, 9, 5, requires_grad=True)
    lengths = torch.tensor([9, 3, 6, 1])
    outputs, last = encoder(x, lengths)
    packed_outputs, packed_last = RecurrentEncoder.forward(encoder, x, lengths)
    torch.testing.assert_close(outputs, packed_outputs, atol=1e-5, rtol=0)
    torch.testing.assert_close(last, packed_last, atol=1e-5, rtol=0)
    gradient = torch.autograd.grad((outputs.sum() + last.sum()), x)[0]
    packed_gradient = torch.autograd.grad((packed_outputs.sum() + packed_last.sum()), x)[0]
    torch.testing.assert_close(gradient, packed_gradient, atol=1e-5, rtol=0)


def test_same_state_dict_as_recurrent_encoder_and_weight_drop_still_trains():
    plain = RecurrentEncoder(3, 4, 2, "lstm", True, weight_drop=0.5)
    text = TextEncoder(3, 4, 2, "lstm", True, weight_drop=0.5)
    assert list(plain.state_dict()) == list(text.state_dict())
    text.load_state_dict(plain.state_dict())
    x, lengths = torch.randn(2, 5, 3), torch.tensor([5, 2])
    text.eval()
    first = text(x, lengths)[0]
    text.train()
    text(x, lengths)[0].sum().backward()  # dropped copies in training, raw weights in eval
    assert text.rnn.weight_hh_l1_raw.grad is not None
    text.eval()
    torch.testing.assert_close(text(x, lengths)[0], first)
