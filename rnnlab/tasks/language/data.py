"""Language-model data: read unlabelled documents, turn them into one token stream, and cut the
stream into the (batch, bptt) chunks of truncated backpropagation through time.

Documents come from a text file (one per non-blank line), a table's `--text-col`, a folder of
.txt files (one per file, searched recursively), or a comma-separated list of text files.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from rnnlab.data.datasets import resolve_data
from rnnlab.data.io import TABLE_SUFFIXES, read_table, read_text
from rnnlab.data.text import EOS, Tokenizer, is_blank
from rnnlab.errors import UserError, check_columns, check_file
from rnnlab.tasks.language.config import LanguageModelConfig


def _is_table(path: Path) -> bool:
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    return bool(suffixes) and suffixes[-1] in TABLE_SUFFIXES and suffixes[-1] != ".txt"


def read_documents(cfg: LanguageModelConfig, minimum: int = 2) -> tuple[list[str], str]:
    """(documents, source name) from `cfg.data`: those with tokens (not only whitespace or
    HTML tags); UserError with fewer than `minimum` (training needs one for validation)."""
    if "," in cfg.data:
        files = [check_file(p.strip()) for p in cfg.data.split(",")]
        docs = [d for f in files for d in _lines(f, cfg.encoding)]
        source = ",".join(f.name for f in files)
    else:
        path = resolve_data(cfg.data)
        source = path.name
        if path.is_dir():
            files = sorted(p for p in path.rglob("*.txt") if not p.name.startswith("."))
            docs = [read_text(f, cfg.encoding).strip() for f in files if f.stat().st_size]
        elif _is_table(path):
            frame = read_table(path, cfg.encoding)
            check_columns([cfg.text_col], list(frame.columns), path.name, "--text-col")
            docs = [str(t).strip() for t in frame[cfg.text_col] if isinstance(t, str)]
        else:
            docs = _lines(path, cfg.encoding)
    docs = [d for d in docs if not is_blank(d)]
    if cfg.max_docs is not None:
        docs = docs[: cfg.max_docs]
    if len(docs) < minimum:
        need = "some to score" if minimum == 1 else \
            f"a language model needs at least {minimum} (one for validation)"
        raise UserError(f"{source} has {len(docs)} non-empty document(s) (with more than "
                        f"whitespace or HTML tags); {need}")
    return docs, source


def read_corpus(cfg: LanguageModelConfig) -> tuple[str, str]:
    """(text, source name) for a character model: a text file exactly as it is (a UTF-8 byte
    order mark aside), several files or a folder's .txt files joined with a line break, a
    table's texts one per line. UserError when there is nothing but whitespace."""
    path = None if "," in cfg.data else resolve_data(cfg.data)
    if path is None or path.is_dir():
        files = [check_file(p.strip()) for p in cfg.data.split(",")] if path is None else \
            sorted(p for p in path.rglob("*.txt") if not p.name.startswith("."))
        text = "\n".join(read_text(f, cfg.encoding) for f in files)
        source = ",".join(f.name for f in files) if path is None else path.name
    elif _is_table(path):
        docs, source = read_documents(cfg, minimum=1)
        text = "\n".join(docs)
    else:
        text, source = read_text(path, cfg.encoding), path.name
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise UserError(f"{source} holds no text (it is empty or only whitespace); a language "
                        "model needs text to learn from")
    return text, source


def split_text(text: str, val_size: float) -> tuple[str, str]:
    """The first 1 - val_size share of the characters for training, the rest for validation
    (contiguous, as nanoGPT's shakespeare_char: a random cut would leak neighbouring lines)."""
    cut = len(text) - max(1, round(val_size * len(text)))
    return text[:cut], text[cut:]


def _lines(path: Path, encoding: str) -> list[str]:
    # "\n" only: str.splitlines would also break at U+0085 found in latin-1 text
    return [line.strip() for line in read_text(path, encoding).split("\n") if line.strip()]


def split_documents(docs: list[str], val_size: float, seed: int) -> tuple[list[str], list[str]]:
    """Random (seeded) documents held out for validation; at least one each side."""
    order = np.random.default_rng(seed).permutation(len(docs))
    n_val = min(len(docs) - 1, max(1, round(val_size * len(docs))))
    held = set(order[:n_val].tolist())
    return ([d for i, d in enumerate(docs) if i not in held],
            [d for i, d in enumerate(docs) if i in held])


def token_stream(tokenizer: Tokenizer, docs: list[str], backward: bool = False) -> np.ndarray:
    """All documents' ids, each followed by <eos> (when the tokenizer has one: a character
    tokenizer does not), as one int64 array; `backward`: each document's ids last first (a
    backward language model predicts the previous word)."""
    eos = tokenizer.token_to_id(EOS)
    ids: list[int] = []
    for doc in docs:
        doc_ids = tokenizer.encode(doc)
        ids.extend(doc_ids[::-1] if backward else doc_ids)
        if eos is not None:
            ids.append(eos)
    return np.asarray(ids, dtype=np.int64)


class BpttChunks(Dataset):
    """The stream laid out as `batch_size` parallel rows; item i is the chunk starting at
    column i * bptt: inputs, next-token targets and previous tokens (for a backward language
    model; -100, ignored, before the first token), each (batch, <=bptt). Read in order, row r
    of chunk i+1 continues row r of chunk i, so the hidden state carries. Training needs
    `min_columns` 2; scoring a one-word document needs 1."""

    def __init__(self, stream: np.ndarray, batch_size: int, bptt: int, min_columns: int = 2
                 ) -> None:
        columns = (len(stream) - 1) // batch_size
        if columns < min_columns:
            raise UserError(f"{len(stream)} tokens are too few for batches of {batch_size} "
                            "rows; use a smaller --batch-size or more text")
        used = stream[: batch_size * columns + 1]
        self.inputs = torch.from_numpy(used[:-1].reshape(batch_size, columns))
        self.targets = torch.from_numpy(used[1:].reshape(batch_size, columns))
        previous = np.concatenate([[-100], used[:-2]])
        self.previous = torch.from_numpy(previous.reshape(batch_size, columns))
        self.bptt = bptt

    def __len__(self) -> int:
        return -(-self.inputs.size(1) // self.bptt)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        window = slice(index * self.bptt, (index + 1) * self.bptt)
        return self.inputs[:, window], self.targets[:, window], self.previous[:, window]

    @property
    def tokens(self) -> int:
        return self.inputs.numel()


SCORING_ROWS = 8  # most parallel rows when scoring a stream (validation, perplexity)


def scoring_chunks(stream: np.ndarray, bptt: int, min_columns: int = 1) -> BpttChunks:
    """Chunks to score `stream` with: up to SCORING_ROWS parallel rows (faster), but each row
    at least 8 BPTT chunks long, since every row starts without context (a short text is one
    row, read with its whole context, as when scored by hand)."""
    rows = max(1, min(SCORING_ROWS, (len(stream) - 1) // (8 * bptt)))
    return BpttChunks(stream, rows, bptt, min_columns)


class ChunkCycle(Sampler[int]):
    """Consecutive chunk indices, `per_epoch` at a time, each epoch going on where the last one
    stopped (wrapping round the stream): a long stream is validated (and checkpointed) every
    `per_epoch` chunks instead of once per full pass."""

    def __init__(self, n_chunks: int, per_epoch: int | None = None) -> None:
        self.n_chunks = n_chunks
        self.per_epoch = min(per_epoch or n_chunks, n_chunks)
        self.start = 0

    def __iter__(self) -> Iterator[int]:
        indices = [(self.start + i) % self.n_chunks for i in range(self.per_epoch)]
        self.start = (self.start + self.per_epoch) % self.n_chunks
        return iter(indices)

    def __len__(self) -> int:
        return self.per_epoch


class StreamDataModule(pl.LightningDataModule):
    """Chunks in stream order (never shuffled: the hidden state flows from chunk to chunk)."""

    def __init__(self, train: BpttChunks, val: BpttChunks, chunks_per_epoch: int | None = None
                 ) -> None:
        super().__init__()
        self.train, self.val = train, val
        self.sampler = ChunkCycle(len(train), chunks_per_epoch)

    def train_dataloader(self) -> DataLoader:
        return DataLoader(self.train, batch_size=None, sampler=self.sampler)

    def state_dict(self) -> dict[str, int]:
        """Where the next epoch starts in the stream (kept in checkpoints for --resume)."""
        return {"start": self.sampler.start}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.sampler.start = int(state["start"])

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.val, batch_size=None, shuffle=False)
