"""Write a language-model run folder: metrics.json, the model, the loss plot and report.html."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rnnlab.report import html, plots
from rnnlab.runs import RunFolder
from rnnlab.tasks.language.evaluation import Evaluation

if TYPE_CHECKING:
    from rnnlab.tasks.language.api import LanguageModel


def write_run(run: RunFolder, lm: LanguageModel, evaluation: Evaluation, title: str) -> None:
    """Everything but config.yaml (written by the caller, who knows the command)."""
    lm.save(run.file("model"))
    run.write_json("metrics.json", evaluation.record(
        "lm", split=lm.split_, evaluated_on="held-out validation documents",
        vocab_size=lm.tokenizer_.vocab_size, train_seconds=lm.fit_result_.seconds,
        epochs=lm.fit_result_.epochs, history=lm.fit_result_.history))
    path = plots.loss_curves(lm.fit_result_.history, run.file("plots/loss.png"),
                             "language model: nats per token")
    subtitle = (f"{lm.source_}: {lm.split_['train']} training documents "
                f"({lm.split_['train_tokens']} tokens), {lm.split_['val']} validation; "
                f"vocabulary {lm.tokenizer_.vocab_size}")
    run.write_text("report.html", html.run_page(
        title, subtitle, evaluation, "Validation perplexity (held-out documents)",
        [("training and validation loss per epoch", path)], {lm.config.model: lm.config}))
