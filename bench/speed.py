"""Training throughput of rnnlab's loop (Lightning via `fit_module`) vs a bare PyTorch loop.

Same network (ForecastNet), same windows, same batch size, optimiser, clipping and a
validation pass per epoch in both; the bare loop keeps the best weights in memory where
rnnlab writes a checkpoint. Reports windows / second and rnnlab's overhead.

    python bench/speed.py --data PATH_OR_NAME --time-col Month --target Sunspots
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from dataclasses import replace

import numpy as np
import torch
import torch.nn.functional as F

from rnnlab.config import TrainConfig
from rnnlab.data.timeseries import gather, window_origins
from rnnlab.tasks.forecasting.api import STEPS_PER_CALL
from rnnlab.tasks.forecasting.config import ForecastConfig
from rnnlab.tasks.forecasting.data import (
    Preprocessor,
    WindowDataModule,
    WindowTensors,
    make_split,
)
from rnnlab.tasks.forecasting.model import ForecastEnsemble, ForecastModule, ForecastNet
from rnnlab.tasks.forecasting.series import load_series
from rnnlab.training import fit_module, seed_everything


def windows(cfg: ForecastConfig):
    series = load_series(cfg)
    pre = Preprocessor(cfg, series.freq)
    split = make_split(cfg, len(series), pre.first_valid, series.source)
    pre.fit(series, split.train_end)
    inputs, scaled = pre.inputs(series), pre.scaled_targets(series)
    L, H = cfg.lookback, cfg.horizon
    tr = window_origins(len(series), L, H, L, split.train_end)
    va = window_origins(len(series), L, H, split.train_end, split.val_end)
    return (WindowTensors(gather(inputs, tr, -L, 0), gather(scaled, tr, 0, H)),
            WindowTensors(gather(inputs, va, -L, 0), gather(scaled, va, 0, H)), inputs.shape[1])


def make_net(cfg: ForecastConfig, n_inputs: int) -> ForecastNet:
    seed_everything(cfg.train.seed)
    return ForecastNet(n_inputs, len(cfg.target), cfg.lookback, cfg.horizon, cfg.model,
                       cfg.hidden, cfg.layers)


def bare_loop(cfg: ForecastConfig, train: WindowTensors, val: WindowTensors, n_inputs: int):
    net = make_net(cfg, n_inputs)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.train.lr)
    best = float("inf")
    started = time.perf_counter()
    for _ in range(cfg.train.epochs):
        net.train()
        order = torch.randperm(len(train))
        for start in range(0, len(train), cfg.train.batch_size):
            idx = order[start:start + cfg.train.batch_size]
            x, y = train.inputs[idx], train.targets[idx]
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), cfg.train.clip)
            opt.step()
        net.eval()
        with torch.no_grad():
            val_loss = F.mse_loss(net(val.inputs), val.targets).item()
        if val_loss < best:  # keep the best weights, as rnnlab's checkpoint does
            best, best_state = val_loss, copy.deepcopy(net.state_dict())  # noqa: F841
    return time.perf_counter() - started


def rnnlab_loop(cfg: ForecastConfig, train: WindowTensors, val: WindowTensors, n_inputs: int,
                progress: bool = False):
    net = make_net(cfg, n_inputs)
    module = ForecastModule(ForecastEnsemble([net]), "mse", cfg.train.lr, clip=cfg.train.clip,
                            batch_size=cfg.train.batch_size)  # as Forecaster builds it
    datamodule = WindowDataModule(train, val, cfg.train.batch_size, steps_per_call=STEPS_PER_CALL)
    train_cfg = replace(cfg.train, quiet=not progress)
    result = fit_module(module, datamodule, train_cfg)
    return result.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="monthly-sunspots")
    parser.add_argument("--time-col", default="Month")
    parser.add_argument("--target", default="Sunspots")
    parser.add_argument("--lookback", type=int, default=36)
    parser.add_argument("--horizon", type=int, default=12)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    train_cfg = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, patience=10**6,
                            quiet=True, device="cpu", clip=1.0)
    cfg = ForecastConfig(data=args.data, time_col=args.time_col, target=(args.target,),
                         lookback=args.lookback, horizon=args.horizon, hidden=args.hidden,
                         window_norm="none", train=train_cfg)
    train, val, n_inputs = windows(cfg)
    rnnlab_loop(cfg, train, val, n_inputs)  # warm-up (imports, thread pools)
    bare, ours, shown = [], [], []
    for _ in range(args.repeats):  # interleaved, so drifts in machine speed hit all three
        bare.append(bare_loop(cfg, train, val, n_inputs))
        ours.append(rnnlab_loop(cfg, train, val, n_inputs))
        shown.append(rnnlab_loop(cfg, train, val, n_inputs, progress=True))
    n = len(train) * args.epochs
    b, o, p = statistics.median(bare), statistics.median(ours), statistics.median(shown)
    print(f"data {args.data}: {len(train)} training windows, L={args.lookback}, H={args.horizon},"
          f" {cfg.model} hidden {args.hidden}, batch {args.batch_size}, {args.epochs} epochs, "
          f"torch threads {torch.get_num_threads()}, median of {args.repeats}")
    print(f"bare PyTorch loop: {b:.2f} s  {n / b:,.0f} windows/s")
    print(f"rnnlab (Lightning): {o:.2f} s  {n / o:,.0f} windows/s")
    paired = statistics.median(x / y for x, y in zip(ours, bare, strict=True))
    print(f"rnnlab overhead: {100 * (o / b - 1):+.1f}% (median of the paired ratios: "
          f"{100 * (paired - 1):+.1f}%; fastest runs: {min(bare):.2f} s vs {min(ours):.2f} s, "
          f"{100 * (min(ours) / min(bare) - 1):+.1f}%)")
    print(f"rnnlab with the progress bar: {p:.2f} s  {n / p:,.0f} windows/s  "
          f"({100 * (p / b - 1):+.1f}%)")
    print("all runs (bare, rnnlab, rnnlab + progress bar):", [f"{x:.2f}" for x in bare],
          [f"{x:.2f}" for x in ours], [f"{x:.2f}" for x in shown])


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
