"""Per-token attributions of a text classifier's prediction, rendered as coloured text.

- Integrated gradients (Sundararajan et al. 2017): the embedded text is scaled from an
  all-zero baseline to itself; each token's attribution is its embedding change times the mean
  gradient along that path. They add up (to the Riemann-sum error) to score(text) -
  score(baseline), which `Attribution.completeness_gap` reports.
- Occlusion: a token's attribution is how much the score drops when that token is deleted.

The score is the log-odds of the explained class (logit of the class minus the log-sum-exp of
the others), so positive attributions push towards that class.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch
from rich.text import Text

from rnnlab.data.text import Tokenizer, positive_class, truncate
from rnnlab.errors import UserError

METHODS = ("ig", "occlusion")


@dataclass
class Attribution:
    tokens: list[str]
    scores: np.ndarray  # (tokens,) contribution of each token to the log-odds of `label`
    label: str  # the class explained (binary: the positive class)
    probability: float  # the model's probability of `label` for the text
    method: str
    completeness_gap: float | None = None  # IG: |sum(scores) - (score(x) - score(baseline))|


def log_odds(logits: torch.Tensor, target: int) -> torch.Tensor:
    """(batch, classes) -> (batch,) logit of `target` minus log-sum-exp of the others."""
    others = torch.cat([logits[:, :target], logits[:, target + 1:]], dim=1)
    return logits[:, target] - torch.logsumexp(others, dim=1)


def integrated_gradients(net: torch.nn.Module, ids: list[int], target: int, steps: int = 64
                         ) -> tuple[np.ndarray, float]:
    """Attributions (tokens,) and the completeness gap, midpoint rule with `steps` points."""
    net.eval()
    tokens = torch.tensor([ids])
    lengths = torch.tensor([len(ids)] * steps)
    embedded = net.body.embedding(tokens).detach()  # (1, T, E)
    alphas = (torch.arange(steps, dtype=embedded.dtype) + 0.5) / steps
    path = (alphas[:, None, None] * embedded).requires_grad_(True)  # (steps, T, E)
    scores = log_odds(net.forward_embedded(path, lengths), target)
    (gradients,) = torch.autograd.grad(scores.sum(), path)
    attributions = (embedded[0] * gradients.mean(dim=0)).sum(dim=-1)
    with torch.no_grad():
        ends = net.forward_embedded(torch.cat([embedded, torch.zeros_like(embedded)]),
                                    torch.tensor([len(ids)] * 2))
        difference = log_odds(ends, target)
    gap = abs(float(attributions.sum()) - float(difference[0] - difference[1]))
    return attributions.detach().numpy(), gap


@torch.no_grad()
def occlusion(net: torch.nn.Module, ids: list[int], target: int) -> np.ndarray:
    """Score of the text minus the score with each token deleted, (tokens,)."""
    net.eval()
    full = log_odds(net(torch.tensor([ids]), torch.tensor([len(ids)])), target)
    if len(ids) == 1:
        return full.numpy()
    variants = torch.tensor([ids[:i] + ids[i + 1:] for i in range(len(ids))])
    reduced = log_odds(net(variants, torch.full((len(ids),), len(ids) - 1)), target)
    return (full - reduced).numpy()


class TextClassifier(Protocol):
    """What attributions need of a fitted text classifier (e.g. `SentimentClassifier`): its
    config (max_len, keep, backward), tokenizer, classes, network (`body.embedding`,
    `forward_embedded`) and how it encodes texts and predicts."""

    config: Any
    tokenizer_: Tokenizer
    classes_: list[str]
    net_: torch.nn.Module

    def encode(self, texts: list[str]) -> list[list[int]]: ...

    def predict_proba(self, texts: list[str]) -> np.ndarray: ...


def attribute(classifier: TextClassifier, text: str, method: str = "ig") -> Attribution:
    """Explain a text classifier's prediction for `text` (binary: the positive class;
    more classes: the predicted class)."""
    if method not in METHODS:
        raise UserError(f"--method must be one of {', '.join(METHODS)}; got {method!r}")
    cfg, tokenizer = classifier.config, classifier.tokenizer_
    tokens = truncate(tokenizer.tokenize(text), cfg.max_len, cfg.keep)
    ids = classifier.encode([text])[0]  # in reading order (reversed for a backward model)
    if not ids:
        raise UserError("the text has no tokens to explain; give some words")
    probabilities = classifier.predict_proba([text])[0]
    if len(probabilities) == 2:
        target = positive_class(classifier.classes_)[0]
    else:
        target = int(probabilities.argmax())
    gap = None
    if method == "ig":
        scores, gap = integrated_gradients(classifier.net_, ids, target)
    else:
        scores = occlusion(classifier.net_, ids, target)
    if cfg.backward:  # back to the text's order
        scores = scores[::-1].copy()
    return Attribution(tokens, scores, classifier.classes_[target],
                       float(probabilities[target]), method, gap)


def _colour(value: float, scale: float) -> tuple[int, int, int]:
    """Green for positive, red for negative attributions; white for none."""
    strength = min(1.0, abs(value) / scale) if scale > 0 else 0.0
    if value >= 0:
        return (int(255 - 155 * strength), 255 - int(55 * strength), int(255 - 155 * strength))
    return (255 - int(35 * strength), int(255 - 175 * strength), int(255 - 175 * strength))


def to_html(attribution: Attribution) -> str:
    """A self-contained HTML snippet: each token on a background coloured by its score."""
    scale = float(np.abs(attribution.scores).max()) if len(attribution.scores) else 0.0
    spans = []
    for token, value in zip(attribution.tokens, attribution.scores, strict=True):
        red, green, blue = _colour(float(value), scale)
        spans.append(f'<span title="{value:+.3f}" style="background:rgb({red},{green},{blue});'
                     f'padding:1px 2px;border-radius:3px">{html.escape(token)}</span>')
    caption = (f"{attribution.method}: contribution of each token to the log-odds of "
               f"'{attribution.label}' (p = {attribution.probability:.3f}); green pushes "
               "towards it, red away")
    return (f'<div style="font-family:sans-serif;line-height:1.9"><p>{html.escape(caption)}'
            f"</p><p>{' '.join(spans)}</p></div>")


def to_terminal(attribution: Attribution) -> Text:
    """The same colouring as a rich Text line (truecolour backgrounds, dark foreground)."""
    scale = float(np.abs(attribution.scores).max()) if len(attribution.scores) else 0.0
    line = Text()
    for token, value in zip(attribution.tokens, attribution.scores, strict=True):
        red, green, blue = _colour(float(value), scale)
        line.append(token, style=f"black on rgb({red},{green},{blue})")
        line.append(" ")
    return line
