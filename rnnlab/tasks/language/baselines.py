"""Count-based language models over the same token ids, fitted on the training stream only:
the perplexities a recurrent language model has to beat.

- unigram: add-one smoothed token frequencies (no context at all);
- kn_bigram: interpolated Kneser-Ney bigram (discount 0.75), the classic n-gram baseline of
  word models;
- kn_5gram: interpolated Kneser-Ney over the last four units (`kneser_ney_nll`), the classic
  baseline of character models.
"""

from __future__ import annotations

import math

import numpy as np


def unigram_nll(train: np.ndarray, test: np.ndarray, vocab_size: int) -> float:
    """Mean negative log-likelihood (nats) of test[1:] under add-one unigram frequencies."""
    counts = np.bincount(train, minlength=vocab_size).astype(np.float64) + 1.0
    log_p = np.log(counts / counts.sum())
    return float(-log_p[test[1:]].mean())


def kneser_ney_bigram_nll(train: np.ndarray, test: np.ndarray, vocab_size: int,
                          discount: float = 0.75) -> float:
    """Mean negative log-likelihood (nats) of each test token given the one before it.

    P(w | v) = max(c(v, w) - d, 0) / c(v) + d * N1+(v .) / c(v) * P_cont(w), with
    P_cont(w) = N1+(. w) / N1+(. .) mixed with a uniform share so unseen words keep mass;
    a history never seen in training backs off to P_cont.
    """
    v = vocab_size
    pair_codes, pair_counts = np.unique(train[:-1] * v + train[1:], return_counts=True)
    history, word = pair_codes // v, pair_codes % v
    history_counts = np.bincount(history, weights=pair_counts, minlength=v)
    followers = np.bincount(history, minlength=v)  # N1+(v .)
    continuation = np.bincount(word, minlength=v).astype(np.float64)  # N1+(. w)
    p_cont = 0.9 * continuation / continuation.sum() + 0.1 / v

    prev, nxt = test[:-1], test[1:]
    codes = prev * v + nxt
    position = np.searchsorted(pair_codes, codes)
    position = np.minimum(position, len(pair_codes) - 1)
    seen = pair_codes[position] == codes
    count = np.where(seen, pair_counts[position], 0).astype(np.float64)
    c_hist = history_counts[prev]
    known = c_hist > 0
    safe = np.where(known, c_hist, 1.0)
    p = np.where(known,
                 np.maximum(count - discount, 0) / safe
                 + discount * followers[prev] / safe * p_cont[nxt],
                 p_cont[nxt])
    return float(-np.log(p).mean())


def _gram_codes(stream: np.ndarray, order: int, base: int) -> np.ndarray:
    """Code of the `order`-gram ending at each position (-1 where the stream is too short);
    a unit u is coded u + 1 so that a leading 0 is not lost."""
    codes = np.zeros(len(stream), dtype=np.int64)
    for k in range(order):
        shifted = np.full(len(stream), -1, dtype=np.int64)
        shifted[k:] = stream[: len(stream) - k] + 1
        codes = np.where((codes < 0) | (shifted < 0), -1, codes + shifted * base ** k)
    return codes


class _Table:
    """Sorted n-gram codes with a count each: looked up by binary search."""

    def __init__(self, codes: np.ndarray, counts: np.ndarray) -> None:
        self.codes, self.counts = codes, counts.astype(np.float64)

    def get(self, codes: np.ndarray) -> np.ndarray:
        if not len(self.codes):
            return np.zeros(len(codes))
        at = np.minimum(np.searchsorted(self.codes, codes), len(self.codes) - 1)
        return np.where(self.codes[at] == codes, self.counts[at], 0.0)


def _discount(counts: np.ndarray) -> float:
    """Ney's estimate D = n1 / (n1 + 2 n2) from the counts of counts (0.75 when undefined)."""
    n1, n2 = np.sum(counts == 1), np.sum(counts == 2)
    return float(n1 / (n1 + 2 * n2)) if n1 + n2 > 0 and n1 > 0 else 0.75


def kneser_ney_nll(train: np.ndarray, test: np.ndarray, vocab_size: int, order: int = 5
                   ) -> float:
    """Mean negative log-likelihood (nats) of test[1:] under an interpolated Kneser-Ney model
    of `order` fitted on `train`: P_k(w | h) = max(c_k(hw) - D_k, 0) / c_k(h)
    + D_k N1+(h .) / c_k(h) P_{k-1}(w | h'), where c is the raw count at the top order and the
    continuation count N1+(. g) below it; a history never seen backs off to P_{k-1}; the
    unigram level is mixed with a uniform share so units never seen keep some mass."""
    base = vocab_size + 1
    train, test = np.asarray(train, np.int64), np.asarray(test, np.int64)
    tables, histories, followers, discounts = [], [], [], []
    for k in range(1, order + 1):
        grams, counts = np.unique(_gram_codes(train, k, base), return_counts=True)
        counts, grams = counts[grams >= 0], grams[grams >= 0]
        if k < order:  # continuation counts: distinct units seen before the k-gram
            longer = np.unique(_gram_codes(train, k + 1, base))
            grams, counts = np.unique(longer[longer >= 0] % base ** k, return_counts=True)
        prefix = grams // base  # the history (the last k-1 units), coded the same way
        hist_codes, where = np.unique(prefix, return_inverse=True)
        tables.append(_Table(grams, counts))
        histories.append(_Table(hist_codes, np.bincount(where, weights=counts)))
        followers.append(_Table(hist_codes, np.bincount(where)))
        discounts.append(_discount(counts))
    target = test[1:]
    uniform = 1.0 / vocab_size
    probability = np.full(len(target), uniform)
    for k in range(1, order + 1):
        grams = _gram_codes(test, k, base)[1:]
        history = grams // base if k > 1 else np.zeros(len(target), np.int64)
        history = np.where(grams < 0, -1, history)
        c_hist = histories[k - 1].get(history)
        safe = np.where(c_hist > 0, c_hist, 1.0)
        d = discounts[k - 1]
        mixed = (np.maximum(tables[k - 1].get(grams) - d, 0.0) / safe
                 + d * followers[k - 1].get(history) / safe * probability)
        probability = np.where(c_hist > 0, mixed, probability)
    return float(-np.log(probability).mean())


def baseline_perplexities(train: np.ndarray, test: np.ndarray, vocab_size: int,
                          level: str = "word") -> dict[str, dict[str, float]]:
    """Each count model's {"nats", "bits", "perplexity"} on the test stream: a Kneser-Ney
    5-gram of characters at char level, a Kneser-Ney bigram otherwise, and the unigram."""
    if level == "char":
        nll = {"kn_5gram": kneser_ney_nll(train, test, vocab_size, 5)}
    else:
        nll = {"kn_bigram": kneser_ney_bigram_nll(train, test, vocab_size)}
    nll["unigram"] = unigram_nll(train, test, vocab_size)
    return {name: scores(value) for name, value in nll.items()}


def scores(nll: float) -> dict[str, float]:
    """Mean nats per unit -> {"nats", "bits" (per unit: per character at char level),
    "perplexity"}."""
    return {"nats": nll, "bits": nll / math.log(2), "perplexity": math.exp(nll)}
