"""`rnnlab sentiment` / `rnnlab lm`: help with examples, options reaching the configs."""

import pytest

from rnnlab.tasks.language import workflows as lm_workflows
from rnnlab.tasks.sentiment import workflows


@pytest.mark.parametrize("command", [["sentiment", "fit"], ["sentiment", "evaluate"],
                                     ["sentiment", "predict"], ["sentiment", "label-curve"],
                                     ["sentiment", "explain"], ["lm", "pretrain"],
                                     ["lm", "evaluate"]])
def test_every_command_has_help_with_an_example(cli, command):
    result = cli([*command, "--help"])
    assert result.code == 0, result.err
    assert f"Example: rnnlab {' '.join(command)}" in result.out


def test_fit_options_reach_the_config(cli, monkeypatch):
    seen = {}
    monkeypatch.setattr(workflows, "fit_run",
                        lambda cfg, out, **run: seen.update(cfg=cfg, out=out))
    result = cli(["sentiment", "fit", "--data", "rt-polarity-demo", "--unidirectional",
                  "--model", "gru", "--max-len", "0", "--max-vocab", "0", "--pooling", "last",
                  "--weight-drop", "0.3", "--tokenizer", "bpe", "--epochs", "2", "--seed", "7",
                  "--clip", "0", "--out", "somewhere"])
    assert result.code == 0, result.err
    cfg = seen["cfg"]
    assert (cfg.model, cfg.bidirectional, cfg.pooling, cfg.tokenizer) == ("gru", False, "last",
                                                                          "bpe")
    assert cfg.max_len is None and cfg.max_vocab is None and cfg.weight_drop == 0.3
    assert (cfg.train.epochs, cfg.train.seed, cfg.train.clip) == (2, 7, None)
    assert cfg.train.patience == 3  # the sentiment default, unset on the command line
    assert seen["out"] == "somewhere"


def test_pretrain_options_reach_the_config(cli, monkeypatch):
    seen = {}
    monkeypatch.setattr(lm_workflows, "fit_run",
                        lambda cfg, **run: seen.update(cfg=cfg))
    result = cli(["lm", "pretrain", "--bptt", "35", "--no-tie", "--sampled-softmax", "512",
                  "--weight-drop", "0.5"])
    assert result.code == 0, result.err
    cfg = seen["cfg"]
    assert (cfg.bptt, cfg.tie, cfg.sampled_softmax, cfg.weight_drop) == (35, False, 512, 0.5)
    assert cfg.train.clip == 0.25


@pytest.mark.parametrize("args,message", [
    (["sentiment", "label-curve", "--sizes", "100,lots"], "--sizes takes numbers or 'all'"),
    (["sentiment", "fit", "--keep", "middle"], "--keep must be one of head, tail, both"),
    (["sentiment", "fit", "--dropout", "1.5"], "--dropout must be between 0.0 and 0.95"),
    (["lm", "pretrain", "--bptt", "1"], "--bptt must be >= 2"),
])
def test_bad_options_are_one_line_errors(cli, args, message):
    result = cli(args)
    assert result.code == 2 and len(result.err_lines) == 1
    assert message in result.err_lines[0]
