"""Write a sentiment run folder: metrics.json, predictions.csv, plots and report.html."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from rnnlab.report import html, plots
from rnnlab.runs import RunFolder
from rnnlab.tasks.sentiment.api import SentimentClassifier
from rnnlab.tasks.sentiment.data import Corpus
from rnnlab.tasks.sentiment.evaluation import Evaluation
from rnnlab.tasks.sentiment.metrics import average_precision, pr_curve, roc_auc, roc_curve


def metrics_fields(classifiers: dict[str, SentimentClassifier], evaluation: Evaluation,
                   corpus: Corpus) -> dict:
    """The sentiment part of metrics.json (the rest is `Results.record`)."""
    first = next(iter(classifiers.values()))
    return {
        "split": corpus.sizes,
        "classes": corpus.classes,
        "test_source": corpus.test_source,
        "confusion": {name: evaluation.confusion(name) for name in evaluation.metrics},
        "padding_ratio": first.padding_ratio_,
        "vocab_size": first.tokenizer_.vocab_size,
        "vocab_coverage": first.vocab_coverage_,
        "train_seconds": sum(c.fit_result_.seconds for c in classifiers.values()),
        "epochs": {name: c.fit_result_.epochs for name, c in classifiers.items()},
        "history": {name: c.fit_result_.history for name, c in classifiers.items()},
    }


def predictions_table(evaluation: Evaluation, texts: list[str]) -> pd.DataFrame:
    """One row per test text: its label and each model's prediction and score."""
    table = pd.DataFrame({"text": [t[:200] for t in texts],
                          "label": [evaluation.classes[y] for y in evaluation.labels]})
    for name, predicted in evaluation.predictions.items():
        table[name] = [evaluation.classes[p] for p in predicted]
        scores = evaluation.scores[name]
        if scores.ndim == 1:
            table[f"{name}_score"] = np.round(scores, 6)
    return table


def write_run(run: RunFolder, classifiers: dict[str, SentimentClassifier],
              evaluation: Evaluation, corpus: Corpus, title: str) -> None:
    """Everything but config.yaml (written by the caller, who knows the command). A fit writes
    one classifier (several runs are combined at evaluate / predict time, not saved as one)."""
    (_, classifier), = classifiers.items()
    classifier.save(run.file("model"))
    run.write_json("metrics.json", evaluation.record("sentiment", **metrics_fields(
        classifiers, evaluation, corpus)))
    run.write_text("predictions.csv",
                   predictions_table(evaluation, corpus.test_texts).to_csv(index=False))
    figures = _plots(run, classifiers, evaluation)
    first = next(iter(classifiers.values()))
    sizes = corpus.sizes
    subtitle = (f"{corpus.source}: classes {', '.join(corpus.classes)}; texts train "
                f"{sizes['train']}, validation {sizes['val']}, test {sizes['test']} "
                f"({corpus.test_source})")
    notes = [f"Padding is {100 * first.padding_ratio_:.1f}% of the positions in the training "
             "batches (length-bucketed; padded steps never reach a real one). Test texts that "
             f"also occur verbatim in the training data: {corpus.test_in_train}."]
    if first.vocab_coverage_ is not None:
        notes.append(f"The language model knew {100 * first.vocab_coverage_:.1f}% of the "
                     "classifier's vocabulary.")
    run.write_text("report.html", html.run_page(
        title, subtitle, evaluation, "Test metrics (the same test texts for every model)",
        figures, {name: c.config for name, c in classifiers.items()}, notes))


def curves(evaluation: Evaluation) -> tuple[dict, dict]:
    """ROC and PR curves of every model (binary: class 1; more classes: none)."""
    roc, pr = {}, {}
    if len(evaluation.classes) != 2:
        return roc, pr
    positive = evaluation.labels == 1
    for name, scores in evaluation.scores.items():
        fpr, tpr, _ = roc_curve(positive, scores)
        roc[name] = (fpr, tpr, roc_auc(positive, scores))
        precision, recall = pr_curve(positive, scores)
        pr[name] = (precision, recall, average_precision(positive, scores))
    return roc, pr


def _plots(run: RunFolder, classifiers: dict[str, SentimentClassifier],
           evaluation: Evaluation) -> list[tuple[str, Path]]:
    figures = []
    roc, pr = curves(evaluation)
    positive = evaluation.classes[1]
    if roc:
        path = plots.roc_plot(roc, run.file("plots/roc.png"), f"ROC (positive: {positive})")
        figures.append(("ROC curves of every model on the same test texts", path))
        rate = float(np.mean(evaluation.labels == 1))
        path = plots.pr_plot(pr, run.file("plots/pr.png"), "Precision-recall", rate)
        figures.append(("Precision-recall curves", path))
    matrices = {name: evaluation.confusion(name) for name in evaluation.metrics}
    path = plots.confusion_plot(matrices, evaluation.classes, run.file("plots/confusion.png"),
                                "Confusion matrices (test)")
    figures.append(("Confusion matrices: rows actual, columns predicted", path))
    for name, classifier in classifiers.items():
        history = classifier.fit_result_.history
        path = plots.loss_curves(history, run.file(f"plots/loss_{name}.png"),
                                 f"{name}: cross-entropy per epoch")
        figures.append((f"{name}: training and validation loss", path))
        path = plots.metric_curves(history, ("val_auc", "val_accuracy"),
                                   run.file(f"plots/auc_{name}.png"),
                                   f"{name}: validation AUC and accuracy", "score")
        figures.append((f"{name}: validation AUC (early stopping and checkpoint) per epoch",
                        path))
    return figures
