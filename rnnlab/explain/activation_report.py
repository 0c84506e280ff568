"""`rnnlab explain activations` output: the per-character heat-map page, activations.json and
the terminal summary (the measuring is in rnnlab.explain.activations)."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
from rich.table import Table

from rnnlab.console import console
from rnnlab.data.io import read_text
from rnnlab.errors import UserError
from rnnlab.explain.activations import (
    GATE_NAMES,
    STATE_NAME,
    Trace,
    char_model,
    choose_units,
    trace_text,
)
from rnnlab.report.html import page, paragraph
from rnnlab.runs import staged_run
from rnnlab.store import load_run

GATE_LABELS = {"i": "input gate", "f": "forget gate", "o": "output gate", "r": "reset gate",
               "z": "update gate", "C": "cell state C", "h": "hidden state h"}
SHOWN = 6  # units drawn when --units is not given


def activations_run(run: str, text_file: str, units: tuple[int, ...] = (),
                    find: str | None = None, layer: int = -1, out: str | None = None,
                    overwrite: bool = False) -> Path:
    """Trace the text, rank the units, write activations.html + activations.json."""
    model = char_model(load_run(run), run)
    text = read_text(text_file)
    trace = trace_text(model, text)
    layer = _layer(trace, layer)
    chosen, ranking = choose_units(trace, layer, units, find, SHOWN)
    with staged_run(out, "explain-activations", overwrite) as folder:
        folder.write_config({"run": str(run), "text": str(text_file), "units": chosen,
                             "find": find, "layer": layer}, Path(text_file))
        folder.write_json("activations.json", record(trace, layer, chosen, ranking, find, run))
        folder.write_text("activations.html", render(trace, layer, chosen, ranking, find, run))
    show(ranking, find, chosen)
    console.print(f"written: {folder.path} (activations.html, activations.json, config.yaml)")
    return folder.path


def _layer(trace: Trace, layer: int) -> int:
    count = len(trace.layers)
    if not -count <= layer < count:
        raise UserError(f"--layer {layer}: the model has {count} layer(s) (0 to {count - 1}, "
                        "or -1 for the last)")
    return layer % count


def record(trace: Trace, layer: int, chosen: list[int], ranking: list[tuple[int, float]],
           find: str | None, run: str) -> dict:
    """activations.json: the chosen units' values per character, the ranking by --find."""
    values = trace.layers[layer]
    names = (STATE_NAME[trace.cell], *GATE_NAMES[trace.cell])
    return {"run": str(run), "cell": trace.cell, "layer": layer, "text": trace.text,
            "find": find, "fused_max_difference": trace.max_difference,
            "ranking": [{"unit": u, "correlation": r} for u, r in ranking],
            "units": {str(u): {name: values[name][:, u].round(5).tolist() for name in names}
                      for u in chosen},
            "guesses": [[{"char": c, "p": round(p, 5)} for c, p in g] for g in trace.guesses]}


def _colour(value: float, low: float, high: float) -> str:
    """Blue (low) - white - red (high); gates (0..1) and states (-1..1 or wider) alike."""
    middle = (low + high) / 2
    share = 0.0 if high == low else max(-1.0, min(1.0, (value - middle) / ((high - low) / 2)))
    fade = int(255 * (1 - abs(share)))
    return f"rgb(255,{fade},{fade})" if share > 0 else f"rgb({fade},{fade},255)"


def _row(text: str, values: np.ndarray, low: float, high: float,
         tips: list[str] | None = None) -> str:
    """One heat-map line of the text; the hover text is the value (and `tips`, if given)."""
    spans = []
    for index, (ch, value) in enumerate(zip(text, values, strict=True)):
        shown = "\u21b5" if ch == "\n" else (" " if ch == " " else html.escape(ch))
        tip = f"{html.escape(tips[index])}: " if tips else ""
        spans.append(f'<span style="background:{_colour(float(value), low, high)}" '
                     f'title="{tip}{value:.3f}">{shown}</span>'
                     + ("<br>" if ch == "\n" else ""))
    return f'<div class="heat">{"".join(spans)}</div>'


def render(trace: Trace, layer: int, chosen: list[int], ranking: list[tuple[int, float]],
           find: str | None, run: str) -> str:
    """The page: for each unit its state and gates as a heat-map over the text, then the
    model's next-character guesses."""
    values = trace.layers[layer]
    correlation = dict(ranking)
    tips = [f"{ch!r} -> " + ", ".join(f"{c!r} {p:.2f}" for c, p in g)
            for ch, g in zip(trace.text, trace.guesses, strict=True)]
    sections = [("How to read this", paragraph(
        "Each character's background is the unit's value after reading it: red high, blue "
        "low, white in between (gates 0..1, states scaled to their range); hover a character "
        "for the value. The last section shows the model's top guesses for the next "
        "character."))]
    for unit in chosen:
        rows = []
        for name in (STATE_NAME[trace.cell], *GATE_NAMES[trace.cell]):
            series = values[name][:, unit]
            low, high = (0.0, 1.0) if name in GATE_NAMES[trace.cell] else \
                (float(min(series.min(), -1e-6)), float(max(series.max(), 1e-6)))
            rows.append(f"<p><b>{GATE_LABELS[name]}</b></p>"
                        + _row(trace.text, series, low, high))
        title = f"layer {layer}, unit {unit}" + (
            f" (correlation {correlation[unit]:+.2f} with {find})" if unit in correlation
            else "")
        sections.append((title, "".join(rows)))
    surprise = np.array([1.0 - next((p for c, p in g if c == nxt), 0.0) for g, nxt in
                         zip(trace.guesses, trace.text[1:] + " ", strict=True)])
    sections.append(("The model's next-character guesses (red: the next character was not "
                     "among its top guesses)", _row(trace.text, surprise, 0.0, 1.0, tips)))
    style = ("<style>.heat{font-family:monospace;white-space:pre-wrap;line-height:1.5;"
             "font-size:.9em}</style>")
    subtitle = (f"{run}: {trace.cell} layer {layer}, {len(trace.text)} characters; the "
                f"inspectable cells equal the fused layer to {trace.max_difference:.1e}")
    return page("rnnlab explain activations", subtitle, sections).replace(
        "</head>", style + "</head>", 1)


def show(ranking: list[tuple[int, float]], find: str | None, chosen: list[int]) -> None:
    if not ranking:
        console.print(f"units drawn: {', '.join(map(str, chosen))}")
        return
    table = Table(title=f"units that track {find} best", title_justify="left")
    table.add_column("unit")
    table.add_column("correlation", justify="right")
    for unit, r in ranking[:10]:
        table.add_row(str(unit), f"{r:+.3f}")
    console.print(table)
