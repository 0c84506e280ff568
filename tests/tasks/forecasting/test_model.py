"""The forecasting network: shapes of every variant, window normalisation, the loss, and an LSTM
that actually learns a noisy sine wave."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from rnnlab.config import TrainConfig
from rnnlab.tasks.forecasting import ForecastConfig, Forecaster
from rnnlab.tasks.forecasting.evaluation import evaluate
from rnnlab.tasks.forecasting.model import ForecastModule, ForecastNet


@pytest.mark.parametrize(("model", "layout", "layers", "bidirectional"), [
    ("lstm", "timesteps", 1, False), ("lstm", "features", 1, False), ("gru", "timesteps", 2, True),
    ("rnn", "timesteps", 2, False), ("mlp", "timesteps", 2, False),
])
@pytest.mark.parametrize("window_norm", ["last", "none"])
def test_output_shape_of_every_variant(model, layout, layers, bidirectional, window_norm):
    net = ForecastNet(n_inputs=3, n_targets=2, lookback=6, steps=4, model=model, hidden=8,
                      layers=layers, bidirectional=bidirectional, layout=layout,
                      window_norm=window_norm)
    assert net(torch.randn(5, 6, 3)).shape == (5, 4, 2)


def test_features_layout_reads_the_window_as_one_step():
    net = ForecastNet(n_inputs=3, n_targets=1, lookback=6, steps=1, model="lstm", hidden=8,
                      layout="features", window_norm="last")
    # 6 steps x (3 inputs + 1 level column) in a single step
    assert net.encoder.rnn.input_size == 6 * 4


def _zero_output_layers(net: ForecastNet) -> None:
    with torch.no_grad():
        for name, parameter in net.named_parameters():
            if name.split(".")[0] in ("head", "highway"):
                parameter.zero_()


@pytest.mark.parametrize("model", ["lstm", "mlp"])
def test_last_value_normalisation_adds_the_window_level_back(model):
    """With the output layers at zero the network forecasts 'no change from the last value'."""
    net = ForecastNet(n_inputs=2, n_targets=1, lookback=5, steps=3, model=model, hidden=4,
                      window_norm="last")
    _zero_output_layers(net)
    x = torch.randn(4, 5, 2)
    out = net(x)
    torch.testing.assert_close(out, x[:, -1:, :1].expand(-1, 3, -1))
    plain = ForecastNet(n_inputs=2, n_targets=1, lookback=5, steps=3, model=model, hidden=4,
                        window_norm="none")
    _zero_output_layers(plain)
    assert torch.all(plain(x) == 0)


@pytest.mark.parametrize("loss", ["mse", "mae", "huber"])
def test_module_loss_compares_forecast_and_target(loss):
    torch.manual_seed(0)
    net = ForecastNet(n_inputs=1, n_targets=1, lookback=4, steps=2, hidden=4)
    module = ForecastModule(net, loss=loss)
    x, y = torch.randn(3, 4, 1), torch.randn(3, 2, 1)
    expected = {"mse": F.mse_loss, "mae": F.l1_loss, "huber": F.smooth_l1_loss}[loss](net(x), y)
    torch.testing.assert_close(module.loss((x, y)), expected)


# -- learning ------------------------------------------------------------------------------


def noisy_sine(n: int = 600, period: int = 25, noise: float = 0.1, amplitude: float = 2.0,
               seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return pd.DataFrame({"y": amplitude * np.sin(2 * np.pi * t / period)
                         + rng.normal(0, noise, n)})


@pytest.mark.slow
def test_lstm_learns_a_noisy_sine_wave():
    """600 points, period 25, noise sd 0.1: MASE (scaled by the one-step naive MAE on the
    training part) well below 0.5 on the held-out test windows; naive stays near 1.
    Checked with seeds 0, 1, 2 (data and training): network MASE 0.24 - 0.36."""
    cfg = ForecastConfig(
        data="sine", target=("y",), lookback=25, horizon=1, model="lstm", hidden=16,
        arima_order=(1, 0, 0),
        train=TrainConfig(epochs=40, patience=5, lr=0.01, batch_size=32, device="cpu",
                          quiet=True, seed=0),
    )
    forecaster = Forecaster(cfg).fit(noisy_sine(), source="sine")
    split = forecaster.split_
    assert split.sizes == {"train": 420, "val": 60, "test": 120}
    result = evaluate({"lstm": forecaster}, forecaster.series_, forecaster.test_origins(),
                      split.val_end)
    assert len(result.origins) == 120 and result.origins.min() >= split.val_end
    assert result.metrics["lstm"]["mase"] < 0.5, result.metrics
    assert result.metrics["naive"]["mase"] > 0.8
    assert result.best == "lstm"


def test_ridge_autoregression_recovers_a_linear_process_and_the_net_starts_from_it():
    from rnnlab.tasks.forecasting.model import ForecastNet, ridge_autoregression

    torch.manual_seed(0)
    # windows of an exactly linear map: next two steps = A @ (window - last) + last + 0.5
    weight = torch.randn(2, 6) * 0.3
    weight[:, -1] = 0  # the last step minus itself is always 0: its weight is not identified
    windows = torch.randn(200, 6, 1)
    level = windows[:, -1:, :]
    targets = ((windows - level)[:, :, 0] @ weight.T + 0.5).unsqueeze(-1) + level
    net = ForecastNet(n_inputs=1, n_targets=1, lookback=6, steps=2, hidden=4).eval()
    fitted_weight, bias, penalty = ridge_autoregression(
        net, (windows[:150], targets[:150]), (windows[150:], targets[150:]))
    assert penalty == 1e-4  # noiseless data: the weakest penalty predicts validation best
    torch.testing.assert_close(fitted_weight, weight, atol=1e-3, rtol=1e-3)
    torch.testing.assert_close(bias, torch.full((2,), 0.5), atol=1e-3, rtol=1e-3)
    net.start_from_linear(fitted_weight, bias)
    with torch.no_grad():
        torch.testing.assert_close(net(windows[150:]), targets[150:], atol=1e-3, rtol=1e-3)


def test_noisy_validation_picks_a_stronger_penalty():
    from rnnlab.tasks.forecasting.model import ForecastNet, ridge_autoregression

    torch.manual_seed(1)
    windows = torch.randn(40, 30, 1)  # few windows, many inputs, targets unrelated noise
    targets = torch.randn(40, 1, 1)
    net = ForecastNet(n_inputs=1, n_targets=1, lookback=30, steps=1, hidden=4)
    _, _, penalty = ridge_autoregression(net, (windows[:25], targets[:25]),
                                         (windows[25:], targets[25:]))
    assert penalty == 1.0  # the strongest penalty generalises best when there is no signal


def test_one_optimizer_step_per_batch_even_with_several_batches_per_training_item():
    """The module optimises manually over items of `steps_per_call` batches; the number of
    optimizer steps must be what plain batching would give (40 windows / batch 4 = 10)."""
    import lightning.pytorch as pl

    from rnnlab.tasks.forecasting.data import WindowDataModule, WindowTensors
    from rnnlab.tasks.forecasting.model import ForecastEnsemble, ForecastModule, ForecastNet

    torch.manual_seed(0)
    data = WindowTensors(np.random.randn(40, 5, 1), np.random.randn(40, 2, 1))
    module = ForecastModule(ForecastEnsemble([ForecastNet(1, 1, 5, 2, hidden=4)]), clip=1.0,
                            batch_size=4)
    datamodule = WindowDataModule(data, data, batch_size=4, min_steps=1, steps_per_call=3)
    trainer = pl.Trainer(max_epochs=2, accelerator="cpu", logger=False,
                         enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, num_sanity_val_steps=0)
    trainer.fit(module, datamodule=datamodule)
    assert trainer.global_step == 20  # 2 epochs x 10 batches, from 2 x 4 training items
    assert len(datamodule.train_dataloader()) == 4  # ceil(40 / 12) items per epoch


def test_training_restores_the_best_validation_checkpoint():
    """Early stopping keeps training past the best epoch; the weights handed back must be the
    best epoch's (its checkpoint), not the last ones: their validation loss is the minimum."""
    from rnnlab.tasks.forecasting.data import WindowDataModule, WindowTensors
    from rnnlab.tasks.forecasting.model import ForecastEnsemble
    from rnnlab.training import fit_module

    rng = np.random.default_rng(0)
    train = WindowTensors(rng.normal(size=(64, 6, 1)), rng.normal(size=(64, 1, 1)))
    val = WindowTensors(rng.normal(size=(32, 6, 1)), rng.normal(size=(32, 1, 1)))
    module = ForecastModule(ForecastEnsemble([ForecastNet(1, 1, 6, 1, hidden=16)]), lr=0.05,
                            clip=1.0, batch_size=8)  # noise targets: it overfits at once
    cfg = TrainConfig(epochs=8, patience=8, batch_size=8, quiet=True, device="cpu")
    result = fit_module(module, WindowDataModule(train, val, 8, min_steps=1, steps_per_call=3),
                        cfg)
    val_losses = [row["val_loss"] for row in result.history]
    assert len(val_losses) == 8 and result.best_epoch != 7  # the last epoch was not the best
    with torch.no_grad():
        restored = F.mse_loss(module.net(val.inputs), val.targets).item()
    assert restored == pytest.approx(min(val_losses), rel=1e-5)
