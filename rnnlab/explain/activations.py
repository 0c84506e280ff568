"""`rnnlab explain activations`: what each unit of a character model does, per character.

Karpathy's figure of cells that switch on inside quotes or near line ends, on the user's own
model and text: the trained fused LSTM / GRU / RNN weights are copied into the inspectable
cells (rnnlab.models.cells), which record every gate at every step; their outputs equal the
fused layer's (checked on every run, to 1e-5). `--find` ranks units by how well their
activation tracks a signal of the text (inside quotes, position in the line, a regex).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from rnnlab.errors import UserError
from rnnlab.models.cells import InspectableRNN

GATE_NAMES = {"lstm": ("i", "f", "o"), "gru": ("r", "z"), "rnn": ()}
STATE_NAME = {"lstm": "C", "gru": "h", "rnn": "h"}  # the unit value shown and correlated
MAX_CHARS = 5000  # longest text explained (the step-by-step cells are slow; the page heavy)
TOLERANCE = 1e-5


@dataclass
class Trace:
    """Per character of `text`: every layer's gates and states (time, hidden) arrays, the
    model's top next-character guesses, and the check against the fused layer."""

    text: str
    cell: str
    layers: list[dict[str, np.ndarray]]
    guesses: list[list[tuple[str, float]]]
    max_difference: float


def char_model(model: Any, run: str) -> Any:
    """The language model of `run` if it is a forward character-level one; UserError if not.
    (Found through the job registry: explain/ imports no task.)"""
    from rnnlab.jobs import job_of_api

    if job_of_api(type(model)).name != "lm":
        kind = type(model).__name__
        raise UserError(f"{run} is a {kind} run; explain activations reads a character-level "
                        "language model (`rnnlab lm fit --level char`)")
    if model.config.level != "char":
        raise UserError(f"{run} is a {model.config.level}-level language model; explain "
                        "activations reads a character-level one (`rnnlab lm fit --level "
                        "char`)")
    if model.config.bidirectional:
        raise UserError(f"{run} is bidirectional; explain activations reads a forward model")
    return model


@torch.no_grad()
def trace_text(model: Any, text: str, top: int = 3) -> Trace:
    """Run `text` through the inspectable twin of the model's encoder; UserError for text the
    model cannot read (empty, too long, characters it never saw)."""
    if not text:
        raise UserError("the text to explain is empty; give a file with some characters")
    if len(text) > MAX_CHARS:
        raise UserError(f"the text has {len(text)} characters; explain activations reads at "
                        f"most {MAX_CHARS} (cut the file)")
    unseen = model.tokenizer_.unseen(text)
    if unseen:
        shown = ", ".join(repr(ch) for ch in unseen[:10])
        raise UserError(f"the text holds {len(unseen)} character(s) the model never saw in "
                        f"training ({shown}); remove or replace them")
    net = model.net_
    ids = torch.tensor([model.tokenizer_.encode(text)])
    embedded = net.body.embedding(ids)
    twin = InspectableRNN.from_fused(net.body.encoder)
    outputs, trace = twin(embedded)
    fused, _ = net.body.forward_with_state(ids)
    difference = float((outputs - fused).abs().max())
    if difference > TOLERANCE:  # never expected: the twin is built from the same weights
        raise RuntimeError(f"inspectable cells differ from the fused layer by {difference}")
    logits, _ = net(ids)
    probabilities = logits[0].softmax(-1)
    values, indices = probabilities.topk(min(top, probabilities.size(-1)), dim=-1)
    itos = model.tokenizer_.vocab.itos
    guesses = [[(itos[i], float(v)) for v, i in zip(vs.tolist(), ix.tolist(), strict=True)]
               for vs, ix in zip(values, indices, strict=True)]
    layers = [{name: value[0].numpy() for name, value in directions[0].items()}
              for directions in trace]
    return Trace(text, model.config.model, layers, guesses, difference)


def signal(text: str, find: str) -> np.ndarray:
    """One number per character: 1 inside double quotes ("quotes"), the position in its line
    ("line-position"), 1 inside a match of a regular expression ("regex:PATTERN")."""
    if find == "quotes":
        inside, values = False, []
        for ch in text:
            if ch == '"':
                inside = not inside
            values.append(float(inside))
        return np.asarray(values)
    if find == "line-position":
        values, column = [], 0
        for ch in text:
            values.append(float(column))
            column = 0 if ch == "\n" else column + 1
        return np.asarray(values)
    if find.startswith("regex:"):
        try:
            pattern = re.compile(find[len("regex:"):])
        except re.error as exc:
            raise UserError(f"--find {find!r}: not a regular expression ({exc})") from None
        values = np.zeros(len(text))
        for match in pattern.finditer(text):
            values[match.start():match.end()] = 1.0
        return values
    raise UserError(f"--find takes quotes, line-position or regex:PATTERN; got {find!r}")


def rank_units(states: np.ndarray, target: np.ndarray) -> list[tuple[int, float]]:
    """(unit, Pearson correlation with `target`) for every unit, strongest |r| first; a
    constant unit or signal correlates 0."""
    centered = states - states.mean(axis=0)
    wanted = target - target.mean()
    norms = np.linalg.norm(centered, axis=0) * np.linalg.norm(wanted)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(norms > 0, centered.T @ wanted / norms, 0.0)
    order = np.argsort(-np.abs(r), kind="stable")
    return [(int(u), float(r[u])) for u in order]


def choose_units(trace: Trace, layer: int, units: tuple[int, ...], find: str | None,
                 shown: int) -> tuple[list[int], list[tuple[int, float]]]:
    """The units to draw (given ones first, then the best by --find, else the first few) and
    the ranking (empty without --find)."""
    states = trace.layers[layer][STATE_NAME[trace.cell]]
    width = states.shape[1]
    bad = [u for u in units if not 0 <= u < width]
    if bad:
        raise UserError(f"--units {','.join(map(str, bad))}: layer {layer} has units 0 to "
                        f"{width - 1}")
    ranking = rank_units(states, signal(trace.text, find)) if find else []
    chosen = list(units) or [u for u, _ in ranking[:shown]] or list(range(min(shown, width)))
    return chosen, ranking
