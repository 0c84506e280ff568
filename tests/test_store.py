"""The model store: the manifest, `rnnlab.load_run` for every job, runs written before the
manifest existed (committed fixtures), and the errors for folders that are not runs."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rnnlab
from rnnlab import store
from rnnlab.data.datasets import resolve_data
from rnnlab.errors import UserError
from rnnlab.estimator import Estimator, NotFittedError
from rnnlab.jobs import JOBS
from rnnlab.tasks.forecasting import Forecaster
from rnnlab.tasks.language import LanguageModel
from rnnlab.tasks.language.data import BpttChunks
from rnnlab.tasks.language.model import stream_nll
from rnnlab.tasks.sentiment import SentimentClassifier
from rnnlab.tasks.sentiment.api import SentimentEnsemble

LEGACY = Path(__file__).parent / "fixtures" / "legacy_runs"
EXPECTED = json.loads((LEGACY / "expected.json").read_text())
VARIANTS = ["mlp", "lstm_features", "lstm_timesteps", "gru", "rnn"]


def _airline() -> pd.DataFrame:
    return pd.read_csv(resolve_data("airline-passengers"))


def _same_forecast(frame: pd.DataFrame, expected: dict) -> None:
    for column, values in expected.items():
        np.testing.assert_allclose(frame[column].to_numpy(), values, rtol=1e-6)


# -- runs written before the manifest keep loading and predicting the same numbers -----------


def test_legacy_forecast_run_loads_and_predicts_the_same_numbers():
    forecaster = rnnlab.load_run(LEGACY / "forecast")
    assert type(forecaster) is Forecaster
    _same_forecast(forecaster.predict(resolve_data("airline-passengers")),
                   EXPECTED["forecast"])
    _same_forecast(forecaster.predict(_airline()), EXPECTED["forecast"])


def test_legacy_compare_run_gives_every_variant_by_name():
    variants = rnnlab.load_run(LEGACY / "forecast-compare")
    assert sorted(variants) == sorted(VARIANTS)
    for name in VARIANTS:
        _same_forecast(variants[name].predict(_airline()), EXPECTED["forecast-compare"][name])
    gru = rnnlab.load_run(LEGACY / "forecast-compare", variant="gru")
    _same_forecast(gru.predict(_airline()), EXPECTED["forecast-compare"]["gru"])
    with pytest.raises(UserError, match="has no variant 'lstm'; its variants: "):
        rnnlab.load_run(LEGACY / "forecast-compare", variant="lstm")


def test_legacy_sentiment_run_loads_and_predicts_the_same_probabilities():
    classifier = rnnlab.load_run(LEGACY / "sentiment")
    assert type(classifier) is SentimentClassifier
    expected = EXPECTED["sentiment"]
    texts = expected["texts"][:3]  # the old code also scored "", which predict now refuses
    np.testing.assert_allclose(classifier.predict_proba(texts), expected["proba"][:3],
                               rtol=1e-6, atol=1e-7)


def test_legacy_lm_run_loads_and_scores_the_same_perplexity():
    lm = rnnlab.load_run(LEGACY / "lm")
    assert type(lm) is LanguageModel
    expected = EXPECTED["lm"]
    # The code of d026065 cut any stream into up to 8 parallel rows; `perplexity` now keeps a
    # short text in one row (its whole context), so the old number is recomputed the old way.
    stream = lm.stream(expected["docs"])
    old_rows = BpttChunks(stream, min(8, max(1, (len(stream) - 1) // 2)), lm.config.bptt, 1)
    assert math.exp(stream_nll(lm.net_, old_rows)) == pytest.approx(expected["perplexity"],
                                                                    rel=1e-6)
    assert lm.perplexity(expected["docs"]) == pytest.approx(
        math.exp(stream_nll(lm.net_, BpttChunks(stream, 1, lm.config.bptt, 1))), rel=1e-9)


def test_two_sentiment_runs_load_as_an_ensemble_of_mean_probabilities(tmp_path):
    other = tmp_path / "copy"
    shutil.copytree(LEGACY / "sentiment", other)
    ensemble = rnnlab.load_run([LEGACY / "sentiment", other])
    assert isinstance(ensemble, SentimentEnsemble)
    texts = EXPECTED["sentiment"]["texts"][:3]
    single = SentimentClassifier.load(other).predict_proba(texts)
    np.testing.assert_allclose(ensemble.predict_proba(texts), single)
    assert [r["label"] for r in ensemble.predict(texts)] == [
        ensemble.classes_[i] for i in single.argmax(1)]


def test_forecast_runs_cannot_form_an_ensemble():
    with pytest.raises(UserError, match="forecast runs cannot be combined"):
        rnnlab.load_run([LEGACY / "forecast", LEGACY / "forecast"])


# -- runs written now carry a manifest ---------------------------------------------------------


def test_save_writes_a_manifest_that_names_the_job_and_the_class(tmp_path):
    classifier = SentimentClassifier.load(LEGACY / "sentiment")
    classifier.save(tmp_path / "model")
    manifest = json.loads((tmp_path / "model" / "model.json").read_text())
    assert manifest == {"job": "sentiment", "format_version": store.FORMAT_VERSION,
                        "rnnlab_version": rnnlab.__version__,
                        "api": "rnnlab.tasks.sentiment.api:SentimentClassifier",
                        "model_file": "classifier.json"}
    again = rnnlab.load_run(tmp_path)  # a folder holding model/
    np.testing.assert_array_equal(again.predict_proba(["fine"]),
                                  classifier.predict_proba(["fine"]))


def test_a_newer_format_is_refused_with_what_to_do(tmp_path):
    run = tmp_path / "run"
    shutil.copytree(LEGACY / "lm", run)
    LanguageModel.load(run).save(run / "model")
    manifest = json.loads((run / "model" / "model.json").read_text())
    (run / "model" / "model.json").write_text(json.dumps({**manifest, "format_version": 99}))
    with pytest.raises(UserError, match=r"in model format 99; this rnnlab .* reads formats up "
                                        r"to 1: upgrade rnnlab"):
        rnnlab.load_run(run)


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: None, "is not a run folder: it holds nothing, not model/model.json"),
    (lambda p: (p / "notes.txt").write_text("mine"),
     "is not a run folder: it holds notes.txt, not model/model.json"),
    (lambda p: (p / "model").mkdir(), "is not a run folder: it holds model/"),
])
def test_a_folder_that_is_not_a_run_says_what_it_found(tmp_path, make, message):
    folder = tmp_path / "folder"
    folder.mkdir()
    make(folder)
    with pytest.raises(UserError, match=message):
        rnnlab.load_run(folder)


def test_a_missing_folder_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        rnnlab.load_run(tmp_path / "nowhere")


def test_a_run_of_another_job_is_named(tmp_path):
    with pytest.raises(UserError, match="is a lm run; this needs a forecast run"):
        Forecaster.load(LEGACY / "lm")
    with pytest.raises(UserError, match=r"is a `compare` run with one model per variant"):
        Forecaster.load(LEGACY / "forecast-compare")


@pytest.mark.parametrize(("damage", "message"), [
    ("json", "classifier.json is not valid JSON"),
    ("weights", "weights.safetensors does not fit the saved model"),
    ("no-weights", "weights.safetensors is missing"),
    ("manifest", "model.json is not valid JSON"),
])
def test_a_damaged_run_is_a_user_error(tmp_path, damage, message):
    run = tmp_path / "run"
    shutil.copytree(LEGACY / "sentiment", run)
    SentimentClassifier.load(run).save(run / "model")
    model = run / "model"
    if damage == "json":
        (model / "classifier.json").write_text("{not json")
    elif damage == "weights":
        (model / "weights.safetensors").write_bytes(
            (model / "weights.safetensors").read_bytes()[:100])
    elif damage == "no-weights":
        (model / "weights.safetensors").unlink()
    else:
        (model / "model.json").write_text("\x00\x01")
    with pytest.raises(UserError, match="is damaged or not an rnnlab run: " + message):
        rnnlab.load_run(run)


# -- one estimator contract ------------------------------------------------------------------


@pytest.mark.parametrize("job", sorted(JOBS))
def test_every_job_keeps_the_estimator_contract(job, tmp_path):
    api = JOBS[job].api_class()
    assert issubclass(api, Estimator)
    for verb in ("fit", "predict", "save", "load"):
        assert callable(getattr(api, verb))
    unfitted = api()
    assert not unfitted.is_fitted and "not fitted" in repr(unfitted)
    with pytest.raises(NotFittedError, match=f"this {api.__name__} is not fitted yet"):
        unfitted.predict(["a text"] if job != "forecast" else _airline())
    with pytest.raises(NotFittedError):
        unfitted.save(tmp_path / "model")
    assert not (tmp_path / "model").exists()
