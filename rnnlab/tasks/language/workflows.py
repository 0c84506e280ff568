"""`rnnlab lm fit` (alias `pretrain`), `lm generate` and `lm evaluate`: train a language model
and write its run, generate text from it, score it on other text."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from rnnlab.console import console
from rnnlab.data.datasets import resolve_data
from rnnlab.errors import UserError
from rnnlab.runs import staged_run
from rnnlab.tasks.language.api import LanguageModel
from rnnlab.tasks.language.config import LanguageModelConfig
from rnnlab.tasks.language.data import read_corpus, read_documents
from rnnlab.tasks.language.evaluation import evaluate
from rnnlab.tasks.language.report import write_run


def fit_run(cfg: LanguageModelConfig, out: str | None = None, overwrite: bool = False,
            resume: bool = False) -> tuple[LanguageModel, Path | None]:
    """Train, compare with the count baselines on the held-out text, write a run folder."""
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
        write_run(run, lm, evaluation, "rnnlab lm fit")
    evaluation.show(f"language model on {lm.source_} (validation)")
    console.print(f"run folder: {run.path}\nreport: {run.path / 'report.html'}")
    return lm, run.path


pretrain_run = fit_run  # the earlier name, for code written against it


def generate_run(run_dir: str | Path, prompt: str = "", length: int = 500,
                 temperature: float = 0.8, top_k: int | None = None, top_p: float | None = None,
                 seed: int = 0, num_samples: int = 1, as_json: bool = False) -> list[str]:
    """Stream each sample (the prompt, then the generated text) to stdout, a line `----`
    between samples; `as_json`: one JSON document instead, with per-token log-probabilities.
    Sample i uses seed + i. Returns the generated texts."""
    if num_samples < 1:
        raise UserError(f"--num-samples must be at least 1; got {num_samples}")
    lm = LanguageModel.load(run_dir)
    samples, texts = [], []
    for index in range(num_samples):
        tokens = lm.generate(prompt, length, temperature, top_k, top_p, seed + index)
        if not as_json:
            print(("----\n" if index else "") + prompt, end="", flush=True)
        pieces = []
        for token in tokens:
            pieces.append(token)
            if not as_json:
                print(token.text, end="", flush=True)
        if not as_json:
            print(flush=True)
        texts.append("".join(t.text for t in pieces))
        samples.append({"seed": seed + index, "text": texts[-1],
                        "logprob": sum(t.logprob for t in pieces),
                        "tokens": [{"token": t.text, "id": t.id, "logprob": t.logprob}
                                   for t in pieces]})
    if as_json:
        json.dump({"run": str(run_dir), "prompt": prompt, "temperature": temperature,
                   "top_k": top_k, "top_p": top_p, "samples": samples}, sys.stdout,
                  ensure_ascii=False)
        print()
    return texts


def evaluate_run(run_dir: str | Path, data: str, text_col: str = "text",
                 encoding: str = "utf-8") -> float:
    """Perplexity of a language model on `data` (all of it: every document, or the whole
    text at char level)."""
    lm = LanguageModel.load(run_dir)
    options = lm.config.replace(data=data, text_col=text_col, encoding=encoding, max_docs=None)
    if lm.config.level == "char":
        text, source = read_corpus(options)
        docs = [text]
    else:
        docs, source = read_documents(options, minimum=1)
    known, tokens = lm.known_words(docs)
    if not known:
        raise UserError(f"none of the {tokens} tokens of {source} is in the vocabulary of "
                        f"{run_dir} (all would be <unk>, so the perplexity would mean nothing); "
                        "score text of the kind it was pretrained on")
    value = lm.perplexity(docs)
    unit = "character" if lm.config.level == "char" else "token"
    console.print(f"perplexity of {run_dir} on {source}: {value:.2f}, "
                  f"{math.log2(value):.3f} bits per {unit} "
                  f"({100 * lm.unknown_rate(docs):.1f}% of {unit}s unknown)")
    return value
