"""LanguageModelConfig: every option of `rnnlab lm pretrain`, validated at the boundary."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from rnnlab.config import SCHEDULES, TrainConfig
from rnnlab.errors import UserError, check_range

CELLS = ("lstm", "gru", "rnn")
# Options a run started from `--init` takes from that language model, not from the command line.
INHERITED = ("embed", "hidden", "layers", "bidirectional", "dropout", "weight_drop",
             "embed_dropout", "input_dropout", "output_dropout", "tie")


def require_lm_run(path: str | None, flag: str) -> None:
    """UserError unless `path` is None or a run folder written by `rnnlab lm pretrain`."""
    if path is not None and not (Path(path) / "model").is_dir():
        raise UserError(f"{flag} {path} is not a run folder of `rnnlab lm pretrain` (no model/ "
                        "inside); pretrain one first")


@dataclass(frozen=True)
class LanguageModelConfig:
    """Options of `rnnlab lm pretrain` (the CLI flag of each field is `--field-name`)."""

    data: str = "rt-polarity-demo"  # text file (one document per line), table, folder, a,b
    text_col: str = "text"  # tables only
    encoding: str = "utf-8"
    val_size: float = 0.05  # share of documents held out for validation perplexity
    max_docs: int | None = None  # use only the first N documents (quick runs)
    tokenizer: str = "word"  # word | bpe, fitted on the training documents only
    min_freq: int = 2
    max_vocab: int | None = 20000
    bpe_vocab: int = 8000
    model: str = "lstm"  # lstm | gru | rnn
    embed: int = 128
    hidden: int = 256
    layers: int = 1
    bidirectional: bool = False  # also a backward LM (one layer): pretrains a BiLSTM
    backward: bool = False  # read every document last word first (ULMFiT's backward model)
    dropout: float = 0.1  # between stacked layers
    weight_drop: float = 0.2  # DropConnect on the hidden-to-hidden weights (AWD-LSTM)
    embed_dropout: float = 0.05  # whole word types dropped per batch
    input_dropout: float = 0.1
    output_dropout: float = 0.2  # before the tied softmax
    tie: bool = True  # decoder weight = embedding matrix
    bptt: int = 70  # truncated backpropagation through time: steps per chunk
    sampled_softmax: int = 0  # > 0: train on targets + this many sampled words (0: full)
    epoch_tokens: int | None = None  # validate every this many training tokens (None: a pass)
    schedule: str = "constant"  # constant | slanted (ULMFiT's slanted triangular rates)
    init: str | None = None  # run folder of an earlier pretrain to go on from (ULMFiT stage 2)
    train: TrainConfig = field(default_factory=TrainConfig)

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
