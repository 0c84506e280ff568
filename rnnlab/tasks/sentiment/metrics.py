"""Classification metrics written out from their definitions (numpy only), as in the lecture:
confusion matrix, precision / recall / F1, the ROC curve (TPR vs FPR over every threshold)
and the area under it, the precision-recall curve and average precision.

The tests check `roc_auc` and `average_precision` against scikit-learn on the same scores.
"""

from __future__ import annotations

import numpy as np


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """(n_classes, n_classes) counts; rows are the actual class, columns the predicted one."""
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return matrix


def _threshold_counts(y_true: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, ...]:
    """Cumulative true / false positives when predicting positive for score >= each distinct
    threshold, from the highest threshold down (tied scores move together)."""
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="mergesort")
    scores, y_true = np.asarray(scores, dtype=np.float64)[order], np.asarray(y_true)[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(scores)), len(scores) - 1]
    true_pos = np.cumsum(y_true == 1)[last_of_tie]
    false_pos = (last_of_tie + 1) - true_pos
    return true_pos, false_pos, scores[last_of_tie]


def roc_curve(y_true: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                                np.ndarray]:
    """False-positive rate, true-positive rate and threshold at every distinct score, starting
    from (0, 0). y_true: 1 for the positive class, 0 otherwise."""
    true_pos, false_pos, thresholds = _threshold_counts(y_true, scores)
    positives, negatives = true_pos[-1], false_pos[-1]
    if positives == 0 or negatives == 0:
        raise ValueError("the ROC curve needs both positive and negative examples")
    fpr = np.r_[0.0, false_pos / negatives]
    tpr = np.r_[0.0, true_pos / positives]
    return fpr, tpr, np.r_[np.inf, thresholds]


def roc_auc(y_true: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (trapezoids; ties count half), 0.5 = no discrimination."""
    fpr, tpr, _ = roc_curve(y_true, scores)
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def pr_curve(y_true: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Precision and recall at every distinct threshold (highest threshold first)."""
    true_pos, false_pos, _ = _threshold_counts(y_true, scores)
    precision = true_pos / (true_pos + false_pos)
    recall = true_pos / true_pos[-1]
    return precision, recall


def average_precision(y_true: np.ndarray, scores: np.ndarray) -> float:
    """Sum over thresholds of (recall step) x precision: the area under the PR step curve."""
    precision, recall = pr_curve(y_true, scores)
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def macro_auc(y_true: np.ndarray, probabilities: np.ndarray) -> float:
    """One-vs-rest ROC AUC averaged over the classes present (binary: AUC of class 1)."""
    y_true = np.asarray(y_true)
    if probabilities.shape[1] == 2:
        return roc_auc(y_true == 1, probabilities[:, 1])
    present = [c for c in range(probabilities.shape[1]) if 0 < np.sum(y_true == c) < len(y_true)]
    return float(np.mean([roc_auc(y_true == c, probabilities[:, c]) for c in present]))


def _safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    return np.divide(numerator, denominator, out=np.zeros(len(numerator)),
                     where=denominator > 0)


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray, scores: np.ndarray,
                           n_classes: int) -> dict[str, float]:
    """accuracy, precision, recall, f1, auc, average_precision.

    Binary: precision / recall / F1 of class 1 and `scores` (n,) rank class 1 (any scale).
    More classes: macro averages and `scores` (n, n_classes) probabilities (one-vs-rest AUC).
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    matrix = confusion_matrix(y_true, y_pred, n_classes)
    tp = np.diag(matrix).astype(np.float64)
    precision = _safe_divide(tp, matrix.sum(axis=0).astype(np.float64))
    recall = _safe_divide(tp, matrix.sum(axis=1).astype(np.float64))
    f1 = _safe_divide(2 * precision * recall, precision + recall)
    picked = slice(1, 2) if n_classes == 2 else slice(None)
    result = {
        "accuracy": float(tp.sum() / matrix.sum()),
        "precision": float(precision[picked].mean()),
        "recall": float(recall[picked].mean()),
        "f1": float(f1[picked].mean()),
    }
    if n_classes == 2:
        result["auc"] = roc_auc(y_true == 1, scores)
        result["average_precision"] = average_precision(y_true == 1, scores)
    else:
        result["auc"] = macro_auc(y_true, scores)
        result["average_precision"] = float(np.mean(
            [average_precision(y_true == c, scores[:, c]) for c in range(n_classes)
             if np.any(y_true == c)]))
    return result
