"""TranslationConfig: every option of `rnnlab translate fit`, validated at the boundary."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rnnlab.config import SCHEDULE_HELP, SCHEDULES, JobConfig, TrainConfig, option
from rnnlab.errors import UserError
from rnnlab.models.seq2seq import ATTENTIONS

CELLS = ("gru", "lstm")
LEVELS = ("word", "bpe")
# Adam at 1e-3 with clipping at 1 (the usual recipe for GRU / LSTM encoder-decoders).
TRAIN_DEFAULTS = TrainConfig(epochs=20, patience=3, batch_size=64, lr=1e-3, clip=1.0)
D, M, E = "Data", "Model", "Decoding"  # --help panels
PAIR_HELP = "a table (two columns, or name them with --src-col / --tgt-col) or two line-aligned " \
            "files joined by a comma, source first (SRC,TGT)"


@dataclass(frozen=True)
class TranslationConfig(JobConfig):
    """Options of `rnnlab translate fit`: each field is the option `--field-name`, with this
    default and help (rnnlab.cli_common.config_options)."""

    # -- data ------------------------------------------------------------------------------
    data: str = option("multi30k-demo", f"Training pairs: {PAIR_HELP}, or a bundled name "
                       "(gzip accepted).", D)
    src: str | None = option(None, "Source sentences, one per line (with --tgt, instead of "
                             "--data).", D)
    tgt: str | None = option(None, "Target sentences, line-aligned with --src.", D)
    src_col: str | None = option(None, "Source column of a table.", D)
    tgt_col: str | None = option(None, "Target column of a table.", D)
    val: str | None = option(None, f"Validation pairs: {PAIR_HELP}. Default: --val-size of "
                             "the training pairs.", D)
    test: str | None = option(None, f"Test pairs: {PAIR_HELP}. Default: --test-size of the "
                              "training pairs.", D)
    val_size: float = option(0.05, "Share of the pairs held out for validation (without "
                             "--val).", D, low=0.0, high=0.5)
    test_size: float = option(0.05, "Share of the pairs held out for testing (without "
                              "--test).", D, low=0.0, high=0.5)
    encoding: str = option("utf-8", "Encoding of the input files.", D)
    max_pairs: int | None = option(None, "Use only the first N training pairs.", D, low=2)
    level: str = option("word", "word | bpe: the unit of both sides (BPE trained with HF "
                        "tokenizers on the training pairs).", D)
    shared_vocab: bool = option(False, "One vocabulary for both sides (fitted on both).", D)
    lowercase: bool = option(False, "Lower-case both sides (BLEU is then scored lower-cased "
                             "too).", D)
    min_freq: int = option(2, "Occurrences a word needs to enter the vocabulary (word level).",
                           D, low=1)
    max_vocab: int | None = option(30000, "Largest vocabulary per side (0: no limit).", D,
                                   zero_is_none=True, low=8)
    bpe_vocab: int = option(8000, "Subword vocabulary size per side with --level bpe.", D,
                            low=100)
    max_len: int = option(50, "Training pairs with a side longer than this many tokens are "
                          "dropped (and counted); evaluation keeps every pair.", D, low=1)
    # -- model -----------------------------------------------------------------------------
    model: str = option("gru", "gru | lstm: encoder and decoder cell.", M)
    attention: str = option("bahdanau", "bahdanau (additive) | dot | general (Luong) | none "
                            "(one fixed context vector).", M)
    embed: int = option(256, "Embedding width of each side.", M, low=1)
    hidden: int = option(256, "Encoder units per direction (the decoder has twice as many).",
                         M, low=1)
    layers: int = option(1, "Stacked layers of the encoder and of the decoder.", M, low=1)
    dropout: float = option(0.3, "Dropout on embeddings, between layers and before the "
                            "softmax.", M, low=0.0, high=0.95)
    tie: bool = option(False, "Tie the decoder's output layer to its embedding.", M)
    teacher_forcing: float = option(1.0, "Share of training steps fed the true previous word "
                                    "(the rest read the model's own prediction; below 1 the "
                                    "decoder steps through the target).", M, low=0.0, high=1.0)
    label_smoothing: float = option(0.1, "Label smoothing of the training loss.", M, low=0.0,
                                    high=0.9)
    baseline_no_attention: bool = option(False, "Also train the same model without attention "
                                         "as a baseline (doubles the training time or less).",
                                         M)
    schedule: str = option("constant", SCHEDULE_HELP, "Training")
    # -- decoding --------------------------------------------------------------------------
    beam: int = option(5, "Beam width for evaluation (1: greedy).", E, low=1, high=64)
    length_penalty: float = option(1.0, "Beam scores are log-probability / length ** this.",
                                   E, low=0.0, high=5.0)
    max_ratio: float = option(1.5, "At most max_ratio * source length + 10 target tokens.", E,
                              low=0.1, high=10.0)
    replace_unk: bool = option(True, "Replace a generated <unk> by the source word it attends "
                               "to most (word level, with attention).", E)
    train: TrainConfig = field(default_factory=lambda: TRAIN_DEFAULTS)

    def training_spec(self) -> tuple[str, str]:
        """(the training data spec, the option it came from)."""
        if self.src is not None or self.tgt is not None:
            return f"{self.src},{self.tgt}", "--src/--tgt"
        return self.data, "--data"

    def architecture(self) -> dict[str, Any]:
        """Keyword arguments of `Seq2Seq` (besides the vocabulary sizes)."""
        return {"embed": self.embed, "hidden": self.hidden, "layers": self.layers,
                "cell": self.model, "attention": self.attention, "dropout": self.dropout,
                "tie": self.tie}

    def validate(self) -> None:
        """Raise UserError for options that cannot work whatever the data."""
        self.check_ranges()
        self.check_choices({"schedule": SCHEDULES, "level": LEVELS, "model": CELLS,
                            "attention": ATTENTIONS})
        if (self.src is None) != (self.tgt is None):
            given, missing = ("--src", "--tgt") if self.tgt is None else ("--tgt", "--src")
            raise UserError(f"{given} needs {missing}: give the source and the target files "
                            "(line-aligned), or one table with --data")
        if self.baseline_no_attention and self.attention == "none":
            raise UserError("--baseline-no-attention with --attention none: the model already "
                            "has no attention; choose an attention or drop the baseline")
        self.train.validate()
