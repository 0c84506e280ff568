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
from rnnlab.runs import staged_run
from rnnlab.tasks.sentiment.api import SentimentClassifier, SentimentEnsemble
from rnnlab.tasks.sentiment.config import SentimentConfig
from rnnlab.tasks.sentiment.data import Corpus, load_corpus
from rnnlab.tasks.sentiment.evaluation import Evaluation, evaluate
from rnnlab.tasks.sentiment.report import write_run


def _data_path(spec: str) -> Path | None:
    """The file whose sha256 config.yaml records (None for folders and file lists)."""
    if "," in spec:
        return None
    path = resolve_data(spec)
    return path if path.is_file() else None


def fit_run(cfg: SentimentConfig, out: str | None = None, overwrite: bool = False,
            resume: bool = False
            ) -> tuple[SentimentClassifier, Evaluation | None, Path | None]:
    """`rnnlab sentiment fit`: train, score beside VADER and TF-IDF LR, write a run folder."""
    cfg.validate()
    with staged_run(out, "sentiment", overwrite, resume) as run:
        corpus = load_corpus(cfg)
        console.print(f"[dim]{corpus.source}: {corpus.sizes['train']} training, "
                      f"{corpus.sizes['val']} validation, {corpus.sizes['test']} test texts; "
                      f"classes {', '.join(corpus.classes)}[/dim]")
        checkpoints = run.checkpoints
        classifier = SentimentClassifier(cfg).fit(corpus, checkpoints, resume)
        name = classifier.config.network_name
        if not classifier.fit_result_.is_global_zero or not run.writes:
            run.discard()
            return classifier, None, None  # DDP worker: rank 0 writes the run
        evaluation = evaluate({name: classifier}, corpus, classifier.config)
        run.write_config(classifier.config.to_dict(), _data_path(cfg.data))
        write_run(run, {name: classifier}, evaluation, corpus, f"rnnlab sentiment: {name}")
    evaluation.print(f"rnnlab sentiment: test metrics ({corpus.source})")
    console.print(f"padding: {100 * classifier.padding_ratio_:.1f}% of batch positions; "
                  f"test texts also in train: {corpus.test_in_train}")
    console.print(f"run folder: {run.path}\nreport: {run.path / 'report.html'}")
    return classifier, evaluation, run.path


def evaluate_run(run_dirs: str | Path | list[str | Path], data: str | None = None,
                 test: str | None = None) -> Evaluation:
    """`rnnlab sentiment evaluate`: score saved model(s) and the baselines on the test split
    of the first run's data (rebuilt with its seed), or of `data` / `test`. Several runs must
    share those test texts; they are scored one by one and as an ensemble (mean probability)."""
    runs = _distinct(run_dirs)
    changes = {k: v for k, v in (("data", data), ("test", test)) if v is not None}
    networks, corpus, cfg = {}, None, None
    for run_dir, classifier in zip(runs, _load_classifiers(runs), strict=True):
        run_cfg = classifier.config.replace(**changes)
        run_corpus = load_corpus(run_cfg)
        if corpus is None:
            corpus, cfg = run_corpus, run_cfg
            _check_classes(corpus, classifier, run_dir)
            corpus.test_labels = _relabel(corpus.test_labels, corpus.classes, classifier.classes_)
            corpus.train_labels = _relabel(corpus.train_labels, corpus.classes,
                                           classifier.classes_)
            corpus.classes = classifier.classes_
        elif run_corpus.test_texts != corpus.test_texts:
            raise UserError(f"{run_dir} was tested on other texts than {runs[0]}: "
                            "an ensemble needs runs fitted on the same data and split (same "
                            "--data, --test, --test-size and --seed), or a shared --test")
        networks[_row_name(run_cfg.network_name, run_dir, len(runs), networks)] = classifier
    ensemble = None if len(runs) == 1 else "ensemble" if "ensemble" not in networks \
        else "ensemble (mean)"
    evaluation = evaluate(networks, corpus, cfg, ensemble=ensemble)
    shown = [*networks, ensemble] if ensemble else list(networks)
    evaluation.networks = shown
    evaluation.print(f"evaluation of {', '.join(map(str, runs))} on {corpus.test_source}")
    return evaluation


def _distinct(run_dirs: str | Path | list[str | Path]) -> list[str | Path]:
    """The run folder(s) as a list; UserError when one is given twice."""
    runs = [run_dirs] if isinstance(run_dirs, (str, Path)) else list(run_dirs)
    if len({Path(run).resolve() for run in runs}) < len(runs):
        raise UserError("the same --run is given twice; an ensemble needs different runs")
    return runs


def _row_name(network: str, run_dir: str | Path, n_runs: int, taken: dict) -> str:
    """The network's name; its run folder's name (or path) when several runs are scored."""
    if n_runs == 1:
        return network
    return Path(run_dir).name if Path(run_dir).name not in taken else str(run_dir)


def _check_classes(corpus: Corpus, classifier: SentimentClassifier, run_dir: str | Path) -> None:
    unknown = sorted(set(corpus.classes) - set(classifier.classes_))
    if unknown:
        raise UserError(f"{corpus.source} has labels {unknown} that the model at {run_dir} "
                        f"never saw (it knows {', '.join(classifier.classes_)})")


def _relabel(labels: np.ndarray, classes: list[str], target: list[str]) -> np.ndarray:
    """Class ids under `classes` -> ids under `target` (the model's class order)."""
    index = {name: i for i, name in enumerate(target)}
    return np.array([index[classes[y]] for y in labels], dtype=np.int64)


def predict_texts(run_dirs: str | Path | list[str | Path], texts: list[str]) -> list[dict]:
    """`rnnlab sentiment predict`: label and probability of each text (several runs: of the
    mean of their class probabilities)."""
    classifiers = _load_classifiers(_distinct(run_dirs))
    if not texts:
        raise UserError("no texts to classify: give them as arguments, --file or on stdin")
    return SentimentEnsemble(classifiers, [str(r) for r in _distinct(run_dirs)]).predict(texts)


def _load_classifiers(runs: list[str | Path]) -> list[SentimentClassifier]:
    """The runs' classifiers; UserError unless they all predict the same classes (an
    ensemble averages their probability columns)."""
    classifiers = [SentimentClassifier.load(run_dir) for run_dir in runs]
    SentimentEnsemble(classifiers, [str(r) for r in runs])  # checks the classes
    return classifiers
