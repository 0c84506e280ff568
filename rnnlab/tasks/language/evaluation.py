"""Score a language model beside its count-based baselines on the held-out documents: the
perplexities, the best model and a verdict, as one `Results`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from rnnlab.models.lm import WordLanguageModel
from rnnlab.results import Results, rank, unranked
from rnnlab.tasks.language.baselines import baseline_perplexities, scores
from rnnlab.tasks.language.data import BpttChunks
from rnnlab.tasks.language.model import stream_nll

if TYPE_CHECKING:
    from rnnlab.tasks.language.api import LanguageModel

COLUMNS = ("nats", "bits", "perplexity")  # per token: per character at char level
NAMES = {"kn_bigram": "Kneser-Ney bigram", "kn_5gram": "Kneser-Ney character 5-gram",
         "unigram": "unigram model"}  # in the verdict


@dataclass(kw_only=True)
class Evaluation(Results):
    """Validation loss (nats and bits per token) and perplexity of the network and of the
    unigram and Kneser-Ney n-gram models."""

    columns = COLUMNS


def validation_metrics(net: WordLanguageModel, name: str, val: BpttChunks,
                       train_stream: np.ndarray, val_stream: np.ndarray, vocab_size: int,
                       level: str = "word") -> dict[str, dict[str, float]]:
    """{name: {"nats", "bits", "perplexity"}, "kn_bigram" (char level: "kn_5gram"): ...,
    "unigram": ...} on the validation stream, the baselines fitted on the training stream
    only."""
    return {name: scores(stream_nll(net, val)),
            **baseline_perplexities(train_stream, val_stream, vocab_size, level)}


def evaluate(lm: LanguageModel) -> Evaluation:
    """The fitted model's validation results (computed by `fit`) with the best model and the
    verdict."""
    network = lm.config.model
    best, sentence = verdict(lm.metrics_, network, lm.config.level)
    return Evaluation(metrics=lm.metrics_, networks=[network], best=best, verdict=sentence)


def verdict(metrics: dict[str, dict[str, float]], network: str, level: str = "word"
            ) -> tuple[str, str]:
    """(best model by perplexity, one sentence comparing the network with the best
    count-based model: in bits per character at char level, in perplexity otherwise)."""
    best, scored, rival = rank(metrics, [network], "perplexity")
    if (failed := unranked([network], scored, rival, "perplexity")) is not None:
        return best or network, failed
    key, label, digits = ("bits", "bits per character", 3) if level == "char" else \
        ("perplexity", "perplexity", 1)
    ours, theirs = metrics[network][key], metrics[rival][key]
    relation = "beats" if ours < theirs else "does not beat"
    others = ", ".join(f"{name} {values[key]:.{digits}f}" for name, values in metrics.items()
                       if name not in (network, rival))
    tail = f" ({others})." if others else "."
    return best, (f"{network} {relation} the {NAMES.get(rival, rival)}: validation {label} "
                  f"{ours:.{digits}f} vs {theirs:.{digits}f}{tail}")
