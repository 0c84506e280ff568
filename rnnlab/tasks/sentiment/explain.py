"""`rnnlab sentiment explain`: per-token attributions of a sentiment run's prediction, in the
terminal and as HTML (the attribution methods live in rnnlab.explain)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rnnlab.console import console
from rnnlab.errors import UserError
from rnnlab.explain.attribution import Attribution, attribute, to_html, to_terminal
from rnnlab.runs import atomic_write_text
from rnnlab.tasks.sentiment.api import SentimentClassifier


def explain_run(run_dir: str | Path, text: str, method: str = "ig", out: str | None = None,
                overwrite: bool = False) -> Attribution:
    """`rnnlab sentiment explain`: print the coloured line (and write --out HTML)."""
    if out is not None and Path(out).is_dir():
        raise UserError(f"--out {out} is a folder; give the name of an HTML file, e.g. why.html")
    if out is not None and Path(out).exists() and not overwrite:
        raise UserError(f"--out {out} already exists; choose another name or pass --overwrite")
    attribution = attribute(SentimentClassifier.load(run_dir), text, method)
    console.print(f"p({attribution.label}) = {attribution.probability:.3f}; {method} "
                  "attributions (green: towards it, red: away):")
    console.print(to_terminal(attribution))
    order = np.argsort(-np.abs(attribution.scores))[:5]
    console.print("strongest: " + ", ".join(
        f"{attribution.tokens[i]} {attribution.scores[i]:+.2f}" for i in order))
    if out is not None:
        page = ("<!doctype html><html><head><meta charset='utf-8'><title>rnnlab explain"
                f"</title></head><body>{to_html(attribution)}</body></html>\n")
        atomic_write_text(out, page)
        console.print(f"written: {out}")
    return attribution
