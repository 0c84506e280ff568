"""Figures shared by the jobs. Matplotlib with the Agg backend (no screen); files are written
atomically as PNG."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from rnnlab.runs import atomic_write_bytes  # noqa: E402

COLORS = {"actual": "#222222", "network": "#1f77b4", "interval": "#1f77b4"}


def save_figure(fig: plt.Figure, path: str | Path) -> Path:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return atomic_write_bytes(path, buffer.getvalue())


def loss_curves(history: list[dict[str, float]], path: str | Path, title: str = "Training",
                metrics: Sequence[str] = ("train_loss", "val_loss")) -> Path:
    """Per-epoch curves of the logged metrics (train / validation loss by default)."""
    fig, ax = plt.subplots(figsize=(7, 3.6))
    epochs = [row["epoch"] + 1 for row in history]
    for name in metrics:
        values = [row.get(name, np.nan) for row in history]
        if not np.all(np.isnan(values)):
            ax.plot(epochs, values, label=name.replace("_", " "))
    ax.set(xlabel="epoch", ylabel="loss", title=title)
    if any(row.get("val_loss", np.nan) > 0 for row in history):
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend()
    return save_figure(fig, path)


def forecast_plot(
    times: Sequence, actual: np.ndarray, forecast_times: Sequence, forecasts: dict[str, np.ndarray],
    interval: tuple[np.ndarray, np.ndarray] | None, boundaries: dict[str, object],
    path: str | Path, title: str, level: float | None = None,
) -> Path:
    """History, test-period forecasts of each model and the network's prediction interval.

    boundaries: {"validation": time, "test": time} drawn as vertical lines.
    """
    fig, ax = plt.subplots(figsize=(10, 4.2))
    ax.plot(times, actual, color=COLORS["actual"], lw=1.2, label="actual")
    if interval is not None:
        label = f"{level:.0%} interval" if level else "interval"
        ax.fill_between(forecast_times, interval[0], interval[1], color=COLORS["interval"],
                        alpha=0.18, label=label, step=None)
    for i, (name, values) in enumerate(forecasts.items()):
        ax.plot(forecast_times, values, lw=1.6 if i == 0 else 1.0,
                ls="-" if i == 0 else "--", label=name)
    for name, when in boundaries.items():
        ax.axvline(when, color="grey", ls=":", lw=1)
        ax.annotate(name, (when, 1), xycoords=("data", "axes fraction"), fontsize=8,
                    ha="left", va="top", color="grey")
    ax.set(title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncol=3)
    fig.autofmt_xdate()
    return save_figure(fig, path)


def residual_plot(times: Sequence, residuals: np.ndarray, path: str | Path, title: str) -> Path:
    """Forecast errors over time and their histogram."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4), width_ratios=[2.2, 1])
    left.axhline(0, color="grey", lw=1)
    left.plot(times, residuals, marker=".", lw=0.8)
    left.set(title=title, ylabel="actual - forecast")
    left.grid(alpha=0.3)
    right.hist(residuals, bins=min(30, max(5, len(residuals) // 3)), color="#1f77b4", alpha=0.8)
    right.set(title="distribution")
    fig.autofmt_xdate()
    return save_figure(fig, path)


def bar_chart(values: dict[str, float], path: str | Path, title: str, ylabel: str) -> Path:
    """One bar per model (e.g. MASE of the network and each baseline)."""
    fig, ax = plt.subplots(figsize=(7, 3.4))
    names = list(values)
    ax.bar(names, [values[n] for n in names], color=["#1f77b4" if i == 0 else "#999999"
                                                      for i in range(len(names))])
    ax.set(title=title, ylabel=ylabel)
    ax.grid(alpha=0.3, axis="y")
    plt.setp(ax.get_xticklabels(), rotation=20, ha="right")
    return save_figure(fig, path)


def fold_lines(folds: Sequence[int], values: dict[str, np.ndarray], path: str | Path, title: str,
               ylabel: str) -> Path:
    """One line per model across backtest folds."""
    fig, ax = plt.subplots(figsize=(7, 3.4))
    for i, (name, series) in enumerate(values.items()):
        ax.plot(folds, series, marker="o", lw=2 if i == 0 else 1, label=name)
    ax.set(title=title, xlabel="fold", ylabel=ylabel, xticks=list(folds))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def anomaly_plot(times: Sequence, actual: np.ndarray, forecast: np.ndarray, lower: np.ndarray,
                 upper: np.ndarray, flagged: np.ndarray, path: str | Path, title: str) -> Path:
    """Series, one-step forecasts with their interval, and the flagged points in red."""
    fig, ax = plt.subplots(figsize=(10, 4))
    times = np.asarray(times)
    ax.fill_between(times, lower, upper, color=COLORS["interval"], alpha=0.18, label="interval")
    ax.plot(times, actual, color=COLORS["actual"], lw=1, label="actual")
    ax.plot(times, forecast, color=COLORS["network"], lw=0.8, label="one-step forecast")
    ax.scatter(times[flagged], actual[flagged], color="red", s=18, zorder=3, label="anomaly")
    ax.set(title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.autofmt_xdate()
    return save_figure(fig, path)


# -- classification (sentiment) ------------------------------------------------------------------
def roc_plot(curves: dict[str, tuple[np.ndarray, np.ndarray, float]], path: str | Path,
             title: str) -> Path:
    """One ROC curve per model: {name: (false-positive rate, true-positive rate, AUC)}."""
    fig, ax = plt.subplots(figsize=(5.2, 5))
    for i, (name, (fpr, tpr, auc)) in enumerate(curves.items()):
        ax.plot(fpr, tpr, lw=2 if i == 0 else 1.3, label=f"{name} (AUC {auc:.3f})")
    ax.plot([0, 1], [0, 1], color="grey", ls=":", lw=1, label="chance (AUC 0.5)")
    ax.set(xlabel="false-positive rate", ylabel="true-positive rate (recall)", title=title,
           xlim=(0, 1), ylim=(0, 1.01))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    return save_figure(fig, path)


def pr_plot(curves: dict[str, tuple[np.ndarray, np.ndarray, float]], path: str | Path,
            title: str, base_rate: float | None = None) -> Path:
    """One precision-recall curve per model: {name: (precision, recall, average precision)}."""
    fig, ax = plt.subplots(figsize=(5.2, 5))
    for i, (name, (precision, recall, ap)) in enumerate(curves.items()):
        ax.step(recall, precision, where="post", lw=2 if i == 0 else 1.3,
                label=f"{name} (AP {ap:.3f})")
    if base_rate is not None:
        ax.axhline(base_rate, color="grey", ls=":", lw=1, label=f"chance ({base_rate:.2f})")
    ax.set(xlabel="recall", ylabel="precision", title=title, xlim=(0, 1), ylim=(0, 1.01))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    return save_figure(fig, path)


def confusion_plot(matrices: dict[str, np.ndarray], classes: Sequence[str], path: str | Path,
                   title: str) -> Path:
    """Confusion matrices side by side (rows: actual class, columns: predicted class)."""
    fig, axes = plt.subplots(1, len(matrices), figsize=(3.6 * len(matrices), 3.4),
                             squeeze=False)
    for i, (ax, (name, matrix)) in enumerate(zip(axes[0], matrices.items(), strict=True)):
        matrix = np.asarray(matrix)
        ax.imshow(matrix, cmap="Blues")
        for (row, col), count in np.ndenumerate(matrix):
            dark = count > matrix.max() / 2
            ax.text(col, row, str(count), ha="center", va="center",
                    color="white" if dark else "black", fontsize=9)
        ticks = range(len(classes))
        ax.set(xticks=ticks, yticks=ticks, xticklabels=classes,
               yticklabels=classes if i == 0 else [], xlabel="predicted",
               ylabel="actual" if i == 0 else "", title=name)
    fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path)


def metric_curves(history: list[dict[str, float]], metrics: Sequence[str], path: str | Path,
                  title: str, ylabel: str) -> Path:
    """Per-epoch curves of logged metrics on a linear scale (e.g. val_auc, val_accuracy)."""
    fig, ax = plt.subplots(figsize=(7, 3.6))
    epochs = [row["epoch"] + 1 for row in history]
    for name in metrics:
        values = [row.get(name, np.nan) for row in history]
        if not np.all(np.isnan(values)):
            ax.plot(epochs, values, marker=".", label=name.replace("_", " "))
    ax.set(xlabel="epoch", ylabel=ylabel, title=title)
    ax.grid(alpha=0.3)
    ax.legend()
    return save_figure(fig, path)


def label_curve_plot(sizes: Sequence[int], series: dict[str, Sequence[float]],
                     flat: dict[str, float], path: str | Path, title: str, ylabel: str) -> Path:
    """A metric vs the number of labelled training examples (log x), one line per model;
    `flat` models (no labels needed, e.g. VADER) are horizontal lines."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for i, (name, values) in enumerate(series.items()):
        ax.plot(sizes, values, marker="o", lw=2 if i == 0 else 1.4, label=name)
    for name, value in flat.items():
        ax.axhline(value, color="grey", ls="--", lw=1.2, label=f"{name} (no labels)")
    ax.set_xscale("log")
    ax.set(xlabel="labelled training examples", ylabel=ylabel, title=title)
    ax.set_xticks(list(sizes), [str(s) for s in sizes])
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def attention_map(source: Sequence[str], target: Sequence[str], weights: np.ndarray,
                  path: str | Path, title: str) -> Path:
    """Heat-map of attention weights: one row per generated token, one column per source
    token (darker = more weight)."""
    rows, columns = weights.shape
    fig, ax = plt.subplots(figsize=(min(12, 1.5 + 0.45 * columns), min(12, 1.2 + 0.4 * rows)))
    ax.imshow(weights, cmap="Greys", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(columns), list(source)[:columns], rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(rows), list(target)[:rows], fontsize=8)
    ax.set(xlabel="source", ylabel="translation", title=title)
    return save_figure(fig, path)
