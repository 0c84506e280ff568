"""Count-based language models over the same token ids, fitted on the training stream only:
the perplexities a recurrent language model has to beat.

- unigram: add-one smoothed token frequencies (no context at all);
- kn_bigram: interpolated Kneser-Ney bigram (discount 0.75), the classic n-gram baseline.
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


def baseline_perplexities(train: np.ndarray, test: np.ndarray, vocab_size: int
                          ) -> dict[str, dict[str, float]]:
    """{"unigram": {"perplexity": ...}, "kn_bigram": {...}} on the test stream."""
    return {
        "kn_bigram": {"perplexity": math.exp(kneser_ney_bigram_nll(train, test, vocab_size))},
        "unigram": {"perplexity": math.exp(unigram_nll(train, test, vocab_size))},
    }
