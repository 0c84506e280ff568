"""`rnnlab translate fit | evaluate | predict`: train and write a run, score a run on other
pairs, translate sentences (optionally writing their attention heat-maps)."""

from __future__ import annotations

from pathlib import Path

from rnnlab.console import console
from rnnlab.data.datasets import resolve_data
from rnnlab.data.parallel import read_parallel
from rnnlab.errors import UserError
from rnnlab.report import plots
from rnnlab.runs import staged_run
from rnnlab.tasks.translation.api import Translation, Translator, read_splits
from rnnlab.tasks.translation.config import TranslationConfig
from rnnlab.tasks.translation.evaluation import evaluate
from rnnlab.tasks.translation.report import write_run


def fit_run(cfg: TranslationConfig, out: str | None = None, overwrite: bool = False,
            resume: bool = False) -> tuple[Translator, Path | None]:
    """Train (and the no-attention baseline when asked), score on the test pairs, write the
    run folder."""
    cfg.validate()
    train, val, test = read_splits(cfg)
    with staged_run(out, "translate", overwrite, resume, cfg.to_dict()) as run:
        translator = Translator(cfg).fit(train, val, checkpoints=run.checkpoints / "fit",
                                         resume=resume)
        if translator.split_["dropped_long"]:
            console.print(f"[dim]note: {translator.split_['dropped_long']} training pairs with a "
                          f"side longer than --max-len {cfg.max_len} tokens were left out[/dim]")
        baseline = None
        if cfg.baseline_no_attention:
            console.print("[dim]training the no-attention baseline[/dim]")
            baseline = Translator(cfg.replace(attention="none", baseline_no_attention=False)).fit(
                train, val, checkpoints=run.checkpoints / "no_attention", resume=resume)
        if not run.writes or not translator.fit_result_.is_global_zero:
            run.discard()
            return translator, None
        evaluation = evaluate(translator, test, baseline)
        spec, _ = cfg.training_spec()
        data = None if "," in spec else resolve_data(spec)
        run.write_config(cfg.to_dict(), data if data is not None and data.is_file() else None)
        write_run(run, translator, evaluation, test, "rnnlab translate fit", baseline)
    evaluation.show(f"translation of {len(test)} test sentences ({test.source})")
    console.print(f"run folder: {run.path}\nreport: {run.path / 'report.html'}")
    return translator, run.path


def evaluate_run(run_dir: str | Path, data: str, src_col: str | None = None,
                 tgt_col: str | None = None, encoding: str = "utf-8",
                 beam: int | None = None) -> dict[str, dict[str, float]]:
    """BLEU, chrF and perplexity of a run's model on other pairs, beside copying the source."""
    check_beam(beam)
    translator = Translator.load(run_dir)
    if beam is not None:
        translator.config = translator.config.replace(beam=beam)
    pairs = read_parallel(data, src_col, tgt_col, encoding, "--data")
    evaluation = evaluate(translator, pairs)
    evaluation.show(f"{run_dir} on {len(pairs)} pairs of {pairs.source}")
    return evaluation.metrics


def predict_run(run_dir: str | Path, sentences: list[str], beam: int | None = None,
                attention_dir: str | None = None) -> tuple[list[Translation], list[Path]]:
    """(translations of `sentences` in order, a blank sentence giving a blank one; the
    heat-map PNGs written to `attention_dir`, one per sentence, when it is given)."""
    check_beam(beam)
    translator = Translator.load(run_dir)
    if attention_dir is not None and translator.config.attention == "none":
        raise UserError(f"{run_dir} was trained with --attention none: it has no attention "
                        "weights to draw; drop --attention")
    kept = [i for i, s in enumerate(sentences) if s.strip()]
    translated = translator.translate([sentences[i] for i in kept], beam)
    results = [Translation(s, "", [], [], None, 0.0) for s in sentences]
    for index, item in zip(kept, translated, strict=True):
        results[index] = item
    maps: list[Path] = []
    if attention_dir is not None:
        folder = Path(attention_dir)
        folder.mkdir(parents=True, exist_ok=True)
        for line, item in zip(kept, translated, strict=True):  # named by input line
            maps.append(plots.attention_map(item.source_tokens, item.tokens, item.attention,
                                            folder / f"attention-{line + 1}.png",
                                            f"line {line + 1}"))
    return results, maps


def check_beam(beam: int | None) -> None:
    """--beam of evaluate / predict, checked before the run is loaded."""
    if beam is not None and beam < 1:
        raise UserError(f"--beam must be at least 1; got {beam}")
