"""`rnnlab lm ...`: pretrain a word-level language model for transfer learning."""

from __future__ import annotations

from typing import Annotated, Any

from rnnlab.cli_common import (
    Opt,
    Schedule,
    new_app,
    output_options,
    train_config,
    train_options,
    with_options,
)
from rnnlab.config import TrainConfig
from rnnlab.tasks.language.config import LanguageModelConfig

app = new_app("Word-level recurrent language models (truncated BPTT, weight-drop, tied "
              "embeddings), beside unigram and Kneser-Ney bigram baselines.",
              no_args_is_help=True)

TRAIN_DEFAULTS = TrainConfig(epochs=10, patience=2, batch_size=32, lr=2e-3, clip=0.25)
D, M = "Data", "Model"


def lm_options(
    *,
    data: Annotated[str, Opt(help="Text file (one document per line), table with --text-col, "
                             "folder of .txt files, a,b files, or a bundled name.",
                             rich_help_panel=D)] = "rt-polarity-demo",
    text_col: Annotated[str, Opt(help="Text column of a table.", rich_help_panel=D)] = "text",
    encoding: Annotated[str, Opt(help="Encoding of the input files (e.g. cp1252).",
                                 rich_help_panel=D)] = "utf-8",
    val_size: Annotated[float, Opt(help="Share of documents held out for validation.",
                                   rich_help_panel=D)] = 0.05,
    max_docs: Annotated[int | None, Opt(help="Use only the first N documents.",
                                        rich_help_panel=D)] = None,
    tokenizer: Annotated[str, Opt(help="word | bpe.", rich_help_panel=D)] = "word",
    min_freq: Annotated[int, Opt(help="Occurrences a word needs to enter the vocabulary.",
                                 rich_help_panel=D)] = 2,
    max_vocab: Annotated[int, Opt(help="Largest vocabulary (0: no limit).",
                                  rich_help_panel=D)] = 20000,
    bpe_vocab: Annotated[int, Opt(help="Subword vocabulary size with --tokenizer bpe.",
                                  rich_help_panel=D)] = 8000,
    model: Annotated[str, Opt(help="lstm | gru | rnn.", rich_help_panel=M)] = "lstm",
    embed: Annotated[int, Opt(help="Embedding width (= softmax width when tied).",
                              rich_help_panel=M)] = 128,
    hidden: Annotated[int, Opt(help="Hidden units per layer.", rich_help_panel=M)] = 256,
    layers: Annotated[int, Opt(help="Stacked layers.", rich_help_panel=M)] = 1,
    bidirectional: Annotated[bool, Opt("--bidirectional", help="Also train a backward model "
                                       "(one layer): pretrains both directions of a BiLSTM.",
                                       rich_help_panel=M)] = False,
    backward: Annotated[bool, Opt("--backward", help="Read every document last word first "
                                  "(ULMFiT's backward model, for a forward + backward "
                                  "ensemble of classifiers).", rich_help_panel=M)] = False,
    dropout: Annotated[float, Opt(help="Dropout between stacked layers.",
                                  rich_help_panel=M)] = 0.1,
    weight_drop: Annotated[float, Opt(help="DropConnect on hidden-to-hidden weights.",
                                      rich_help_panel=M)] = 0.2,
    embed_dropout: Annotated[float, Opt(help="Share of word types dropped per batch.",
                                        rich_help_panel=M)] = 0.05,
    input_dropout: Annotated[float, Opt(help="Dropout on the embedded words.",
                                        rich_help_panel=M)] = 0.1,
    output_dropout: Annotated[float, Opt(help="Dropout before the softmax.",
                                         rich_help_panel=M)] = 0.2,
    tie: Annotated[bool, Opt("--tie/--no-tie", help="Tie the softmax to the embedding.",
                             rich_help_panel=M)] = True,
    bptt: Annotated[int, Opt(help="Steps per truncated-BPTT chunk.", rich_help_panel=M)] = 70,
    sampled_softmax: Annotated[int, Opt(help="Train the softmax on the batch's targets plus N "
                                        "sampled words (0: full vocabulary; validation is "
                                        "always full).", rich_help_panel=M)] = 0,
    epoch_tokens: Annotated[int, Opt(help="Validate and checkpoint every N training tokens, "
                                     "going on round the stream (0: once per pass).",
                                     rich_help_panel=M)] = 0,
    schedule: Schedule = "constant",
    init: Annotated[str | None, Opt(help="Run folder of an earlier `lm pretrain`: go on training "
                                    "it on these texts (ULMFiT's LM fine-tuning); its "
                                    "vocabulary, architecture and dropouts are kept.",
                                    rich_help_panel=M)] = None,
) -> None:
    """Parameters only: the language-model options."""


def build_config(options: dict[str, Any]) -> LanguageModelConfig:
    train = train_config(options, TRAIN_DEFAULTS)
    for key in ("out", "overwrite"):
        options.pop(key, None)
    options["max_vocab"] = options["max_vocab"] or None
    options["epoch_tokens"] = options["epoch_tokens"] or None
    config = LanguageModelConfig(train=train, **options)
    config.validate()
    return config


@app.command()
@with_options(lm_options, train_options, output_options)
def pretrain(**options: Any) -> None:
    """Train a word-level language model on unlabelled text and report its validation
    perplexity beside unigram and Kneser-Ney bigram models; `--batch-size` is the number of
    parallel stream rows.

    Example: rnnlab lm pretrain --data ../shared/data/imdb/train.csv.gz --text-col text
    --epochs 2 --out runs/lm-imdb
    """
    from rnnlab.tasks.language.workflows import pretrain_run

    pretrain_run(build_config(dict(options)), options["out"], options["overwrite"])


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
