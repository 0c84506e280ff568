"""Sentiment benchmarks (not run by CI): IMDB with its official 25k / 25k split, and sentence
polarity (rt-polarity) with 10-fold cross-validation as in Kim (2014).

Every model is trained through the `rnnlab` command line, so each row below is reproducible
with the printed command; VADER and TF-IDF + LR are scored by every `sentiment fit` on the
same test texts.

    python bench/sentiment.py imdb --data ../shared/data/imdb --out bench/runs
    python bench/sentiment.py imdb ... --steps bwlm,pretrained-bwd --ensemble-run RUN
    python bench/sentiment.py rt-polarity --data ../shared/data/rt-polarity --out bench/runs \
        [--pretrained bench/runs/imdb-lm [--lm-finetune "--epochs 4"] [--ensemble-with=-x]]

`--extra` / `--lm-extra` add options to every `sentiment fit` / `lm pretrain`, `--tag` suffixes
the run folders; bench/RESULTS.md lists the exact commands of each measured row.

Results are printed as a markdown table and written to <out>/<task>.json.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import pandas as pd
import torch
from sklearn.model_selection import StratifiedKFold

from rnnlab.cli import main as rnnlab

# The configurations measured in bench/RESULTS.md (the shared options come from the CLI).
IMDB_SCRATCH = ["--max-len", "400", "--keep", "both", "--max-vocab", "50000", "--embed", "128",
                "--hidden", "128", "--dropout", "0.4", "--embed-dropout", "0.1",
                "--input-dropout", "0.2", "--batch-size", "64", "--lr", "0.002",
                "--epochs", "12", "--patience", "2"]
IMDB_LM = ["--max-vocab", "30000", "--embed", "128", "--hidden", "256", "--bptt", "70",
           "--batch-size", "64", "--lr", "0.002", "--weight-drop", "0.2",
           "--sampled-softmax", "2048", "--epoch-tokens", "2000000", "--val-size", "0.02",
           "--epochs", "40", "--patience", "3"]
IMDB_BILM = ["--bidirectional", "--max-vocab", "50000", "--embed", "128", "--hidden", "128",
             *IMDB_LM[6:]]
IMDB_FINETUNE = ["--pooling", "concat", "--max-len", "400", "--keep", "both", "--max-vocab",
                 "50000", "--dropout", "0.4", "--embed-dropout", "0.1", "--input-dropout",
                 "0.2", "--batch-size", "64", "--lr", "0.002", "--epochs", "12", "--patience",
                 "2"]
RT_SCRATCH = ["--max-len", "80", "--embed", "128", "--hidden", "128", "--dropout", "0.5",
              "--embed-dropout", "0.1", "--input-dropout", "0.3", "--batch-size", "50",
              "--lr", "0.002", "--epochs", "15", "--patience", "3"]


BASELINES = ("vader", "tfidf_lr")  # rows every `sentiment fit` adds beside its network


def run(args: list[str], log: list[str]) -> float:
    """`rnnlab ARGS`; returns the wall time. Raises when the command fails."""
    command = "rnnlab " + " ".join(shlex.quote(str(a)) for a in args)
    print(f"\n$ {command}", flush=True)
    log.append(command)
    started = time.perf_counter()
    code = rnnlab([str(a) for a in args])
    if code != 0:
        raise SystemExit(f"command failed with exit code {code}: {command}")
    return time.perf_counter() - started


def rows_of(metrics_file: Path, wall: float, networks_only: bool = False) -> list[dict]:
    record = json.loads(metrics_file.read_text())
    rows = []
    for name, values in record["test"].items():
        is_network = name not in BASELINES
        if networks_only and not is_network:
            continue
        rows.append({"model": name, "accuracy": values["accuracy"], "auc": values["auc"],
                     "f1": values["f1"], "seconds": values["seconds"] if not is_network
                     else record["train_seconds"], "wall_seconds": wall if is_network else None,
                     "epochs": record["epochs"].get(name) if is_network else None})
    return rows


def imdb(options: argparse.Namespace) -> tuple[list[dict], list[str]]:
    data, out, budget = Path(options.data), Path(options.out), str(options.budget)
    common = ["--data", data / "train.csv.gz", "--test", data / "test.csv.gz", "--text-col",
              "text", "--label-col", "label", "--seed", str(options.seed), "--device", "cpu",
              "--overwrite", "--quiet"]
    timed = [*common, "--max-time", budget]
    log: list[str] = []
    rows: list[dict] = []
    steps = options.steps.split(",")
    extra, tag = options.extra, options.tag
    if "scratch" in steps:
        folder = out / f"imdb-bilstm{tag}"
        wall = run(["sentiment", "fit", *timed, *IMDB_SCRATCH, *extra, "--out", folder], log)
        rows += rows_of(folder / "metrics.json", wall)
    def lm_folder(name: str) -> Path:
        """Where a language model is written, or read from (`--lm-run`)."""
        return Path(options.lm_run) if options.lm_run else out / f"{name}{tag}"

    # (step, fine-tune step, language-model options, LM folder, row label, fine-tuned folder)
    transfer = [("lm", "pretrained", IMDB_LM, lm_folder("imdb-lm"),
                 "lm pretraining (train reviews' text)", out / f"imdb-pretrained{tag}"),
                ("bilm", "pretrained-bi", IMDB_BILM, lm_folder("imdb-bilm"),
                 "bidirectional lm pretraining", out / f"imdb-pretrained-bi{tag}"),
                ("bwlm", "pretrained-bwd", [*IMDB_LM, "--backward"], lm_folder("imdb-lm-bwd"),
                 "backward lm pretraining", out / f"imdb-pretrained-bwd{tag}")]
    for lm_step, finetune_step, lm_options, lm_run, label, finetuned in transfer:
        if lm_step in steps:
            wall = run(["lm", "pretrain", "--data", data / "train.csv.gz", "--text-col", "text",
                        "--seed", str(options.seed), "--device", "cpu", "--max-time", budget,
                        "--overwrite", "--quiet", *lm_options, *options.lm_extra,
                        "--out", lm_run], log)
            record = json.loads((lm_run / "metrics.json").read_text())
            rows.append({"model": label, "perplexity": record["test"]["lstm"]["perplexity"],
                         "kn_bigram_perplexity": record["test"]["kn_bigram"]["perplexity"],
                         "seconds": record["train_seconds"], "wall_seconds": wall,
                         "epochs": record["epochs"]})
        if finetune_step in steps:
            wall = run(["sentiment", "fit", *timed, *IMDB_FINETUNE, *extra, "--pretrained",
                        lm_run, "--out", finetuned], log)
            rows += rows_of(finetuned / "metrics.json", wall, networks_only=True)
            if options.ensemble_run:
                rows.append(ensemble_row(Path(options.ensemble_run), finetuned))
    if "curve" in steps:
        curve = [*common, *IMDB_SCRATCH, "--max-time", str(options.curve_budget), "--epochs",
                 "40", "--patience", "5"]
        curve_folder = out / f"imdb-label-curve{tag}"
        wall = run(["sentiment", "label-curve", *curve, "--pretrained", lm_folder("imdb-lm"),
                    "--sizes", options.sizes, "--out", curve_folder], log)
        record = json.loads((curve_folder / "metrics.json").read_text())
        rows += [{**row, "wall_seconds": wall} for row in record["curve"]]
    return rows, log


def rt_polarity(options: argparse.Namespace) -> tuple[list[dict], list[str]]:
    """10-fold CV: each fold's train / test texts written as UTF-8 CSV, then `sentiment fit`."""
    data, out = Path(options.data), Path(options.out)
    texts, labels = [], []
    for label in ("pos", "neg"):
        raw = (data / f"rt-polarity.{label}").read_bytes().decode("cp1252")
        lines = [line.strip() for line in raw.split("\n") if line.strip()]
        texts += lines
        labels += [label] * len(lines)
    frame = pd.DataFrame({"text": texts, "label": labels})
    folds = StratifiedKFold(options.folds, shuffle=True, random_state=options.seed)
    log: list[str] = []
    extra = options.extra
    per_fold: list[list[dict]] = []
    for fold, (train, test) in enumerate(folds.split(frame.text, frame.label)):
        folder = out / "rt-folds" / f"fold{fold}"
        folder.mkdir(parents=True, exist_ok=True)
        frame.iloc[train].to_csv(folder / "train.csv", index=False)
        frame.iloc[test].to_csv(folder / "test.csv", index=False)
        common = ["--data", folder / "train.csv", "--test", folder / "test.csv", "--seed",
                  str(options.seed), "--device", "cpu", "--max-time", str(options.budget),
                  "--overwrite", "--quiet"]
        rows = []
        if not options.skip_scratch:
            scratch = folder / f"bilstm{options.tag}"
            wall = run(["sentiment", "fit", *common, *RT_SCRATCH, *extra, "--out", scratch], log)
            rows += rows_of(scratch / "metrics.json", wall)
        if options.pretrained:
            language_model, lm_seconds = options.pretrained, None
            if options.lm_finetune is not None:  # ULMFiT stage 2 on this fold's training texts
                language_model = folder / f"lm{options.tag}"
                lm_seconds = run(["lm", "pretrain", "--init", options.pretrained, "--data",
                                  folder / "train.csv", "--seed", str(options.seed), "--device",
                                  "cpu", "--overwrite", "--quiet",
                                  *options.lm_finetune, "--out", language_model],
                                 log)
            finetuned = folder / f"pretrained{options.tag}"
            wall = run(["sentiment", "fit", *common, *RT_SCRATCH, *extra, "--pretrained",
                        language_model, "--out", finetuned], log)
            rows += [row if row["model"] in BASELINES else {**row, "lm_seconds": lm_seconds}
                     for row in rows_of(finetuned / "metrics.json", wall,
                                        networks_only=bool(rows))]
            if options.ensemble_with is not None:
                rows.append(ensemble_row(folder / f"pretrained{options.ensemble_with}",
                                         finetuned))
        per_fold.append(rows)
    return mean_over_folds(per_fold), log[:len(log) // options.folds]  # fold 0's


def ensemble_row(*runs: Path) -> dict:
    """`rnnlab sentiment evaluate --run A --run B`: the mean of the runs' probabilities."""
    from rnnlab.tasks.sentiment.workflows import evaluate_run

    values = evaluate_run(list(runs)).metrics["ensemble"]
    seconds = sum(json.loads((run / "metrics.json").read_text())["train_seconds"]
                  for run in runs)
    return {"model": "ensemble " + " + ".join(run.name for run in runs),
            "accuracy": values["accuracy"], "auc": values["auc"], "f1": values["f1"],
            "seconds": seconds}


def mean_over_folds(per_fold: list[list[dict]]) -> list[dict]:
    """Mean (and std of accuracy) of each model over the folds; seconds are per fold."""
    table = pd.DataFrame([row for rows in per_fold for row in rows])
    summary = []
    for model, rows in table.groupby("model", sort=False):
        row = {"model": model, "accuracy": rows.accuracy.mean(),
               "accuracy_std": rows.accuracy.std(), "auc": rows.auc.mean(), "f1": rows.f1.mean(),
               "seconds": rows.seconds.mean(), "folds": len(rows)}
        lm_seconds = rows.get("lm_seconds", pd.Series(dtype=float)).mean()
        if pd.notna(lm_seconds):  # LM fine-tuning per fold, besides the classifier's seconds
            row["lm_seconds"] = lm_seconds
        summary.append(row)
    return summary


def markdown(rows: list[dict]) -> str:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = []
        for column in columns:
            value = row.get(column)
            if isinstance(value, float):
                value = f"{100 * value:.2f}%" if column in ("accuracy", "accuracy_std") \
                    else f"{value:.4g}"
            cells.append("" if value is None else str(value))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("task", choices=["imdb", "rt-polarity"])
    parser.add_argument("--data", required=True, help="Folder of the data set.")
    parser.add_argument("--out", default="bench/runs", help="Where run folders are written.")
    parser.add_argument("--budget", type=float, default=30, help="Minutes of training per model.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", default="scratch,lm,pretrained,curve",
                        help="IMDB steps to run (comma-separated).")
    parser.add_argument("--folds", type=int, default=10, help="rt-polarity folds.")
    parser.add_argument("--pretrained", help="rt-polarity: also fine-tune from this LM run "
                        "(or sentiment run: supervised transfer, e.g. the IMDB classifier).")
    parser.add_argument("--skip-scratch", action="store_true",
                        help="rt-polarity: only the fine-tuned model (with --pretrained).")
    parser.add_argument("--lm-finetune", type=shlex.split, help="rt-polarity: first train "
                        "the --pretrained LM on each fold's training texts (`lm pretrain "
                        "--init`) with these options, e.g. '--epochs 5 --schedule slanted'.")
    parser.add_argument("--ensemble-with", help="rt-polarity: also score each fold's mean "
                        "of this run and the new fine-tuned one, named by its --tag (e.g. "
                        "-ulmfit for pretrained-ulmfit).")
    parser.add_argument("--ensemble-run", help="IMDB: also score the mean of this fine-tuned "
                        "run and each new one (e.g. a forward and a backward model).")
    parser.add_argument("--sizes", default="100,500,2000,all", help="IMDB label-curve sizes.")
    parser.add_argument("--curve-budget", type=float, default=8,
                        help="IMDB label curve: minutes of training per model and size.")
    parser.add_argument("--extra", default="", type=shlex.split, help="Extra options of "
                        "every `sentiment fit` (they override the defaults above), e.g. "
                        "'--max-len 1000'.")
    parser.add_argument("--lm-extra", default="", type=shlex.split, help="IMDB: extra "
                        "`lm pretrain` options, e.g. '--schedule slanted --epochs 18'.")
    parser.add_argument("--tag", default="", help="Suffix of the run folders written.")
    parser.add_argument("--lm-run", help="IMDB: fine-tune from this language-model run "
                        "instead of <out>/imdb-lm<tag> (e.g. one pretrained earlier).")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads (1: no slowdown when the CPU is shared).")
    options = parser.parse_args()
    if options.lm_run and {"lm", "bilm", "bwlm"} & set(options.steps.split(",")):
        parser.error("--lm-run names a finished language model: leave the lm steps out")
    torch.set_num_threads(options.threads)
    started = time.perf_counter()
    rows, log = imdb(options) if options.task == "imdb" else rt_polarity(options)
    total = time.perf_counter() - started
    Path(options.out).mkdir(parents=True, exist_ok=True)
    result = {"task": options.task, "rows": rows, "commands": log, "total_seconds": total,
              "argv": sys.argv}
    name = options.task + (f"-{options.steps.replace(',', '-')}" if options.task == "imdb"
                           else "") + options.tag
    (Path(options.out) / f"{name}.json").write_text(json.dumps(result, indent=2,
                                                                       default=float))
    print("\n" + markdown(rows))
    print(f"\ntotal wall time {total / 60:.1f} min")


if __name__ == "__main__":
    main()
