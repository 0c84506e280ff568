"""Score a language model beside its count-based baselines on the held-out documents: the
perplexities, the best model and a verdict, as one `Results`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from rnnlab.models.lm import WordLanguageModel
from rnnlab.results import Results, rank, unranked
from rnnlab.tasks.language.baselines import baseline_perplexities
from rnnlab.tasks.language.data import BpttChunks
from rnnlab.tasks.language.model import perplexity, stream_nll

if TYPE_CHECKING:
    from rnnlab.tasks.language.api import LanguageModel

COLUMNS = ("perplexity",)
NAMES = {"kn_bigram": "Kneser-Ney bigram", "unigram": "unigram model"}  # in the verdict


@dataclass(kw_only=True)
class Evaluation(Results):
    """Validation perplexity of the network and of the unigram and Kneser-Ney bigram models."""

    columns = COLUMNS


def validation_metrics(net: WordLanguageModel, name: str, val: BpttChunks,
                       train_stream: np.ndarray, val_stream: np.ndarray, vocab_size: int
                       ) -> dict[str, dict[str, float]]:
    """{name: {"perplexity"}, "kn_bigram": ..., "unigram": ...} on the validation stream, the
    baselines fitted on the training stream only."""
    return {name: {"perplexity": perplexity(stream_nll(net, val))},
            **baseline_perplexities(train_stream, val_stream, vocab_size)}


def evaluate(lm: LanguageModel) -> Evaluation:
    """The fitted model's validation results (computed by `fit`) with the best model and the
    verdict."""
    network = lm.config.model
    best, sentence = verdict(lm.metrics_, network)
    return Evaluation(metrics=lm.metrics_, networks=[network], best=best, verdict=sentence)


def verdict(metrics: dict[str, dict[str, float]], network: str) -> tuple[str, str]:
    """(best model by perplexity, one sentence comparing the network with the best
    count-based model)."""
    best, scored, rival = rank(metrics, [network], "perplexity")
    if (failed := unranked([network], scored, rival, "perplexity")) is not None:
        return best or network, failed
    ours, theirs = metrics[network]["perplexity"], metrics[rival]["perplexity"]
    relation = "beats" if ours < theirs else "does not beat"
    others = ", ".join(f"{name} {values['perplexity']:.1f}" for name, values in metrics.items()
                       if name not in (network, rival))
    return best, (f"{network} {relation} the {NAMES.get(rival, rival)}: validation perplexity "
                  f"{ours:.1f} vs {theirs:.1f}" + (f" ({others})." if others else "."))
