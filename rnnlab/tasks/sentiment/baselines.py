"""Baselines scored on the same test texts as the network, every run.

- VADER (Hutto & Gilbert 2014): a rule-based lexicon; its compound score in [-1, 1] ranks the
  texts for ROC / AUC and `compound >= threshold` labels them. No training. Binary only.
- TF-IDF + logistic regression (scikit-learn): word 1..n-grams, sublinear tf, fitted on the
  training texts only.
"""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from rnnlab.data.text import clean_text, positive_class


def vader_compound(texts: list[str]) -> np.ndarray:
    """VADER compound score of each text (cleaned of HTML; case and punctuation kept, since
    VADER reads "GREAT!!!" as stronger than "great")."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    return np.array([analyzer.polarity_scores(clean_text(t))["compound"] for t in texts])


class VaderBaseline:
    """Scores class 1 of a binary task with VADER's compound (negated when class 0 is the
    positive one) and predicts class 1 when that score >= threshold."""

    name = "vader"

    def __init__(self, classes: list[str], threshold: float = 0.0) -> None:
        if len(classes) != 2:
            raise ValueError("VADER scores polarity: binary tasks only")
        self.classes, self.threshold = classes, threshold
        self.positive_, self.named_ = positive_class(classes)

    def scores(self, texts: list[str]) -> np.ndarray:
        """Score for class 1 (higher = more likely class 1)."""
        compound = vader_compound(texts)
        return compound if self.positive_ == 1 else -compound

    def predict(self, scores: np.ndarray) -> np.ndarray:
        return (scores >= self.threshold).astype(np.int64)

    @property
    def note(self) -> str:
        guess = "" if self.named_ else " (assumed: its name is not pos/positive/1)"
        return (f"lexicon, no training; positive class {self.classes[self.positive_]!r}{guess}; "
                f"compound >= {self.threshold:g} -> positive")


class TfidfLogisticRegression:
    """TF-IDF word n-grams + logistic regression, fitted on the training texts only."""

    name = "tfidf_lr"

    def __init__(self, ngrams: int = 2, c: float = 4.0, min_df: int = 2, seed: int = 0) -> None:
        self.ngrams, self.c, self.min_df, self.seed = ngrams, c, min_df, seed

    def fit(self, texts: list[str], labels: np.ndarray) -> TfidfLogisticRegression:
        self.vectorizer_ = TfidfVectorizer(
            preprocessor=lambda text: clean_text(text).lower(), ngram_range=(1, self.ngrams),
            min_df=min(self.min_df, max(1, len(texts) // 10)), sublinear_tf=True,
            token_pattern=r"(?u)\b\w+\b|[!?]",
        )
        features = self.vectorizer_.fit_transform(texts)
        self.model_ = LogisticRegression(C=self.c, max_iter=2000, random_state=self.seed)
        self.model_.fit(features, labels)
        return self

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """(n, n_classes) probabilities, columns in class-id order."""
        probabilities = self.model_.predict_proba(self.vectorizer_.transform(texts))
        full = np.zeros((len(texts), int(self.model_.classes_.max()) + 1))
        full[:, self.model_.classes_] = probabilities
        return full

    @property
    def note(self) -> str:
        return (f"1-{self.ngrams} word grams, sublinear tf-idf, logistic regression C={self.c:g}; "
                "fitted on the training texts")
