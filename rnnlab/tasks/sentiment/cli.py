"""`rnnlab sentiment ...`: thin commands that build a SentimentConfig and call the API."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from rnnlab.cli_common import (
    JobCommands,
    Opt,
    output_options,
    run_options,
    split_list,
    with_options,
)
from rnnlab.errors import UserError
from rnnlab.tasks.sentiment.config import SentimentConfig

commands = JobCommands("sentiment", SentimentConfig)
app = commands.app


@app.command()
@with_options(commands.options, output_options)
def fit(**options: Any) -> None:
    """Train a recurrent classifier, score it beside VADER and TF-IDF + LR on the same test
    texts, write a run folder (metrics.json, ROC / PR / confusion plots, report.html).

    Example: rnnlab sentiment fit --data rt-polarity-demo --epochs 5 --out runs/sentiment-demo
    """
    from rnnlab.tasks.sentiment.workflows import fit_run

    fit_run(commands.config(options), **run_options(options))


RunDir = Annotated[str, Opt("--run", help="A run folder written by `rnnlab sentiment fit`.")]
RunDirs = Annotated[list[str], Opt("--run", metavar="DIR", help="A run folder written by "
                                   "`rnnlab sentiment fit`; repeat it for an ensemble (mean "
                                   "probability).")]


@app.command()
def evaluate(
    run: RunDirs,
    data: Annotated[str | None, Opt(help="Score on this data's test split instead.")] = None,
    test: Annotated[str | None, Opt(help="Score on this test data instead.")] = None,
) -> None:
    """Score a trained run and the baselines on the test split of its data (or of --data).
    With several runs (same data and split), also their ensemble: the mean of their class
    probabilities, e.g. a forward and a backward fine-tuned model as in ULMFiT.

    Example: rnnlab sentiment evaluate --run runs/sentiment-demo [--run runs/other-model]
    """
    from rnnlab.tasks.sentiment.workflows import evaluate_run

    evaluate_run(run, data, test)


def _read_texts(texts: list[str] | None, file: str | None, encoding: str
                ) -> tuple[list[str], list[str]]:
    """The texts and where each came from ("text argument 2", "line 5 of FILE"); blank lines
    of a file or stdin are skipped, as in line files."""
    if texts:
        return list(texts), [f"text argument {i}" for i in range(1, len(texts) + 1)]
    if file is not None:
        from rnnlab.data.io import read_text

        return _lines(read_text(file, encoding), file)
    if sys.stdin is not None and not sys.stdin.isatty():
        return _lines(sys.stdin.read(), "stdin")
    return [], []


def _lines(text: str, source: str) -> tuple[list[str], list[str]]:
    numbered = [(n, line) for n, line in enumerate(text.split("\n"), 1) if line.strip()]
    return [line for _, line in numbered], [f"line {n} of {source}" for n, _ in numbered]


@app.command()
def predict(
    run: RunDirs,
    texts: Annotated[list[str] | None, typer.Argument(help="Texts to classify.")] = None,
    file: Annotated[str | None, Opt(help="Classify each non-blank line of this file.")] = None,
    encoding: Annotated[str, Opt(help="Encoding of --file.")] = "utf-8",
    as_json: Annotated[bool, Opt("--json", help="One JSON object per line.")] = False,
) -> None:
    """Print the label and its probability for each text (arguments, --file, or stdin);
    with several runs, of their mean class probabilities.

    Example: rnnlab sentiment predict --run runs/sentiment-demo "a gripping, moving film"
    """
    from rnnlab.tasks.sentiment.workflows import predict_texts

    results = predict_texts(run, *_read_texts(texts, file, encoding))
    for result in results:
        if as_json:
            print(json.dumps(result, ensure_ascii=False))
        else:
            shown = result["text"] if len(result["text"]) <= 70 else result["text"][:67] + "..."
            print(f"{result['label']}\t{result['probability']:.3f}\t{shown}")


@app.command("label-curve")
@with_options(commands.options, output_options)
def label_curve(
    sizes: Annotated[str, Opt(help="Labelled training examples per point; 'all' = every one.")
                     ] = "100,500,2000,all",
    **options: Any,
) -> None:
    """Accuracy and AUC vs the number of labelled examples, from scratch and (with
    --pretrained) fine-tuned from a language model, beside TF-IDF + LR and VADER.

    Example: rnnlab sentiment label-curve --data rt-polarity-demo --pretrained runs/lm-demo
    --sizes 100,300,all --epochs 5
    """
    from rnnlab.tasks.sentiment.labelcurve import label_curve_run

    label_curve_run(commands.config(options), _sizes(sizes), **run_options(options))


def _sizes(sizes: str) -> list[int | None]:
    """--sizes "100,500,all" -> [100, 500, None]; UserError unless each is 'all' or >= 4."""
    values = [None if s.lower() == "all" else s for s in split_list(sizes, "--sizes")]
    try:
        counts = [None if v is None else int(v) for v in values]
    except ValueError:
        counts = []
    if not counts or any(c is not None and c < 4 for c in counts):
        raise UserError(f"--sizes takes numbers or 'all' (labelled examples, 4 or more each), "
                        f"e.g. 100,500,all; got {sizes!r}")
    return counts


@app.command()
def explain(
    run: RunDir,
    text: Annotated[str, typer.Argument(help="The text to explain.")],
    method: Annotated[str, Opt(help="ig (integrated gradients) | occlusion.")] = "ig",
    out: Annotated[str | None, Opt(help="Also write the coloured text to this HTML file.")
                   ] = None,
    overwrite: Annotated[bool, Opt("--overwrite", help="Replace --out if it exists.")] = False,
) -> None:
    """Show how much each token pushed the prediction (red: towards the negative class,
    green: towards the positive one), in the terminal and optionally as HTML.

    Example: rnnlab sentiment explain --run runs/sentiment-demo "not bad at all, a fine film"
    """
    from rnnlab.tasks.sentiment.explain import explain_run

    explain_run(run, text, method, out, overwrite)
