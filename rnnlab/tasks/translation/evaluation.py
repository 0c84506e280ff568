"""Score a translator beside its baselines on the same test sentences: BLEU, chrF and
perplexity of the network (beam and greedy), of copying the source sentence, and of the same
network without attention when one was trained."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rnnlab.console import console
from rnnlab.data.parallel import ParallelText
from rnnlab.results import Results, rank, unranked
from rnnlab.tasks.translation.metrics import corpus_scores, signatures

if TYPE_CHECKING:
    from rnnlab.tasks.translation.api import Translation, Translator

COLUMNS = ("bleu", "chrf", "perplexity")
COPY = "copy_source"
NO_ATTENTION = "no_attention"


@dataclass(kw_only=True)
class Evaluation(Results):
    """The metrics table plus every test translation of the network (for predictions.csv and
    the report's examples and heat-maps)."""

    columns = COLUMNS
    translations: list[Translation] = field(default_factory=list)
    signatures: dict[str, str] = field(default_factory=dict)

    def show(self, title: str) -> None:
        """The table and verdict, then sacrebleu's signatures (what exactly was scored)."""
        super().show(title)
        for name, signature in self.signatures.items():
            console.print(f"[dim]sacrebleu {name}: {signature}[/dim]")


def network_name(translator: Translator) -> str:
    cfg = translator.config
    return f"{cfg.model}-{cfg.attention}"


def score(translator: Translator, test: ParallelText, beam: int | None = None
          ) -> tuple[dict[str, float], list[Translation]]:
    translations = translator.translate(test.src, beam)
    metrics = corpus_scores([t.text for t in translations], test.tgt,
                            translator.config.lowercase)
    return metrics, translations


def evaluate(translator: Translator, test: ParallelText,
             no_attention: Translator | None = None) -> Evaluation:
    """Every model on `test`; the best by BLEU and a one-sentence verdict."""
    cfg, name = translator.config, network_name(translator)
    beam_metrics, translations = score(translator, test)
    ppl = translator.perplexity(test)
    metrics = {name: {**beam_metrics, "perplexity": ppl}}
    notes = {name: f"beam {cfg.beam}, length penalty {cfg.length_penalty}"}
    networks = [name]
    if cfg.beam > 1:
        greedy = f"{name} greedy"
        metrics[greedy] = {**score(translator, test, 1)[0], "perplexity": ppl}
        notes[greedy], networks = "the same network, greedy decoding", [name, greedy]
    if no_attention is not None:
        metrics[NO_ATTENTION] = {**score(no_attention, test)[0],
                                 "perplexity": no_attention.perplexity(test)}
        notes[NO_ATTENTION] = "same settings, --attention none (one fixed context vector)"
    metrics[COPY] = corpus_scores(test.src, test.tgt, cfg.lowercase)
    notes[COPY] = "the source sentence given as its own translation"
    best, sentence = verdict(metrics, networks)
    return Evaluation(metrics=metrics, networks=networks, notes=notes, best=best,
                      verdict=sentence, translations=translations,
                      signatures=signatures(cfg.lowercase))


def verdict(metrics: dict[str, dict[str, float]], networks: list[str]) -> tuple[str, str]:
    best, network, rival = rank(metrics, networks, "bleu", higher_is_better=True)
    if (failed := unranked(networks, network, rival, "BLEU")) is not None:
        return best or networks[0], failed
    ours, theirs = metrics[network]["bleu"], metrics[rival]["bleu"]
    relation = "beats" if ours > theirs else "does not beat"
    others = ", ".join(f"{n} {v['bleu']:.1f}" for n, v in metrics.items()
                       if n not in (network, rival))
    return best, (f"{network} {relation} {rival}: test BLEU {ours:.1f} vs {theirs:.1f}"
                  + (f" ({others})." if others else "."))
