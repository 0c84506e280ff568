"""Length batching shared by the text jobs.

`BucketBatchSampler` puts texts of similar length together so that padding is a few percent of
the tokens, and `collate_padded` returns the lengths that `RecurrentEncoder` packs with
`pack_padded_sequence`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

import lightning.pytorch as pl
import numpy as np
import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset

from rnnlab.data.text import PAD_ID
from rnnlab.training import passes_per_epoch


# -- batching: similar lengths together, padded + lengths for packing --------------------------
class BucketBatchSampler(BatchSampler):
    """Batches of similar length: shuffle, cut into pools of `pool` batches, sort each pool by
    length, cut it into batches and shuffle the batches. A new order every epoch (seeded).
    `shuffle=False`: batches of the items sorted by length, longest first (evaluation).

    It draws its items from `sampler` (default: every item). It is a `BatchSampler`, so under
    DDP Lightning hands it a `DistributedSampler` and each process buckets its own share.
    `repeats` > 1 makes an epoch that many shuffled passes, so that a few hundred texts still
    give an epoch enough steps for its validation and early-stopping check to mean something.
    """

    def __init__(self, lengths: Sequence[int], batch_size: int, shuffle: bool = True,
                 pool: int = 50, seed: int = 0, sampler: Iterable[int] | None = None,
                 drop_last: bool = False, repeats: int = 1) -> None:
        super().__init__(range(len(lengths)) if sampler is None else sampler, batch_size,
                         drop_last)
        self.lengths = np.asarray(lengths)
        self.shuffle, self.pool, self.seed, self.repeats = shuffle, pool, seed, repeats
        self.epoch = 0

    def batches(self, epoch: int = 0) -> list[list[int]]:
        """The batches (lists of item indices) of one epoch."""
        items = np.fromiter(iter(self.sampler), dtype=np.int64)
        if not self.shuffle:
            return length_sorted_batches(self.lengths[items], self.batch_size, items)
        rng = np.random.default_rng([self.seed, epoch])
        order = np.concatenate([items[rng.permutation(len(items))]
                                for _ in range(self.repeats)])
        size = self.batch_size * self.pool
        result = []
        for start in range(0, len(order), size):
            chunk = order[start:start + size]
            chunk = chunk[np.argsort(-self.lengths[chunk], kind="stable")]
            result += [chunk[i:i + self.batch_size].tolist()
                       for i in range(0, len(chunk), self.batch_size)]
        if self.drop_last:
            result = [batch for batch in result if len(batch) == self.batch_size]
        return [result[i] for i in rng.permutation(len(result))]

    def __iter__(self) -> Iterator[list[int]]:
        batches = self.batches(self.epoch)
        self.epoch += 1
        return iter(batches)

    def __len__(self) -> int:
        items = len(self.sampler) * (self.repeats if self.shuffle else 1)  # type: ignore[arg-type]
        return items // self.batch_size if self.drop_last else -(-items // self.batch_size)


def length_sorted_batches(lengths: Sequence[int], batch_size: int,
                          items: Sequence[int] | None = None) -> list[list[int]]:
    """Deterministic batches for evaluation: the items (default 0..n-1; `lengths` are theirs)
    sorted by length, longest first."""
    items = np.arange(len(lengths)) if items is None else np.asarray(items)
    order = items[np.argsort(-np.asarray(lengths), kind="stable")]
    return [order[i:i + batch_size].tolist() for i in range(0, len(order), batch_size)]


def padding_ratio(lengths: Sequence[int], batches: Iterable[Sequence[int]]) -> float:
    """Share of padded positions among all positions of the padded batches (0 = none)."""
    lengths = np.asarray(lengths)
    real = padded = 0
    for batch in batches:
        batch_lengths = lengths[list(batch)]
        real += int(batch_lengths.sum())
        padded += int(batch_lengths.max()) * len(batch_lengths)
    return 1.0 - real / padded if padded else 0.0


def pad_sequences(sequences: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Token id lists -> tokens (batch, longest) padded with `PAD_ID`, lengths (batch,)."""
    lengths = torch.tensor([max(1, len(s)) for s in sequences], dtype=torch.long)
    tokens = torch.full((len(sequences), int(lengths.max())), PAD_ID, dtype=torch.long)
    for row, sequence in enumerate(sequences):
        if len(sequence):
            tokens[row, : len(sequence)] = torch.as_tensor(sequence, dtype=torch.long)
    return tokens, lengths


def collate_padded(items: Sequence[tuple[Sequence[int], int]]
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(ids, label) pairs -> tokens (batch, time), lengths (batch,), labels (batch,)."""
    tokens, lengths = pad_sequences([ids for ids, _ in items])
    labels = torch.tensor([label for _, label in items], dtype=torch.long)
    return tokens, lengths, labels


def loader(data: Dataset, batch_size: int, shuffle: bool = False, seed: int = 0,
           repeats: int = 1, collate: Callable = collate_padded) -> DataLoader:
    """Length-bucketed batches (shuffled for training, sorted for evaluation) of a data set
    with a `lengths` list."""
    sampler = BucketBatchSampler(data.lengths, batch_size, shuffle=shuffle, seed=seed,
                                 repeats=repeats)
    return DataLoader(data, batch_sampler=sampler, collate_fn=collate)


class TextDataModule(pl.LightningDataModule):
    """Bucketed, shuffled training batches and length-sorted validation batches.

    An epoch is at least `min_steps` batches: with few labelled texts (a label curve's 100)
    the training texts are passed over several times per epoch, else an epoch would be two
    steps and early stopping would judge an untrained network."""

    def __init__(self, train: Dataset, val: Dataset, batch_size: int, seed: int = 0,
                 min_steps: int = 20, collate: Callable = collate_padded) -> None:
        super().__init__()
        self.train, self.val, self.batch_size, self.seed = train, val, batch_size, seed
        self.collate = collate
        self.repeats = passes_per_epoch(len(train), batch_size, min_steps)
        self.epoch = 0  # the epoch the next training loader starts at (see load_state_dict)
        self._sampler: BucketBatchSampler | None = None

    def train_dataloader(self) -> DataLoader:
        data = loader(self.train, self.batch_size, shuffle=True, seed=self.seed,
                      repeats=self.repeats, collate=self.collate)
        self._sampler = data.batch_sampler
        self._sampler.epoch = self.epoch
        return data

    def state_dict(self) -> dict[str, int]:
        """The shuffle epoch the next training epoch uses (kept in checkpoints, so a resumed
        run shuffles as the interrupted one would have)."""
        return {"epoch": self._sampler.epoch if self._sampler is not None else self.epoch}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.epoch = int(state["epoch"])

    def val_dataloader(self) -> DataLoader:
        return loader(self.val, max(self.batch_size, 128), collate=self.collate)
