"""Corpus BLEU and chrF with sacrebleu (its default 13a tokenisation of detokenised text, so the
numbers compare with published ones), each with sacrebleu's signature string."""

from __future__ import annotations

from collections.abc import Sequence

from sacrebleu.metrics import BLEU, CHRF


def corpus_scores(hypotheses: Sequence[str], references: Sequence[str],
                  lowercase: bool = False) -> dict[str, float]:
    """{"bleu", "chrf"} (0-100) of `hypotheses` against one reference each."""
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses for {len(references)} references")
    refs = [list(references)]
    return {"bleu": BLEU(lowercase=lowercase).corpus_score(list(hypotheses), refs).score,
            "chrf": CHRF(lowercase=lowercase).corpus_score(list(hypotheses), refs).score}


def signatures(lowercase: bool = False) -> dict[str, str]:
    """sacrebleu's signature of each metric (what was computed, and with which version)."""
    metrics = {"bleu": BLEU(lowercase=lowercase), "chrf": CHRF(lowercase=lowercase)}
    for metric in metrics.values():
        metric.corpus_score(["x"], [["x"]])  # the signature names the number of references
    return {name: metric.get_signature().format() for name, metric in metrics.items()}
