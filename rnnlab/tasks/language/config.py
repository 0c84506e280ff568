"""LanguageModelConfig: every option of `rnnlab lm fit` (alias `lm pretrain`), validated at the
boundary."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rnnlab import store
from rnnlab.config import SCHEDULE_HELP, SCHEDULES, JobConfig, TrainConfig, option
from rnnlab.errors import UserError

CELLS = ("lstm", "gru", "rnn")
LEVELS = ("char", "word", "bpe")
# The language model's training defaults: AWD-LSTM-style clipping at 0.25, short patience.
TRAIN_DEFAULTS = TrainConfig(epochs=10, patience=2, batch_size=32, lr=2e-3, clip=0.25)
D, M = "Data", "Model"  # --help panels
# Options a run started from `--init` takes from that language model, not from the command line.
INHERITED = ("embed", "hidden", "layers", "bidirectional", "dropout", "weight_drop",
             "embed_dropout", "input_dropout", "output_dropout", "tie")


def require_lm_run(path: str | None, flag: str) -> None:
    """UserError unless `path` is None or a run folder written by `rnnlab lm fit`."""
    if path is None:
        return
    try:
        store.model_dir(path, "lm")
    except UserError as exc:
        raise UserError(f"{flag} {path} is not a run folder of `rnnlab lm fit` ({exc}); "
                        "fit one first") from None


@dataclass(frozen=True)
class LanguageModelConfig(JobConfig):
    """Options of `rnnlab lm fit`: each field is the option `--field-name`, with this
    default and help (rnnlab.cli_common.config_options)."""

    # -- data ------------------------------------------------------------------------------
    data: str = option("rt-polarity-demo", "Text file (one document per line), table with "
                       "--text-col, folder of .txt files, a,b files, or a bundled name.", D)
    text_col: str = option("text", "Text column of a table.", D)
    encoding: str = option("utf-8", "Encoding of the input files (e.g. cp1252).", D)
    val_size: float = option(0.05, "Share of documents held out for validation.", D,
                             low=0.001, high=0.5)
    max_docs: int | None = option(None, "Use only the first N documents.", D, low=2)
    level: str = option("word", "char | word | bpe: the unit modelled. char keeps the text "
                        "exactly as it is (layout, case, unicode) and holds out its last "
                        "--val-size share; word and bpe hold out whole documents. The "
                        "vocabulary is fitted on the training part only.", D,
                        flags=("--level", "--tokenizer"))
    min_freq: int = option(2, "Occurrences a word needs to enter the vocabulary.", D, low=1)
    max_vocab: int | None = option(20000, "Largest vocabulary (0: no limit).", D,
                                   zero_is_none=True, low=4)
    bpe_vocab: int = option(8000, "Subword vocabulary size with --tokenizer bpe.", D, low=100)
    # -- model ---------------------------------------------------------------------------
    model: str = option("lstm", "lstm | gru | rnn.", M)
    embed: int = option(128, "Embedding width (= softmax width when tied).", M, low=1)
    hidden: int = option(256, "Hidden units per layer.", M, low=1)
    layers: int = option(1, "Stacked layers.", M, low=1)
    bidirectional: bool = option(False, "Also train a backward model (one layer): pretrains "
                                 "both directions of a BiLSTM.", M)
    backward: bool = option(False, "Read every document last word first (ULMFiT's backward "
                            "model, for a forward + backward ensemble of classifiers).", M)
    dropout: float = option(0.1, "Dropout between stacked layers.", M, low=0.0, high=0.95)
    weight_drop: float = option(0.2, "DropConnect on hidden-to-hidden weights (AWD-LSTM).", M,
                                low=0.0, high=0.95)
    embed_dropout: float = option(0.05, "Share of word types dropped per batch.", M,
                                  low=0.0, high=0.95)
    input_dropout: float = option(0.1, "Dropout on the embedded words.", M, low=0.0, high=0.95)
    output_dropout: float = option(0.2, "Dropout before the softmax.", M, low=0.0, high=0.95)
    tie: bool = option(True, "Tie the softmax to the embedding.", M)
    bptt: int = option(70, "Steps per truncated-BPTT chunk.", M, low=2)
    sampled_softmax: int = option(0, "Train the softmax on the batch's targets plus N sampled "
                                  "words (0: full vocabulary; validation is always full).", M,
                                  low=0)
    epoch_tokens: int | None = option(None, "Validate and checkpoint every N training tokens, "
                                      "going on round the stream (0: once per pass).", M,
                                      zero_is_none=True, low=1)
    schedule: str = option("constant", SCHEDULE_HELP, "Training")
    init: str | None = option(None, "Run folder of an earlier `lm fit`: go on training it "
                              "on these texts (ULMFiT's LM fine-tuning); its vocabulary, "
                              "architecture and dropouts are kept.", M)
    train: TrainConfig = field(default_factory=lambda: TRAIN_DEFAULTS)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> LanguageModelConfig:
        """Runs written before `--level` saved the unit as `tokenizer`."""
        if "tokenizer" in values and "level" not in values:
            values = {**values, "level": values["tokenizer"]}
        return super().from_dict(values)

    def architecture(self) -> dict[str, Any]:
        """Keyword arguments of `WordLanguageModel` (besides the vocabulary size)."""
        return {"embed": self.embed, "hidden": self.hidden, "layers": self.layers,
                "cell": self.model, "dropout": self.dropout, "weight_drop": self.weight_drop,
                "embed_dropout": self.embed_dropout, "input_dropout": self.input_dropout,
                "output_dropout": self.output_dropout, "tie": self.tie,
                "bidirectional": self.bidirectional}

    def continued_from(self, state: dict[str, Any]) -> LanguageModelConfig:
        """This config with the architecture and tokenizer kind of the language model whose
        saved `state` (language_model.json) it goes on training."""
        arch = state["architecture"]
        return self.replace(model=arch["cell"], level=state["tokenizer"]["kind"],
                            backward=state["config"]["backward"],
                            **{name: arch[name] for name in INHERITED})

    def validate(self) -> None:
        """Raise UserError for options that cannot work whatever the data."""
        require_lm_run(self.init, "--init")
        self.check_ranges()
        self.check_choices({"schedule": SCHEDULES, "level": LEVELS,
                            "model": CELLS})
        if self.bidirectional and self.backward:
            raise UserError("--backward with --bidirectional: a bidirectional model already "
                            "reads both ways; give one of them")
        if self.level == "char" and self.backward:
            raise UserError("--backward is for word and bpe levels (a backward model of "
                            "documents); a character model reads the text as written")
        if self.bidirectional and self.layers != 1:
            raise UserError(f"--bidirectional needs --layers 1 (got {self.layers}): deeper, each "
                            "fused direction would read the other's view of the future")
        self.train.validate()
