"""SentimentClassifier: fit a recurrent text classifier, predict, save / load a run.

>>> from rnnlab.tasks.sentiment import SentimentClassifier, SentimentConfig
>>> clf = SentimentClassifier(SentimentConfig(data="rt-polarity-demo")).fit()  # doctest: +SKIP
>>> clf.predict(["a gripping, beautifully acted film"])                        # doctest: +SKIP
[{'label': 'pos', 'probability': 0.93, ...}]
>>> SentimentClassifier.load("runs/sentiment-demo").predict(["dull"])         # doctest: +SKIP
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from rnnlab.data.text import (
    BucketBatchSampler,
    Tokenizer,
    length_sorted_batches,
    make_tokenizer,
    pad_sequences,
    padding_ratio,
    tokenizer_from_dict,
)
from rnnlab.errors import UserError
from rnnlab.models.lm import load_language_model, load_weights, save_weights
from rnnlab.runs import atomic_write_text
from rnnlab.tasks.sentiment.config import CLASSIFIER_FILE, SentimentConfig, pretrained_kind
from rnnlab.tasks.sentiment.data import (
    Corpus,
    EncodedTexts,
    TextDataModule,
    encode_texts,
    load_corpus,
)
from rnnlab.tasks.sentiment.model import SentimentModule, TextClassifierNet
from rnnlab.tasks.sentiment.transfer import (
    Pretrained,
    classifier_config,
    pretrained_config,
    transfer_weights,
    with_lm_words,
)
from rnnlab.training import FitResult, fit_module, seed_everything


class SentimentClassifier:
    """A recurrent text classifier with its tokenizer, fitted on the training split.

    Fitted attributes end in `_`: `classes_`, `tokenizer_`, `net_`, `fit_result_`, `split_`,
    `padding_ratio_` (share of padded positions in the training batches),
    `vocab_coverage_` (with --pretrained: share of the vocabulary the pretrained model knew).
    """

    def __init__(self, config: SentimentConfig) -> None:
        self.config = config

    # -- fitting ---------------------------------------------------------------------------
    def fit(self, corpus: Corpus | None = None) -> SentimentClassifier:
        """Read and split `config.data` (unless `corpus` is given), train; returns self."""
        self.config.validate()
        corpus = corpus if corpus is not None else load_corpus(self.config)
        seed_everything(self.config.train.seed)  # the initial weights depend on it too
        source = self._pretrained_source() if self.config.pretrained else None
        cfg = self.config
        self.classes_ = corpus.classes
        self.tokenizer_ = self._fit_tokenizer(corpus.train_texts, source)
        train = EncodedTexts(self.encode(corpus.train_texts), corpus.train_labels)
        val = EncodedTexts(self.encode(corpus.val_texts), corpus.val_labels)
        sampler = BucketBatchSampler(train.lengths, cfg.train.batch_size, seed=cfg.train.seed)
        self.padding_ratio_ = padding_ratio(train.lengths, sampler.batches(0))
        self.net_ = self._build_net()
        self.vocab_coverage_ = None
        if source is not None:
            self.vocab_coverage_ = transfer_weights(self.net_, source.net, source.tokenizer,
                                                    self.tokenizer_)
            if source.classes == self.classes_:  # a classifier of the same classes: its head too
                self.net_.head.load_state_dict(source.net.head.state_dict())
        module = SentimentModule(
            self.net_, cfg.train.lr, cfg.train.weight_decay,
            lr_decay=cfg.lr_decay if source is not None else 1.0,
            unfreeze=cfg.unfreeze and source is not None, schedule=cfg.schedule,
        )
        datamodule = TextDataModule(train, val, cfg.train.batch_size, cfg.train.seed)
        self.fit_result_: FitResult = fit_module(module, datamodule, cfg.train,
                                                 monitor="val_auc", mode="max")
        self.net_.requires_grad_(True).eval()
        self.split_ = corpus.sizes
        return self

    def _pretrained_source(self) -> Pretrained:
        """The model `--pretrained` names (a language model, or a sentiment classifier for
        supervised transfer); `config` takes its architecture."""
        if pretrained_kind(self.config.pretrained) == "classifier":
            source = SentimentClassifier.load(self.config.pretrained)
            self.config = classifier_config(self.config, source.config)
            return Pretrained(source.net_, source.tokenizer_, source.classes_)
        lm, tokenizer, state = load_language_model(self.config.pretrained)
        self.config = pretrained_config(self.config, state)
        return Pretrained(lm, tokenizer)

    def _fit_tokenizer(self, texts: list[str], source: Pretrained | None) -> Tokenizer:
        cfg = self.config
        if source is not None and cfg.tokenizer == "bpe":
            return source.tokenizer  # same subword units as the pretrained model
        tokenizer = make_tokenizer(cfg.tokenizer, cfg.min_freq, cfg.max_vocab, cfg.bpe_vocab)
        tokenizer.fit(texts)
        return tokenizer if source is None else with_lm_words(tokenizer, source.tokenizer)

    def _build_net(self) -> TextClassifierNet:
        cfg = self.config
        return TextClassifierNet(
            self.tokenizer_.vocab_size, len(self.classes_), cfg.embed, cfg.hidden, cfg.layers,
            cfg.model, cfg.bidirectional, cfg.dropout, cfg.weight_drop, cfg.embed_dropout,
            cfg.input_dropout, cfg.pooling, cfg.head_hidden,
        )

    # -- predicting ------------------------------------------------------------------------
    def encode(self, texts: list[str]) -> list[list[int]]:
        """Token ids of each text, truncated to --max-len as in training (in the order the
        network reads them: reversed for a backward model)."""
        cfg = self.config
        return encode_texts(self.tokenizer_, texts, cfg.max_len, cfg.keep, cfg.backward)

    @torch.no_grad()
    def predict_proba(self, texts: list[str], batch_size: int = 256) -> np.ndarray:
        """(n_texts, n_classes) class probabilities, columns in `classes_` order."""
        ids = self.encode(list(texts))
        result = np.zeros((len(ids), len(self.classes_)))
        self.net_.eval()
        for indices in length_sorted_batches([len(i) for i in ids], batch_size):
            tokens, lengths = pad_sequences([ids[i] for i in indices])
            result[indices] = self.net_(tokens, lengths).softmax(-1).double().numpy()
        return result

    def predict(self, texts: list[str]) -> list[dict]:
        """One {"text", "label", "probability", "probabilities"} per text."""
        return labelled(texts, self.predict_proba(texts), self.classes_)

    # -- persistence -----------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        """model/weights.safetensors + model/classifier.json (tokenizer as JSON, no pickles)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        save_weights(self.net_, directory / "weights.safetensors")
        state = {"config": self.config.to_dict(), "classes": self.classes_,
                 "tokenizer": self.tokenizer_.to_dict(), "split": self.split_,
                 "padding_ratio": self.padding_ratio_, "vocab_coverage": self.vocab_coverage_}
        atomic_write_text(directory / CLASSIFIER_FILE, json.dumps(state))
        return directory

    @classmethod
    def load(cls, run_or_model_dir: str | Path) -> SentimentClassifier:
        """Load from a run folder (or its model/ folder) written by `sentiment fit`."""
        path = Path(run_or_model_dir)
        model_dir = path / "model" if (path / "model").is_dir() else path
        if not (model_dir / CLASSIFIER_FILE).is_file():
            raise UserError(f"{path} holds no sentiment model (model/{CLASSIFIER_FILE} missing); "
                            "give the --out folder of `rnnlab sentiment fit`")
        state = json.loads((model_dir / CLASSIFIER_FILE).read_text(encoding="utf-8"))
        self = cls(SentimentConfig.from_dict(state["config"]))
        self.classes_, self.split_ = state["classes"], state["split"]
        self.padding_ratio_, self.vocab_coverage_ = state["padding_ratio"], state["vocab_coverage"]
        self.tokenizer_ = tokenizer_from_dict(state["tokenizer"])
        self.net_ = self._build_net()
        load_weights(self.net_, model_dir / "weights.safetensors")
        self.net_.eval()
        return self


def labelled(texts: list[str], probabilities: np.ndarray, classes: list[str]) -> list[dict]:
    """One {"text", "label", "probability", "probabilities"} per text and probability row."""
    return [{"text": text, "label": classes[int(row.argmax())], "probability": float(row.max()),
             "probabilities": dict(zip(classes, map(float, row), strict=True))}
            for text, row in zip(texts, probabilities, strict=True)]
