"""`rnnlab explain gradients` output: the figures, the HTML page, gradients.json and the
terminal summary of a `GradientReport` (the measuring is in rnnlab.explain.gradients)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np
from rich.table import Table

from rnnlab.console import console
from rnnlab.explain.gradients import (
    MEAN_BASELINE_LOSS,
    REACH_SHARE,
    GradientConfig,
    GradientReport,
    measure,
)
from rnnlab.report import html
from rnnlab.report.plots import plt, save_figure
from rnnlab.runs import staged_run

STATES = {"init": "at initialisation", "trained": "after training"}


def gradients_run(cfg: GradientConfig, out: str | None = None, overwrite: bool = False
                  ) -> tuple[GradientReport, Path]:
    """Measure, print the summary and write the output folder (atomically, like a run)."""
    cfg.validate()
    with staged_run(out, "explain-gradients", overwrite) as run:
        report = measure(cfg)
        figures = [
            ("||dL/dh_{T-d}|| relative to d = 0, per cell, at initialisation and after "
             "training (dashed: the 1% line that defines `reach`)",
             distance_plot(report, run.file("plots/gradients_by_distance.png"))),
            ("Elman RNN at initialisation with W_hh rescaled to each spectral radius: below 1 "
             "the gradient vanishes, above 1 it can explode",
             sweep_plot(report, run.file("plots/radius_sweep.png"))),
            (f"Elman RNN at radius {cfg.clip_radius:g}, SGD: total gradient norm before and "
             f"after clipping at {cfg.clip:g}, and the training loss with and without clipping",
             clipping_plot(report, run.file("plots/clipping.png"))),
        ]
        run.write_json("gradients.json", report.to_dict())
        run.write_config(asdict(cfg), None)
        run.write_text("report.html", html.run_page(
            "rnnlab explain gradients", "vanishing and exploding gradients through time, "
            f"measured on the adding problem ({cfg.length} steps)", None, "", figures,
            {"gradients": cfg}, sections=[("Summary", summary_html(report))]))
    show(report)
    console.print(f"written: {run.path} (gradients.json, report.html, plots/)")
    return report, run.path


def summary_rows(report: GradientReport) -> dict[str, dict[str, object]]:
    """cell -> reach at init / trained and the training loss (beside predicting the mean)."""
    rows = {}
    for cell, states in report.cells.items():
        loss = states["trained"].get("final_loss")
        rows[cell] = {"reach init": states["init"]["reach"],
                      "reach trained": states["trained"]["reach"], "train loss": loss,
                      "learned": "yes" if loss is not None and loss < 0.5 * MEAN_BASELINE_LOSS
                      else "no"}
    for radius, entry in report.sweep.items():
        rows[f"rnn radius {radius}"] = {"reach init": entry["reach"]}
    return rows


COLUMNS = ("reach init", "reach trained", "train loss", "learned")


def summary_html(report: GradientReport) -> str:
    clip = report.clipping
    notes = [
        f"reach: the largest distance d at which ||dL/dh_(T-d)|| is at least "
        f"{REACH_SHARE:.0%} of its value at d = 0 (the last step, which the loss reads); "
        f"{report.config.length - 1} is the whole sequence.",
        f"train loss: mean squared error of the last 20 of {report.config.steps} Adam steps; "
        f"predicting the mean sum scores {MEAN_BASELINE_LOSS:.3f}, so 'learned' means below "
        "half of that.",
        f"Clipping at {clip['threshold']:g}: the first step's total gradient norm "
        f"{clip['first_step']['norm_before']:.4g} became {clip['first_step']['norm_after']:.4g}"
        f"; unclipped SGD (lr {clip['lr']:g}) "
        + (f"diverged at step {clip['diverged_at']['unclipped']}."
           if clip["diverged_at"]["unclipped"] else "did not diverge."),
    ]
    return html.metrics_table(summary_rows(report), COLUMNS) + "".join(
        html.paragraph(note) for note in notes)


def show(report: GradientReport) -> None:
    """The summary table in the terminal."""
    table = Table(title=f"gradient reach on the adding problem ({report.config.length} steps; "
                  f"largest d with ||dL/dh_(T-d)|| >= {REACH_SHARE:.0%} of d = 0)",
                  title_justify="left")
    for column in ("", *COLUMNS):
        table.add_column(column, justify="left" if not column else "right")
    for name, row in summary_rows(report).items():
        table.add_row(name, *(_cell(row.get(c)) for c in COLUMNS))
    console.print(table)
    clip = report.clipping
    console.print(f"clipping at {clip['threshold']:g}: total norm "
                  f"{clip['first_step']['norm_before']:.4g} -> "
                  f"{clip['first_step']['norm_after']:.4g} on the first step; unclipped SGD "
                  + (f"diverged at step {clip['diverged_at']['unclipped']}"
                     if clip["diverged_at"]["unclipped"] else "did not diverge"))


def _cell(value: object) -> str:
    if value is None:
        return "–"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _relative(norms: list[float | None]) -> np.ndarray:
    values = np.array([np.nan if v is None else v for v in norms], dtype=float)
    return values / values[0] if values[0] else values


def distance_plot(report: GradientReport, path: Path) -> Path:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, (state, label) in zip(axes, STATES.items(), strict=True):
        for cell, states in report.cells.items():
            entry = states[state]
            ax.plot(_relative(entry["norms"]), label=f"{cell} (reach {entry['reach']})")
        ax.axhline(REACH_SHARE, color="grey", ls="--", lw=0.8)
        ax.set(yscale="log", xlabel="distance d (steps back from the last)", title=label)
        ax.grid(alpha=0.3)
        ax.legend()
    axes[0].set_ylabel("||dL/dh_{T-d}|| / ||dL/dh_T||")
    return save_figure(fig, path)


def sweep_plot(report: GradientReport, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(7, 4))
    for radius, entry in report.sweep.items():
        ax.plot(_relative(entry["norms"]), label=f"radius {radius} (reach {entry['reach']})")
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.set(yscale="log", xlabel="distance d", ylabel="||dL/dh_{T-d}|| / ||dL/dh_T||",
           title="Elman RNN: spectral radius of W_hh")
    ax.grid(alpha=0.3)
    ax.legend()
    return save_figure(fig, path)


def clipping_plot(report: GradientReport, path: Path) -> Path:
    clip = report.clipping
    history = clip["history"]

    def series(name: str, key: str) -> np.ndarray:
        return np.array([np.nan if v is None else v for v in history[name][key]], dtype=float)

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    left.plot(series("unclipped", "norm_before"), label="unclipped run", color="#d62728")
    left.plot(series("clipped", "norm_before"), label="clipped run, before clipping",
              color="#1f77b4", alpha=0.6)
    left.plot(series("clipped", "norm_after"), label="clipped run, after clipping",
              color="#2ca02c")
    left.axhline(clip["threshold"], color="grey", ls="--", lw=0.8)
    left.set(yscale="log", xlabel="SGD step", ylabel="total gradient norm",
             title="gradient norm")
    for name, color in (("clipped", "#2ca02c"), ("unclipped", "#d62728")):
        right.plot(series(name, "loss"), label=name, color=color)
    right.axhline(MEAN_BASELINE_LOSS, color="grey", ls=":", lw=0.8)
    right.set(yscale="log", xlabel="SGD step", ylabel="training loss (MSE)",
              title="training loss (dotted: predicting the mean)")
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend()
    return save_figure(fig, path)
