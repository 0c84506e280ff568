"""`rnnlab lm pretrain` and `rnnlab lm evaluate`: train / score a language model, write a run."""

from __future__ import annotations

from pathlib import Path

from rnnlab.console import console, print_metrics, print_verdict
from rnnlab.data.datasets import resolve_data
from rnnlab.report import html, plots
from rnnlab.runs import RunFolder, is_global_zero
from rnnlab.tasks.language.api import LanguageModel
from rnnlab.tasks.language.config import LanguageModelConfig
from rnnlab.tasks.language.data import read_documents

COLUMNS = ("perplexity",)


def verdict(metrics: dict[str, dict[str, float]], network: str) -> str:
    ours, bigram = metrics[network]["perplexity"], metrics["kn_bigram"]["perplexity"]
    relation = "beats" if ours < bigram else "does not beat"
    return (f"{network} {relation} the Kneser-Ney bigram: validation perplexity {ours:.1f} vs "
            f"{bigram:.1f} (unigram {metrics['unigram']['perplexity']:.1f}).")


def pretrain_run(cfg: LanguageModelConfig, out: str | None = None, overwrite: bool = False
                 ) -> tuple[LanguageModel, Path | None]:
    """Train, compare with the count baselines on held-out documents, write a run folder."""
    cfg.validate()
    run = RunFolder.create(out, "lm", overwrite) if is_global_zero() else None
    try:
        lm = LanguageModel(cfg).fit()
        if run is None or not lm.fit_result_.is_global_zero:
            return lm, None
        cfg = lm.config  # with --init: the architecture of the model it went on from
        metrics = lm.metrics_
        sentence = verdict(metrics, cfg.model)
        data = None if "," in cfg.data else resolve_data(cfg.data)
        run.write_config("lm", cfg.to_dict(), data if data is not None and data.is_file()
                         else None)
        lm.save(run.file("model"))
        record = {"job": "lm", "split": lm.split_, "test": metrics, "best": min(
            metrics, key=lambda n: metrics[n]["perplexity"]), "verdict": sentence,
            "evaluated_on": "held-out validation documents",
            "vocab_size": lm.tokenizer_.vocab_size, "train_seconds": lm.fit_result_.seconds,
            "epochs": lm.fit_result_.epochs, "history": lm.fit_result_.history}
        run.write_json("metrics.json", record)
        path = plots.loss_curves(lm.fit_result_.history, run.file("plots/loss.png"),
                                 "language model: nats per token")
        sections = [
            ("Verdict", html.paragraph(sentence, "verdict")),
            ("Validation perplexity (held-out documents)",
             html.metrics_table(metrics, COLUMNS, record["best"])),
            ("Figures", html.figure(path, "training and validation loss per epoch")),
            ("Configuration", html.preformatted(str(cfg.to_dict()))),
        ]
        subtitle = (f"{lm.source_}: {lm.split_['train']} training documents "
                    f"({lm.split_['train_tokens']} tokens), {lm.split_['val']} validation; "
                    f"vocabulary {lm.tokenizer_.vocab_size}")
        run.write_text("report.html", html.page("rnnlab lm pretrain", subtitle, sections))
        folder = run.commit()
    except BaseException:
        if run is not None:
            run.discard()
        raise
    print_metrics(metrics, COLUMNS, f"language model on {lm.source_} (validation)",
                  record["best"], [cfg.model])
    print_verdict(sentence)
    console.print(f"run folder: {folder}\nreport: {folder / 'report.html'}")
    return lm, folder


def evaluate_run(run_dir: str | Path, data: str, text_col: str = "text",
                 encoding: str = "utf-8") -> float:
    """Perplexity of a pretrained model on every document of `data`."""
    RunFolder.load(run_dir)
    lm = LanguageModel.load(run_dir)
    docs, source = read_documents(lm.config.replace(data=data, text_col=text_col,
                                                    encoding=encoding, max_docs=None))
    value = lm.perplexity(docs)
    console.print(f"perplexity of {run_dir} on {source}: {value:.2f} "
                  f"({100 * lm.unknown_rate(docs):.1f}% of tokens unknown)")
    return value
