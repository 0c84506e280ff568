import numpy as np
import pytest
from sklearn import metrics as sk

from rnnlab.tasks.sentiment.metrics import (
    average_precision,
    classification_metrics,
    confusion_matrix,
    macro_auc,
    roc_auc,
    roc_curve,
)


def test_confusion_precision_recall_f1_match_hand_counts():
    y_true = np.array([1, 1, 1, 0, 0, 0, 0, 1])
    y_pred = np.array([1, 0, 1, 0, 1, 0, 0, 1])
    # TP = 3, FN = 1, FP = 1, TN = 3
    assert confusion_matrix(y_true, y_pred, 2).tolist() == [[3, 1], [1, 3]]
    result = classification_metrics(y_true, y_pred, y_pred.astype(float), 2)
    assert result["accuracy"] == pytest.approx(6 / 8)
    assert result["precision"] == pytest.approx(3 / 4)
    assert result["recall"] == pytest.approx(3 / 4)
    assert result["f1"] == pytest.approx(3 / 4)


def test_auc_of_a_hand_counted_ranking():
    # positives score 0.9, 0.4; negatives 0.5, 0.1: 3 of the 4 pairs are ordered -> 0.75
    assert roc_auc(np.array([1, 1, 0, 0]), np.array([0.9, 0.4, 0.5, 0.1])) == pytest.approx(0.75)
    # a tie between a positive and a negative counts half
    assert roc_auc(np.array([1, 0]), np.array([0.3, 0.3])) == pytest.approx(0.5)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_roc_auc_and_average_precision_equal_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 300)
    scores = np.round(y * 0.7 + rng.normal(0, 0.6, 300), 1)  # rounded: many ties
    assert roc_auc(y, scores) == pytest.approx(sk.roc_auc_score(y, scores), abs=1e-12)
    assert average_precision(y, scores) == pytest.approx(sk.average_precision_score(y, scores),
                                                         abs=1e-12)
    fpr, tpr, _ = roc_curve(y, scores)
    sk_fpr, sk_tpr, _ = sk.roc_curve(y, scores, drop_intermediate=False)
    np.testing.assert_allclose(fpr, sk_fpr)
    np.testing.assert_allclose(tpr, sk_tpr)


def test_macro_auc_equals_scikit_learn_one_vs_rest():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 3, 200)
    logits = rng.normal(size=(200, 3)) + np.eye(3)[y]
    probabilities = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    expected = sk.roc_auc_score(y, probabilities, multi_class="ovr", average="macro")
    assert macro_auc(y, probabilities) == pytest.approx(expected, abs=1e-12)
    result = classification_metrics(y, probabilities.argmax(1), probabilities, 3)
    assert result["f1"] == pytest.approx(sk.f1_score(y, probabilities.argmax(1),
                                                     average="macro"))


def test_roc_needs_both_classes():
    with pytest.raises(ValueError, match="both positive and negative"):
        roc_curve(np.array([1, 1]), np.array([0.2, 0.4]))
