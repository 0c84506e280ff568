"""LanguageModel: a recurrent language model of characters, words or subwords.

>>> from rnnlab.tasks.language import LanguageModel, LanguageModelConfig
>>> lm = LanguageModel(LanguageModelConfig(data="tiny-shakespeare", level="char")).fit()
...                                                                        # doctest: +SKIP
>>> "".join(t.text for t in lm.generate("ROMEO:", length=200, seed=1))   # doctest: +SKIP

A word-level run is also what `rnnlab sentiment fit --pretrained RUN` starts from.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from rnnlab import store
from rnnlab.data.text import EOS, make_tokenizer
from rnnlab.errors import UserError
from rnnlab.estimator import Estimator
from rnnlab.models.lm import LM_FILE, WordLanguageModel, load_language_model
from rnnlab.tasks.language.config import LanguageModelConfig
from rnnlab.tasks.language.data import (
    BpttChunks,
    StreamDataModule,
    read_corpus,
    read_documents,
    scoring_chunks,
    split_documents,
    split_text,
    token_stream,
)
from rnnlab.tasks.language.evaluation import validation_metrics
from rnnlab.tasks.language.generation import (
    Token,
    check_sampling,
    generate_tokens,
    prompt_ids,
)
from rnnlab.tasks.language.model import LanguageModelModule, perplexity, stream_nll
from rnnlab.training import FitResult, fit_module, seed_everything


class LanguageModel(Estimator):
    """An LSTM / GRU / RNN language model of characters, words or BPE subwords.

    Fitted attributes: `tokenizer_`, `net_`, `fit_result_`, `split_` (documents and tokens),
    `metrics_` (validation perplexity of the network and the count-based baselines).
    """

    def __init__(self, config: LanguageModelConfig | None = None) -> None:
        super().__init__(config if config is not None else LanguageModelConfig())

    def fit(self, docs: list[str] | None = None, source: str = "the texts",
            checkpoints: Path | None = None, resume: bool = False,
            callbacks: list | None = None) -> LanguageModel:
        """Read `config.data` (unless `docs` are given), hold out the validation part, train;
        self. `checkpoints`: a folder for resumable training checkpoints; `resume` continues
        the fit interrupted there; `callbacks`: extra Lightning callbacks (a benchmark's
        timeline)."""
        cfg = self.config
        cfg.validate()
        seed_everything(self.config.train.seed)  # the initial weights depend on it too
        base = None
        if cfg.init:  # ULMFiT's LM fine-tuning: same vocabulary, architecture and weights
            base, self.tokenizer_, state = load_language_model(cfg.init)
            self.config = cfg = cfg.continued_from(state)
        train_docs, val_docs, source = self._held_out(docs, source)
        if base is None:
            specials = () if cfg.level == "char" else (EOS,)
            self.tokenizer_ = make_tokenizer(cfg.level, cfg.min_freq, cfg.max_vocab,
                                             cfg.bpe_vocab, specials=specials).fit(train_docs)
        train_stream = token_stream(self.tokenizer_, train_docs, cfg.backward)
        val_stream = token_stream(self.tokenizer_, val_docs, cfg.backward)
        rows = min(cfg.train.batch_size, max(1, (len(train_stream) - 1) // (2 * cfg.bptt)))
        self.stream_rows_ = rows  # --batch-size, lowered when the text fills fewer rows
        train = BpttChunks(train_stream, rows, cfg.bptt)
        val = scoring_chunks(val_stream, cfg.bptt, min_columns=2)
        net = base.train() if base is not None else WordLanguageModel(
            self.tokenizer_.vocab_size, **cfg.architecture())
        counts = np.bincount(train_stream, minlength=self.tokenizer_.vocab_size) + 1.0
        frequencies = torch.as_tensor(counts / counts.sum(), dtype=torch.float32)
        module = LanguageModelModule(net, cfg.train.lr, cfg.train.weight_decay,
                                     frequencies, cfg.sampled_softmax, cfg.schedule)
        per_epoch = None
        if cfg.epoch_tokens is not None:
            per_epoch = max(1, cfg.epoch_tokens // (rows * cfg.bptt))
        self.fit_result_: FitResult = fit_module(module, StreamDataModule(train, val, per_epoch),
                                                 cfg.train, monitor="val_loss", mode="min",
                                                 checkpoints=checkpoints, resume=resume,
                                                 callbacks=callbacks)
        self.net_ = net.eval()  # fitted only once training has ended
        self.split_ = {"train": len(train_docs), "val": len(val_docs),
                       "train_tokens": int(len(train_stream)), "val_tokens": int(len(val_stream))}
        self.source_ = source
        self.metrics_ = validation_metrics(self.net_, cfg.model, val, train_stream, val_stream,
                                           self.tokenizer_.vocab_size, cfg.level)
        return self

    def _held_out(self, docs: list[str] | None, source: str
                  ) -> tuple[list[str], list[str], str]:
        """(training texts, validation texts, source). Character level: the text's last
        --val-size share; otherwise whole documents drawn at random (seeded)."""
        cfg = self.config
        if cfg.level == "char":
            text, source = read_corpus(cfg) if docs is None else ("\n".join(docs), source)
            train_text, val_text = split_text(text, cfg.val_size)
            return [train_text], [val_text], source
        if docs is None:
            docs, source = read_documents(cfg)
        return *split_documents(docs, cfg.val_size, cfg.train.seed), source

    def generate(self, prompt: str = "", length: int = 200, temperature: float = 1.0,
                 top_k: int | None = None, top_p: float | None = None, seed: int = 0
                 ) -> Iterator[Token]:
        """Tokens continuing `prompt`, one at a time (an iterator, so they can be streamed):
        each a `Token(text, id, logprob)`. Same seed, same text; `temperature` 0 is greedy;
        `top_k` / `top_p` restrict each draw to the k most likely tokens / the smallest set
        holding probability top_p. Options are checked here, before the first token."""
        self.check_is_fitted()
        check_sampling(length, temperature, top_k, top_p)
        if self.config.backward or self.config.bidirectional:
            way = "backwards (--backward)" if self.config.backward else \
                "in both directions (--bidirectional)"
            raise UserError(f"this language model reads text {way}; generation continues a "
                            "prompt forwards: fit a forward model (`rnnlab lm fit` without "
                            "--backward / --bidirectional)")
        ids = prompt_ids(self.tokenizer_, self.config.level, prompt)
        starts_line = not prompt or prompt.endswith("\n")
        return generate_tokens(self.net_, self.tokenizer_, self.config.level, ids, length,
                               temperature, top_k, top_p, seed, starts_line)

    def stream(self, docs: list[str]) -> np.ndarray:
        """The token ids of `docs` as the model reads them: characters of the texts joined by
        line breaks, or each document's tokens followed by <eos>."""
        self.check_is_fitted()
        if self.config.level == "char":
            return np.asarray(self.tokenizer_.encode("\n".join(docs)), dtype=np.int64)
        return token_stream(self.tokenizer_, docs, self.config.backward)

    def perplexity(self, docs: list[str]) -> float:
        """Perplexity of the model on `docs` (one stream, <eos> between documents)."""
        stream = self.stream(docs)
        chunks = scoring_chunks(stream, self.config.bptt)
        return perplexity(stream_nll(self.net_, chunks))

    def predict(self, docs: list[str]) -> list[dict]:
        """Per document: {"text", "perplexity", "tokens"} (the document scored alone)."""
        self.check_is_fitted()
        results = []
        for doc in docs:
            stream = self.stream([doc])
            chunks = BpttChunks(stream, 1, self.config.bptt, min_columns=1)
            results.append({"text": doc, "perplexity": perplexity(stream_nll(self.net_, chunks)),
                            "tokens": int(len(stream) - 1)})
        return results

    def unknown_rate(self, docs: list[str]) -> float:
        """Share of tokens of `docs` that map to <unk>."""
        stream = self.stream(docs)
        return float(np.mean(stream == self.tokenizer_.token_to_id("<unk>")))

    def known_words(self, docs: list[str]) -> tuple[int, int]:
        """(tokens of `docs` in the vocabulary, all tokens), <eos> not counted."""
        stream = self.stream(docs)
        words = stream[stream != self.tokenizer_.token_to_id(EOS)]
        return int(np.sum(words != self.tokenizer_.token_to_id("<unk>"))), len(words)

    def embedding_table(self) -> tuple[list[str], np.ndarray]:
        """(tokens, (vocab, embed) array): every token id's input embedding row, in id order
        (for `rnnlab explain embeddings`)."""
        self.check_is_fitted()
        weight = self.net_.body.embedding.weight.detach().cpu().numpy().copy()
        return [self.tokenizer_.id_to_token(i) for i in range(len(weight))], weight

    def save(self, directory: str | Path) -> Path:
        """weights.safetensors + language_model.json (architecture, tokenizer, config) +
        model.json."""
        self.check_is_fitted()
        return self.write_model(directory, {
            "architecture": self.config.architecture(), "tokenizer": self.tokenizer_.to_dict(),
            "config": self.config.to_dict(), "split": self.split_})

    @classmethod
    def load(cls, run_or_model_dir: str | Path) -> LanguageModel:
        net, tokenizer, state = load_language_model(run_or_model_dir)
        try:
            self = cls(LanguageModelConfig.from_dict(state["config"]))
            self.split_ = state["split"]
        except (KeyError, TypeError, ValueError) as exc:
            raise store.damaged(run_or_model_dir, f"{LM_FILE} lacks or mangles {exc}") from None
        self.net_, self.tokenizer_ = net, tokenizer
        return self
