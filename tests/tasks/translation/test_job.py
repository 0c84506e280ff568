"""`rnnlab translate`: learning a synthetic task, order-keeping prediction (API and CLI), the
run folder, baselines, weight tying, BPE, and one-line errors for bad input."""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import yaml

import rnnlab
from rnnlab.data.parallel import ParallelText
from rnnlab.tasks.translation import TranslationConfig, Translator
from rnnlab.tasks.translation.api import read_splits
from rnnlab.tasks.translation.evaluation import COPY, NO_ATTENTION
from rnnlab.tasks.translation.metrics import corpus_scores
from rnnlab.tasks.translation.workflows import evaluate_run
from tests.tasks.translation.conftest import TINY_FIT, reverse_config, reverse_pairs

# Sources of very different lengths (1 to 20 digits), several of each, more than one decoding
# batch (64) in all, in an order that is neither sorted nor grouped by length.
MIXED = [" ".join(str((i * 7 + j * 3) % 10) for j in range(length))
         for i, length in enumerate([1, 14, 3, 20, 5, 8, 2, 11, 6, 17, 4, 7] * 7)]


def assert_one_error(result, *fragments: str) -> None:
    """Exit 2 and one stderr line `error: ...` holding every fragment."""
    assert result.code == 2, (result.code, result.out, result.err)
    assert len(result.err_lines) == 1, result.err
    assert result.err_lines[0].startswith("error: "), result.err
    for fragment in fragments:
        assert fragment in result.err_lines[0], result.err_lines[0]
    assert "Traceback" not in result.err and "internal error" not in result.err


def demo_splits() -> tuple[ParallelText, ParallelText, ParallelText]:
    """The (train, validation, test) pairs of the `demo_run` fixture."""
    return read_splits(TranslationConfig(max_pairs=300, val_size=0.01, test_size=0.01))


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


# -- learning ---------------------------------------------------------------------------------
def test_small_model_learns_to_reverse_digit_sequences(reverse_translator):
    seen = set(reverse_pairs(2000, seed=0).src)
    held_out = [s for s in reverse_pairs(400, seed=2).src if s not in seen][:200]
    assert len(held_out) == 200
    expected = [" ".join(s.split()[::-1]) for s in held_out]
    for beam in (None, 1):  # the config's beam 3, and greedy
        predicted = reverse_translator.predict(held_out, beam=beam)
        exact = sum(p == e for p, e in zip(predicted, expected, strict=True)) / len(held_out)
        assert exact >= 0.95, (beam, exact)
    result = reverse_translator.fit_result_
    assert result.history[-1]["val_loss"] < result.history[0]["val_loss"]
    assert reverse_translator.split_["train"] == 2000


# -- prediction keeps the order -----------------------------------------------------------
@pytest.mark.parametrize("beam", [1, 3])
def test_translations_of_mixed_lengths_come_back_in_order_as_if_alone(reverse_translator,
                                                                      beam):
    together = reverse_translator.translate(MIXED, beam=beam)
    alone = reverse_translator.translate(MIXED, beam=beam, batch_size=1)
    assert [t.source for t in together] == MIXED
    for one, other in zip(together, alone, strict=True):
        assert one.text == other.text and one.tokens == other.tokens
        assert one.logprob == pytest.approx(other.logprob, abs=1e-4)
        assert one.attention.shape == other.attention.shape == (len(one.tokens),
                                                                 len(one.source_tokens))
    # spot checks against truly separate calls
    for index in (0, 3, 40, len(MIXED) - 1):
        assert reverse_translator.predict([MIXED[index]], beam=beam) == [together[index].text]
    # the model reverses in-range lengths, so an order mix-up could not go unnoticed
    in_range = [(s, t.text) for s, t in zip(MIXED, together, strict=True)
                if 3 <= len(s.split()) <= 8]
    correct = sum(text == " ".join(s.split()[::-1]) for s, text in in_range)
    assert correct >= 0.9 * len(in_range)


def test_predict_cli_prints_one_line_per_input_line_in_order(cli, reverse_translator,
                                                             reverse_model_dir, tmp_path):
    lines = [MIXED[3], "", MIXED[0], MIXED[1], "   ", MIXED[4], MIXED[2]]
    texts = iter(reverse_translator.predict([s for s in lines if s.strip()]))
    expected = [next(texts) if s.strip() else "" for s in lines]
    file = tmp_path / "sentences.txt"
    file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = cli(["translate", "predict", "--run", reverse_model_dir, "--file", file])
    assert result.code == 0, result.err
    assert result.out.split("\n") == [*expected, ""]
    # greedy through the CLI is greedy in process
    greedy = cli(["translate", "predict", "--run", reverse_model_dir, "--file", file,
                  "--beam", "1"])
    assert greedy.code == 0, greedy.err
    assert greedy.out.split("\n")[:1] == reverse_translator.predict([lines[0]], beam=1)


def test_predict_cli_reads_stdin(cli, reverse_translator, reverse_model_dir, monkeypatch):
    lines = [MIXED[1], "", MIXED[3]]
    monkeypatch.setattr(sys, "stdin", io.StringIO("\r\n".join(lines) + "\r\n"))
    result = cli(["translate", "predict", "--run", reverse_model_dir, "--json"])
    assert result.code == 0, result.err
    records = [json.loads(line) for line in result.out.splitlines()]
    assert [r["source"] for r in records] == lines
    texts = reverse_translator.predict([lines[0], lines[2]])
    assert [r["translation"] for r in records] == [texts[0], "", texts[1]]
    assert records[1]["tokens"] == [] and records[0]["tokens"][-1] == "<eos>"


def test_predict_cli_writes_one_heat_map_per_sentence(cli, reverse_model_dir, tmp_path):
    maps = tmp_path / "maps"
    result = cli(["translate", "predict", "--run", reverse_model_dir, "--attention", maps,
                  MIXED[2], MIXED[5]])
    assert result.code == 0, result.err
    assert len(result.out.splitlines()) == 2
    assert sorted(p.name for p in maps.iterdir()) == ["attention-1.png", "attention-2.png"]
    assert result.err.count("attention heat-map:") == 2


def test_heat_maps_are_named_by_input_line(cli, reverse_model_dir, tmp_path):
    """A blank input line gets no heat-map, and the next sentence's file keeps its line
    number."""
    source = tmp_path / "in.txt"
    source.write_text(f"{MIXED[2]}\n\n{MIXED[5]}\n", encoding="utf-8")
    maps = tmp_path / "maps"
    result = cli(["translate", "predict", "--run", reverse_model_dir, "--attention", maps,
                  "--file", source])
    assert result.code == 0, result.err
    assert sorted(p.name for p in maps.iterdir()) == ["attention-1.png", "attention-3.png"]


# -- the run folder ----------------------------------------------------------------------------
def test_fit_writes_a_complete_run_folder(demo_run):
    metrics = json.loads((demo_run / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["job"] == "translate"
    rows = metrics["test"]
    assert set(rows) == {"gru-bahdanau", "gru-bahdanau greedy", NO_ATTENTION, COPY}
    for name, row in rows.items():
        assert 0 <= row["bleu"] <= 100 and 0 <= row["chrf"] <= 100, name
        if name != COPY:
            assert math.isfinite(row["perplexity"]) and row["perplexity"] > 1, name
    assert "nrefs:1" in metrics["signatures"]["bleu"] and "tok:13a" in metrics["signatures"][
        "bleu"]
    assert "nrefs:1" in metrics["signatures"]["chrf"]
    assert metrics["split"]["train"] == 300 and metrics["split"]["test"] == 50
    assert metrics["epochs"] == 1 and len(metrics["history"]) == 1
    _, _, test = demo_splits()
    predictions = read_csv(demo_run / "predictions.csv")
    assert len(predictions) == len(test) == 50
    assert [p["source"] for p in predictions] == test.src
    assert [p["reference"] for p in predictions] == test.tgt
    for name in ("plots/attention-1.png", "plots/loss.png", "report.html", "config.yaml",
                 "baselines/no_attention/translator.json"):
        assert (demo_run / name).is_file(), name
    report = (demo_run / "report.html").read_text(encoding="utf-8")
    assert COPY in report and "Example translations" in report
    config = yaml.safe_load((demo_run / "config.yaml").read_text(encoding="utf-8"))
    assert config["config"]["baseline_no_attention"] is True


def test_copy_source_row_is_the_score_of_the_source_sentences(demo_run):
    _, _, test = demo_splits()
    metrics = json.loads((demo_run / "metrics.json").read_text(encoding="utf-8"))
    expected = corpus_scores(test.src, test.tgt)
    assert metrics["test"][COPY] == pytest.approx(expected, abs=1e-9)


def test_load_run_translates_as_the_fitted_model_did(demo_run, reverse_translator,
                                                     reverse_model_dir):
    loaded = rnnlab.load_run(demo_run)
    assert isinstance(loaded, Translator) and loaded.config.beam == 3
    predictions = read_csv(demo_run / "predictions.csv")
    assert loaded.predict([p["source"] for p in predictions]) == [
        p["translation"] for p in predictions]
    # a meaningful model too: the reloaded reversal model predicts what it did in process
    again = rnnlab.load_run(reverse_model_dir)
    assert again.predict(MIXED[:30]) == reverse_translator.predict(MIXED[:30])


def test_evaluate_scores_a_run_on_a_table(cli, demo_run, tmp_path):
    _, _, test = demo_splits()
    table = tmp_path / "pairs.tsv"
    table.write_text("de\ten\n" + "".join(f"{s}\t{t}\n" for s, t in zip(test.src[:6],
                                                                         test.tgt[:6],
                                                                         strict=True)),
                     encoding="utf-8")
    result = cli(["translate", "evaluate", "--run", demo_run, "--data", table, "--beam", "1"])
    assert result.code == 0, result.err
    assert COPY in result.out and "gru-bahdanau" in result.out
    metrics = evaluate_run(demo_run, str(table), beam=1)
    assert metrics[COPY] == pytest.approx(corpus_scores(test.src[:6], test.tgt[:6]))
    assert "gru-bahdanau greedy" not in metrics  # beam 1 has no separate greedy row
    loaded = rnnlab.load_run(demo_run)
    assert metrics["gru-bahdanau"]["bleu"] == pytest.approx(
        corpus_scores(loaded.predict(test.src[:6], beam=1), test.tgt[:6])["bleu"])


def test_heat_maps_of_a_run_without_attention_are_refused(cli, demo_run, tmp_path):
    result = cli(["translate", "predict", "--run", demo_run / "baselines" / "no_attention",
                  "--attention", tmp_path / "maps", "Ein Hund."])
    assert_one_error(result, "--attention none", "drop --attention")
    assert not (tmp_path / "maps").exists()
    # without --attention that model translates
    assert cli(["translate", "predict", "--run", demo_run / "baselines" / "no_attention",
                "Ein Hund."]).code == 0


# -- options -----------------------------------------------------------------------------------
def test_tied_weights_share_one_tensor_and_survive_the_run_folder(cli, tmp_path):
    """--tie through the CLI on --src/--tgt files (+ --val, --test), Bahdanau attention."""
    paths = {}
    for name, pairs in (("train", reverse_pairs(200, 5)), ("val", reverse_pairs(20, 6)),
                        ("test", reverse_pairs(10, 7))):
        for side, lines in (("src", pairs.src), ("tgt", pairs.tgt)):
            paths[name, side] = tmp_path / f"{name}.{side}"
            paths[name, side].write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = cli(["translate", "fit", "--src", paths["train", "src"], "--tgt",
                  paths["train", "tgt"], "--val", f"{paths['val', 'src']},{paths['val', 'tgt']}",
                  "--test", f"{paths['test', 'src']},{paths['test', 'tgt']}", "--tie",
                  "--attention", "bahdanau", "--embed", "12", "--hidden", "8", "--epochs", "1",
                  "--min-freq", "1", "--beam", "1", "--device", "cpu", "--quiet", "--out",
                  tmp_path / "run"])
    assert result.code == 0, result.err
    loaded = rnnlab.load_run(tmp_path / "run")
    assert loaded.config.tie and loaded.config.attention == "bahdanau"
    net = loaded.net_
    assert net.output.weight is net.tgt_embedding.weight
    assert net.output.weight.shape == (loaded.tgt_tokenizer_.vocab_size, 12)
    predictions = read_csv(tmp_path / "run" / "predictions.csv")
    assert len(predictions) == 10
    assert loaded.predict([p["source"] for p in predictions]) == [
        p["translation"] for p in predictions]
    # in process: the fitted model shares it too, and a save / load keeps it shared
    cfg = reverse_config(tie=True, embed=12, hidden=8)
    fitted = Translator(cfg.replace(train=replace(cfg.train, epochs=1))).fit(
        reverse_pairs(100, 5), reverse_pairs(10, 6))
    assert fitted.net_.output.weight is fitted.net_.tgt_embedding.weight
    again = Translator.load(fitted.save(tmp_path / "tied"))
    assert again.net_.output.weight is again.net_.tgt_embedding.weight
    assert again.predict(MIXED[:10]) == fitted.predict(MIXED[:10])


def test_bpe_level_fits_translates_and_decodes_exactly(tmp_path):
    train, val, test = demo_splits()
    cfg = TranslationConfig(level="bpe", bpe_vocab=300, embed=16, hidden=16, beam=2,
                            train=replace(reverse_config().train, epochs=1))
    translator = Translator(cfg).fit(train, val.subset(range(20)))
    for tokenizer, sentences in ((translator.src_tokenizer_, train.src[:20]),
                                 (translator.tgt_tokenizer_, train.tgt[:20])):
        assert 250 <= tokenizer.vocab_size <= 300
        for sentence in sentences:
            assert tokenizer.decode(tokenizer.encode(sentence)) == sentence
    outputs = translator.predict(test.src[:5])
    assert len(outputs) == 5 and all(isinstance(o, str) for o in outputs)
    assert not any("<" in o for o in outputs)  # no special token leaks into the text
    loaded = Translator.load(translator.save(tmp_path / "bpe"))
    assert loaded.predict(test.src[:5]) == outputs


# -- bad input -------------------------------------------------------------------------------
def _fit(cli, tmp_path: Path, src: str | None, tgt: str | None, *extra: str):
    args = ["translate", "fit", "--out", tmp_path / "run", "--epochs", "1", "--device", "cpu",
            "--quiet", *extra]
    for option, text in (("--src", src), ("--tgt", tgt)):
        if text is not None:
            path = tmp_path / option.strip("-")
            path.write_text(text, encoding="utf-8")
            args += [option, path]
    return cli(args)


@pytest.mark.parametrize("src,tgt,fragments", [
    ("eins\nzwei\ndrei\n", "one\ntwo\n", ["src has 3 lines but", "tgt has 2", "line 3 of"]),
    ("eins\nzwei\n", "one\ntwo\nthree\nfour\n", ["line 3 of", "tgt has no partner"]),
    ("eins\n \ndrei\n", "one\ntwo\nthree\n", ["src line 2 is empty", "source side of pair 2"]),
    ("eins\nzwei\ndrei\n", "one\ntwo\n\n", ["tgt line 3 is empty", "target side of pair 3"]),
    ("", "one\ntwo\n", ["source file", "src is empty"]),
    ("eins\n", "\n\n", ["target file", "tgt is empty"]),
    ("eins\nzwei\n", None, ["--src needs --tgt"]),
    (None, "one\ntwo\n", ["--tgt needs --src"]),
])
def test_bad_pairs_give_a_one_line_error(cli, tmp_path, src, tgt, fragments):
    result = _fit(cli, tmp_path, src, tgt)
    assert_one_error(result, *fragments)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("extra,fragments", [
    (["--val-size", "0"], ["--val-size 0 without --val", "give --val"]),
    (["--test-size", "0"], ["--test-size 0 without --test", "give --test"]),
    (["--max-len", "2"], ["all 8 training pairs have a side longer than --max-len 2"]),
    (["--attention", "none", "--baseline-no-attention"], ["--baseline-no-attention with "
                                                          "--attention none"]),
])
def test_options_that_leave_nothing_to_train_or_score_are_refused(cli, tmp_path, extra,
                                                                  fragments):
    lines = [f"w{i} x{i} y{i} z{i}" for i in range(12)]
    result = _fit(cli, tmp_path, "\n".join(lines), "\n".join(lines), "--val-size", "0.2",
                  "--test-size", "0.2", "--min-freq", "1", *extra)
    assert_one_error(result, *fragments)
    assert not (tmp_path / "run").exists()


def test_bad_beam_is_a_one_line_error(cli, demo_run, tmp_path):
    table = tmp_path / "pairs.tsv"
    table.write_text("de\ten\nEin Hund.\tA dog.\n", encoding="utf-8")
    assert_one_error(cli(["translate", "evaluate", "--run", demo_run, "--data", table, "--beam",
                          "0"]), "--beam must be at least 1")
    assert_one_error(cli(["translate", "predict", "--run", demo_run, "--beam", "0", "Hund"]),
                     "--beam must be at least 1")
    with pytest.raises(ValueError, match="beam must be at least 1"):
        rnnlab.load_run(demo_run).translate(["Hund"], beam=0)


def test_predict_of_an_empty_file_is_an_error_and_blank_lines_stay_blank(cli, demo_run,
                                                                          tmp_path):
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    assert_one_error(cli(["translate", "predict", "--run", demo_run, "--file",
                          tmp_path / "empty.txt"]), "empty.txt is empty")
    (tmp_path / "blank.txt").write_text("\n \n", encoding="utf-8")
    result = cli(["translate", "predict", "--run", demo_run, "--file", tmp_path / "blank.txt"])
    assert result.code == 0, result.err
    assert result.out == "\n\n"


def test_fit_options_reach_the_config(cli, monkeypatch):
    from rnnlab.tasks.translation import workflows

    seen = {}
    monkeypatch.setattr(workflows, "fit_run", lambda cfg, **run: seen.update(cfg=cfg))
    result = cli(["translate", "fit", *TINY_FIT, "--attention", "dot", "--model", "lstm",
                  "--tie", "--level", "bpe", "--bpe-vocab", "300", "--length-penalty", "0.5"])
    assert result.code == 0, result.err
    cfg = seen["cfg"]
    assert (cfg.attention, cfg.model, cfg.tie, cfg.level, cfg.bpe_vocab) == (
        "dot", "lstm", True, "bpe", 300)
    assert (cfg.beam, cfg.length_penalty, cfg.max_pairs) == (3, 0.5, 300)
    assert (cfg.train.epochs, cfg.train.lr, cfg.train.patience) == (1, 1e-3, 3)


def test_unknown_word_becomes_the_most_attended_source_word_never_eos(reverse_translator,
                                                                      monkeypatch):
    """--replace-unk copies the source word a generated <unk> attends to most; the source's
    <eos> is never copied (it would vanish from the text)."""
    from rnnlab.models.decoding import Hypothesis

    attention = np.array([[0.1, 0.3, 0.6], [0.2, 0.1, 0.7]])  # "1 2" + <eos>: <eos> is the peak
    monkeypatch.setattr(reverse_translator, "_decode",
                        lambda src, lengths, beam: [Hypothesis([1], -1.0, attention)])
    assert reverse_translator.config.replace_unk and reverse_translator.config.level == "word"
    assert reverse_translator.translate(["1 2"])[0].text == "2"
