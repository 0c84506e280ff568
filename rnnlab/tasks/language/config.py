"""LanguageModelConfig: every option of `rnnlab lm pretrain`, validated at the boundary."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from rnnlab import store
from rnnlab.config import SCHEDULE_HELP, SCHEDULES, TrainConfig, option
from rnnlab.errors import UserError, check_range

CELLS = ("lstm", "gru", "rnn")
# The language model's training defaults: AWD-LSTM-style clipping at 0.25, short patience.
TRAIN_DEFAULTS = TrainConfig(epochs=10, patience=2, batch_size=32, lr=2e-3, clip=0.25)
D, M = "Data", "Model"  # --help panels
# Options a run started from `--init` takes from that language model, not from the command line.
INHERITED = ("embed", "hidden", "layers", "bidirectional", "dropout", "weight_drop",
             "embed_dropout", "input_dropout", "output_dropout", "tie")


def require_lm_run(path: str | None, flag: str) -> None:
    """UserError unless `path` is None or a run folder written by `rnnlab lm pretrain`."""
    if path is None:
        return
    try:
        store.model_dir(path, "lm")
    except UserError as exc:
        raise UserError(f"{flag} {path} is not a run folder of `rnnlab lm pretrain` ({exc}); "
                        "pretrain one first") from None


@dataclass(frozen=True)
class LanguageModelConfig:
    """Options of `rnnlab lm pretrain`: each field is the option `--field-name`, with this
    default and help (rnnlab.cli_common.config_options)."""

    # -- data ------------------------------------------------------------------------------
    data: str = option("rt-polarity-demo", "Text file (one document per line), table with "
                       "--text-col, folder of .txt files, a,b files, or a bundled name.", D)
    text_col: str = option("text", "Text column of a table.", D)
    encoding: str = option("utf-8", "Encoding of the input files (e.g. cp1252).", D)
    val_size: float = option(0.05, "Share of documents held out for validation.", D)
    max_docs: int | None = option(None, "Use only the first N documents.", D)
    tokenizer: str = option("word", "word | bpe (fitted on the training documents only).", D)
    min_freq: int = option(2, "Occurrences a word needs to enter the vocabulary.", D)
    max_vocab: int | None = option(20000, "Largest vocabulary (0: no limit).", D,
                                   zero_is_none=True)
    bpe_vocab: int = option(8000, "Subword vocabulary size with --tokenizer bpe.", D)
    # -- model ---------------------------------------------------------------------------
    model: str = option("lstm", "lstm | gru | rnn.", M)
    embed: int = option(128, "Embedding width (= softmax width when tied).", M)
    hidden: int = option(256, "Hidden units per layer.", M)
    layers: int = option(1, "Stacked layers.", M)
    bidirectional: bool = option(False, "Also train a backward model (one layer): pretrains "
                                 "both directions of a BiLSTM.", M)
    backward: bool = option(False, "Read every document last word first (ULMFiT's backward "
                            "model, for a forward + backward ensemble of classifiers).", M)
    dropout: float = option(0.1, "Dropout between stacked layers.", M)
    weight_drop: float = option(0.2, "DropConnect on hidden-to-hidden weights (AWD-LSTM).", M)
    embed_dropout: float = option(0.05, "Share of word types dropped per batch.", M)
    input_dropout: float = option(0.1, "Dropout on the embedded words.", M)
    output_dropout: float = option(0.2, "Dropout before the softmax.", M)
    tie: bool = option(True, "Tie the softmax to the embedding.", M)
    bptt: int = option(70, "Steps per truncated-BPTT chunk.", M)
    sampled_softmax: int = option(0, "Train the softmax on the batch's targets plus N sampled "
                                  "words (0: full vocabulary; validation is always full).", M)
    epoch_tokens: int | None = option(None, "Validate and checkpoint every N training tokens, "
                                      "going on round the stream (0: once per pass).", M,
                                      zero_is_none=True)
    schedule: str = option("constant", SCHEDULE_HELP, "Training")
    init: str | None = option(None, "Run folder of an earlier `lm pretrain`: go on training it "
                              "on these texts (ULMFiT's LM fine-tuning); its vocabulary, "
                              "architecture and dropouts are kept.", M)
    train: TrainConfig = field(default_factory=lambda: TRAIN_DEFAULTS)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> LanguageModelConfig:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in values.items() if k in known}
        train = TrainConfig(**values.pop("train", {}))
        return cls(train=train, **values)

    def replace(self, **changes: Any) -> LanguageModelConfig:
        return replace(self, **changes)

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
        return self.replace(model=arch["cell"], tokenizer=state["tokenizer"]["kind"],
                            backward=state["config"]["backward"],
                            **{name: arch[name] for name in INHERITED})

    def validate(self) -> None:
        require_lm_run(self.init, "--init")
        check_range(self.val_size, "--val-size", 0.001, 0.5)
        check_range(self.min_freq, "--min-freq", 1)
        check_range(self.bpe_vocab, "--bpe-vocab", 100)
        check_range(self.embed, "--embed", 1)
        check_range(self.hidden, "--hidden", 1)
        check_range(self.layers, "--layers", 1)
        check_range(self.bptt, "--bptt", 2)
        check_range(self.sampled_softmax, "--sampled-softmax", 0)
        if self.epoch_tokens is not None:
            check_range(self.epoch_tokens, "--epoch-tokens", 1)
        if self.max_vocab is not None:
            check_range(self.max_vocab, "--max-vocab", 4)
        if self.max_docs is not None:
            check_range(self.max_docs, "--max-docs", 2)
        for name in ("dropout", "weight_drop", "embed_dropout", "input_dropout",
                     "output_dropout"):
            check_range(getattr(self, name), "--" + name.replace("_", "-"), 0.0, 0.95)
        if self.schedule not in SCHEDULES:
            raise UserError(f"--schedule must be one of {', '.join(SCHEDULES)}; "
                            f"got {self.schedule!r}")
        if self.tokenizer not in ("word", "bpe"):
            raise UserError(f"--tokenizer must be word or bpe; got {self.tokenizer!r}")
        if self.bidirectional and self.backward:
            raise UserError("--backward with --bidirectional: a bidirectional model already "
                            "reads both ways; give one of them")
        if self.bidirectional and self.layers != 1:
            raise UserError(f"--bidirectional needs --layers 1 (got {self.layers}): deeper, each "
                            "fused direction would read the other's view of the future")
        if self.model not in CELLS:
            raise UserError(f"--model must be one of {', '.join(CELLS)}; got {self.model!r}")
        self.train.validate()
