"""`rnnlab lm ...`: pretrain a word-level language model for transfer learning."""

from __future__ import annotations

from typing import Annotated, Any

from rnnlab.cli_common import (
    Opt,
    config_from_options,
    config_options,
    new_app,
    output_options,
    run_options,
    with_options,
)
from rnnlab.jobs import get_job
from rnnlab.tasks.language.config import LanguageModelConfig

app = new_app(get_job("lm").help, no_args_is_help=True)
lm_options = config_options(LanguageModelConfig)


def build_config(options: dict[str, Any]) -> LanguageModelConfig:
    """CLI options -> a validated LanguageModelConfig (the shared training options included)."""
    return config_from_options(LanguageModelConfig, dict(options))


@app.command()
@with_options(lm_options, output_options)
def pretrain(**options: Any) -> None:
    """Train a word-level language model on unlabelled text and report its validation
    perplexity beside unigram and Kneser-Ney bigram models; `--batch-size` is the number of
    parallel stream rows.

    Example: rnnlab lm pretrain --data ../shared/data/imdb/train.csv.gz --text-col text
    --epochs 2 --out runs/lm-imdb
    """
    from rnnlab.tasks.language.workflows import pretrain_run

    pretrain_run(build_config(options), **run_options(options))


@app.command()
def evaluate(
    run: Annotated[str, Opt("--run", help="A run folder written by `rnnlab lm pretrain`.")],
    data: Annotated[str, Opt(help="Texts to score (same layouts as pretrain).")],
    text_col: Annotated[str, Opt(help="Text column of a table.")] = "text",
    encoding: Annotated[str, Opt(help="Encoding of the input files.")] = "utf-8",
) -> None:
    """Perplexity of a pretrained language model on other text.

    Example: rnnlab lm evaluate --run runs/lm-demo --data rt-polarity-demo
    """
    from rnnlab.tasks.language.workflows import evaluate_run

    evaluate_run(run, data, text_col, encoding)
