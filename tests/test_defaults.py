"""One source of defaults: `rnnlab <job> fit` with no options builds exactly `<Job>Config()`,
field by field (the training part included), so a command copied into Python trains the same
model."""

from __future__ import annotations

from dataclasses import asdict, fields

import pytest

from rnnlab.config import TrainConfig
from rnnlab.tasks.forecasting import workflows as forecast_workflows
from rnnlab.tasks.forecasting.config import ForecastConfig
from rnnlab.tasks.language import workflows as lm_workflows
from rnnlab.tasks.language.config import LanguageModelConfig
from rnnlab.tasks.sentiment import workflows as sentiment_workflows
from rnnlab.tasks.sentiment.config import SentimentConfig

CASES = [
    # job command, the workflow it calls, the config it must build; forecasting needs a target
    (["forecast", "fit", "--target", "Passengers"], forecast_workflows, "fit_run",
     ForecastConfig(target=("Passengers",))),
    (["sentiment", "fit"], sentiment_workflows, "fit_run", SentimentConfig()),
    (["lm", "pretrain"], lm_workflows, "fit_run", LanguageModelConfig()),
    (["lm", "fit"], lm_workflows, "fit_run", LanguageModelConfig()),
]


@pytest.mark.parametrize(("args", "module", "function", "expected"), CASES,
                         ids=[" ".join(case[0][:2]) for case in CASES])
def test_fit_without_options_builds_the_default_config(cli, monkeypatch, args, module,
                                                       function, expected):
    seen = []
    monkeypatch.setattr(module, function, lambda cfg, **run: seen.append((cfg, run)))
    result = cli(args)
    assert result.code == 0, result.err
    (config, run), = seen
    assert run == {"out": None, "overwrite": False, "resume": False}
    for field in fields(expected):
        assert getattr(config, field.name) == getattr(expected, field.name), field.name
    assert asdict(config) == asdict(expected)


@pytest.mark.parametrize("config_class", [ForecastConfig, SentimentConfig, LanguageModelConfig])
def test_each_job_has_its_own_training_defaults(config_class):
    """The tuned training defaults live in the config (not only in the CLI) and differ from the
    generic TrainConfig where the job needs it."""
    train = config_class().train
    assert isinstance(train, TrainConfig) and train != TrainConfig()


def test_the_jobs_documented_training_defaults():
    assert (ForecastConfig().train.epochs, ForecastConfig().train.patience) == (200, 20)
    sentiment = SentimentConfig().train
    assert (sentiment.epochs, sentiment.patience, sentiment.lr, sentiment.batch_size) == (
        10, 3, 2e-3, 64)
    assert LanguageModelConfig().train.clip == 0.25


@pytest.mark.parametrize(("args", "field", "value"), [
    (["sentiment", "fit", "--unidirectional"], "bidirectional", False),
    (["sentiment", "fit", "--max-len", "0"], "max_len", None),
    (["lm", "pretrain", "--no-tie", "--epoch-tokens", "0"], "tie", False),
    (["forecast", "fit", "--target", "y", "--no-highway"], "highway", False),
    (["forecast", "fit", "--target", "y", "--log"], "log", True),
])
def test_derived_flags_keep_their_names(cli, monkeypatch, args, field, value):
    seen = []
    for module, function in ((forecast_workflows, "fit_run"), (sentiment_workflows, "fit_run"),
                             (lm_workflows, "fit_run")):
        monkeypatch.setattr(module, function, lambda cfg, **run: seen.append(cfg))
    result = cli(args)
    assert result.code == 0, result.err
    assert getattr(seen[0], field) == value
