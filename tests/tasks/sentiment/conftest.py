"""Generated, separable review-like texts and one small fitted run shared by the sentiment tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rnnlab.config import TrainConfig

POSITIVE = ["excellent", "wonderful", "superb", "delightful", "brilliant", "moving"]
NEGATIVE = ["awful", "terrible", "boring", "dreadful", "tedious", "clumsy"]
FILLER = ["the", "movie", "plot", "actor", "scene", "was", "a", "and", "film", "story", "of",
          "with", "director", "music", "cast", "ending", "it", "this", "very", "quite"]
# the flags that make `rnnlab sentiment fit` fast on these texts
FAST = ["--device", "cpu", "--quiet", "--epochs", "3", "--patience", "2", "--embed", "16",
        "--hidden", "16", "--batch-size", "32", "--lr", "0.01"]


def synthetic_reviews(n: int = 480, seed: int = 0, labels: tuple[str, str] = ("neg", "pos")
                      ) -> pd.DataFrame:
    """`n` texts of 6-20 filler words with one or two sentiment words of the label's polarity
    at random places: columns text, label (half each)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        positive = i % 2 == 1
        words = list(rng.choice(FILLER, size=rng.integers(6, 21)))
        for _ in range(rng.integers(1, 3)):
            cue = rng.choice(POSITIVE if positive else NEGATIVE)
            words.insert(int(rng.integers(0, len(words) + 1)), str(cue))
        rows.append((" ".join(words), labels[int(positive)]))
    return pd.DataFrame(rows, columns=["text", "label"])


@pytest.fixture
def reviews_csv(tmp_path: Path) -> Path:
    path = tmp_path / "reviews.csv"
    synthetic_reviews().to_csv(path, index=False)
    return path


@pytest.fixture
def tiny_train() -> TrainConfig:
    return TrainConfig(epochs=3, patience=2, batch_size=32, lr=0.01, device="cpu", quiet=True)


@pytest.fixture(scope="session")
def fitted_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One `rnnlab sentiment fit` run on the synthetic reviews, shared by the read-only tests."""
    from tests.conftest import run_cli

    folder = tmp_path_factory.mktemp("sentiment-run")
    data = folder / "reviews.csv"
    synthetic_reviews().to_csv(data, index=False)
    result = run_cli(["sentiment", "fit", "--data", data, "--out", folder / "run", *FAST])
    assert result.code == 0, result.err
    return folder / "run"
