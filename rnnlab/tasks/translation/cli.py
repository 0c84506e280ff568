"""`rnnlab translate ...`: fit an encoder-decoder, score it on other pairs, translate."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from rnnlab.cli_common import JobCommands, Opt, output_options, run_options, with_options
from rnnlab.tasks.translation.config import TranslationConfig

commands = JobCommands("translate", TranslationConfig)
app = commands.app
Run = Annotated[str, Opt("--run", help="A run folder written by `rnnlab translate fit`.")]
Beam = Annotated[int | None, Opt(help="Beam width (1: greedy); default: the run's --beam.")]


@app.command()
@with_options(commands.options, output_options)
def fit(**options: Any) -> None:
    """Train an encoder-decoder (bidirectional GRU / LSTM encoder, attention decoder) on
    sentence pairs and report test BLEU, chrF and perplexity beside copying the source (and
    the same model without attention with --baseline-no-attention).

    Example: rnnlab translate fit --src train.de.gz --tgt train.en.gz --val val.de.gz,val.en.gz
    --test test.de.gz,test.en.gz --attention bahdanau --epochs 10 --out runs/de-en
    """
    from rnnlab.tasks.translation.workflows import fit_run

    fit_run(commands.config(options), **run_options(options))


@app.command()
def evaluate(
    run: Run,
    data: Annotated[str, Opt(help="Pairs to score: a table or SRC,TGT line-aligned files.")],
    src_col: Annotated[str | None, Opt(help="Source column of a table.")] = None,
    tgt_col: Annotated[str | None, Opt(help="Target column of a table.")] = None,
    encoding: Annotated[str, Opt(help="Encoding of the files.")] = "utf-8",
    beam: Beam = None,
) -> None:
    """Corpus BLEU, chrF (sacrebleu) and perplexity of a run's model on other pairs, beside
    copying the source.

    Example: rnnlab translate evaluate --run runs/de-en --data test.de.gz,test.en.gz
    """
    from rnnlab.tasks.translation.workflows import evaluate_run

    evaluate_run(run, data, src_col, tgt_col, encoding, beam)


def _read_sentences(sentences: list[str] | None, file: str | None, encoding: str) -> list[str]:
    """Arguments, the lines of --file, or the lines of stdin (a final newline ends the last
    line; it does not add an empty one)."""
    if sentences:
        return list(sentences)
    if file is not None:
        from rnnlab.data.io import read_text

        text = read_text(file, encoding)
    elif sys.stdin is not None and not sys.stdin.isatty():
        text = sys.stdin.read()
    else:
        return []
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    return lines[:-1] if lines and lines[-1] == "" else lines


@app.command()
def predict(
    run: Run,
    sentences: Annotated[list[str] | None, typer.Argument(help="Sentences to translate.")]
    = None,
    file: Annotated[str | None, Opt(help="Translate each line of this file.")] = None,
    encoding: Annotated[str, Opt(help="Encoding of --file.")] = "utf-8",
    beam: Beam = None,
    attention: Annotated[str | None, Opt(help="Write an attention heat-map PNG per sentence "
                                         "into this folder.")] = None,
    as_json: Annotated[bool, Opt("--json", help="One JSON object per line (translation, "
                                 "tokens, log-probability).")] = False,
) -> None:
    """Translate sentences (arguments, --file, or stdin): one line out per line in, in order.

    Example: rnnlab translate predict --run runs/de-en "Ein Hund rennt durch den Schnee."
    --attention maps/
    """
    from rnnlab.errors import UserError
    from rnnlab.tasks.translation.workflows import predict_run

    lines = _read_sentences(sentences, file, encoding)
    if not lines:
        raise UserError("nothing to translate: give sentences as arguments, --file FILE, or "
                        "lines on stdin")
    results, maps = predict_run(run, lines, beam, attention)
    for item in results:
        if as_json:
            print(json.dumps({"source": item.source, "translation": item.text,
                              "tokens": item.tokens, "logprob": item.logprob},
                             ensure_ascii=False))
        else:
            print(item.text)
    for path in maps:
        print(f"attention heat-map: {path}", file=sys.stderr)
