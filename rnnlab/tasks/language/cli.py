"""`rnnlab lm ...`: fit a character / word / subword language model, generate text, score it."""

from __future__ import annotations

from typing import Annotated, Any

from rnnlab.cli_common import JobCommands, Opt, output_options, run_options, with_options
from rnnlab.tasks.language.config import LanguageModelConfig

commands = JobCommands("lm", LanguageModelConfig)
app = commands.app


@app.command()
@with_options(commands.options, output_options)
def fit(**options: Any) -> None:
    """Train a language model of characters, words or subwords (--level) on unlabelled text
    and report its validation loss, bits per token and perplexity beside unigram and
    Kneser-Ney n-gram models, with a generated sample; `--batch-size` is the number of parallel
    stream rows.

    Example: rnnlab lm fit --data tiny-shakespeare --level char --layers 2 --hidden 256
    --epochs 5 --out runs/lm-char
    """
    from rnnlab.tasks.language.workflows import fit_run

    fit_run(commands.config(options), **run_options(options))


@app.command()
@with_options(commands.options, output_options)
def pretrain(**options: Any) -> None:
    """Same as `rnnlab lm fit` (its earlier name, kept so scripts written with it work).

    Example: rnnlab lm pretrain --data ../shared/data/imdb/train.csv.gz --text-col text
    --epochs 2 --out runs/lm-imdb
    """
    from rnnlab.tasks.language.workflows import fit_run

    fit_run(commands.config(options), **run_options(options))


@app.command()
def generate(
    run: Annotated[str, Opt("--run", help="A run folder written by `rnnlab lm fit`.")],
    prompt: Annotated[str, Opt(help="Text to continue (characters the model never saw are "
                               "refused at char level; unknown words read as <unk>).")] = "",
    length: Annotated[int, Opt(help="Tokens to generate (characters at char level).")] = 500,
    temperature: Annotated[float, Opt(help="Softmax temperature; 0 is greedy decoding.")] = 0.8,
    top_k: Annotated[int | None, Opt(help="Draw only from the k most likely tokens.")] = None,
    top_p: Annotated[float | None, Opt(help="Draw only from the smallest set of tokens holding "
                                       "this probability (nucleus sampling).")] = None,
    seed: Annotated[int, Opt(help="Random seed: the same seed gives the same text.")] = 0,
    num_samples: Annotated[int, Opt(help="Independent samples (seeds seed, seed+1, ...).")] = 1,
    json_out: Annotated[bool, Opt("--json", help="Print one JSON document with each sample's "
                                  "text and per-token log-probabilities instead of streaming "
                                  "the text.")] = False,
) -> None:
    """Generate text from a language model, streamed to stdout as it is produced.

    Example: rnnlab lm generate --run runs/lm-char --prompt "ROMEO:" --length 300
    --temperature 0.8 --top-k 40 --seed 1
    """
    from rnnlab.tasks.language.workflows import generate_run

    generate_run(run, prompt, length, temperature, top_k, top_p, seed, num_samples, json_out)


@app.command()
def evaluate(
    run: Annotated[str, Opt("--run", help="A run folder written by `rnnlab lm fit`.")],
    data: Annotated[str, Opt(help="Texts to score (same layouts as fit).")],
    text_col: Annotated[str, Opt(help="Text column of a table.")] = "text",
    encoding: Annotated[str, Opt(help="Encoding of the input files.")] = "utf-8",
) -> None:
    """Perplexity (and bits per token) of a language model on other text.

    Example: rnnlab lm evaluate --run runs/lm-demo --data rt-polarity-demo
    """
    from rnnlab.tasks.language.workflows import evaluate_run

    evaluate_run(run, data, text_col, encoding)
