import numpy as np
import pytest

from rnnlab.tasks.sentiment.baselines import (
    TfidfLogisticRegression,
    VaderBaseline,
    positive_class,
    vader_compound,
)
from rnnlab.tasks.sentiment.metrics import classification_metrics

# VADER by hand: compound = x / sqrt(x^2 + 15) for the summed valence x; lexicon good = 1.9,
# bad = -2.5, okay = 0.9; "not" scales by -0.74; "but" scales the words before it by 0.5 and
# after it by 1.5.
HAND = [
    ("good", "pos", 1.9 / np.sqrt(1.9**2 + 15)),  # 0.4404
    ("bad", "neg", -2.5 / np.sqrt(2.5**2 + 15)),  # -0.5423
    ("The movie was okay", "pos", 0.9 / np.sqrt(0.9**2 + 15)),  # 0.2263
    ("not good", "neg", -1.406 / np.sqrt(1.406**2 + 15)),  # -0.3412
    ("The plot<br /><br />", "neg", 0.0),  # no sentiment words (HTML removed)
    ("good but bad", "pos", -2.8 / np.sqrt(2.8**2 + 15)),  # 0.95 - 3.75 -> -0.5859
]


def test_vader_compound_equals_hand_computed_values():
    texts = [text for text, _, _ in HAND]
    expected = [value for _, _, value in HAND]
    np.testing.assert_allclose(vader_compound(texts), expected, atol=1e-4)


def test_vader_baseline_metrics_on_a_fixed_set():
    texts = [text for text, _, _ in HAND]
    labels = np.array([int(label == "pos") for _, label, _ in HAND])
    vader = VaderBaseline(["neg", "pos"], threshold=0.0)
    scores = vader.scores(texts)
    predicted = vader.predict(scores)
    # predicted pos: good, okay, the plot (0.0 >= 0); wrong: "the plot", "good but bad"
    assert predicted.tolist() == [1, 0, 1, 0, 1, 0]
    result = classification_metrics(labels, predicted, scores, 2)
    assert result["accuracy"] == pytest.approx(4 / 6)
    assert result["precision"] == pytest.approx(2 / 3)
    assert result["recall"] == pytest.approx(2 / 3)
    # positives 0.44, 0.23, -0.59 vs negatives -0.54, -0.34, 0.0: 6 of 9 pairs ordered
    assert result["auc"] == pytest.approx(6 / 9)


def test_vader_score_follows_the_positive_class_whatever_its_index():
    assert positive_class(["negative", "positive"]) == (1, True)
    assert positive_class(["pos", "zzz"]) == (0, True)
    assert positive_class(["bad", "fine"]) == (1, False)
    flipped = VaderBaseline(["pos", "zzz"])
    assert flipped.scores(["good"])[0] == pytest.approx(-0.4404, abs=1e-4)
    with pytest.raises(ValueError, match="binary"):
        VaderBaseline(["a", "b", "c"])


def test_tfidf_is_fitted_on_training_texts_only_and_learns():
    train = ["great fun", "great film", "awful mess", "awful plot"] * 5
    labels = np.array([1, 1, 0, 0] * 5)
    model = TfidfLogisticRegression(ngrams=2, c=10.0).fit(train, labels)
    vocabulary = model.vectorizer_.vocabulary_
    assert "great" in vocabulary and "zyzzyva" not in vocabulary
    probabilities = model.predict_proba(["great zyzzyva", "awful zyzzyva"])
    assert probabilities.shape == (2, 2)
    assert probabilities[0, 1] > 0.5 > probabilities[1, 1]
