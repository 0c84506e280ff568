"""Character-level tokenizer: the text exactly as it is, one id per Unicode code point.

No cleaning, case folding, whitespace folding or Unicode normalisation: line breaks,
indentation and speaker names are what a character model learns, so `decode(encode(text))`
gives `text` back byte for byte whenever every character was seen in training. The
vocabulary holds every character of the training text (a character alphabet is small, so no
frequency cut); one never seen maps to `<unk>`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from rnnlab.data.text import PAD, UNK, UNK_ID, Vocabulary, VocabularyLookup


class CharTokenizer(VocabularyLookup):
    """Characters in, characters out; same interface as the word and subword tokenizers."""

    kind = "char"

    def __init__(self, specials: Sequence[str] = ()) -> None:
        self.specials = list(specials)
        self.vocab_: Vocabulary | None = None

    def fit(self, texts: Iterable[str]) -> CharTokenizer:
        """Every character of the training texts, most frequent first."""
        from rnnlab.data.text import empty_vocabulary

        counts: Counter = Counter()
        for text in texts:
            counts.update(text)
        self.vocab_ = Vocabulary.from_counts(counts, 1, None, self.specials)
        if len(self.vocab_) == 2 + len(self.specials):
            raise empty_vocabulary(counts, 1, None, "character")
        return self

    def tokenize(self, text: str) -> list[str]:
        return list(text)

    def encode(self, text: str) -> list[int]:
        get = self.vocab.stoi.get
        return [get(ch, UNK_ID) for ch in text]

    def decode(self, ids: Sequence[int]) -> str:
        """Ids back to text; special tokens (<pad>, <unk>, ...) are written as their names."""
        return "".join(self.vocab.itos[i] for i in ids)

    def unseen(self, text: str) -> list[str]:
        """The distinct characters of `text` the vocabulary lacks, in order of appearance."""
        stoi = self.vocab.stoi
        return list(dict.fromkeys(ch for ch in text if ch not in stoi))

    def to_dict(self) -> dict:
        return {"kind": self.kind, "specials": self.specials, "vocab": self.vocab.to_dict()}

    @classmethod
    def from_dict(cls, state: dict) -> CharTokenizer:
        self = cls(state.get("specials", ()))
        self.vocab_ = Vocabulary.from_dict(state["vocab"])
        if self.vocab_.itos[:2] != [PAD, UNK]:
            raise ValueError("vocab")
        return self
