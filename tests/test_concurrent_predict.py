"""Inference is thread-safe: one loaded model serves many threads at once.

For a sentiment classifier (with DropConnect, whose eval forward passes its weights explicitly
instead of assigning them onto the fused LSTM), a forecaster and a language model: every call
is first made sequentially, then the same calls are made from 8 threads at once (each thread
calling several times, in its own order, so that different inputs run side by side). Every
concurrent result must equal the sequential one exactly, and no parameter or buffer may change.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

import rnnlab
from rnnlab.data.datasets import resolve_data
from rnnlab.tasks.forecasting.series import load_series
from tests.tasks.sentiment.conftest import synthetic_reviews

RUNS = Path(__file__).parent / "fixtures" / "legacy_runs"
THREADS = 8
ROUNDS = 2  # each thread makes every call this many times


def identical(a: Any, b: Any) -> bool:
    """Exact equality of results: arrays, frames, lists, dicts, numbers, strings."""
    if isinstance(a, pd.DataFrame):
        return (isinstance(b, pd.DataFrame) and a.index.equals(b.index)
                and list(a.columns) == list(b.columns)
                and np.array_equal(a.to_numpy(), b.to_numpy()))
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, dict):
        return (isinstance(b, dict) and a.keys() == b.keys()
                and all(identical(a[key], b[key]) for key in a))
    if isinstance(a, list | tuple):
        return (type(a) is type(b) and len(a) == len(b)
                and all(identical(x, y) for x, y in zip(a, b, strict=True)))
    return type(a) is type(b) and a == b


def snapshot(net: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: tensor.detach().clone() for name, tensor in net.state_dict().items()}


def assert_thread_safe(net: torch.nn.Module, calls: dict[str, Callable[[], Any]]) -> None:
    """`calls` give the same results from THREADS threads at once as one after another, and
    leave every parameter and buffer of `net` as it was."""
    before = snapshot(net)
    names = list(calls)
    expected = {name: calls[name]() for name in names}
    start = threading.Barrier(THREADS)

    def worker(offset: int) -> list[tuple[str, Any]]:
        order = [names[(offset + i) % len(names)] for i in range(len(names))] * ROUNDS
        start.wait(timeout=60)  # every thread is up before any starts predicting
        return [(name, calls[name]()) for name in order]

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        results = [result for thread in pool.map(worker, range(THREADS)) for result in thread]

    assert len(results) == THREADS * ROUNDS * len(names)
    wrong = sorted({name for name, result in results if not identical(result, expected[name])})
    assert not wrong, f"concurrent results differ from sequential ones for {wrong}"
    after = net.state_dict()
    assert after.keys() == before.keys()
    changed = [name for name in before if not torch.equal(before[name], after[name])]
    assert not changed, f"predicting changed {changed}"


def test_sentiment_classifier_predicts_from_many_threads():
    classifier = rnnlab.load_run(RUNS / "sentiment")
    assert classifier.config.weight_drop == 0.2  # DropConnect's eval path is the one in question
    texts = [*synthetic_reviews(n=96, seed=3)["text"], "a gripping, moving film",
             "dull and boring", "not bad at all, a fine film", "zyzzyva"]
    calls: dict[str, Callable[[], Any]] = {}
    for i in range(6):  # different texts, counts and batch shapes
        subset = texts[i * 13: i * 13 + 7 + 5 * i]
        calls[f"predict_proba[{i}]"] = lambda subset=subset: classifier.predict_proba(subset)
        calls[f"predict[{i}]"] = lambda subset=subset: classifier.predict(subset)
    calls["predict_proba[batches]"] = lambda: classifier.predict_proba(texts, batch_size=16)
    assert_thread_safe(classifier.net_, calls)


def test_forecaster_predicts_and_forecasts_from_many_threads():
    forecaster = rnnlab.load_run(RUNS / "forecast")
    cfg = forecaster.config
    frame = pd.read_csv(resolve_data("airline-passengers"))
    series = load_series(cfg, frame, "airline-passengers")
    first = forecaster.preprocessor_.first_valid + cfg.lookback
    calls: dict[str, Callable[[], Any]] = {}
    for i, rows in enumerate(range(len(frame), len(frame) - 60, -12)):
        part = frame.iloc[:rows]
        calls[f"predict[{rows} rows]"] = lambda part=part: forecaster.predict(part)
        calls[f"predict[{rows} rows, 0.5]"] = lambda part=part: forecaster.predict(part, 0.5)
        origins = np.arange(first + i, len(series) + 1, 3 + i)
        calls[f"forecast[{i}]"] = lambda origins=origins: forecaster.forecast(series, origins)
    calls["forecast[one]"] = lambda: forecaster.forecast(series, np.array([len(series)]))
    assert_thread_safe(forecaster.net_, calls)


def test_language_model_scores_from_many_threads():
    lm = rnnlab.load_run(RUNS / "lm")
    docs = [*synthetic_reviews(n=40, seed=5)["text"], "a gripping , moving film .",
            "the plot is dull and the acting is worse ."]
    calls: dict[str, Callable[[], Any]] = {}
    for i in range(5):
        subset = docs[i * 8: i * 8 + 3 + 2 * i]
        calls[f"predict[{i}]"] = lambda subset=subset: lm.predict(subset)
        calls[f"perplexity[{i}]"] = lambda subset=subset: lm.perplexity(subset)
    calls["perplexity[all]"] = lambda: lm.perplexity(docs)
    assert_thread_safe(lm.net_, calls)

