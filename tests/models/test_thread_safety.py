"""Eval-mode forward passes change no module state, so one model can serve many threads.

DropConnect (weight_drop > 0) used to assign a copy of the hidden-to-hidden weights onto the
fused layer on every forward, evaluation included: a data race between concurrent predictions.
"""

from __future__ import annotations

import copy
import random
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch
from safetensors.torch import load_model, save_model
from torch import nn

from rnnlab.models.encoder import RecurrentEncoder
from rnnlab.models.text_encoder import TextEncoder

CASES = [(RecurrentEncoder, "lstm"), (RecurrentEncoder, "gru"), (TextEncoder, "lstm"),
         (TextEncoder, "gru")]
IDS = [f"{cls.__name__}-{cell}" for cls, cell in CASES]


@pytest.fixture(autouse=True, scope="module")
def one_intra_op_thread():
    """2-core machine: the test's own threads, not PyTorch's, provide the concurrency."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _trained(cls: type[RecurrentEncoder], cell: str, weight_drop: float = 0.3
             ) -> RecurrentEncoder:
    """An encoder (with DropConnect) after a couple of training steps, then in eval mode."""
    torch.manual_seed(0)
    encoder = cls(3, hidden_size=5, num_layers=2, cell=cell, bidirectional=True, dropout=0.2,
                  weight_drop=weight_drop)
    optimizer = torch.optim.SGD(encoder.parameters(), lr=0.1)
    encoder.train()
    for _ in range(2):
        x, lengths = torch.randn(4, 6, 3), torch.tensor([6, 2, 5, 3])
        outputs, last = encoder(x, lengths)
        optimizer.zero_grad()
        (outputs.pow(2).mean() + last.sum()).backward()
        optimizer.step()
    return encoder.eval()


def _calls(encoder: RecurrentEncoder) -> list:
    """Distinct eval-mode forward calls: unpadded, padded, and (TextEncoder) stateful."""
    generator = torch.Generator().manual_seed(1)
    calls = []
    for batch, steps in [(1, 4), (3, 7), (5, 5)]:
        x = torch.randn(batch, steps, 3, generator=generator)
        lengths = torch.randint(1, steps + 1, (batch,), generator=generator)
        lengths[0] = steps
        calls.append(lambda x=x: encoder(x))
        calls.append(lambda x=x, lengths=lengths: encoder(x, lengths))
        if isinstance(encoder, TextEncoder):
            calls.append(lambda x=x: encoder.forward_with_state(x))
            state = encoder.forward_with_state(x)[1]
            calls.append(lambda x=x, state=state: encoder.forward_with_state(x, state))
    return calls


def _flat(result: tuple) -> list[torch.Tensor]:
    outputs, second = result
    return [outputs, *(second if isinstance(second, tuple) else (second,))]


def _freeze(value: object) -> object:
    """A comparable record of an attribute: identities, and tensor values / storage."""
    if isinstance(value, torch.Tensor):
        return ("tensor", id(value), value.data_ptr(), value._version, value.detach().clone())
    if isinstance(value, dict):
        return ("dict", id(value), {key: _freeze(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return (type(value).__name__, id(value), [_freeze(item) for item in value])
    if isinstance(value, nn.Module):
        return ("module", id(value))
    return ("value", id(value), repr(value))


def _snapshot(module: nn.Module) -> dict:
    """Every attribute of every submodule (parameters, buffers, the fused layer's
    `_flat_weights` list and `weight_hh_*` attributes included)."""
    return {(name, key): _freeze(value)
            for name, sub in module.named_modules() for key, value in vars(sub).items()}


def _same(a: object, b: object) -> bool:
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)
                and a.shape == b.shape and torch.equal(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


@pytest.mark.parametrize("weight_drop", [0.3, 0.0])
@pytest.mark.parametrize(("cls", "cell"), CASES, ids=IDS)
def test_concurrent_eval_equals_sequential_and_changes_no_state(cls, cell, weight_drop,
                                                                monkeypatch):
    """Without DropConnect too: TextEncoder's unpacked path once swapped weights into shared
    template modules (torch.func.functional_call) on every call."""
    encoder = _trained(cls, cell, weight_drop)
    calls = _calls(encoder)
    # PyTorch may pick another CPU kernel with autograd on (oneDNN inference for LSTM without
    # it), equal only to rounding; so the sequential reference is taken in both grad modes.
    expected = {}
    for grad in (False, True):
        with torch.set_grad_enabled(grad):
            expected[grad] = [[t.detach() for t in _flat(call())] for call in calls]
    before = _snapshot(encoder)

    modules = {id(m) for m in encoder.modules()}
    assignments: list[tuple[str, str]] = []
    module_setattr = nn.Module.__setattr__

    def counting_setattr(self, name, value):
        if id(self) in modules:
            assignments.append((type(self).__name__, name))
        module_setattr(self, name, value)

    monkeypatch.setattr(nn.Module, "__setattr__", counting_setattr)

    def run(index: int, grad: bool) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        with torch.set_grad_enabled(grad):  # grad mode is thread-local
            return [t.detach() for t in _flat(calls[index]())], expected[grad][index]

    jobs = [(i, round_ % 2 == 1) for round_ in range(4) for i in range(len(calls))]
    jobs += [(0, False)] * 8 + [(1, True)] * 8  # the same input from many threads at once
    random.Random(0).shuffle(jobs)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda job: run(*job), jobs))

    assert assignments == []
    assert len(results) == len(jobs)
    for got, want in results:
        assert len(got) == len(want)
        assert all(torch.equal(a, b) for a, b in zip(got, want, strict=True))
    after = _snapshot(encoder)
    assert before.keys() == after.keys()
    changed = [key for key in before if not _same(before[key], after[key])]
    assert changed == []


@pytest.mark.parametrize("how", ["in_place", "assign", "safetensors"])
@pytest.mark.parametrize(("cls", "cell"), CASES, ids=IDS)
def test_eval_sees_weights_loaded_after_evaluating(cls, cell, how, tmp_path):
    encoder = _trained(cls, cell)
    x, lengths = torch.randn(3, 6, 3), torch.tensor([6, 4, 1])
    with torch.no_grad():
        stale = encoder(x, lengths)[0]  # an eval pass first: nothing may be cached from it
    torch.manual_seed(5)
    new = {key: torch.randn_like(value) for key, value in encoder.state_dict().items()}
    if how == "safetensors":
        source = copy.deepcopy(encoder)
        source.load_state_dict(new)
        save_model(source, str(tmp_path / "weights.safetensors"))
        load_model(encoder, str(tmp_path / "weights.safetensors"))
    else:
        encoder.load_state_dict(new, assign=how == "assign")
    # the same weights in an encoder without DropConnect (no `_raw` names)
    plain = cls(3, hidden_size=5, num_layers=2, cell=cell, bidirectional=True).eval()
    plain.load_state_dict({key.removesuffix("_raw"): value for key, value in new.items()})
    with torch.no_grad():
        for args in [(x,), (x, lengths)]:
            got, want = encoder(*args), plain(*args)
            assert torch.allclose(got[0], want[0], atol=1e-6)
            assert torch.allclose(got[1], want[1], atol=1e-6)
        assert not torch.allclose(encoder(x, lengths)[0], stale)
    # readers of the fused layer's attribute (InspectableRNN.from_fused) see the new values too
    assert torch.equal(encoder.rnn.weight_hh_l1_reverse, new["rnn.weight_hh_l1_reverse_raw"])


@pytest.mark.parametrize(("cls", "cell"), CASES, ids=IDS)
def test_input_gradient_in_eval_mode(cls, cell):
    """Integrated gradients differentiate the eval-mode output w.r.t. the embedded inputs."""
    encoder = _trained(cls, cell)
    plain = cls(3, hidden_size=5, num_layers=2, cell=cell, bidirectional=True).eval()
    plain.load_state_dict({k.removesuffix("_raw"): v for k, v in encoder.state_dict().items()})
    x, lengths = torch.randn(3, 6, 3), torch.tensor([6, 4, 2])
    for args in [(), (lengths,)]:
        gradients = []
        for model in (encoder, plain):
            path = x.clone().requires_grad_(True)
            outputs, last = model(path, *args)
            (gradient,) = torch.autograd.grad(outputs.sum() + last.pow(2).sum(), path)
            gradients.append(gradient)
        assert gradients[0].abs().sum() > 0
        torch.testing.assert_close(gradients[0], gradients[1], atol=1e-6, rtol=1e-5)
    # the raw weights are used as they are, so they still get gradients in eval mode
    encoder.zero_grad()
    encoder(x, lengths)[1].sum().backward()
    assert encoder.rnn.weight_hh_l0_raw.grad.abs().sum() > 0


def test_fused_attributes_share_the_raw_storage_after_moves_and_copies():
    encoder = _trained(TextEncoder, "lstm")
    for model in (encoder, encoder.double(), copy.deepcopy(encoder)):
        for name in model._dropped:
            view, raw = getattr(model.rnn, name), getattr(model.rnn, f"{name}_raw")
            assert view.data_ptr() == raw.data_ptr() and view.dtype == raw.dtype
            assert not isinstance(view, nn.Parameter)
    assert set(encoder.state_dict()) == set(copy.deepcopy(encoder).state_dict())
    assert not any(key.endswith("weight_hh_l0") for key in encoder.state_dict())
