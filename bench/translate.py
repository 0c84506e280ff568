"""Multi30k De->En translation benchmark (not run by CI): encoder-decoders with and without
attention trained for a fixed wall-clock budget on this machine's CPU, scored on test 2016.

    flock /tmp/rnnlab-bench.lock python bench/translate.py --data ../shared/data/multi30k \
        --minutes 60 --models bahdanau,general,none --out bench/runs/translate

For each model: test 2016 BLEU / chrF (sacrebleu, detokenised output against the raw
references) of the weights with the best validation loss reached by 15, 30 and 60 minutes
(snapshots are taken at every validation, training time only), the final beam and greedy
scores, perplexity, wall times of training and decoding, training target tokens per second,
and a few example translations. Copying the source is scored as the floor. Writes
<out>/translate.json and each final model.
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from pathlib import Path

import lightning.pytorch as pl
import torch

from rnnlab.config import TrainConfig
from rnnlab.data.parallel import read_parallel
from rnnlab.tasks.translation.api import Translator
from rnnlab.tasks.translation.config import TranslationConfig
from rnnlab.tasks.translation.evaluation import score
from rnnlab.tasks.translation.metrics import corpus_scores, signatures

MARKS = (15, 30, 60)  # minutes of training at which test BLEU is read


class Snapshots(pl.Callback):
    """Training seconds and a copy of the weights at the end of every validation."""

    def __init__(self) -> None:
        self.points: list[tuple[float, dict[str, torch.Tensor]]] = []
        self.started = 0.0
        self.paused = 0.0

    def on_train_start(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        self.started = time.perf_counter()

    def on_validation_epoch_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        copied = time.perf_counter()
        state = copy.deepcopy({k: v.detach().cpu() for k, v in module.net.state_dict().items()})
        seconds = copied - self.started - self.paused
        self.paused += time.perf_counter() - copied  # the copy is not training time
        self.points.append((seconds, state))


def pairs(folder: Path, split: str, src: str, tgt: str) -> str:
    return f"{folder / f'{split}.{src}.gz'},{folder / f'{split}.{tgt}.gz'}"


def run_model(args: argparse.Namespace, attention: str, data: Path) -> dict:
    cfg = TranslationConfig(
        src=str(data / f"train.{args.src}.gz"), tgt=str(data / f"train.{args.tgt}.gz"),
        val=pairs(data, "val", args.src, args.tgt), level=args.level, bpe_vocab=args.bpe_vocab,
        min_freq=args.min_freq, model=args.cell, attention=attention, embed=args.embed,
        hidden=args.hidden, layers=args.layers, dropout=args.dropout, tie=args.tie,
        label_smoothing=args.label_smoothing, beam=args.beam, max_len=args.max_len,
        train=TrainConfig(epochs=10_000, max_time=args.minutes, batch_size=args.batch_size,
                          lr=args.lr, clip=1.0, patience=args.patience, seed=args.seed,
                          quiet=True))
    spec, _ = cfg.training_spec()
    train = read_parallel(spec, option="--src")
    val = read_parallel(cfg.val, option="--val")
    test = read_parallel(pairs(data, args.test, args.src, args.tgt), option="--test")
    snapshots = Snapshots()
    started = time.perf_counter()
    translator = Translator(cfg).fit(train, val, callbacks=[snapshots])
    fit_wall = time.perf_counter() - started
    history = translator.fit_result_.history
    marks = {}
    final_state = copy.deepcopy(translator.net_.state_dict())
    for minutes in MARKS:
        reached = [(row["val_loss"], index) for index, ((seconds, _), row)
                   in enumerate(zip(snapshots.points, history, strict=False))
                   if seconds <= minutes * 60]
        if not reached:
            marks[minutes] = None
            continue
        loss, index = min(reached)
        translator.net_.load_state_dict(snapshots.points[index][1])
        translator.net_.eval()
        metrics, _ = score(translator, test)
        marks[minutes] = {**metrics, "val_loss": loss, "epoch": index + 1,
                          "train_minutes": snapshots.points[index][0] / 60}
        print(f"{attention}: by {minutes} min {marks[minutes]}", flush=True)
    translator.net_.load_state_dict(final_state)
    translator.net_.eval()
    decode_started = time.perf_counter()
    beam, translations = score(translator, test)
    beam_seconds = time.perf_counter() - decode_started
    greedy_started = time.perf_counter()
    greedy, _ = score(translator, test, 1)
    greedy_seconds = time.perf_counter() - greedy_started
    seconds = translator.fit_result_.seconds
    epochs = translator.fit_result_.epochs
    tokens = translator.split_["train_tgt_tokens"] + translator.split_["train"]  # with <eos>
    translator.save(Path(args.out) / attention / "model")
    return {
        "attention": attention, "config": cfg.to_dict(), "split": translator.split_,
        "vocab": [translator.src_tokenizer_.vocab_size, translator.tgt_tokenizer_.vocab_size],
        "by_minutes": marks, "final_beam": beam, "final_greedy": greedy,
        "test_perplexity": translator.perplexity(test), "epochs": epochs,
        "best_epoch": translator.fit_result_.best_epoch, "train_seconds": seconds,
        "fit_wall_seconds": fit_wall, "beam_decode_seconds": beam_seconds,
        "greedy_decode_seconds": greedy_seconds,
        "train_target_tokens_per_second": tokens * epochs / seconds,
        "history": history,
        "examples": [{"source": s, "reference": r, "translation": t.text}
                     for s, r, t in list(zip(test.src, test.tgt, translations, strict=True))[:6]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="../shared/data/multi30k")
    parser.add_argument("--src", default="de")
    parser.add_argument("--tgt", default="en")
    parser.add_argument("--test", default="test_2016_flickr")
    parser.add_argument("--models", default="bahdanau,general,none",
                        help="attention kinds to train, one after the other")
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--level", default="word")
    parser.add_argument("--bpe-vocab", type=int, default=8000)
    parser.add_argument("--min-freq", type=int, default=2)
    parser.add_argument("--cell", default="gru")
    parser.add_argument("--embed", type=int, default=256)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--dropout", type=float, default=0.3)
    parser.add_argument("--tie", action="store_true")
    parser.add_argument("--label-smoothing", type=float, default=0.1)
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument("--max-len", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--patience", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--out", default="bench/runs/translate")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    data = Path(args.data)
    test = read_parallel(pairs(data, args.test, args.src, args.tgt), option="--test")
    flags = [f"--{k.replace('_', '-')}" + ("" if v is True else f" {v}")
             for k, v in vars(args).items() if v is not False]
    result = {"command": "python bench/translate.py " + " ".join(flags),
              "threads": torch.get_num_threads(), "signatures": signatures(),
              "copy_source": corpus_scores(test.src, test.tgt), "models": {}}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for attention in args.models.split(","):
        result["models"][attention] = run_model(args, attention, data)
        (out / "translate.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    summary = {name: {"by_minutes": r["by_minutes"], "final_beam": r["final_beam"],
                      "final_greedy": r["final_greedy"], "epochs": r["epochs"],
                      "tokens_per_second": r["train_target_tokens_per_second"]}
               for name, r in result["models"].items()}
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
