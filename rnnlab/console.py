"""Terminal output shared by the jobs: the metrics table (every model beside its baselines)
and the verdict line, printed with rich."""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

console = Console(highlight=False)
HEADERS = {"directional_accuracy": "dir.acc", "coverage": "cover"}


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def print_metrics(
    metrics: dict[str, dict[str, float]], columns: Sequence[str], title: str,
    best: str | None = None, networks: Sequence[str] = (), notes: dict[str, str] | None = None,
) -> None:
    """One row per model / baseline; networks first, the best row in bold green; `notes`
    (how a baseline was set up) are printed under the table."""
    table = Table(title=title, title_justify="left")
    table.add_column("model", no_wrap=True)
    for column in columns:
        table.add_column(HEADERS.get(column, column), justify="right")
    for name, values in metrics.items():
        label = f"[cyan]{name}[/cyan]" if name in networks else name
        style = "bold green" if name == best else None
        table.add_row(label, *(_cell(values.get(c)) for c in columns), style=style)
    console.print(table)
    for name, note in (notes or {}).items():
        console.print(f"[dim]{name}: {note}[/dim]")


def print_verdict(sentence: str) -> None:
    console.print(f"[bold]verdict:[/bold] {sentence}")
