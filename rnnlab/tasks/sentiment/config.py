"""SentimentConfig: every option of a sentiment run, validated once at the boundary."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from rnnlab.config import SCHEDULES, TrainConfig
from rnnlab.errors import UserError, check_range
from rnnlab.models.heads import POOLINGS
from rnnlab.models.lm import LM_FILE

CELLS = ("lstm", "gru", "rnn")
CLASSIFIER_FILE = "classifier.json"  # in model/ of every `rnnlab sentiment fit` run


def pretrained_kind(path: str) -> str:
    """What `--pretrained` names: "classifier" (a run of `rnnlab sentiment fit`) or
    "language_model" (a run of `rnnlab lm pretrain`); UserError for any other folder."""
    model = Path(path) / "model"
    if (model / CLASSIFIER_FILE).is_file():
        return "classifier"
    if (model / LM_FILE).is_file():
        return "language_model"
    raise UserError(f"--pretrained {path} is not a run folder of `rnnlab lm pretrain` or "
                    f"`rnnlab sentiment fit` (no model/{LM_FILE} or model/{CLASSIFIER_FILE} "
                    "inside); pretrain one first")


@dataclass(frozen=True)
class SentimentConfig:
    """Options of `rnnlab sentiment fit` (the CLI flag of each field is `--field-name`)."""

    data: str = "rt-polarity-demo"  # table, folder, "a.pos,b.neg" line files, or bundled name
    test: str | None = None  # separate test data (same layout); default: the data's own split
    text_col: str = "text"  # tables only
    label_col: str = "label"
    encoding: str = "utf-8"  # of every input file (cp1252 for rt-polarity)
    test_size: float = 0.2  # when the data has no test split: fraction held out (stratified)
    val_size: float = 0.1  # fraction of the training texts used for early stopping
    train_examples: int | None = None  # use only this many labelled training texts (+ val)
    tokenizer: str = "word"  # word | bpe (fitted on the training texts only)
    min_freq: int = 2  # word / merge frequency needed to enter the vocabulary
    max_vocab: int | None = 30000  # word vocabulary size (with <pad>, <unk>)
    bpe_vocab: int = 8000  # subword vocabulary size
    max_len: int | None = 400  # tokens kept per text
    keep: str = "head"  # head | tail | both: which tokens a truncated text keeps
    model: str = "lstm"  # lstm | gru | rnn
    embed: int = 128
    hidden: int = 128
    layers: int = 1
    bidirectional: bool = True
    backward: bool = False  # read every text last word first (set by a backward --pretrained)
    dropout: float = 0.3  # between layers and before the classifier
    embed_dropout: float = 0.1  # share of word types dropped per batch (whole words)
    input_dropout: float = 0.1  # on the embedded inputs
    weight_drop: float = 0.0  # DropConnect on the hidden-to-hidden weights
    pooling: str = "maxmean"  # last | maxmean | concat
    head_hidden: int = 0  # units of an extra dense layer in the head (0: none)
    pretrained: str | None = None  # run folder of `rnnlab lm pretrain` or `sentiment fit`
    lr_decay: float = 2.6  # discriminative LRs: each lower layer group gets lr / lr_decay
    unfreeze: bool = True  # gradual unfreezing (one more layer group per epoch)
    schedule: str = "constant"  # constant | slanted (ULMFiT's slanted triangular rates)
    vader_threshold: float = 0.0  # VADER compound >= threshold -> positive
    tfidf_ngrams: int = 2  # TF-IDF word n-grams 1..n
    tfidf_c: float = 4.0  # inverse regularisation strength of the logistic regression
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> SentimentConfig:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in values.items() if k in known}
        train = TrainConfig(**values.pop("train", {}))
        return cls(train=train, **values)

    def replace(self, **changes: Any) -> SentimentConfig:
        return replace(self, **changes)

    def validate(self) -> None:
        """Raise UserError for options that cannot work whatever the data."""
        check_range(self.test_size, "--test-size", 0.01, 0.9)
        check_range(self.val_size, "--val-size", 0.01, 0.5)
        check_range(self.min_freq, "--min-freq", 1)
        check_range(self.bpe_vocab, "--bpe-vocab", 100)
        check_range(self.embed, "--embed", 1)
        check_range(self.hidden, "--hidden", 1)
        check_range(self.layers, "--layers", 1)
        check_range(self.head_hidden, "--head-hidden", 0)
        check_range(self.tfidf_ngrams, "--tfidf-ngrams", 1, 3)
        check_range(self.lr_decay, "--lr-decay", 1.0)
        for name in ("dropout", "embed_dropout", "input_dropout", "weight_drop"):
            check_range(getattr(self, name), "--" + name.replace("_", "-"), 0.0, 0.95)
        if self.max_vocab is not None:
            check_range(self.max_vocab, "--max-vocab", 3)
        if self.max_len is not None:
            check_range(self.max_len, "--max-len", 1)
        if self.train_examples is not None:
            check_range(self.train_examples, "--train-examples", 4)
        if self.tfidf_c <= 0:
            raise UserError(f"--tfidf-c must be > 0; got {self.tfidf_c}")
        choices = {"tokenizer": ("word", "bpe"), "keep": ("head", "tail", "both"),
                   "model": CELLS, "pooling": POOLINGS, "schedule": SCHEDULES}
        for name, allowed in choices.items():
            value = getattr(self, name)
            if value not in allowed:
                flag = "--" + name.replace("_", "-")
                raise UserError(f"{flag} must be one of {', '.join(allowed)}; got {value!r}")
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
