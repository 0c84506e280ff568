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
from rnnlab.tasks.sentiment.data import Corpus, check_new_texts, leak_warning, load_corpus
from rnnlab.tasks.sentiment.evaluation import Evaluation, evaluate
from rnnlab.tasks.sentiment.report import write_run


def _data_path(spec: str) -> Path | None:
    """The file whose sha256 config.yaml records (None for folders and file lists)."""
    if "," in spec:
        return None
    path = resolve_data(spec)
    return path if path.is_file() else None


def warn_if_leaked(corpus: Corpus, cfg: SentimentConfig) -> None:
    """Print the warning line when most test texts also occur in the training data."""
    warning = leak_warning(corpus, cfg)
    if warning:
        console.print(f"[yellow]warning: {warning}[/yellow]", soft_wrap=True)  # one line


def fit_run(cfg: SentimentConfig, out: str | None = None, overwrite: bool = False,
            resume: bool = False
            ) -> tuple[SentimentClassifier, Evaluation | None, Path | None]:
    """`rnnlab sentiment fit`: train, score beside VADER and TF-IDF LR, write a run folder."""
    cfg.validate()
    with staged_run(out, "sentiment", overwrite, resume, cfg.to_dict()) as run:
        corpus = load_corpus(cfg)
        console.print(f"[dim]{corpus.source}: {corpus.sizes['train']} training, "
                      f"{corpus.sizes['val']} validation, {corpus.sizes['test']} test texts; "
                      f"classes {', '.join(corpus.classes)}[/dim]")
        warn_if_leaked(corpus, cfg)
        classifier = SentimentClassifier(cfg).fit(corpus, run.checkpoints / "fit", resume)
        name = classifier.config.network_name
        if not classifier.fit_result_.is_global_zero or not run.writes:
            run.discard()
            return classifier, None, None  # DDP worker: rank 0 writes the run
        evaluation = evaluate({name: classifier}, corpus, classifier.config)
        run.write_config(classifier.config.to_dict(), _data_path(cfg.data))
        write_run(run, {name: classifier}, evaluation, corpus, f"rnnlab sentiment: {name}")
    evaluation.show(f"rnnlab sentiment: test metrics ({corpus.source})")
    console.print(f"padding: {100 * classifier.padding_ratio_:.1f}% of batch positions; "
                  f"test texts also in train: {corpus.test_in_train}")
    console.print(f"run folder: {run.path}\nreport: {run.path / 'report.html'}")
    return classifier, evaluation, run.path


def evaluate_run(run_dirs: str | Path | list[str | Path], data: str | None = None,
                 test: str | None = None) -> Evaluation:
    """`rnnlab sentiment evaluate`: score saved model(s) and the baselines on the test split
    of the first run's data (rebuilt with its seed), or of `data` / `test`. Several runs must
    share those test texts; they are scored one by one and as an ensemble (mean probability).
    TF-IDF + LR is always fitted on the first run's own training texts, as its network was."""
    runs = _distinct(run_dirs)
    classifiers = _load_ensemble(runs).members
    changes = {k: v for k, v in (("data", data), ("test", test)) if v is not None}
    corpus, cfg = _test_corpus(runs, classifiers, changes)
    if changes:
        _fit_baseline_on_own_training(corpus, classifiers[0], runs[0])
    warn_if_leaked(corpus, cfg)
    networks: dict[str, SentimentClassifier] = {}
    for run_dir, classifier in zip(runs, classifiers, strict=True):
        name = _row_name(classifier.config.network_name, run_dir, len(runs), networks)
        networks[name] = classifier
    ensemble = None if len(runs) == 1 else "ensemble" if "ensemble" not in networks \
        else "ensemble (mean)"
    evaluation = evaluate(networks, corpus, cfg, ensemble=ensemble)
    shown = [*networks, ensemble] if ensemble else list(networks)
    evaluation.networks = shown
    evaluation.show(f"evaluation of {', '.join(map(str, runs))} on {corpus.test_source}")
    return evaluation


def _test_corpus(runs: list[str | Path], classifiers: list[SentimentClassifier],
                 changes: dict[str, str]) -> tuple[Corpus, SentimentConfig]:
    """The first run's corpus and config with `changes` (--data / --test), its labels in the
    model's class order; UserError when another run was tested on other texts."""
    corpus, cfg = None, None
    for run_dir, classifier in zip(runs, classifiers, strict=True):
        run_cfg = classifier.config.replace(**changes)
        run_corpus = load_corpus(run_cfg)
        if corpus is None:
            corpus, cfg = _in_model_order(run_corpus, classifier, run_dir), run_cfg
        elif run_corpus.test_texts != corpus.test_texts:
            raise UserError(f"{run_dir} was tested on other texts than {runs[0]}: "
                            "an ensemble needs runs fitted on the same data and split (same "
                            "--data, --test, --test-size and --seed), or a shared --test")
    return corpus, cfg


def _fit_baseline_on_own_training(corpus: Corpus, classifier: SentimentClassifier,
                                  run_dir: str | Path) -> None:
    """Give `corpus` the training texts the run was fitted on (read from its data again), so
    TF-IDF + LR learns from what the network learnt from, never from --data's texts (with
    --data X --test X those are the test texts), and count the test texts among them."""
    try:
        own = _in_model_order(load_corpus(classifier.config), classifier, run_dir)
    except UserError as exc:
        raise UserError(f"TF-IDF + LR is fitted on the training texts of {run_dir}, whose data "
                        f"cannot be read: {exc}") from None
    corpus.train_texts, corpus.train_labels = own.train_texts, own.train_labels
    corpus.count_test_in(own.train_texts + own.val_texts)
    console.print(f"[dim]tfidf_lr: fitted on the {len(own.train_texts)} training texts of "
                  f"{run_dir} ({own.source}), as its network was[/dim]")


def _in_model_order(corpus: Corpus, classifier: SentimentClassifier, run_dir: str | Path
                    ) -> Corpus:
    """`corpus` with its train / test labels as ids into the model's classes."""
    _check_classes(corpus, classifier, run_dir)
    corpus.test_labels = _relabel(corpus.test_labels, corpus.classes, classifier.classes_)
    corpus.train_labels = _relabel(corpus.train_labels, corpus.classes, classifier.classes_)
    corpus.classes = classifier.classes_
    return corpus


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


def predict_texts(run_dirs: str | Path | list[str | Path], texts: list[str],
                  where: list[str] | None = None) -> list[dict]:
    """`rnnlab sentiment predict`: label and probability of each text (several runs: of the
    mean of their class probabilities). An empty text is an error naming it by `where`."""
    ensemble = _load_ensemble(_distinct(run_dirs))
    if not texts:
        raise UserError("no texts to classify: give them as arguments, --file or on stdin")
    check_new_texts(texts, where)
    return ensemble.predict(texts)


def _load_ensemble(runs: list[str | Path]) -> SentimentEnsemble:
    """The runs' classifiers as one ensemble (the mean of their probabilities; one run: that
    run's); UserError unless they all predict the same classes."""
    return SentimentEnsemble([SentimentClassifier.load(r) for r in runs], list(map(str, runs)))
