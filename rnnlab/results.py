"""One results type for every job: each model's test metrics beside its baselines, the notes on
how the baselines were set up, the best model and a one-sentence verdict.

A job's evaluation subclasses `Results` (adding its forecasts, scores, ...) and says which
metric columns it shows; the console table, the metrics table of report.html and the common
part of `metrics.json` come from here, so they read the same for every job.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from rnnlab.console import print_metrics, print_verdict


@dataclass(kw_only=True)
class Results:
    """metrics: model name -> {metric: value}, networks first, then the baselines."""

    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    networks: list[str] = field(default_factory=list)  # the trained models' rows
    notes: dict[str, str] = field(default_factory=dict)  # model -> how it was set up
    best: str = ""
    verdict: str = ""

    columns: ClassVar[tuple[str, ...]] = ()  # metric columns of report.html
    terminal_columns: ClassVar[tuple[str, ...] | None] = None  # narrower console table

    def show(self, title: str) -> None:
        """The console table (networks first, the best row highlighted) and the verdict."""
        print_metrics(self.metrics, self.terminal_columns or self.columns, title, self.best,
                      self.networks, self.notes)
        print_verdict(self.verdict)

    def html_table(self) -> str:
        from rnnlab.report.html import metrics_table

        return metrics_table(self.metrics, self.columns, self.best, self.notes)

    def record(self, job: str, **fields: Any) -> dict[str, Any]:
        """metrics.json (docs/contracts.md): the job, its own fields (split, ...), then the
        metrics of every model on the same test items, the best model and the verdict."""
        return {"job": job, **fields, "test": self.metrics, "best": self.best,
                "verdict": self.verdict, "baseline_notes": self.notes}


def rank(metrics: dict[str, dict[str, float]], networks: Sequence[str],
         key: str | tuple[str, ...], higher_is_better: bool = False
         ) -> tuple[str | None, str | None, str | None]:
    """(best model, best network, best baseline) by `metrics[name][key]` (a tuple of keys:
    later ones break ties); models without finite values are left out (None when no network,
    or no baseline, has one: a diverged network or a failed baseline is never "best"), and
    ties keep the earlier row (networks come first)."""
    keys = (key,) if isinstance(key, str) else key
    sign = -1.0 if higher_is_better else 1.0

    def score(name: str) -> tuple[float, ...] | None:
        values = [metrics[name].get(k) for k in keys]
        if any(v is None or not math.isfinite(v) for v in values):
            return None
        return tuple(sign * v for v in values)

    scores = {name: s for name in metrics if (s := score(name)) is not None}
    nets = [n for n in scores if n in networks]
    baselines = [n for n in scores if n not in networks]

    def pick(names: list[str]) -> str | None:
        return min(names, key=scores.get) if names else None

    return pick(list(scores)), pick(nets), pick(baselines)


def unranked(networks: Sequence[str], network: str | None, baseline: str | None,
             label: str) -> str | None:
    """The verdict when the network or every baseline has no finite `label` (None when both
    can be compared), so a diverged model is said to have failed, never ranked."""
    if network is not None and baseline is not None:
        return None
    if network is None and baseline is None:
        return f"no model has a finite {label}: nothing can be compared."
    if network is None:
        return (f"{', '.join(networks)} has no finite {label} (training diverged or failed); "
                f"the best baseline is {baseline}.")
    return f"no baseline has a finite {label}; {network} cannot be compared with one."
