"""Write a language-model run folder: metrics.json, the model, the loss plot and report.html
with a generated sample."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rnnlab.report import html, plots
from rnnlab.runs import RunFolder
from rnnlab.tasks.language.evaluation import Evaluation

if TYPE_CHECKING:
    from rnnlab.tasks.language.api import LanguageModel

SAMPLE_TEMPERATURE = 0.8
SAMPLE_LENGTH = {"char": 500, "word": 80, "bpe": 100}  # tokens of the report's sample


def sample(lm: LanguageModel) -> str | None:
    """A seeded sample from an empty prompt (None for a model that does not read forwards)."""
    if lm.config.backward or lm.config.bidirectional:
        return None
    tokens = lm.generate("", SAMPLE_LENGTH[lm.config.level], SAMPLE_TEMPERATURE,
                         seed=lm.config.train.seed)
    return "".join(token.text for token in tokens)


def write_run(run: RunFolder, lm: LanguageModel, evaluation: Evaluation, title: str) -> None:
    """Everything but config.yaml (written by the caller, who knows the command)."""
    lm.save(run.file("model"))
    text = sample(lm)
    unit = "character" if lm.config.level == "char" else "token"
    run.write_json("metrics.json", evaluation.record(
        "lm", level=lm.config.level, split=lm.split_, evaluated_on=held_out(lm),
        vocab_size=lm.tokenizer_.vocab_size, train_seconds=lm.fit_result_.seconds,
        epochs=lm.fit_result_.epochs, history=lm.fit_result_.history,
        sample={"text": text, "temperature": SAMPLE_TEMPERATURE, "seed": lm.config.train.seed}
        if text is not None else None))
    path = plots.loss_curves(lm.fit_result_.history, run.file("plots/loss.png"),
                             f"language model: nats per {unit}")
    subtitle = (f"{lm.source_}: {lm.split_['train']} training {what(lm)} "
                f"({lm.split_['train_tokens']} {unit}s), {lm.split_['val']} validation "
                f"({lm.split_['val_tokens']} {unit}s); vocabulary {lm.tokenizer_.vocab_size}")
    sections = [] if text is None else [(
        f"Sample ({len(text)} characters, temperature {SAMPLE_TEMPERATURE}, seed "
        f"{lm.config.train.seed}, empty prompt)", html.preformatted(text))]
    run.write_text("report.html", html.run_page(
        title, subtitle, evaluation, f"Validation loss per {unit} ({held_out(lm)})",
        [("training and validation loss per epoch", path)], {lm.config.model: lm.config},
        notes=[f"nats: mean negative log-likelihood per {unit}; bits = nats / ln 2; "
               "perplexity = exp(nats). The n-gram and unigram models are fitted on the "
               "training part only."], sections=sections))


def what(lm: LanguageModel) -> str:
    return "part" if lm.config.level == "char" else "documents"


def held_out(lm: LanguageModel) -> str:
    if lm.config.level == "char":
        return f"the last {lm.config.val_size:.0%} of the text"
    return "held-out validation documents"
