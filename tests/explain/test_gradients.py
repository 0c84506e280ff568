"""`rnnlab explain gradients`: per-step gradients against an independent step-by-step run of
the fused layer and a hand derivative, `reach` by hand, the measured LSTM / Elman difference,
the radius sweep, clipping, gradients.json and bad input."""

import json

import numpy as np
import pytest
import torch

from rnnlab.explain.gradients import (
    AddingNet,
    GradientConfig,
    adding_problem,
    gradient_norms,
    measure,
    reach,
    set_spectral_radius,
)

SMALL = GradientConfig(cells=("rnn", "lstm"), length=30, hidden=16, batch_size=32, steps=10,
                       radii=(0.5, 2.0), clip_steps=5, seed=0)


@pytest.fixture(scope="module")
def report():
    return measure(SMALL)


def test_reach_is_the_largest_distance_at_one_percent_of_distance_zero():
    assert reach([2.0, 1.0, 0.04, 0.019, 0.021, 0.001, 0.0]) == 4  # 0.021 >= 0.02 > 0.019
    assert reach([1.0, 0.5, 0.2]) == 2  # never below: the whole sequence
    assert reach([1.0, 0.009, 5.0]) == 2  # largest d, not the first drop (exploding)
    assert reach([1.0]) == 0
    assert reach([0.0, 1.0]) == 0  # no gradient at d = 0: nothing reaches anywhere


def test_adding_problem_marks_one_value_in_each_half():
    x, targets = adding_problem(5, 10, torch.Generator().manual_seed(0))
    marker = x[..., 1]
    assert x.shape == (5, 10, 2) and marker.sum(dim=1).tolist() == [2.0] * 5
    assert (marker[:, :5].sum(dim=1) == 1).all() and (marker[:, 5:].sum(dim=1) == 1).all()
    assert torch.allclose(targets[:, 0], (x[..., 0] * marker).sum(dim=1))


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_norms_equal_a_step_by_step_run_of_the_fused_layer(cell):
    torch.manual_seed(1)
    net = AddingNet(cell, 6, forget_bias=1.0).double()
    x, targets = adding_problem(4, 9, torch.Generator().manual_seed(2))
    x, targets = x.double(), targets.double()
    state, hidden = None, []
    for t in range(9):  # the fused layer one step at a time, each h_t kept in the graph
        out, state = net.rnn(x[:, t:t + 1], state)
        if cell == "lstm":
            state = (out.transpose(0, 1), state[1])  # h_t as the next step's input state
        else:
            state = out.transpose(0, 1)
        hidden.append(state[0] if cell == "lstm" else state)
    prediction = net.head(hidden[-1][0])
    loss = ((prediction - targets) ** 2).sum()
    grads = torch.autograd.grad(loss, hidden)
    expected = [g[0].norm(dim=-1).mean().item() for g in reversed(grads)]
    assert gradient_norms(net, x, targets) == pytest.approx(expected, rel=1e-6)
    # d = 0 by hand: dL/dh_T = 2 (prediction - target) w_head for each sequence
    by_hand = (2 * (prediction - targets) * net.head.weight).norm(dim=-1).mean().item()
    assert expected[0] == pytest.approx(by_hand, rel=1e-9)


def test_lstm_gradients_reach_further_back_than_the_elman_rnns(report):
    lstm, rnn = report.cells["lstm"]["init"], report.cells["rnn"]["init"]
    assert lstm["reach"] > rnn["reach"]
    # and the LSTM's whole tail stays higher relative to d = 0
    assert lstm["norms"][-1] / lstm["norms"][0] > 1e3 * rnn["norms"][-1] / rnn["norms"][0]


def test_radius_sweep_vanishes_below_one_and_grows_above(report):
    small, large = report.sweep["0.5"]["norms"], report.sweep["2"]["norms"]
    assert small[-1] < 1e-6 * small[0]  # 29 steps of a contraction
    assert large[-1] > large[0]  # grown back through 29 steps (this seed; tanh can saturate)
    assert large[-1] / large[0] > 1e6 * small[-1] / small[0]
    torch.manual_seed(0)
    net = AddingNet("rnn", 8)
    set_spectral_radius(net, 1.5)
    assert torch.linalg.eigvals(net.rnn.weight_hh_l0).abs().max().item() == pytest.approx(1.5)


def test_clipping_caps_the_total_norm_at_the_threshold(report):
    clip = report.clipping
    assert clip["first_step"]["norm_before"] > 2 * clip["threshold"]
    assert clip["first_step"]["norm_after"] == pytest.approx(clip["threshold"], rel=1e-5)
    history = clip["history"]["clipped"]
    for before, after in zip(history["norm_before"], history["norm_after"], strict=True):
        assert after == pytest.approx(min(before, clip["threshold"]), rel=1e-5)
    assert clip["history"]["unclipped"]["norm_after"] == clip["history"]["unclipped"][
        "norm_before"]


def test_cli_writes_json_figures_and_page(cli, tmp_path):
    out = tmp_path / "grad"
    result = cli(["explain", "gradients", "--length", "12", "--hidden", "8", "--steps", "5",
                  "--radii", "0.5,2", "--out", out])
    assert result.code == 0, result.err
    assert "reach" in result.out and "clipping at 1" in result.out
    data = json.loads((out / "gradients.json").read_text())
    assert set(data["cells"]) == {"rnn", "lstm", "gru"}
    for states in data["cells"].values():
        for state in ("init", "trained"):
            assert len(states[state]["norms"]) == 12
            assert states[state]["reach"] == reach(states[state]["norms"])
        assert states["trained"]["final_loss"] > 0
    assert set(data["sweep"]) == {"0.5", "2"} and data["sweep"]["2"]["radius"] == 2.0
    assert {"threshold", "first_step", "max_norm_after", "history", "diverged_at"} <= set(
        data["clipping"])
    assert data["reach_share"] == 0.01 and data["config"]["length"] == 12
    for name in ("gradients_by_distance", "radius_sweep", "clipping"):
        assert (out / "plots" / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
    assert "data:image/png;base64" in (out / "report.html").read_text()
    again = cli(["explain", "gradients", "--length", "12", "--out", out])
    assert again.code == 2 and "--overwrite" in again.err_lines[0]


@pytest.mark.parametrize("args,words", [
    (["--length", "0"], ["--length must be at least 2", "got 0"]),
    (["--cells", "rnn,transformer"], ["--cells", "rnn, lstm, gru", "transformer"]),
    (["--radii", "0.5,-1"], ["--radii must be >= "]),
    (["--radii", "a,b"], ["--radii takes a comma-separated list"]),
    (["--clip", "0"], ["--clip must be >= "]),
])
def test_bad_options_are_one_error_line(cli, tmp_path, args, words):
    result = cli(["explain", "gradients", *args, "--out", tmp_path / "g"])
    assert result.code == 2 and len(result.err_lines) == 1, result.err
    assert result.err_lines[0].startswith("error: ")
    for word in words:
        assert word in result.err_lines[0]
    assert not (tmp_path / "g").exists()


def test_same_seed_same_numbers():
    cfg = GradientConfig(cells=("gru",), length=8, hidden=4, batch_size=4, steps=3,
                         radii=(1.0,), clip_steps=2, seed=3)
    first, second = measure(cfg).to_dict(), measure(cfg).to_dict()
    assert first == second
    assert not np.allclose(first["cells"]["gru"]["init"]["norms"], measure(
        GradientConfig(**{**cfg.__dict__, "seed": 4})).to_dict()["cells"]["gru"]["init"]["norms"])
