"""The sentiment jobs behind the CLI verbs: fit, evaluate, predict.

Each returns its results and writes its outputs; printing is done here too so the CLI and
Python users see the same table.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rnnlab.console import console
from rnnlab.data.datasets import resolve_data
from rnnlab.errors import UserError
from rnnlab.runs import RunFolder, is_global_zero
from rnnlab.tasks.sentiment.api import SentimentClassifier
from rnnlab.tasks.sentiment.config import SentimentConfig
from rnnlab.tasks.sentiment.data import load_corpus
from rnnlab.tasks.sentiment.evaluation import Evaluation, evaluate
from rnnlab.tasks.sentiment.report import print_summary, write_run


def _data_path(spec: str) -> Path | None:
    """The file whose sha256 config.yaml records (None for folders and file lists)."""
    if "," in spec:
        return None
    path = resolve_data(spec)
    return path if path.is_file() else None


def fit_run(cfg: SentimentConfig, out: str | None = None, overwrite: bool = False
            ) -> tuple[SentimentClassifier, Evaluation | None, Path | None]:
    """`rnnlab sentiment fit`: train, score beside VADER and TF-IDF LR, write a run folder."""
    cfg.validate()
    run = RunFolder.create(out, "sentiment", overwrite) if is_global_zero() else None
    try:
        corpus = load_corpus(cfg)
        console.print(f"[dim]{corpus.source}: {corpus.sizes['train']} training, "
                      f"{corpus.sizes['val']} validation, {corpus.sizes['test']} test texts; "
                      f"classes {', '.join(corpus.classes)}[/dim]")
        classifier = SentimentClassifier(cfg).fit(corpus)
        name = classifier.config.network_name
        if not classifier.fit_result_.is_global_zero or run is None:
            return classifier, None, None  # DDP worker: rank 0 writes the run
        evaluation = evaluate({name: classifier}, corpus, classifier.config)
        run.write_config("sentiment", classifier.config.to_dict(), _data_path(cfg.data))
        write_run(run, {name: classifier}, evaluation, corpus, f"rnnlab sentiment: {name}")
        path = run.commit()
    except BaseException:
        if run is not None:
            run.discard()
        raise
    print_summary(evaluation, [name], f"rnnlab sentiment: test metrics ({corpus.source})")
    console.print(f"padding: {100 * classifier.padding_ratio_:.1f}% of batch positions; "
                  f"test texts also in train: {corpus.test_in_train}")
    console.print(f"run folder: {path}\nreport: {path / 'report.html'}")
    return classifier, evaluation, path


def evaluate_run(run_dir: str | Path, data: str | None = None, test: str | None = None
                 ) -> Evaluation:
    """`rnnlab sentiment evaluate`: score a saved model and the baselines on the test split
    of its data (rebuilt with the run's seed), or of `data` / `test`."""
    RunFolder.load(run_dir)
    classifier = SentimentClassifier.load(run_dir)
    changes = {k: v for k, v in (("data", data), ("test", test)) if v is not None}
    cfg = classifier.config.replace(**changes)
    corpus = load_corpus(cfg)
    unknown = sorted(set(corpus.classes) - set(classifier.classes_))
    if unknown:
        raise UserError(f"{corpus.source} has labels {unknown} that the model at {run_dir} "
                        f"never saw (it knows {', '.join(classifier.classes_)})")
    corpus.test_labels = _relabel(corpus.test_labels, corpus.classes, classifier.classes_)
    corpus.train_labels = _relabel(corpus.train_labels, corpus.classes, classifier.classes_)
    corpus.classes = classifier.classes_
    name = cfg.network_name
    evaluation = evaluate({name: classifier}, corpus, cfg)
    print_summary(evaluation, [name], f"evaluation of {run_dir} on {corpus.test_source}")
    return evaluation


def _relabel(labels: np.ndarray, classes: list[str], target: list[str]) -> np.ndarray:
    """Class ids under `classes` -> ids under `target` (the model's class order)."""
    index = {name: i for i, name in enumerate(target)}
    return np.array([index[classes[y]] for y in labels], dtype=np.int64)


def predict_texts(run_dir: str | Path, texts: list[str]) -> list[dict]:
    """`rnnlab sentiment predict`: label and probability of each text."""
    RunFolder.load(run_dir)
    if not texts:
        raise UserError("no texts to classify: give them as arguments, --file or on stdin")
    return SentimentClassifier.load(run_dir).predict(texts)
