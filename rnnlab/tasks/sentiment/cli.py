"""`rnnlab sentiment ...`: thin commands that build a SentimentConfig and call the API."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from rnnlab.cli_common import (
    Opt,
    Schedule,
    new_app,
    output_options,
    split_list,
    train_config,
    train_options,
    with_options,
)
from rnnlab.config import TrainConfig
from rnnlab.errors import UserError
from rnnlab.tasks.sentiment.config import SentimentConfig

app = new_app("Classify the sentiment of texts with recurrent networks, beside VADER and "
              "TF-IDF + logistic regression; transfer from a pretrained language model.",
              no_args_is_help=True)

TRAIN_DEFAULTS = TrainConfig(epochs=10, patience=3, batch_size=64, lr=2e-3, clip=1.0)
D, M, B = "Data", "Model", "Baselines"


def data_options(
    *,
    data: Annotated[str, Opt(help="Table (CSV/TSV/JSONL), class folders (`pos/*.txt`, `neg/*.txt`; "
                             "optionally under train/ and test/), line files a.pos,b.neg, or a "
                             "bundled name.", rich_help_panel=D)] = "rt-polarity-demo",
    test: Annotated[str | None, Opt(help="Separate test data in the same layout (default: the "
                                    "data's own test split, else --test-size).",
                                    rich_help_panel=D)] = None,
    text_col: Annotated[str, Opt(help="Text column of a table.", rich_help_panel=D)] = "text",
    label_col: Annotated[str, Opt(help="Label column (strings or ints, 2+ classes).",
                                  rich_help_panel=D)] = "label",
    encoding: Annotated[str, Opt(help="Encoding of the input files (e.g. cp1252).",
                                 rich_help_panel=D)] = "utf-8",
    test_size: Annotated[float, Opt(help="Held-out test fraction when the data has no test "
                                    "split (stratified).", rich_help_panel=D)] = 0.2,
    val_size: Annotated[float, Opt(help="Validation fraction of the training texts (early "
                                   "stopping).", rich_help_panel=D)] = 0.1,
    train_examples: Annotated[int | None, Opt(help="Use only this many labelled training texts "
                                              "(validation included).", rich_help_panel=D)
                              ] = None,
    tokenizer: Annotated[str, Opt(help="word | bpe (fitted on the training texts only).",
                                  rich_help_panel=D)] = "word",
    min_freq: Annotated[int, Opt(help="Occurrences a word needs to enter the vocabulary.",
                                 rich_help_panel=D)] = 2,
    max_vocab: Annotated[int, Opt(help="Largest word vocabulary (0: no limit).",
                                  rich_help_panel=D)] = 30000,
    bpe_vocab: Annotated[int, Opt(help="Subword vocabulary size with --tokenizer bpe.",
                                  rich_help_panel=D)] = 8000,
    max_len: Annotated[int, Opt(help="Tokens kept per text (0: all).", rich_help_panel=D)] = 400,
    keep: Annotated[str, Opt(help="head | tail | both: the tokens a long text keeps.",
                             rich_help_panel=D)] = "head",
) -> None:
    """Parameters only: how the labelled texts are read, split and tokenized."""


def model_options(
    *,
    model: Annotated[str, Opt(help="lstm | gru | rnn.", rich_help_panel=M)] = "lstm",
    embed: Annotated[int, Opt(help="Embedding width.", rich_help_panel=M)] = 128,
    hidden: Annotated[int, Opt(help="Hidden units per direction and layer.",
                               rich_help_panel=M)] = 128,
    layers: Annotated[int, Opt(help="Stacked layers.", rich_help_panel=M)] = 1,
    bidirectional: Annotated[bool, Opt("--bidirectional/--unidirectional",
                                       help="Read the text both ways.", rich_help_panel=M)
                             ] = True,
    backward: Annotated[bool, Opt("--backward", help="Read every text last word first (with "
                                  "--unidirectional; a --pretrained model takes its language "
                                  "model's direction).", rich_help_panel=M)] = False,
    dropout: Annotated[float, Opt(help="Dropout between layers and before the classifier.",
                                  rich_help_panel=M)] = 0.3,
    embed_dropout: Annotated[float, Opt(help="Share of word types dropped per batch.",
                                        rich_help_panel=M)] = 0.1,
    input_dropout: Annotated[float, Opt(help="Dropout on the embedded words.",
                                        rich_help_panel=M)] = 0.1,
    weight_drop: Annotated[float, Opt(help="DropConnect on the hidden-to-hidden weights.",
                                      rich_help_panel=M)] = 0.0,
    pooling: Annotated[str, Opt(help="last | maxmean | concat (last + max + mean).",
                                rich_help_panel=M)] = "maxmean",
    head_hidden: Annotated[int, Opt(help="Units of a dense layer before the output (0: none).",
                                    rich_help_panel=M)] = 0,
    pretrained: Annotated[str | None, Opt(help="Run folder of `rnnlab lm pretrain` (start from "
                                          "its embedding and encoder) or of `rnnlab sentiment "
                                          "fit` (also its head when the classes match).",
                                          rich_help_panel=M)] = None,
    lr_decay: Annotated[float, Opt(help="With --pretrained: each lower layer group learns "
                                   "lr / this.", rich_help_panel=M)] = 2.6,
    unfreeze: Annotated[bool, Opt("--unfreeze/--no-unfreeze", help="With --pretrained: "
                                  "unfreeze one more layer group per epoch.",
                                  rich_help_panel=M)] = True,
    schedule: Schedule = "constant",
    vader_threshold: Annotated[float, Opt(help="VADER compound >= this -> positive.",
                                          rich_help_panel=B)] = 0.0,
    tfidf_ngrams: Annotated[int, Opt(help="TF-IDF word n-grams 1..N.", rich_help_panel=B)] = 2,
    tfidf_c: Annotated[float, Opt(help="Logistic regression C (inverse regularisation).",
                                  rich_help_panel=B)] = 4.0,
) -> None:
    """Parameters only: the network and the baselines."""


def build_config(options: dict[str, Any]) -> SentimentConfig:
    """CLI options -> a validated SentimentConfig (the shared training options included)."""
    train = train_config(options, TRAIN_DEFAULTS)
    for key in ("out", "overwrite"):
        options.pop(key, None)
    options["max_vocab"] = options["max_vocab"] or None
    options["max_len"] = options["max_len"] or None
    config = SentimentConfig(train=train, **options)
    config.validate()
    return config


@app.command()
@with_options(data_options, model_options, train_options, output_options)
def fit(**options: Any) -> None:
    """Train a recurrent classifier, score it beside VADER and TF-IDF + LR on the same test
    texts, write a run folder (metrics.json, ROC / PR / confusion plots, report.html).

    Example: rnnlab sentiment fit --data rt-polarity-demo --epochs 5 --out runs/sentiment-demo
    """
    from rnnlab.tasks.sentiment.workflows import fit_run

    fit_run(build_config(dict(options)), options["out"], options["overwrite"])


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


def _read_texts(texts: list[str] | None, file: str | None, encoding: str) -> list[str]:
    if texts:
        return list(texts)
    if file is not None:
        from rnnlab.data.io import read_text

        return [line for line in read_text(file, encoding).split("\n") if line.strip()]
    if sys.stdin is not None and not sys.stdin.isatty():
        return [line for line in sys.stdin.read().split("\n") if line.strip()]
    return []


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

    results = predict_texts(run, _read_texts(texts, file, encoding))
    for result in results:
        if as_json:
            print(json.dumps(result, ensure_ascii=False))
        else:
            shown = result["text"] if len(result["text"]) <= 70 else result["text"][:67] + "..."
            print(f"{result['label']}\t{result['probability']:.3f}\t{shown}")


@app.command("label-curve")
@with_options(data_options, model_options, train_options, output_options)
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

    values = [None if s.lower() == "all" else s for s in split_list(sizes, "--sizes")]
    try:
        counts = [None if v is None else int(v) for v in values]
    except ValueError:
        raise UserError(f"--sizes takes numbers or 'all', e.g. 100,500,all; got {sizes!r}"
                        ) from None
    label_curve_run(build_config(dict(options)), counts, options["out"], options["overwrite"])


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
    from rnnlab.explain.attribution import explain_run

    explain_run(run, text, method, out, overwrite)
