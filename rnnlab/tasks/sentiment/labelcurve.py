"""`rnnlab sentiment label-curve`: how many labelled examples does each model need?

For every size N the network is trained from scratch and (with --pretrained) fine-tuned from
the language model on the same N labelled texts (validation included), TF-IDF + LR is fitted on
the same training texts, and all are scored on the same full test split; VADER needs no labels
and is a flat line. The lecture's claim "transfer learning reduces the labelled data needed",
measured.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from rnnlab.console import console
from rnnlab.report import html, plots
from rnnlab.runs import RunFolder, staged_run
from rnnlab.tasks.sentiment.api import SentimentClassifier
from rnnlab.tasks.sentiment.config import SentimentConfig
from rnnlab.tasks.sentiment.data import Corpus, load_corpus, with_train_examples
from rnnlab.tasks.sentiment.evaluation import Evaluation, evaluate
from rnnlab.tasks.sentiment.workflows import warn_if_leaked

METRICS = ("accuracy", "auc")


def curve_rows(cfg: SentimentConfig, corpus: Corpus, sizes: list[int | None],
               checkpoints: Path | None = None, resume: bool = False
               ) -> tuple[list[dict], Evaluation]:
    """One row per (size, model): examples, model, accuracy, auc, f1, seconds; and the
    evaluation at the largest size. `checkpoints`: a folder for each fit's resumable
    checkpoints (`resume`: continue them)."""
    variants = {cfg.replace(pretrained=None).network_name: cfg.replace(pretrained=None)}
    if cfg.pretrained:
        variants["pretrained"] = cfg
    rows, vader_cache = [], {}  # VADER needs no labels: scored once on the test texts
    available = len(corpus.train_texts) + len(corpus.val_texts)
    largest: tuple[int, Evaluation] | None = None
    for point, size in enumerate(sizes):
        subset = with_train_examples(corpus, size, cfg.val_size, cfg.train.seed)
        examples = min(size or available, available)
        networks = {}
        for name, variant in variants.items():
            console.print(f"[dim]{examples} labelled examples: training {name} ...[/dim]")
            folder = checkpoints / f"{point}-{examples}-{name}" if checkpoints else None
            classifier = SentimentClassifier(variant).fit(subset, folder, resume)
            networks[classifier.config.network_name] = classifier
        evaluation = evaluate(networks, subset, cfg, vader_cache)
        for name, values in evaluation.metrics.items():
            rows.append({"examples": examples, "model": name,
                         **{k: values[k] for k in (*METRICS, "f1", "seconds")}})
        if largest is None or examples >= largest[0]:
            largest = (examples, evaluation)
    return rows, largest[1]


def label_curve_run(cfg: SentimentConfig, sizes: list[int | None], out: str | None = None,
                    overwrite: bool = False, resume: bool = False) -> pd.DataFrame:
    """Train at every size, write label_curve.csv, metrics.json, plots and report.html."""
    cfg.validate()
    options = {**cfg.to_dict(), "sizes": sizes}
    with staged_run(out, "sentiment", overwrite, resume, options) as run:
        corpus = load_corpus(cfg.replace(train_examples=None))
        warn_if_leaked(corpus, cfg)
        rows, largest = curve_rows(cfg, corpus, sizes, run.checkpoints, resume)
        table = pd.DataFrame(rows)
        if not run.writes:
            return table
        run.write_config(options, None, kind="label_curve")
        run.write_text("label_curve.csv", table.to_csv(index=False))
        run.write_json("metrics.json", largest.record(
            "sentiment", kind="label_curve", split=corpus.sizes,
            examples=int(table["examples"].max()), curve=table.to_dict("records")))
        pivot = table.pivot_table(index="examples", columns="model", values="accuracy")
        sections = [("Accuracy by number of labelled examples", html.preformatted(
            pivot.to_string(float_format=lambda v: f"{100 * v:.1f}%")))]
        subtitle = (f"{corpus.source}: the same {len(corpus.test_texts)} test texts at every "
                    "size; the N labelled examples include the validation texts")
        run.write_text("report.html", html.run_page(
            "rnnlab sentiment label-curve", subtitle, largest,
            f"Test metrics at the largest size ({table['examples'].max()} labelled examples)",
            _plots(run, table), {"label-curve": cfg}, sections=sections))
    for metric in METRICS:
        shown = table.pivot_table(index="examples", columns="model", values=metric)
        console.print(f"test {metric} by labelled examples:\n"
                      + shown.to_string(float_format=lambda v: f"{v:.3f}"))
    console.print(f"run folder: {run.path}\nreport: {run.path / 'report.html'}")
    return table


def _plots(run: RunFolder, table: pd.DataFrame) -> list[tuple[str, Path]]:
    figures = []
    sizes = sorted(table["examples"].unique().tolist())
    for metric in METRICS:
        series, flat = {}, {}
        for model, rows in table.groupby("model", sort=False):
            values = rows.sort_values("examples")[metric].to_numpy()
            if model == "vader":
                flat[model] = float(np.mean(values))
            else:
                series[model] = values
        path = plots.label_curve_plot(sizes, series, flat,
                                      run.file(f"plots/label_curve_{metric}.png"),
                                      f"test {metric} vs labelled training examples", metric)
        figures.append((f"test {metric} vs number of labelled training examples", path))
    return figures
