"""SentimentConfig: every option of a sentiment run, validated once at the boundary."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rnnlab import store
from rnnlab.config import SCHEDULE_HELP, SCHEDULES, JobConfig, TrainConfig, option
from rnnlab.errors import UserError
from rnnlab.models.heads import POOLINGS

CELLS = ("lstm", "gru", "rnn")
# The sentiment job's training defaults: a few epochs of larger batches, early stopping on AUC.
TRAIN_DEFAULTS = TrainConfig(epochs=10, patience=3, batch_size=64, lr=2e-3, clip=1.0)
D, M, B = "Data", "Model", "Baselines"  # --help panels


def pretrained_kind(path: str) -> str:
    """What `--pretrained` names: "classifier" (a run of `rnnlab sentiment fit`) or
    "language_model" (a run of `rnnlab lm fit`); UserError for any other folder."""
    kinds = {"sentiment": "classifier", "lm": "language_model"}
    try:
        job = store.describe(Path(path))["job"]
        found = f"it is a {job} run"
    except UserError as exc:
        job, found = None, str(exc)
    if job not in kinds:
        raise UserError(f"--pretrained {path} is not a run folder of `rnnlab lm fit` or "
                        f"`rnnlab sentiment fit` ({found}); pretrain one first")
    return kinds[job]


@dataclass(frozen=True)
class SentimentConfig(JobConfig):
    """Options of `rnnlab sentiment fit`: each field is the option `--field-name`, with this
    default and help (rnnlab.cli_common.config_options)."""

    # -- data ------------------------------------------------------------------------------
    data: str = option("rt-polarity-demo", "Table (CSV/TSV/JSONL), class folders (`pos/*.txt`, "
                       "`neg/*.txt`; optionally under train/ and test/), line files a.pos,b.neg, "
                       "or a bundled name.", D)
    test: str | None = option(None, "Separate test data in the same layout (default: the data's "
                              "own test split, else --test-size).", D)
    text_col: str = option("text", "Text column of a table.", D)
    label_col: str = option("label", "Label column (strings or ints, 2+ classes).", D)
    encoding: str = option("utf-8", "Encoding of the input files (e.g. cp1252).", D)
    test_size: float = option(0.2, "Held-out test fraction when the data has no test split "
                              "(stratified).", D, low=0.01, high=0.9)
    val_size: float = option(0.1, "Validation fraction of the training texts (early "
                             "stopping).", D, low=0.01, high=0.5)
    train_examples: int | None = option(None, "Use only this many labelled training texts "
                                        "(validation included).", D, low=4)
    tokenizer: str = option("word", "word | bpe (fitted on the training texts only).", D)
    min_freq: int = option(2, "Occurrences a word needs to enter the vocabulary.", D, low=1)
    max_vocab: int | None = option(30000, "Largest word vocabulary (0: no limit).", D,
                                   zero_is_none=True, low=3)
    bpe_vocab: int = option(8000, "Subword vocabulary size with --tokenizer bpe.", D, low=100)
    max_len: int | None = option(400, "Tokens kept per text (0: all).", D, zero_is_none=True, low=1)
    keep: str = option("head", "head | tail | both: the tokens a long text keeps.", D)
    # -- model ---------------------------------------------------------------------------
    model: str = option("lstm", "lstm | gru | rnn.", M)
    embed: int = option(128, "Embedding width.", M, low=1)
    hidden: int = option(128, "Hidden units per direction and layer.", M, low=1)
    layers: int = option(1, "Stacked layers.", M, low=1)
    bidirectional: bool = option(True, "Read the text both ways.", M,
                                 flags=("--bidirectional/--unidirectional",))
    backward: bool = option(False, "Read every text last word first (with --unidirectional; a "
                            "--pretrained model takes its language model's direction).", M)
    dropout: float = option(0.3, "Dropout between layers and before the classifier.", M,
                            low=0.0, high=0.95)
    embed_dropout: float = option(0.1, "Share of word types dropped per batch.", M,
                                  low=0.0, high=0.95)
    input_dropout: float = option(0.1, "Dropout on the embedded words.", M, low=0.0, high=0.95)
    weight_drop: float = option(0.0, "DropConnect on the hidden-to-hidden weights.", M,
                                low=0.0, high=0.95)
    pooling: str = option("maxmean", "last | maxmean | concat (last + max + mean).", M)
    head_hidden: int = option(0, "Units of a dense layer before the output (0: none).", M, low=0)
    pretrained: str | None = option(None, "Run folder of `rnnlab lm fit` (start from its "
                                    "embedding and encoder) or of `rnnlab sentiment fit` (also "
                                    "its head when the classes match).", M)
    lr_decay: float = option(2.6, "With --pretrained: each lower layer group learns lr / this.",
                             M, low=1.0)
    unfreeze: bool = option(True, "With --pretrained: unfreeze one more layer group per "
                            "epoch.", M)
    schedule: str = option("constant", SCHEDULE_HELP, "Training")
    # -- baselines -----------------------------------------------------------------------
    vader_threshold: float = option(0.0, "VADER compound >= this -> positive.", B)
    tfidf_ngrams: int = option(2, "TF-IDF word n-grams 1..N.", B, low=1, high=3)
    tfidf_c: float = option(4.0, "Logistic regression C (inverse regularisation).", B)
    train: TrainConfig = field(default_factory=lambda: TRAIN_DEFAULTS)

    def validate(self) -> None:
        """Raise UserError for options that cannot work whatever the data."""
        self.check_ranges()
        if self.tfidf_c <= 0:
            raise UserError(f"--tfidf-c must be > 0; got {self.tfidf_c}")
        choices = {"tokenizer": ("word", "bpe"), "keep": ("head", "tail", "both"),
                   "model": CELLS, "pooling": POOLINGS, "schedule": SCHEDULES}
        self.check_choices(choices)
        if not self.text_col or not self.label_col:
            raise UserError("--text-col and --label-col must name columns of the table")
        if self.pretrained is not None:
            pretrained_kind(self.pretrained)
        if self.backward and self.bidirectional and not self.pretrained:
            raise UserError("--backward with a bidirectional network: it already reads both "
                            "ways; add --unidirectional")
        self.train.validate()

    @property
    def network_name(self) -> str:
        """Row name of the network in the tables: bilstm, gru, lstm_backward, ...
        (pretrained_lstm with --pretrained)."""
        name = ("bi" if self.bidirectional else "") + self.model + \
            ("_backward" if self.backward else "")
        return f"pretrained_{name}" if self.pretrained else name
