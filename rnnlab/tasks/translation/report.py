"""Write a translation run folder: metrics.json, predictions.csv, the model, loss curves,
attention heat-maps of a few test sentences and report.html with example translations."""

from __future__ import annotations

import csv
import html as html_escape
import io
from pathlib import Path
from typing import TYPE_CHECKING

from rnnlab.data.parallel import ParallelText
from rnnlab.report import html, plots
from rnnlab.runs import RunFolder
from rnnlab.tasks.translation.evaluation import Evaluation

if TYPE_CHECKING:
    from rnnlab.tasks.translation.api import Translation, Translator

EXAMPLES = 8  # test sentences shown in the report
HEAT_MAPS = 3  # of which this many get an attention heat-map


def attention_maps(translations: list[Translation], folder: Path, count: int
                   ) -> list[tuple[str, Path]]:
    """(caption, PNG) for the first `count` translations that have attention weights."""
    figures = []
    for index, item in enumerate(t for t in translations if t.attention is not None):
        if index >= count:
            break
        path = plots.attention_map(item.source_tokens, item.tokens, item.attention,
                                   folder / f"attention-{index + 1}.png",
                                   f"sentence {index + 1}")
        figures.append((f"attention, sentence {index + 1}: {item.source} -> {item.text}", path))
    return figures


def predictions_csv(test: ParallelText, translations: list[Translation]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["source", "reference", "translation"])
    for source, reference, item in zip(test.src, test.tgt, translations, strict=True):
        writer.writerow([source, reference, item.text])
    return out.getvalue()


def examples_table(test: ParallelText, translations: list[Translation]) -> str:
    rows = "".join(
        f"<tr><td>{html_escape.escape(s)}</td><td>{html_escape.escape(r)}</td>"
        f"<td>{html_escape.escape(t.text)}</td></tr>"
        for s, r, t in list(zip(test.src, test.tgt, translations, strict=True))[:EXAMPLES])
    return ("<table><thead><tr><th>source</th><th>reference</th><th>translation</th></tr>"
            f"</thead><tbody>{rows}</tbody></table>")


def write_run(run: RunFolder, translator: Translator, evaluation: Evaluation,
              test: ParallelText, title: str, no_attention: Translator | None = None) -> None:
    """Everything but config.yaml (written by the caller, who knows the data files)."""
    translator.save(run.file("model"))
    if no_attention is not None:
        no_attention.save(run.file("baselines/no_attention"))
    fit = translator.fit_result_
    run.write_json("metrics.json", evaluation.record(
        "translate", split={**translator.split_, "test": len(test)},
        signatures=evaluation.signatures, vocab={"src": translator.src_tokenizer_.vocab_size,
                                                 "tgt": translator.tgt_tokenizer_.vocab_size},
        train_seconds=fit.seconds, epochs=fit.epochs, best_epoch=fit.best_epoch,
        history=fit.history))
    run.write_text("predictions.csv", predictions_csv(test, evaluation.translations))
    loss = plots.loss_curves(fit.history, run.file("plots/loss.png"), "translation")
    figures = [("training and validation loss per epoch (nats per target token)", loss)]
    figures += attention_maps(evaluation.translations[:EXAMPLES], loss.parent, HEAT_MAPS)
    split = translator.split_
    subtitle = (f"{translator.source_}: {split['train']} training pairs "
                f"({split['dropped_long']} longer than --max-len dropped), {split['val']} "
                f"validation, {len(test)} test; vocabulary {translator.src_tokenizer_.vocab_size}"
                f" source / {translator.tgt_tokenizer_.vocab_size} target")
    notes = [f"sacrebleu signatures: BLEU {evaluation.signatures['bleu']}; chrF "
             f"{evaluation.signatures['chrf']}. Perplexity: exp(cross-entropy per reference "
             "token, teacher-forced)."]
    run.write_text("report.html", html.run_page(
        title, subtitle, evaluation, f"Test set ({len(test)} sentences)", figures,
        {network: translator.config for network in evaluation.networks[:1]}, notes=notes,
        sections=[("Example translations (test)", examples_table(test,
                                                                 evaluation.translations))]))
