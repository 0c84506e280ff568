"""Text transforms shared by the text jobs: cleaning, tokenizers, vocabulary.

Cleaning and tokenizing are pure functions; `WordTokenizer` and `SubwordTokenizer` are fitted
on the training texts only and save their whole state as JSON (`to_dict` / `tokenizer_from_dict`).
Batching lives in `rnnlab.data.batching`.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

from rnnlab.errors import UserError

PAD, UNK, EOS, BOS = "<pad>", "<unk>", "<eos>", "<bos>"
PAD_ID, UNK_ID = 0, 1

_BREAK = re.compile(r"<\s*br\s*/?\s*>", re.IGNORECASE)
_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]{0,10}(?:\s[^<>]{0,200})?/?>")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201b": "'", "\u0060": "'",
                         "\u201c": '"', "\u201d": '"', "\u201e": '"',
                         "\u2013": "-", "\u2014": " - ", "\u2026": "..."})
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w+(?:'\w+)*|'\w+|[^\w\s]")
# Detokenizing word tokens: no space before closing marks and clitics, none after opening ones.
_NO_SPACE_BEFORE = re.compile(r" ([.,!?;:%)\]}]|'\w)")
_NO_SPACE_AFTER = re.compile(r"([(\[{$]) ")
_HYPHEN = re.compile(r"(?<=\w) - (?=\w)")


POSITIVE_NAMES = ("pos", "positive", "1", "good", "true", "yes", "+1", "+")


def positive_class(classes: list[str]) -> tuple[int, bool]:
    """Index of the positive class of a binary task and whether its name said so (else the
    last class is taken as positive)."""
    for index, name in enumerate(classes):
        if name.lower() in POSITIVE_NAMES:
            return index, True
    return len(classes) - 1, False


# -- cleaning and tokenizing (pure) ----------------------------------------------------------
def clean_text(text: str) -> str:
    """HTML line breaks and tags to spaces, entities decoded, NFKC, straight quotes, one space.

    >>> clean_text("Great<br /><br />film &amp; cast\u2019s   \u201cbest\u201d")
    'Great film & cast\\'s "best"'
    """
    text = _BREAK.sub(" ", text)
    text = _TAG.sub(" ", text)
    text = html.unescape(text)
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return _SPACE.sub(" ", text).strip()


def is_blank(text: str) -> bool:
    """True when `clean_text(text)` is empty (only whitespace, HTML tags and line breaks, blank
    entities): the text has no tokens. Cheaper than cleaning it.

    >>> is_blank(" <br /><p> &nbsp;</p> "), is_blank("<br />ok")
    (True, False)
    """
    text = _TAG.sub(" ", _BREAK.sub(" ", text))
    return not (html.unescape(text) if "&" in text else text).strip()


def word_tokens(text: str, lowercase: bool = True) -> list[str]:
    """Words (with inner apostrophes), clitics such as 's, and single punctuation marks.

    >>> word_tokens("It's NOT bad -- it's great!!")
    ["it's", 'not', 'bad', '-', '-', "it's", 'great', '!', '!']
    """
    text = clean_text(text)
    return _WORD.findall(text.lower() if lowercase else text)


def detokenize(tokens: Sequence[str]) -> str:
    """Word tokens -> text: the inverse of `word_tokens` for ordinary prose (spaces dropped
    before closing punctuation and clitics, after opening brackets, around inner hyphens;
    double quotes glued to the words they enclose). Specials such as <unk> are kept.

    >>> detokenize(["A", "man", "'s", "t", "-", "shirt", "(", "red", ")", ":", '"', "hi", '"', "."])
    'A man's t-shirt (red): "hi".'
    """
    text = " ".join(tokens)
    text = _HYPHEN.sub("-", _NO_SPACE_AFTER.sub(r"\1", _NO_SPACE_BEFORE.sub(r"\1", text)))
    if '"' in text:  # quotes alternate: an opening one glues right, a closing one left
        parts = text.split('"')
        text = parts[0]
        for index, part in enumerate(parts[1:]):
            if index % 2 == 0:
                text = text.rstrip() + (" " if text.strip() else "") + '"' + part.lstrip()
            else:
                text = text.rstrip() + '"' + part
    return text.strip()


def truncate(ids: list[int], max_len: int | None, keep: str = "head") -> list[int]:
    """At most `max_len` ids: the first (head), the last (tail) or both ends (head+tail)."""
    if max_len is None or len(ids) <= max_len:
        return ids
    if keep == "tail":
        return ids[-max_len:]
    if keep == "both":
        front = max_len // 2
        return ids[:front] + ids[len(ids) - (max_len - front):]
    return ids[:max_len]


# -- vocabulary ------------------------------------------------------------------------------
class Vocabulary:
    """Token <-> id map with `<pad>` = 0 and `<unk>` = 1, most frequent tokens first."""

    def __init__(self, itos: Sequence[str]) -> None:
        if list(itos[:2]) != [PAD, UNK]:
            raise ValueError("a vocabulary starts with <pad>, <unk>")
        self.itos = list(itos)
        self.stoi = {token: i for i, token in enumerate(self.itos)}

    @classmethod
    def fit(cls, token_lists: Iterable[Sequence[str]], min_freq: int = 1,
            max_size: int | None = None, specials: Sequence[str] = ()) -> Vocabulary:
        """Keep tokens seen at least `min_freq` times, at most `max_size` ids in all;
        `specials` (e.g. <eos>) get the ids right after <pad> and <unk>."""
        counts = Counter(token for tokens in token_lists for token in tokens)
        return cls.from_counts(counts, min_freq, max_size, specials)

    @classmethod
    def from_counts(cls, counts: Counter, min_freq: int = 1, max_size: int | None = None,
                    specials: Sequence[str] = ()) -> Vocabulary:
        """`fit` from token counts."""
        head = [PAD, UNK, *specials]
        kept = sorted((t for t, c in counts.items() if c >= min_freq and t not in head),
                      key=lambda t: (-counts[t], t))
        if max_size is not None:
            kept = kept[: max(0, max_size - len(head))]
        return cls([*head, *kept])

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: str) -> bool:
        return token in self.stoi

    def encode(self, tokens: Sequence[str]) -> list[int]:
        get = self.stoi.get
        return [get(token, UNK_ID) for token in tokens]

    def decode(self, ids: Sequence[int]) -> list[str]:
        return [self.itos[i] for i in ids]

    def to_dict(self) -> dict:
        return {"itos": self.itos}

    @classmethod
    def from_dict(cls, state: dict) -> Vocabulary:
        return cls(state["itos"])


# -- tokenizers: fit on training texts, encode any text, JSON state ----------------------------
class VocabularyLookup:
    """The id <-> token side of a tokenizer whose fitted state is a `Vocabulary` (`vocab_`)."""

    vocab_: Vocabulary | None

    @property
    def vocab(self) -> Vocabulary:
        if self.vocab_ is None:
            raise RuntimeError("tokenizer is not fitted; call fit(train_texts) first")
        return self.vocab_

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def id_to_token(self, index: int) -> str:
        return self.vocab.itos[index]

    def token_to_id(self, token: str) -> int | None:
        return self.vocab.stoi.get(token)


class WordTokenizer(VocabularyLookup):
    """Word-level tokenizer: `word_tokens` + a `Vocabulary` fitted on the training texts."""

    kind = "word"

    def __init__(self, min_freq: int = 2, max_size: int | None = None,
                 lowercase: bool = True, specials: Sequence[str] = ()) -> None:
        self.min_freq, self.max_size, self.lowercase = min_freq, max_size, lowercase
        self.specials = list(specials)
        self.vocab_: Vocabulary | None = None

    def fit(self, texts: Iterable[str]) -> WordTokenizer:
        """Fit the vocabulary; UserError when it would hold no token besides the specials."""
        counts = Counter(token for text in texts for token in self.tokenize(text))
        self.vocab_ = Vocabulary.from_counts(counts, self.min_freq, self.max_size, self.specials)
        if len(self.vocab_) == 2 + len(self.specials):
            raise empty_vocabulary(counts, self.min_freq, self.max_size)
        return self

    def tokenize(self, text: str) -> list[str]:
        return word_tokens(text, self.lowercase)

    def encode(self, text: str) -> list[int]:
        return self.vocab.encode(self.tokenize(text))

    def decode(self, ids: Sequence[int]) -> str:
        """Ids -> text (`detokenize`); unknown words read as <unk>."""
        return detokenize(self.vocab.decode(ids))

    def to_dict(self) -> dict:
        return {"kind": self.kind, "min_freq": self.min_freq, "max_size": self.max_size,
                "lowercase": self.lowercase, "specials": self.specials,
                "vocab": self.vocab.to_dict()}

    @classmethod
    def from_dict(cls, state: dict) -> WordTokenizer:
        self = cls(state["min_freq"], state["max_size"], state["lowercase"],
                   state.get("specials", ()))
        self.vocab_ = Vocabulary.from_dict(state["vocab"])
        return self


class SubwordTokenizer:
    """Byte-pair-encoding tokenizer trained with HF `tokenizers` on the training texts.

    `reversible=True` (for generated text) marks word starts with "\u2581" (Metaspace) so that
    `decode` restores the spacing; otherwise words are split on whitespace and punctuation.
    """

    kind = "bpe"

    def __init__(self, vocab_size: int = 8000, min_freq: int = 2, lowercase: bool = True,
                 specials: Sequence[str] = (), reversible: bool = False) -> None:
        self.target_size, self.min_freq, self.lowercase = vocab_size, min_freq, lowercase
        self.specials, self.reversible = list(specials), reversible
        self.tokenizer_ = None

    def fit(self, texts: Iterable[str]) -> SubwordTokenizer:
        """Train the merges; UserError when none is learnt (only single characters)."""
        from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

        texts = list(texts)
        tokenizer = Tokenizer(models.BPE(unk_token=UNK))
        steps = [normalizers.NFKC()] + ([normalizers.Lowercase()] if self.lowercase else [])
        tokenizer.normalizer = normalizers.Sequence(steps)
        if self.reversible:
            from tokenizers import decoders

            tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
                [pre_tokenizers.Metaspace(), pre_tokenizers.Punctuation()])
            tokenizer.decoder = decoders.Metaspace()
        else:
            tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
        trainer = trainers.BpeTrainer(vocab_size=self.target_size, min_frequency=self.min_freq,
                                      special_tokens=[PAD, UNK, *self.specials],
                                      show_progress=False)
        tokenizer.train_from_iterator((clean_text(t) for t in texts), trainer=trainer)
        symbols = [t for t in tokenizer.get_vocab() if t not in (PAD, UNK, *self.specials)]
        if not any(len(symbol) > 1 for symbol in symbols):  # no merge: no subword learnt
            raise self._no_subwords(tokenizer, texts, len(symbols))
        self.tokenizer_ = tokenizer
        return self

    def _no_subwords(self, tokenizer, texts: list[str], characters: int  # noqa: ANN001
                     ) -> UserError:
        """Why BPE learnt no merge: no text, --bpe-vocab too small, or --min-freq too high."""
        head = 2 + len(self.specials)
        if characters and self.target_size <= head + characters:
            return UserError(f"--bpe-vocab {self.target_size} leaves no room for subwords after "
                             f"the {characters} single characters of the training texts; raise "
                             "--bpe-vocab")
        pairs: Counter = Counter()
        for text in texts:
            normalized = tokenizer.normalizer.normalize_str(clean_text(text))
            for word, _ in tokenizer.pre_tokenizer.pre_tokenize_str(normalized):
                pairs.update(a + b for a, b in zip(word, word[1:], strict=False))
        if characters and not pairs:
            return UserError(f"the vocabulary is empty: the training texts have no word of 2 or "
                             f"more characters (only {characters} single characters), so BPE "
                             "has nothing to merge; use --tokenizer word or longer texts")
        return empty_vocabulary(pairs, self.min_freq, None, "pair of symbols",
                                f"{characters} single characters")

    def _fitted(self):  # noqa: ANN202 - tokenizers.Tokenizer, imported lazily
        if self.tokenizer_ is None:
            raise RuntimeError("tokenizer is not fitted; call fit(train_texts) first")
        return self.tokenizer_

    def tokenize(self, text: str) -> list[str]:
        return self._fitted().encode(clean_text(text)).tokens

    def encode(self, text: str) -> list[int]:
        return self._fitted().encode(clean_text(text)).ids

    def decode(self, ids: Sequence[int]) -> str:
        """Ids -> text (exact spacing only when `reversible`); specials are dropped."""
        return self._fitted().decode(list(ids), skip_special_tokens=True).strip()

    @property
    def vocab_size(self) -> int:
        return self._fitted().get_vocab_size()

    def id_to_token(self, index: int) -> str:
        return self._fitted().id_to_token(index)

    def token_to_id(self, token: str) -> int | None:
        return self._fitted().token_to_id(token)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "vocab_size": self.target_size, "min_freq": self.min_freq,
                "lowercase": self.lowercase, "specials": self.specials,
                "reversible": self.reversible, "tokenizer": json.loads(self._fitted().to_str())}

    @classmethod
    def from_dict(cls, state: dict) -> SubwordTokenizer:
        from tokenizers import Tokenizer

        self = cls(state["vocab_size"], state["min_freq"], state["lowercase"],
                   state.get("specials", ()), state.get("reversible", False))
        self.tokenizer_ = Tokenizer.from_str(json.dumps(state["tokenizer"]))
        return self


Tokenizer = WordTokenizer | SubwordTokenizer


def empty_vocabulary(counts: Counter, min_freq: int, max_size: int | None,
                     unit: str = "token", learnt: str = "") -> UserError:
    """The error for a vocabulary with no token (BPE: no subword, `unit` = pair of symbols):
    why (`counts` of the training tokens, the options) and what to change."""
    limit = "no limit" if max_size is None else str(max_size)
    if not counts:
        return UserError("the vocabulary is empty: the training texts hold no tokens (only "
                         "whitespace or HTML tags) to learn from; give texts with words")
    token, count = counts.most_common(1)[0]
    if count < min_freq:
        known = f"only the {learnt} were kept" if learnt else \
            f"{len(counts)} distinct tokens, --max-vocab {limit}"
        return UserError(
            f"the vocabulary is empty: no {unit} of the training texts occurs --min-freq "
            f"{min_freq} times (the most frequent, {token!r}, occurs {count} times; {known}); "
            f"lower --min-freq to {count} or less")
    return UserError(f"the vocabulary is empty: --max-vocab {limit} leaves no room for any of "
                     f"the {len(counts)} distinct tokens after the special ones; raise "
                     "--max-vocab")


def make_tokenizer(kind: str, min_freq: int = 2, max_size: int | None = None,
                   bpe_vocab: int = 8000, lowercase: bool = True,
                   specials: Sequence[str] = ()) -> Tokenizer:
    """An unfitted tokenizer of `kind` ("word", "bpe" or "char")."""
    if kind == "char":
        from rnnlab.data.chars import CharTokenizer

        return CharTokenizer(specials)
    if kind == "bpe":
        return SubwordTokenizer(bpe_vocab, min_freq, lowercase, specials)
    return WordTokenizer(min_freq, max_size, lowercase, specials)


def tokenizer_from_dict(state: dict) -> Tokenizer:
    """Rebuild a fitted tokenizer from its JSON state."""
    from rnnlab.data.chars import CharTokenizer

    kinds = {"bpe": SubwordTokenizer, "char": CharTokenizer}
    return kinds.get(state["kind"], WordTokenizer).from_dict(state)
