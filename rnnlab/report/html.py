"""One self-contained HTML page per run: metrics table, verdict, figures (embedded as base64).

`run_page` is the one page builder: every job feeds it its results, figures and configuration,
plus sections of its own; the order and look are the same for every job.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Sequence
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rnnlab.results import Results

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222}
h1{font-size:1.5em;margin-bottom:.2em} h2{font-size:1.15em;margin-top:1.6em}
.sub{color:#666;margin-top:0} .verdict{background:#f3f6fa;border-left:4px solid #1f77b4;
padding:.6em 1em;font-size:1.05em}
table{border-collapse:collapse;font-size:.92em;margin:.5em 0} td,th{padding:.3em .8em;
border-bottom:1px solid #ddd;text-align:right} th:first-child,td:first-child{text-align:left}
tr.best td{font-weight:600;background:#eef6ee} figure{margin:1em 0} img{max-width:100%}
figcaption{color:#555;font-size:.9em} pre{background:#f7f7f7;padding:.8em;overflow-x:auto;
font-size:.85em}
"""


def format_number(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e5 else f"{value:,.0f}"
    return html.escape(str(value))


def metrics_table(metrics: dict[str, dict[str, float]], columns: Sequence[str],
                  best: str | None = None, notes: dict[str, str] | None = None) -> str:
    """Rows: models and baselines; columns: metric names. The best row is highlighted."""
    notes = notes or {}
    head = "".join(f"<th>{html.escape(c)}</th>" for c in ["model", *columns])
    rows = []
    for name, values in metrics.items():
        label = html.escape(name) + (f" <small>({html.escape(notes[name])})</small>"
                                     if name in notes else "")
        cells = "".join(f"<td>{format_number(values.get(c))}</td>" for c in columns)
        css = ' class="best"' if name == best else ""
        rows.append(f"<tr{css}><td>{label}</td>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def figure(path: str | Path, caption: str) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return (f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def page(title: str, subtitle: str, sections: Sequence[tuple[str, str]]) -> str:
    """sections: (heading, inner HTML) pairs, in order."""
    body = "".join(f"<h2>{html.escape(h)}</h2>{content}" for h, content in sections)
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
            f"</title><style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
            f"<p class='sub'>{html.escape(subtitle)}</p>{body}</body></html>\n")


def paragraph(text: str, css: str = "") -> str:
    klass = f' class="{css}"' if css else ""
    return f"<p{klass}>{html.escape(text)}</p>"


def preformatted(text: str) -> str:
    return f"<pre>{html.escape(text)}</pre>"


def config_text(configs: dict[str, Any]) -> str:
    """name -> config (a dataclass or a dict), one line per config and one for its training
    part, for the Configuration section."""
    lines = []
    for name, config in configs.items():
        values = dict(asdict(config) if is_dataclass(config) else config)
        train = values.pop("train", None)
        lines.append(f"{name}: " + ", ".join(f"{k}={v}" for k, v in values.items()))
        if isinstance(train, dict):
            lines.append("  train: " + ", ".join(f"{k}={v}" for k, v in train.items()))
    return "\n".join(lines)


def run_page(title: str, subtitle: str, results: Results | None, table_heading: str,
             figures: Sequence[tuple[str, str | Path]], configs: dict[str, Any],
             notes: Sequence[str] = (), sections: Sequence[tuple[str, str]] = ()) -> str:
    """The report of a run: verdict, the metrics table (with `notes` under it), the job's own
    `sections`, the figures (caption, PNG path) and the configuration."""
    parts: list[tuple[str, str]] = []
    if results is not None:
        parts.append(("Verdict", paragraph(results.verdict, "verdict")))
        parts.append((table_heading, results.html_table()
                      + "".join(paragraph(note) for note in notes)))
    parts.extend(sections)
    if figures:
        parts.append(("Figures", "".join(figure(path, caption) for caption, path in figures)))
    parts.append(("Configuration", preformatted(config_text(configs))))
    return page(title, subtitle, parts)
