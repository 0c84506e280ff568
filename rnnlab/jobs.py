"""The job registry: the one list of rnnlab's jobs.

A job is a folder under `rnnlab/tasks/` plus one `Job` entry here. The command line
(`rnnlab.cli`), the run manifest and `rnnlab.load_run` all find a job through this registry, so
adding a job touches nothing else. Entries name their CLI app and API class as "module:attr"
strings and import them only when needed.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from rnnlab.errors import UserError


@dataclass(frozen=True)
class Job:
    """One job: its name everywhere (CLI group, config.yaml, metrics.json, manifest), the typer
    app of its verbs, the API class that fits / saves / loads / predicts, and the JSON file its
    `save` writes next to the weights (how runs written before the manifest are recognised)."""

    name: str
    help: str
    cli: str  # "module:attr" of the typer app
    api: str  # "module:attr" of the API class (rnnlab.estimator.Estimator)
    model_file: str  # e.g. "forecaster.json" in model/
    ensemble: str | None = None  # "module:attr" of a class built from several fitted models

    def cli_app(self) -> Any:
        return import_object(self.cli)

    def api_class(self) -> type:
        return import_object(self.api)

    def ensemble_class(self) -> type | None:
        return import_object(self.ensemble) if self.ensemble else None


JOBS: dict[str, Job] = {}


def import_object(spec: str) -> Any:
    """"package.module:attr" -> the object."""
    module, _, attribute = spec.partition(":")
    return getattr(importlib.import_module(module), attribute)


def register(job: Job) -> Job:
    """Add (or replace) a job; the CLI built afterwards has its commands."""
    JOBS[job.name] = job
    return job


def unregister(name: str) -> None:
    JOBS.pop(name, None)


def get_job(name: str) -> Job:
    if name not in JOBS:
        raise UserError(f"job {name!r} is not one this rnnlab knows ({', '.join(JOBS)}); "
                        "upgrade rnnlab or check the run folder")
    return JOBS[name]


def job_of_api(api_class: type) -> Job:
    """The registered job whose API class is `api_class` or one of its bases (matched by the
    "module:attr" name, or by the object it names, so a re-exported name works too)."""
    spec = f"{api_class.__module__}:{api_class.__qualname__}"
    for job in JOBS.values():
        if job.api == spec or issubclass(api_class, job.api_class()):
            return job
    raise TypeError(f"{spec} is not the API class of a registered job: register its job in "
                    "rnnlab.jobs before saving")


register(Job(
    name="forecast",
    help="Forecast time series from a CSV with LSTM / GRU / RNN / MLP networks, beside naive, "
         "seasonal-naive, drift and ARIMA baselines.",
    cli="rnnlab.tasks.forecasting.cli:app",
    api="rnnlab.tasks.forecasting.api:Forecaster",
    model_file="forecaster.json",
))
register(Job(
    name="sentiment",
    help="Classify the sentiment of texts with recurrent networks, beside VADER and TF-IDF + "
         "logistic regression; transfer from a pretrained language model.",
    cli="rnnlab.tasks.sentiment.cli:app",
    api="rnnlab.tasks.sentiment.api:SentimentClassifier",
    model_file="classifier.json",
    ensemble="rnnlab.tasks.sentiment.api:SentimentEnsemble",
))
register(Job(
    name="lm",
    help="Character, word or subword language models (truncated BPTT, weight-drop, tied "
         "embeddings) beside unigram and Kneser-Ney n-gram baselines; text generation.",
    cli="rnnlab.tasks.language.cli:app",
    api="rnnlab.tasks.language.api:LanguageModel",
    model_file="language_model.json",
))
register(Job(
    name="translate",
    help="Translate sentences with GRU / LSTM encoder-decoders (Bahdanau or Luong attention, "
         "or none), beam search; BLEU and chrF beside copying the source.",
    cli="rnnlab.tasks.translation.cli:app",
    api="rnnlab.tasks.translation.api:Translator",
    model_file="translator.json",
))
