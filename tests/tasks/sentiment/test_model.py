"""The classifier network: packing equals one-by-one forwards, pooling ignores padding, layer
groups for discriminative learning rates and gradual unfreezing, the slanted triangular
schedule."""

import lightning.pytorch as pl
import pytest
import torch
from lightning.pytorch.callbacks import Callback
from torch.utils.data import DataLoader, TensorDataset

from rnnlab.data.batching import pad_sequences
from rnnlab.models.heads import masked_max_mean
from rnnlab.tasks.sentiment.model import SentimentModule, TextClassifierNet
from rnnlab.training import slanted_triangular


@pytest.mark.parametrize("cell,bidirectional,pooling,layers", [
    ("lstm", True, "maxmean", 1), ("gru", True, "last", 2), ("lstm", False, "concat", 2),
    ("rnn", True, "concat", 1),
])
def test_packed_batch_gives_the_same_logits_as_unpadded_one_by_one(cell, bidirectional,
                                                                   pooling, layers):
    torch.manual_seed(0)
    net = TextClassifierNet(50, 3, embed=8, hidden=6, layers=layers, cell=cell,
                            bidirectional=bidirectional, dropout=0.2, pooling=pooling).eval()
    sequences = [[3, 4, 5, 6, 7, 8, 9], [10, 11], [12, 13, 14, 15], [16]]
    tokens, lengths = pad_sequences(sequences)
    with torch.no_grad():
        batched = net(tokens, lengths)
        single = torch.cat([net(torch.tensor([s]), torch.tensor([len(s)])) for s in sequences])
        unpacked = torch.cat([net(torch.tensor([s])) for s in sequences])  # no lengths at all
    torch.testing.assert_close(batched, single, atol=1e-5, rtol=0)
    torch.testing.assert_close(batched, unpacked, atol=1e-5, rtol=0)


def test_masked_max_mean_ignores_padded_steps():
    outputs = torch.tensor([[[1.0], [3.0], [0.0]], [[-2.0], [0.0], [0.0]]])
    pooled = masked_max_mean(outputs, torch.tensor([2, 1]))
    assert pooled.tolist() == [[3.0, 2.0], [-2.0, -2.0]]


def test_layer_groups_run_from_embedding_to_head_and_cover_every_parameter():
    net = TextClassifierNet(30, 2, embed=4, hidden=5, layers=2, weight_drop=0.3)
    groups = net.layer_groups()
    assert len(groups) == 4  # embedding, encoder layer 0, encoder layer 1, head
    assert groups[0][0] is net.body.embedding.weight
    assert sum(len(g) for g in groups) == len(list(net.parameters()))


def test_discriminative_learning_rates_divide_by_lr_decay_per_group():
    net = TextClassifierNet(30, 2, embed=4, hidden=5, layers=2)
    optimizer = SentimentModule(net, lr=0.01, lr_decay=2.0).configure_optimizers()
    rates = [group["lr"] for group in optimizer.param_groups]
    assert rates == pytest.approx([0.01 / 8, 0.01 / 4, 0.01 / 2, 0.01])


def test_slanted_triangular_matches_hand_values():
    # 100 steps, cut_frac 0.1 -> peak at step 10; ratio 32 -> 1/32 at both ends.
    values = [slanted_triangular(step, 100) for step in (0, 5, 10, 55, 100)]
    assert values == pytest.approx([1 / 32, 16.5 / 32, 1.0, 16.5 / 32, 1 / 32])


def test_slanted_schedule_scales_every_group_at_every_step():
    torch.manual_seed(0)
    net = TextClassifierNet(30, 2, embed=4, hidden=5, layers=1)
    module = SentimentModule(net, lr=0.01, lr_decay=2.0, schedule="slanted")
    tokens = torch.randint(2, 30, (40, 5))
    data = TensorDataset(tokens, torch.full((40,), 5), torch.arange(40) % 2)
    seen: list[list[float]] = []

    class Rates(Callback):
        def on_train_batch_start(self, trainer, module, batch, batch_idx):
            seen.append([g["lr"] for g in trainer.optimizers[0].param_groups])

    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False,
                         num_sanity_val_steps=0, callbacks=[Rates()])
    trainer.fit(module, DataLoader(data, batch_size=4), DataLoader(data, batch_size=20))
    top = [rates[-1] for rates in seen]  # 20 steps: peak at step 2
    assert len(top) == 20
    assert top[0] == pytest.approx(0.01 / 32)
    assert top[2] == pytest.approx(0.01) and max(top) == pytest.approx(0.01)
    assert top[-1] == pytest.approx(0.01 * slanted_triangular(19, 20)) and top[-1] < 0.002
    for rates in seen:  # discriminative ratios kept: embedding, encoder, head
        assert rates == pytest.approx([rates[-1] / 4, rates[-1] / 2, rates[-1]])
