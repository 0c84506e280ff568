"""SentimentClassifier: fit a recurrent text classifier, predict, save / load a run.

>>> from rnnlab.tasks.sentiment import SentimentClassifier, SentimentConfig
>>> clf = SentimentClassifier(SentimentConfig(data="rt-polarity-demo")).fit()  # doctest: +SKIP
>>> clf.predict(["a gripping, beautifully acted film"])                        # doctest: +SKIP
[{'label': 'pos', 'probability': 0.93, ...}]
>>> SentimentClassifier.load("runs/sentiment-demo").predict(["dull"])         # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from rnnlab.data.batching import (
    BucketBatchSampler,
    TextDataModule,
    length_sorted_batches,
    pad_sequences,
    padding_ratio,
)
from rnnlab.data.text import (
    Tokenizer,
    make_tokenizer,
    tokenizer_from_dict,
)
from rnnlab.errors import UserError
from rnnlab.estimator import Estimator
from rnnlab.models.lm import load_language_model
from rnnlab.tasks.sentiment.config import SentimentConfig, pretrained_kind
from rnnlab.tasks.sentiment.data import (
    Corpus,
    EncodedTexts,
    check_new_texts,
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


class SentimentClassifier(Estimator):
    """A recurrent text classifier with its tokenizer, fitted on the training split.

    Fitted attributes end in `_`: `classes_`, `tokenizer_`, `net_`, `fit_result_`, `split_`,
    `padding_ratio_` (share of padded positions in the training batches),
    `vocab_coverage_` (with --pretrained: share of the vocabulary the pretrained model knew).
    """

    def __init__(self, config: SentimentConfig | None = None) -> None:
        super().__init__(config if config is not None else SentimentConfig())

    # -- fitting ---------------------------------------------------------------------------
    def fit(self, corpus: Corpus | None = None, checkpoints: Path | None = None,
            resume: bool = False) -> SentimentClassifier:
        """Read and split `config.data` (unless `corpus` is given), train; returns self.
        `checkpoints`: a folder for resumable training checkpoints; `resume` continues the
        fit interrupted there."""
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
        net = self._build_net()
        self.vocab_coverage_ = None
        if source is not None:
            self.vocab_coverage_ = transfer_weights(net, source.net, source.tokenizer,
                                                    self.tokenizer_)
            if source.classes == self.classes_:  # a classifier of the same classes: its head too
                net.head.load_state_dict(source.net.head.state_dict())
        module = SentimentModule(
            net, cfg.train.lr, cfg.train.weight_decay,
            lr_decay=cfg.lr_decay if source is not None else 1.0,
            unfreeze=cfg.unfreeze and source is not None, schedule=cfg.schedule,
        )
        datamodule = TextDataModule(train, val, cfg.train.batch_size, cfg.train.seed)
        self.fit_result_: FitResult = fit_module(module, datamodule, cfg.train,
                                                 monitor="val_auc", mode="max",
                                                 checkpoints=checkpoints, resume=resume)
        self.net_ = net.requires_grad_(True).eval()  # fitted only once training has ended
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
        """(n_texts, n_classes) class probabilities, columns in `classes_` order. An empty text
        (whitespace or HTML tags only) is a UserError, as it is for `fit`."""
        self.check_is_fitted()
        ids = self.encode(list(texts))
        if not all(ids):
            check_new_texts(list(texts))
        result = np.zeros((len(ids), len(self.classes_)))
        for indices in length_sorted_batches([len(i) for i in ids], batch_size):
            tokens, lengths = pad_sequences([ids[i] for i in indices])
            result[indices] = self.net_(tokens, lengths).softmax(-1).double().numpy()
        return result

    def predict(self, texts: list[str]) -> list[dict]:
        """One {"text", "label", "probability", "probabilities"} per text."""
        return labelled(texts, self.predict_proba(texts), self.classes_)

    def embedding_table(self) -> tuple[list[str], np.ndarray]:
        """(tokens, (vocab, embed) array): every token id's input embedding row, in id order
        (for `rnnlab explain embeddings`)."""
        self.check_is_fitted()
        weight = self.net_.body.embedding.weight.detach().cpu().numpy().copy()
        return [self.tokenizer_.id_to_token(i) for i in range(len(weight))], weight

    # -- persistence -----------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        """weights.safetensors + classifier.json (tokenizer as JSON, no pickles) + model.json."""
        self.check_is_fitted()
        return self.write_model(directory, {
            "config": self.config.to_dict(), "classes": self.classes_,
            "tokenizer": self.tokenizer_.to_dict(), "split": self.split_,
            "padding_ratio": self.padding_ratio_, "vocab_coverage": self.vocab_coverage_})

    @classmethod
    def load(cls, run_or_model_dir: str | Path) -> SentimentClassifier:
        """Load from a run folder (or its model/ folder) written by `sentiment fit`."""
        def build(state: dict) -> tuple[SentimentClassifier, TextClassifierNet]:
            self = cls(SentimentConfig.from_dict(state["config"]))
            self.classes_, self.split_ = state["classes"], state["split"]
            self.padding_ratio_ = state["padding_ratio"]
            self.vocab_coverage_ = state["vocab_coverage"]
            self.tokenizer_ = tokenizer_from_dict(state["tokenizer"])
            return self, self._build_net()

        return cls.restore(run_or_model_dir, build)


class SentimentEnsemble:
    """Several fitted classifiers of the same classes as one: the mean of their class
    probabilities (e.g. ULMFiT's forward + backward models). `rnnlab.load_run([a, b])`."""

    def __init__(self, members: list[SentimentClassifier], names: list[str] | None = None
                 ) -> None:
        names = names or [str(i) for i in range(len(members))]
        for name, member in zip(names[1:], members[1:], strict=True):
            if member.classes_ != members[0].classes_:
                raise UserError(f"{name} predicts classes {member.classes_}, {names[0]} "
                                f"predicts {members[0].classes_}: an ensemble needs the same "
                                "classes")
        self.members, self.names = members, names
        self.classes_ = members[0].classes_

    def predict_proba(self, texts: list[str], batch_size: int = 256) -> np.ndarray:
        """(n_texts, n_classes): the mean of the members' probabilities."""
        return np.mean([member.predict_proba(texts, batch_size) for member in self.members],
                       axis=0)

    def predict(self, texts: list[str]) -> list[dict]:
        return labelled(texts, self.predict_proba(texts), self.classes_)


def labelled(texts: list[str], probabilities: np.ndarray, classes: list[str]) -> list[dict]:
    """One {"text", "label", "probability", "probabilities"} per text and probability row."""
    return [{"text": text, "label": classes[int(row.argmax())], "probability": float(row.max()),
             "probabilities": dict(zip(classes, map(float, row), strict=True))}
            for text, row in zip(texts, probabilities, strict=True)]
