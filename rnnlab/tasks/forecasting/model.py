"""The forecasting network: a RecurrentEncoder (or an MLP) over a window, and a linear head.

Window normalisation ("last"): the target columns of each input window are shifted by the
window's last target value, which is given back to the network as one extra input column and
added to its output. The network thus forecasts changes from the last observation (it can
extrapolate a trend beyond the training range) and can still see the level.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from rnnlab.models.encoder import RecurrentEncoder
from rnnlab.training import SupervisedModule

LOSSES = {"mse": F.mse_loss, "mae": F.l1_loss, "huber": F.smooth_l1_loss}
RIDGE_PENALTIES = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)  # per window, on scaled values


class ForecastNet(nn.Module):
    """(batch, lookback, inputs) -> (batch, steps, targets).

    The first `n_targets` input columns are the (scaled) targets themselves.
    """

    def __init__(
        self, n_inputs: int, n_targets: int, lookback: int, steps: int, model: str = "lstm",
        hidden: int = 64, layers: int = 1, bidirectional: bool = False, dropout: float = 0.0,
        layout: str = "timesteps", window_norm: str = "last", highway: bool = True,
    ) -> None:
        super().__init__()
        self.n_targets, self.steps, self.layout = n_targets, steps, layout
        self.window_norm = window_norm
        width = n_inputs + (n_targets if window_norm == "last" else 0)
        if model == "mlp":
            blocks: list[nn.Module] = [nn.Flatten()]
            size = lookback * width
            for _ in range(layers):
                blocks += [nn.Linear(size, hidden), nn.ReLU(), nn.Dropout(dropout)]
                size = hidden
            self.body: nn.Module = nn.Sequential(*blocks)
            self.encoder = None
        else:
            step_width = width * lookback if layout == "features" else width
            self.encoder = RecurrentEncoder(step_width, hidden, layers, model, bidirectional,
                                            dropout)
            size = self.encoder.output_size
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(size, steps * n_targets)
        # Linear "highway" from the target window straight to the outputs (LSTNet's
        # autoregressive component): the network only has to learn what a linear
        # autoregression misses, which matters on short seasonal series.
        self.highway = nn.Linear(lookback * n_targets, steps * n_targets) if highway else None

    def highway_inputs(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(what the highway reads: (batch, lookback * k), the level added back: (batch, 1, k))."""
        k = self.n_targets
        level = x[:, -1:, :k] if self.window_norm == "last" else torch.zeros_like(x[:, -1:, :k])
        return (x[:, :, :k] - level).reshape(x.size(0), -1), level

    @torch.no_grad()
    def start_from_linear(self, weight: torch.Tensor, bias: torch.Tensor) -> None:
        """Start as a given linear autoregression: highway = (weight, bias), recurrent head = 0.

        The recurrent part then only learns corrections, and early stopping can keep the
        linear model when the corrections do not help on the validation part.
        """
        self.highway.weight.copy_(weight)
        self.highway.bias.copy_(bias)
        self.head.weight.zero_()
        self.head.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k, batch = self.n_targets, x.size(0)
        if self.window_norm == "last":
            level = x[:, -1:, :k]  # (batch, 1, k)
            x = torch.cat([x[:, :, :k] - level, x[:, :, k:], level.expand(-1, x.size(1), -1)], -1)
        if self.encoder is None:
            out = self.head(self.body(x))
        else:
            steps_in = x.reshape(batch, 1, -1) if self.layout == "features" else x
            out = self.head(self.dropout(self.encoder(steps_in)[1]))
        if self.highway is not None:
            out = out + self.highway(x[:, :, :k].reshape(batch, -1))
        out = out.view(batch, self.steps, k)
        return out + level if self.window_norm == "last" else out


@torch.no_grad()
def ridge_autoregression(
    net: ForecastNet, train: tuple[torch.Tensor, torch.Tensor],
    val: tuple[torch.Tensor, torch.Tensor], penalties: tuple[float, ...] = RIDGE_PENALTIES,
) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Closed-form ridge regression of the target steps on the target window, in the highway's
    coordinates; the penalty with the lowest validation MSE wins. Returns weight, bias, penalty.
    """
    def design(inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        window, level = net.highway_inputs(inputs)
        return torch.cat([window, torch.ones(len(window), 1)], dim=1).double(), level

    x_train, level = design(train[0])
    y_train = (train[1] - level).reshape(len(x_train), -1).double()
    x_val, val_level = design(val[0])
    gram, moment = x_train.T @ x_train, x_train.T @ y_train
    eye = torch.eye(gram.shape[0], dtype=gram.dtype)
    eye[-1, -1] = 0  # the intercept is not penalised
    best = None
    for penalty in penalties:
        solution = torch.linalg.solve(gram + penalty * len(x_train) * eye, moment)
        predicted = (x_val @ solution).view(val[1].shape).float() + val_level
        error = float(F.mse_loss(predicted, val[1]))
        if best is None or error < best[0]:
            best = (error, solution, penalty)
    _, solution, penalty = best
    return solution[:-1].T.float(), solution[-1].float(), penalty


class ForecastEnsemble(nn.Module):
    """The mean forecast of several networks trained from different seeds (`--ensemble N`):
    on short series it removes much of the seed-to-seed variance."""

    def __init__(self, members: list[ForecastNet]) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if len(self.members) == 1:
            return self.members[0](x)
        return torch.stack([member(x) for member in self.members]).mean(dim=0)


class ForecastModule(SupervisedModule):
    """Lightning wrapper around an ensemble, in scaled units.

    All members train in the same loop on the same batches (they differ by initialisation):
    each step backpropagates the sum of the members' own losses, so the members stay
    independent while the framework's per-step cost is paid once. Validation scores the
    ensemble's mean forecast, which is what early stopping should judge.

    Small forecasting networks take about a millisecond per step, as much as Lightning's own
    per-step bookkeeping. So the module optimises manually: each training item holds several
    batches (`WindowDataModule.steps_per_call`) and `training_step` makes one optimizer step
    (with gradient-norm clipping) per batch of `batch_size` windows.
    """

    def __init__(self, net: ForecastEnsemble, loss: str = "mse", lr: float = 1e-3,
                 weight_decay: float = 0.0, anneal: bool = False, clip: float | None = None,
                 batch_size: int | None = None) -> None:
        super().__init__(lr=lr, weight_decay=weight_decay)
        self.net = net
        self.loss_fn = LOSSES[loss]
        self.anneal, self.clip, self.batch_size = anneal, clip, batch_size
        self.automatic_optimization = False

    def configure_optimizers(self) -> dict:
        """Adam; with `anneal` (a refit of known length, no early stopping to pick a good
        epoch) the learning rate decays to zero on a cosine, so the last weights are settled."""
        optimizer = super().configure_optimizers()
        if not self.anneal:
            return {"optimizer": optimizer}
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, self.trainer.max_epochs)
        return {"optimizer": optimizer, "lr_scheduler": schedule}

    def loss(self, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        inputs, targets = batch
        return self.loss_fn(self.net(inputs), targets)

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        optimizer = self.optimizers()
        # One process: plain backward and clipping. Lightning's wrappers run hooks on every
        # call (~0.4 ms a step, a third of a small network's step); under DDP they are needed,
        # because the reducer must be re-armed before each of the several backward passes.
        # The step itself stays Lightning's: it counts `global_step`, which checkpointing uses.
        plain = self.trainer.world_size == 1
        inputs, targets = batch
        size = self.batch_size or len(inputs)
        for x, y in zip(inputs.split(size), targets.split(size), strict=True):
            losses = torch.stack([self.loss_fn(member(x), y) for member in self.net.members])
            optimizer.zero_grad(set_to_none=True)
            if plain:
                losses.sum().backward()
                if self.clip:
                    torch.nn.utils.clip_grad_norm_(self.parameters(), self.clip)
            else:
                self.manual_backward(losses.sum())
                if self.clip:
                    self.clip_gradients(optimizer, gradient_clip_val=self.clip,
                                        gradient_clip_algorithm="norm")
            optimizer.step()
            self._sums["train"].append(losses.detach().mean())

    def on_train_epoch_end(self) -> None:
        if self.anneal:
            self.lr_schedulers().step()  # manual optimisation steps schedulers itself
        super().on_train_epoch_end()
