"""`rnnlab explain ...`: seeing inside recurrent networks, for any job's run or none.

Each command only parses its options and calls the module that does the work
(rnnlab/explain/<command>.py and friends), so commands are added here one function each.
"""

from __future__ import annotations

from typing import Annotated

import typer

from rnnlab.cli_common import new_app, split_list

Opt = typer.Option

HELP = ("See inside recurrent networks: gradients through time, embeddings, activations, "
        "token attributions.")
app = new_app(HELP, no_args_is_help=True)

OutDir = Annotated[str | None, Opt(help="Folder to write (default `runs/explain-<what>-<time>`"
                                   ").", rich_help_panel="Output")]
Overwrite = Annotated[bool, Opt("--overwrite", help="Replace --out if it exists.",
                                rich_help_panel="Output")]


@app.command()
def gradients(
    cells: Annotated[str, Opt(help="Cells to compare: rnn, lstm, gru (comma-separated).")
                     ] = "rnn,lstm,gru",
    length: Annotated[int, Opt(help="Time steps of the generated adding problem.")] = 100,
    hidden: Annotated[int, Opt(help="Hidden units of each cell.")] = 32,
    steps: Annotated[int, Opt(help="Adam steps of the short training before the 'trained' "
                              "measurement.")] = 1000,
    radii: Annotated[str, Opt(help="Spectral radii of the Elman RNN's W_hh to sweep.")
                     ] = "0.5,0.9,1,1.5,2",
    clip: Annotated[float, Opt(help="Gradient clipping threshold (total norm) for the "
                               "exploding case.")] = 1.0,
    forget_bias: Annotated[float, Opt(help="LSTM forget-gate bias at initialisation (1 as in "
                                      "Keras; 0 is PyTorch's default).")] = 1.0,
    seed: Annotated[int, Opt(help="Seed of the data and the initial weights.")] = 0,
    out: OutDir = None,
    overwrite: Overwrite = False,
) -> None:
    """Measure vanishing and exploding gradients through time: ||dL/dh_(T-d)|| against the
    distance d for each cell, at initialisation and after a short training, the Elman RNN's
    spectral-radius sweep and gradient clipping; writes PNGs, report.html and gradients.json.

    Example: rnnlab explain gradients --cells rnn,lstm,gru --length 100 --out runs/gradients
    """
    from rnnlab.explain.gradient_report import gradients_run
    from rnnlab.explain.gradients import GradientConfig

    cfg = GradientConfig(cells=split_list(cells, "--cells"), length=length, hidden=hidden,
                         steps=steps, radii=split_list(radii, "--radii", float), clip=clip,
                         forget_bias=forget_bias, seed=seed)
    gradients_run(cfg, out, overwrite)


@app.command()
def embeddings(
    run: Annotated[str, Opt(help="A language-model or sentiment run folder.")],
    words: Annotated[str | None, Opt(help="Tokens to show the neighbours of (comma-separated; "
                                     "default: the most frequent).")] = None,
    top: Annotated[int, Opt(help="Neighbours per token.")] = 10,
    limit: Annotated[int, Opt(help="The map shows this many most frequent tokens (plus the "
                              "words and their neighbours).")] = 300,
    seed: Annotated[int, Opt(help="Seed of the t-SNE map.")] = 0,
    out: Annotated[str | None, Opt(help="Also write embeddings.json, the t-SNE map and "
                                   "report.html to this folder.", rich_help_panel="Output")
                   ] = None,
    overwrite: Overwrite = False,
) -> None:
    """Nearest tokens by cosine similarity in a model's embedding table, and (with --out) a
    2-D t-SNE map of it; for language-model and sentiment runs.

    Example: rnnlab explain embeddings --run runs/lm-demo --words film,good,bad --out runs/emb
    """
    from rnnlab.explain.embeddings import embeddings_run

    embeddings_run(run, list(split_list(words, "--words")), top, limit, seed, out, overwrite)


@app.command()
def activations(
    run: Annotated[str, Opt(help="A character-level language-model run (`rnnlab lm fit "
                            "--level char`).")],
    text: Annotated[str, Opt(help="A text file to run the model over (at most 5,000 "
                             "characters).")],
    units: Annotated[str | None, Opt(help="Units to draw, e.g. 0,5,17 (default: the best by "
                                     "--find, else the first six).")] = None,
    find: Annotated[str | None, Opt(help="Rank units by correlation with a signal: quotes, "
                                    "line-position or regex:PATTERN.")] = None,
    layer: Annotated[int, Opt(help="Layer to draw (0 is the first; -1 the last).")] = -1,
    out: OutDir = None,
    overwrite: Overwrite = False,
) -> None:
    """Per-character activations of chosen hidden / cell units and of the gates of a trained
    character model, as an HTML heat-map with the model's next-character guesses; `--find`
    ranks units by how well they track quotes, line position or a regex.

    Example: rnnlab explain activations --run runs/lm-char --text scene.txt --find quotes
    --out runs/activations
    """
    from rnnlab.explain.activation_report import activations_run

    activations_run(run, text, tuple(split_list(units, "--units", int)), find, layer, out,
                    overwrite)


@app.command()
def tokens(
    run: Annotated[str, Opt("--run", help="A run folder written by `rnnlab sentiment fit`.")],
    text: Annotated[str, typer.Argument(help="The text to explain.")],
    method: Annotated[str, Opt(help="ig (integrated gradients) | occlusion.")] = "ig",
    out: Annotated[str | None, Opt(help="Also write the coloured text to this HTML file.")
                   ] = None,
    overwrite: Overwrite = False,
) -> None:
    """How much each token pushed a sentiment prediction (red: towards the negative class,
    green: towards the positive one); the same as `rnnlab sentiment explain`.

    Example: rnnlab explain tokens --run runs/sentiment-demo "not bad at all, a fine film"
    """
    from rnnlab.tasks.sentiment.explain import explain_run

    explain_run(run, text, method, out, overwrite)
