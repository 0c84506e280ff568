"""`rnnlab lm pretrain` and `rnnlab lm evaluate`: train / score a language model, write a run."""

from __future__ import annotations

from pathlib import Path

from rnnlab.console import console
from rnnlab.data.datasets import resolve_data
from rnnlab.errors import UserError
from rnnlab.runs import staged_run
from rnnlab.tasks.language.api import LanguageModel
from rnnlab.tasks.language.config import LanguageModelConfig
from rnnlab.tasks.language.data import read_documents
from rnnlab.tasks.language.evaluation import evaluate
from rnnlab.tasks.language.report import write_run


def pretrain_run(cfg: LanguageModelConfig, out: str | None = None, overwrite: bool = False,
                 resume: bool = False) -> tuple[LanguageModel, Path | None]:
    """Train, compare with the count baselines on held-out documents, write a run folder."""
    cfg.validate()
    with staged_run(out, "lm", overwrite, resume, cfg.to_dict()) as run:
        lm = LanguageModel(cfg).fit(checkpoints=run.checkpoints / "fit", resume=resume)
        if not run.writes or not lm.fit_result_.is_global_zero:
            run.discard()
            return lm, None
        if lm.stream_rows_ < cfg.train.batch_size:
            console.print(f"[dim]note: the training text fills only {lm.stream_rows_} parallel "
                          f"rows of --bptt {cfg.bptt} tokens, so --batch-size "
                          f"{cfg.train.batch_size} was lowered to {lm.stream_rows_}[/dim]")
        evaluation = evaluate(lm)
        data = None if "," in cfg.data else resolve_data(cfg.data)
        run.write_config(lm.config.to_dict(), data if data is not None and data.is_file()
                         else None)  # with --init: the architecture it went on from
        write_run(run, lm, evaluation, "rnnlab lm pretrain")
    evaluation.show(f"language model on {lm.source_} (validation)")
    console.print(f"run folder: {run.path}\nreport: {run.path / 'report.html'}")
    return lm, run.path


def evaluate_run(run_dir: str | Path, data: str, text_col: str = "text",
                 encoding: str = "utf-8") -> float:
    """Perplexity of a pretrained model on every document of `data`."""
    lm = LanguageModel.load(run_dir)
    docs, source = read_documents(lm.config.replace(data=data, text_col=text_col,
                                                    encoding=encoding, max_docs=None), minimum=1)
    known, tokens = lm.known_words(docs)
    if not known:
        raise UserError(f"none of the {tokens} tokens of {source} is in the vocabulary of "
                        f"{run_dir} (all would be <unk>, so the perplexity would mean nothing); "
                        "score text of the kind it was pretrained on")
    value = lm.perplexity(docs)
    console.print(f"perplexity of {run_dir} on {source}: {value:.2f} "
                  f"({100 * lm.unknown_rate(docs):.1f}% of tokens unknown)")
    return value
