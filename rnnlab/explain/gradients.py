"""The vanishing / exploding gradient figure, measured (`rnnlab explain gradients`).

Deck 001 writes the gradient that reaches a hidden state k steps back as a product of Jacobians,
d h_t / d h_k = prod W_rec^T diag(sigma'(.)): a recurrent weight matrix whose spectral radius is
below 1 shrinks it at every step (vanishing), one above 1 can grow it (exploding). Deck 002
shows the LSTM's cell state as "a highway for gradients" and gradient clipping as the fix for
the exploding case. Here both are measured rather than drawn:

- The task is the adding problem (Hochreiter & Schmidhuber 1997), generated and seeded: two
  channels, random values and a marker; the target is the sum of the two marked values, one
  marker in the first half of the sequence and one in the second. The loss reads the last
  hidden state only, so everything the network learns about the first marker must travel back
  through time.
- For each cell a fused nn.RNN / LSTM / GRU (fast) is trained for a few steps; its weights are
  copied into the step-by-step cells of `rnnlab.models.cells` (`InspectableRNN.from_fused`),
  whose hidden state of every step is a tensor of the graph, so `torch.autograd.grad(loss, hs)`
  gives dL/dh_t for every t. `norms[d]` is the mean over the batch of ||dL/dh_{T-1-d}||.
- `reach`: the largest distance d at which the norm is still at least 1% of its value at d = 0.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn

from rnnlab.errors import UserError, check_range
from rnnlab.models.cells import InspectableRNN

CELLS = ("rnn", "lstm", "gru")
REACH_SHARE = 0.01  # `reach`: norms at least this share of the norm at distance 0
MEAN_BASELINE_LOSS = 1 / 6  # MSE of always predicting 1, the mean sum: Var(U + U') = 2 / 12


@dataclass(frozen=True)
class GradientConfig:
    """What `rnnlab explain gradients` measures; the defaults finish in well under a minute on
    two CPU cores."""

    cells: tuple[str, ...] = CELLS
    length: int = 100  # time steps of the adding problem
    hidden: int = 32
    batch_size: int = 64
    steps: int = 1000  # training steps (Adam) before the "trained" measurement
    lr: float = 0.01
    forget_bias: float = 1.0  # LSTM forget-gate bias at initialisation (0: PyTorch's default)
    radii: tuple[float, ...] = (0.5, 0.9, 1.0, 1.5, 2.0)  # Elman W_hh spectral radius sweep
    clip: float = 1.0  # gradient clipping threshold (total norm) for the exploding case
    clip_radius: float = 2.0  # the Elman radius whose training is clipped / not clipped
    clip_steps: int = 60  # SGD steps of the clipping comparison
    clip_lr: float = 0.1  # its SGD learning rate
    seed: int = 0

    def validate(self) -> None:
        unknown = [c for c in self.cells if c not in CELLS]
        if unknown or not self.cells:
            raise UserError(f"--cells takes a comma-separated list of {', '.join(CELLS)}; got "
                            f"{','.join(self.cells) or 'nothing'!r}")
        if self.length < 2:
            raise UserError(f"--length must be at least 2 time steps (one marker in each half "
                            f"of the sequence); got {self.length}")
        for name, value, low in (("--hidden", self.hidden, 1), ("--steps", self.steps, 0),
                                 ("--batch-size", self.batch_size, 1),
                                 ("--clip-steps", self.clip_steps, 1)):
            check_range(value, name, low)
        check_range(self.clip, "--clip", 1e-9)
        check_range(self.lr, "--lr", 1e-9)
        check_range(self.clip_lr, "--clip-lr", 1e-9)
        check_range(self.forget_bias, "--forget-bias", -10.0, 10.0)
        if not self.radii:
            raise UserError("--radii needs at least one spectral radius, e.g. 0.5,1,2")
        for radius in (*self.radii, self.clip_radius):
            check_range(radius, "--radii", 1e-6)


def adding_problem(batch_size: int, length: int, generator: torch.Generator
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs (batch, length, 2): values in [0, 1) and a 0/1 marker with one mark in each
    half; targets (batch, 1): the sum of the two marked values."""
    values = torch.rand(batch_size, length, generator=generator)
    half = max(1, length // 2)
    first = torch.randint(0, half, (batch_size,), generator=generator)
    second = torch.randint(half, length, (batch_size,), generator=generator)
    marker = torch.zeros(batch_size, length)
    rows = torch.arange(batch_size)
    marker[rows, first] = 1.0
    marker[rows, second] = 1.0
    targets = (values * marker).sum(dim=1, keepdim=True)
    return torch.stack([values, marker], dim=-1), targets


class AddingNet(nn.Module):
    """A fused one-layer recurrent network and a linear read-out of its last hidden state.
    An LSTM's forget gate starts at `forget_bias` (Gers et al. 2000; Keras' default is 1, so the
    cell state is kept at sigmoid(1) = 0.73 per step rather than PyTorch's 0.5)."""

    def __init__(self, cell: str, hidden: int, forget_bias: float = 0.0) -> None:
        super().__init__()
        fused = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]
        self.rnn = fused(2, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)
        if cell == "lstm" and forget_bias:
            with torch.no_grad():  # gate rows are ordered i, f, g, o
                self.rnn.bias_ih_l0[hidden:2 * hidden] = forget_bias
                self.rnn.bias_hh_l0[hidden:2 * hidden] = 0.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (batch, time, 2) -> (batch, 1)."""
        outputs, _ = self.rnn(x)
        return self.head(outputs[:, -1])


def set_spectral_radius(net: AddingNet, radius: float) -> None:
    """Rescale the recurrent matrix W_hh so that its largest |eigenvalue| is `radius`."""
    with torch.no_grad():
        weight = net.rnn.weight_hh_l0
        current = torch.linalg.eigvals(weight).abs().max()
        weight.mul_(radius / current)


def gradient_norms(net: AddingNet, x: torch.Tensor, targets: torch.Tensor) -> np.ndarray:
    """(time,) the batch mean of ||dL/dh_{T-1-d}|| for d = 0 .. T-1 (L: squared error of each
    sequence; sequences are independent, so the gradient of their sum is each one's own).
    In float64, so that vanishing norms reach 1e-300 before they underflow to 0."""
    step = InspectableRNN.from_fused(net.rnn).double().layers[0][0]
    x, targets = x.double(), targets.double()
    batch, length, _ = x.shape
    zeros = x.new_zeros(batch, net.rnn.hidden_size)
    state = (zeros, zeros) if isinstance(net.rnn, nn.LSTM) else zeros
    hidden = []
    for t in range(length):
        state, gates = step(x[:, t], state)
        hidden.append(gates["h"])  # (batch, hidden), a node of the graph for dL/dh_t
    head = nn.functional.linear(hidden[-1], net.head.weight.double(), net.head.bias.double())
    loss = ((head - targets) ** 2).sum()
    grads = torch.autograd.grad(loss, hidden)
    norms = torch.stack([g.norm(dim=-1).mean() for g in grads])  # (time,) in time order
    return norms.flip(0).detach().numpy()


def reach(norms: list[float] | np.ndarray, share: float = REACH_SHARE) -> int:
    """The largest distance d with norms[d] >= share * norms[0] (0 when norms[0] is 0)."""
    values = np.asarray(norms, dtype=float)
    if values.size == 0 or not np.isfinite(values[0]) or values[0] <= 0:
        return 0
    kept = np.flatnonzero(values >= share * values[0])
    return int(kept.max())


def train(net: AddingNet, cfg: GradientConfig, generator: torch.Generator, steps: int,
          optimizer: torch.optim.Optimizer, clip: float | None = None) -> list[dict]:
    """`steps` updates on fresh adding-problem batches; per step the loss and the total gradient
    norm before and after clipping (after = before without `clip`). Stops after the first
    step whose loss is not finite (a diverged run)."""
    history = []
    for _ in range(steps):
        x, targets = adding_problem(cfg.batch_size, cfg.length, generator)
        loss = nn.functional.mse_loss(net(x), targets)
        if not torch.isfinite(loss):
            history.append({"loss": float("nan"), "norm_before": float("nan"),
                            "norm_after": float("nan")})
            break
        optimizer.zero_grad()
        loss.backward()
        parameters = [p for p in net.parameters() if p.grad is not None]
        if clip is not None:
            before = float(torch.nn.utils.clip_grad_norm_(parameters, clip))
        else:
            before = total_norm(parameters)
        history.append({"loss": float(loss.detach()), "norm_before": before,
                        "norm_after": total_norm(parameters)})
        optimizer.step()
    return history


def total_norm(parameters: list[nn.Parameter]) -> float:
    """The L2 norm of all gradients together (what clip_grad_norm_ caps)."""
    return float(torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in parameters])))


@dataclass
class GradientReport:
    """What `explain gradients` measured; `to_dict` is gradients.json."""

    config: GradientConfig
    cells: dict[str, dict[str, dict]] = field(default_factory=dict)  # cell -> state -> {...}
    sweep: dict[str, dict] = field(default_factory=dict)  # radius -> {"norms", "reach"}
    clipping: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"task": "adding problem", "distance": "d = 0 is the last step, which the "
                "loss reads; norms[d] = mean over the batch of ||dL/dh_{T-1-d}||",
                "reach_share": REACH_SHARE, "mean_baseline_loss": MEAN_BASELINE_LOSS,
                "config": asdict(self.config), "cells": self.cells,
                "sweep": self.sweep, "clipping": self.clipping}


@contextmanager
def one_thread() -> Iterator[None]:
    """PyTorch on one intra-op thread meanwhile: these networks are too small to split, and two
    threads handing each tiny step over made the default run take 149 s instead of 79 s
    on 2 cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def measure(cfg: GradientConfig) -> GradientReport:
    """Norms by distance per cell at initialisation and after training, the Elman radius sweep
    and the clipping comparison, all from `cfg.seed`."""
    cfg.validate()
    with one_thread():
        return _measure(cfg)


def _measure(cfg: GradientConfig) -> GradientReport:
    report = GradientReport(cfg)
    generator = torch.Generator().manual_seed(cfg.seed)
    probe = adding_problem(cfg.batch_size, cfg.length, generator)  # one batch measured throughout
    for cell in cfg.cells:
        torch.manual_seed(cfg.seed)
        net = AddingNet(cell, cfg.hidden, cfg.forget_bias)
        states = {"init": gradient_norms(net, *probe)}
        history = train(net, cfg, generator, cfg.steps, torch.optim.Adam(net.parameters(),
                                                                         cfg.lr))
        states["trained"] = gradient_norms(net, *probe)
        report.cells[cell] = {state: _summary(norms) for state, norms in states.items()}
        report.cells[cell]["trained"]["final_loss"] = _mean_loss(history)
    for radius in cfg.radii:
        torch.manual_seed(cfg.seed)
        net = AddingNet("rnn", cfg.hidden)
        set_spectral_radius(net, radius)
        report.sweep[f"{radius:g}"] = {"radius": radius, **_summary(gradient_norms(net, *probe))}
    report.clipping = clipping_comparison(cfg, probe)
    return report


def clipping_comparison(cfg: GradientConfig, probe: tuple[torch.Tensor, torch.Tensor]) -> dict:
    """The Elman RNN at `clip_radius` trained by plain SGD with and without clipping the total
    gradient norm at `clip` (same start, same batches)."""
    runs = {}
    for name, clip in (("clipped", cfg.clip), ("unclipped", None)):
        torch.manual_seed(cfg.seed)
        net = AddingNet("rnn", cfg.hidden)
        set_spectral_radius(net, cfg.clip_radius)
        generator = torch.Generator().manual_seed(cfg.seed + 1)
        runs[name] = train(net, cfg, generator, cfg.clip_steps,
                           torch.optim.SGD(net.parameters(), lr=cfg.clip_lr), clip)
    first = runs["clipped"][0]
    return {"radius": cfg.clip_radius, "threshold": cfg.clip, "optimizer": "SGD",
            "lr": cfg.clip_lr, "first_step": {"norm_before": first["norm_before"],
                                              "norm_after": first["norm_after"]},
            "max_norm_after": max(row["norm_after"] for row in runs["clipped"]),
            "diverged_at": {name: _diverged_at(rows) for name, rows in runs.items()},
            "final_loss": {name: _mean_loss(rows) for name, rows in runs.items()},
            "history": {name: {key: [_finite(row[key]) for row in rows] for key in rows[0]}
                        for name, rows in runs.items()}}


def _summary(norms: np.ndarray) -> dict:
    return {"norms": [_finite(v) for v in norms], "reach": reach(norms)}


def _finite(value: float) -> float | None:
    """JSON has no NaN or infinity: None stands for either (a diverged run)."""
    value = float(value)
    return value if np.isfinite(value) else None


DIVERGED = 100.0  # a run has diverged once its loss exceeds this many times its first loss


def _diverged_at(history: list[dict]) -> int | None:
    """The first training step (from 1) whose loss is not finite or above DIVERGED times the
    first step's loss, or None."""
    for step, row in enumerate(history, start=1):
        if not np.isfinite(row["loss"]) or row["loss"] > DIVERGED * history[0]["loss"]:
            return step
    return None


def _mean_loss(history: list[dict], last: int = 20) -> float | None:
    """Mean training loss of the last `last` steps (None before any step or after divergence)."""
    if not history:
        return None
    return _finite(np.mean([row["loss"] for row in history[-last:]]))
