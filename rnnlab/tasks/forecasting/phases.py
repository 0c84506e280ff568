"""What a forecasting run is doing when it is not training: a spinner naming the phase
(test forecasts, baselines, plots and report) and the seconds each took, for metrics.json."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from rnnlab.console import console


class Phases:
    """`with phases("baselines"): ...` shows the phase while it runs and records its time."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        if self.quiet:
            yield
        else:
            with console.status(f"[dim]{name} ...[/dim]"):
                yield
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started

    def summary(self) -> str:
        return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.seconds.items())
