"""Score the network(s) and every baseline on the same test texts: one metrics table, the
curves behind the ROC / PR plots, confusion matrices and a verdict."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from rnnlab.results import Results, rank, unranked
from rnnlab.tasks.sentiment.api import SentimentClassifier
from rnnlab.tasks.sentiment.baselines import TfidfLogisticRegression, VaderBaseline
from rnnlab.tasks.sentiment.config import SentimentConfig
from rnnlab.tasks.sentiment.data import Corpus
from rnnlab.tasks.sentiment.metrics import classification_metrics, confusion_matrix

COLUMNS = ("accuracy", "auc", "f1", "precision", "recall", "average_precision", "seconds")
TERMINAL_COLUMNS = ("accuracy", "auc", "f1", "precision", "recall", "seconds")


@dataclass(kw_only=True)
class Evaluation(Results):
    """Per model (networks first, then baselines): metrics, ranking scores, predictions."""

    labels: np.ndarray  # true class ids of the test texts
    classes: list[str]
    scores: dict[str, np.ndarray] = field(default_factory=dict)  # (n,) binary, (n, C) more
    predictions: dict[str, np.ndarray] = field(default_factory=dict)
    columns = COLUMNS
    terminal_columns = TERMINAL_COLUMNS

    def add(self, name: str, predicted: np.ndarray, scores: np.ndarray, seconds: float,
            note: str | None = None) -> None:
        self.metrics[name] = {**classification_metrics(self.labels, predicted, scores,
                                                       len(self.classes)),
                              "seconds": seconds}
        self.scores[name], self.predictions[name] = scores, predicted
        if note:
            self.notes[name] = note

    def add_mean(self, name: str, members: list[str]) -> None:
        """An ensemble row: the mean of the members' class probabilities (already scored)."""
        scores = np.mean([self.scores[member] for member in members], axis=0)
        predicted = (scores > 0.5).astype(np.int64) if scores.ndim == 1 else scores.argmax(1)
        self.add(name, predicted, scores, sum(self.metrics[m]["seconds"] for m in members))

    def confusion(self, name: str) -> np.ndarray:
        return confusion_matrix(self.labels, self.predictions[name], len(self.classes))


def _ranking(probabilities: np.ndarray) -> np.ndarray:
    """Binary: the probability of class 1 ranks the texts; otherwise all columns."""
    return probabilities[:, 1] if probabilities.shape[1] == 2 else probabilities


def evaluate(networks: dict[str, SentimentClassifier], corpus: Corpus,
             cfg: SentimentConfig, vader_cache: dict | None = None,
             ensemble: str | None = None) -> Evaluation:
    """Networks, TF-IDF + LR (fitted on the same training texts) and VADER (binary tasks).
    `vader_cache` (a dict) keeps VADER's scores for reuse on the same test texts.
    `ensemble` (a row name): also score the mean of the networks' probabilities, and let the
    verdict judge that ensemble."""
    evaluation = Evaluation(labels=np.asarray(corpus.test_labels), classes=corpus.classes)
    for name, classifier in networks.items():
        started = time.perf_counter()
        probabilities = classifier.predict_proba(corpus.test_texts)
        fit = getattr(classifier, "fit_result_", None)
        seconds = (fit.seconds if fit else 0.0) + time.perf_counter() - started
        evaluation.add(name, probabilities.argmax(1), _ranking(probabilities), seconds)
    judged = list(networks)
    if ensemble is not None:
        evaluation.add_mean(ensemble, judged)
        judged = [ensemble, *judged]
    started = time.perf_counter()
    tfidf = TfidfLogisticRegression(cfg.tfidf_ngrams, cfg.tfidf_c, seed=cfg.train.seed)
    probabilities = tfidf.fit(corpus.train_texts, corpus.train_labels).predict_proba(
        corpus.test_texts)
    evaluation.add(tfidf.name, probabilities.argmax(1), _ranking(probabilities),
                   time.perf_counter() - started, tfidf.note)
    if len(corpus.classes) == 2:
        started = time.perf_counter()
        vader = VaderBaseline(corpus.classes, cfg.vader_threshold)
        cache = vader_cache if vader_cache is not None else {}
        if "scores" not in cache:
            cache["scores"] = vader.scores(corpus.test_texts)
            cache["seconds"] = time.perf_counter() - started
        evaluation.add(vader.name, vader.predict(cache["scores"]), cache["scores"],
                       cache["seconds"], vader.note)
    evaluation.networks = judged
    leak = (corpus.test_in_train, len(corpus.test_texts)) if corpus.leaked else None
    evaluation.best, evaluation.verdict = verdict(evaluation.metrics, judged, leak)
    return evaluation


def verdict(metrics: dict[str, dict[str, float]], networks: list[str],
            leak: tuple[int, int] | None = None) -> tuple[str, str]:
    """The best model by test AUC (then accuracy) and one sentence comparing the first
    network with the strongest baseline; `leak` (test texts also in training, test texts):
    the sentence ends by saying the comparison is leaked."""
    best, _, rival = rank(metrics, networks, ("auc", "accuracy"), higher_is_better=True)
    network = networks[0]
    scored = all(math.isfinite(metrics[network].get(k, math.nan)) for k in ("auc", "accuracy"))
    if (failed := unranked([network], network if scored else None, rival, "AUC")) is not None:
        return best or network, failed
    ours, theirs = metrics[network], metrics[rival]
    gap = 100 * (ours["accuracy"] - theirs["accuracy"])
    beats = ours["auc"] > theirs["auc"] and ours["accuracy"] > theirs["accuracy"]
    relation = "beats" if beats else "does not beat"
    sentence = (f"{network} {relation} the best baseline {rival}: accuracy "
                f"{100 * ours['accuracy']:.1f}% vs {100 * theirs['accuracy']:.1f}% "
                f"({gap:+.1f} points), AUC {ours['auc']:.3f} vs {theirs['auc']:.3f}")
    if "vader" in metrics and rival != "vader":
        vader = metrics["vader"]
        sentence += (f"; VADER (no training) {100 * vader['accuracy']:.1f}%, "
                     f"AUC {vader['auc']:.3f}")
    if leak is not None:
        sentence += (f"; {leak[0]} of {leak[1]} test texts also occur in the training data: "
                     "this comparison is leaked")
    return best, sentence + "."
