"""Sentiment analysis with recurrent networks, always beside VADER and TF-IDF + LR."""

from rnnlab.tasks.sentiment.api import SentimentClassifier
from rnnlab.tasks.sentiment.config import SentimentConfig

__all__ = ["SentimentClassifier", "SentimentConfig"]
