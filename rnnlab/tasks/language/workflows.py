"""`rnnlab lm pretrain` and `rnnlab lm evaluate`: train / score a language model, write a run."""

from __future__ import annotations

from pathlib import Path

from rnnlab.console import console
from rnnlab.data.datasets import resolve_data
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
    with staged_run(out, "lm", overwrite, resume) as run:
        checkpoints = run.checkpoints
        lm = LanguageModel(cfg).fit(checkpoints=checkpoints, resume=resume)
        if not run.writes or not lm.fit_result_.is_global_zero:
            run.discard()
            return lm, None
        evaluation = evaluate(lm)
        data = None if "," in cfg.data else resolve_data(cfg.data)
        run.write_config(lm.config.to_dict(), data if data is not None and data.is_file()
                         else None)  # with --init: the architecture it went on from
        write_run(run, lm, evaluation, "rnnlab lm pretrain")
    evaluation.print(f"language model on {lm.source_} (validation)")
    console.print(f"run folder: {run.path}\nreport: {run.path / 'report.html'}")
    return lm, run.path


def evaluate_run(run_dir: str | Path, data: str, text_col: str = "text",
                 encoding: str = "utf-8") -> float:
    """Perplexity of a pretrained model on every document of `data`."""
    lm = LanguageModel.load(run_dir)
    docs, source = read_documents(lm.config.replace(data=data, text_col=text_col,
                                                    encoding=encoding, max_docs=None))
    value = lm.perplexity(docs)
    console.print(f"perplexity of {run_dir} on {source}: {value:.2f} "
                  f"({100 * lm.unknown_rate(docs):.1f}% of tokens unknown)")
    return value
