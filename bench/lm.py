"""Character-level language model benchmark (not run by CI): an LSTM on tiny Shakespeare with
nanoGPT's shakespeare_char split (first 90% train, last 10% validation), trained for a fixed
wall-clock budget on this machine's CPU.

    flock /tmp/rnnlab-bench.lock python bench/lm.py \
        --data ../shared/data/tinyshakespeare/input.txt --minutes 30 --out bench/runs/lm-char

Reports the validation loss (nats and bits per character) over training time (the best
validation loss reached by 5, 10, 20 and 30 minutes), the character 5-gram Kneser-Ney and
unigram baselines on the same validation text, training characters per second, a 500-character
sample, and the training speed of the fused LSTM against the inspectable cells of
`rnnlab explain activations` at the same sizes. Writes <out>/lm.json and the model.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import lightning.pytorch as pl
import torch

from rnnlab.config import TrainConfig
from rnnlab.models.cells import InspectableRNN
from rnnlab.tasks.language import LanguageModel, LanguageModelConfig

MARKS = (5, 10, 20, 30)  # minutes at which the curve is read


class Timeline(pl.Callback):
    """Training seconds at the end of every validation. (The losses come from the fit's
    history: a callback's on_validation_epoch_end runs before the module logs that epoch's
    val_loss, so reading it here would give the previous validation's.)"""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self.started = 0.0

    def on_train_start(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        self.started = time.perf_counter()

    def on_validation_epoch_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        if not trainer.sanity_checking:
            self.seconds.append(time.perf_counter() - self.started)


def best_by(points: list[tuple[float, float]], minutes: float) -> float | None:
    losses = [loss for seconds, loss in points if seconds <= minutes * 60]
    return min(losses) if losses else None


def cell_speed(hidden: int, layers: int, embed: int, steps: int = 3) -> dict[str, float]:
    """Training characters per second, fused nn.LSTM vs InspectableRNN, batch 64 x 128 steps."""
    torch.manual_seed(0)
    x = torch.randn(64, 128, embed)
    fused = torch.nn.LSTM(embed, hidden, layers, batch_first=True)
    cells = InspectableRNN.from_fused(fused)
    speed = {}
    for name, net in (("fused", lambda: fused(x)[0]), ("inspectable", lambda: cells(x)[0])):
        params = list(fused.parameters() if name == "fused" else cells.parameters())
        optimizer = torch.optim.Adam(params, 1e-3)
        net().square().mean().backward()  # warm-up
        start = time.perf_counter()
        for _ in range(steps):
            optimizer.zero_grad()
            net().square().mean().backward()
            optimizer.step()
        speed[name] = steps * x.shape[0] * x.shape[1] / (time.perf_counter() - start)
    return speed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="../shared/data/tinyshakespeare/input.txt")
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--embed", type=int, default=64)
    parser.add_argument("--bptt", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--epoch-chars", type=int, default=400_000,
                        help="validate every N training characters")
    parser.add_argument("--seed", type=int, default=1337)
    parser.add_argument("--out", default="bench/runs/lm-char")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch threads (0: torch's default); 1 holds up better than 2 "
                             "when other jobs share the two cores")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    cfg = LanguageModelConfig(
        data=args.data, level="char", val_size=0.1, model="lstm", embed=args.embed,
        hidden=args.hidden, layers=args.layers, dropout=args.dropout, weight_drop=0.0,
        embed_dropout=0.0, input_dropout=0.0, output_dropout=args.dropout, tie=False,
        bptt=args.bptt, epoch_tokens=args.epoch_chars,
        train=TrainConfig(epochs=10_000, max_time=args.minutes, batch_size=args.batch_size,
                          lr=args.lr, clip=1.0, patience=1_000, seed=args.seed, quiet=True))
    timeline = Timeline()
    started = time.perf_counter()
    lm = LanguageModel(cfg).fit(callbacks=[timeline])
    fit_wall = time.perf_counter() - started
    metrics = lm.metrics_
    rows = lm.stream_rows_
    per_epoch = max(1, cfg.epoch_tokens // (rows * cfg.bptt)) * rows * cfg.bptt
    seen = len(timeline.seconds) * per_epoch  # characters trained on (whole epochs)
    losses = [row["val_loss"] for row in lm.fit_result_.history]
    points = list(zip(timeline.seconds, losses, strict=True))
    sample_start = time.perf_counter()
    sample = "".join(t.text for t in lm.generate("ROMEO:", 500, 0.8, seed=1))
    result = {
        "command": "python bench/lm.py " + " ".join(
            f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items()),
        "config": cfg.to_dict(),
        "split": lm.split_,
        "validation": metrics,
        "curve": [{"minutes": s / 60, "nats": loss, "bits": loss / math.log(2)}
                  for s, loss in points],
        "best_nats_by_minutes": {m: best_by(points, m) for m in MARKS},
        "train_seconds": lm.fit_result_.seconds,
        "fit_wall_seconds": fit_wall,
        "train_chars_per_second": seen / lm.fit_result_.seconds,
        "sample_seconds": time.perf_counter() - sample_start,
        "sample": "ROMEO:" + sample,
        "cell_speed": cell_speed(args.hidden, args.layers, args.embed),
    }
    out = Path(args.out)
    lm.save(out / "model")
    (out / "lm.json").write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k not in ("config", "curve")},
                     indent=2))


if __name__ == "__main__":
    main()
