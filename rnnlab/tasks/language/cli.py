"""`rnnlab lm ...`: pretrain a word-level language model for transfer learning."""

from __future__ import annotations

from typing import Annotated, Any

from rnnlab.cli_common import JobCommands, Opt, output_options, run_options, with_options
from rnnlab.tasks.language.config import LanguageModelConfig

commands = JobCommands("lm", LanguageModelConfig)
app = commands.app


@app.command()
@with_options(commands.options, output_options)
def pretrain(**options: Any) -> None:
    """Train a word-level language model on unlabelled text and report its validation
    perplexity beside unigram and Kneser-Ney bigram models; `--batch-size` is the number of
    parallel stream rows.

    Example: rnnlab lm pretrain --data ../shared/data/imdb/train.csv.gz --text-col text
    --epochs 2 --out runs/lm-imdb
    """
    from rnnlab.tasks.language.workflows import pretrain_run

    pretrain_run(commands.config(options), **run_options(options))


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
