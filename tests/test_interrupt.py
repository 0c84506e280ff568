"""The interruption matrix: Ctrl-C (SIGINT), SIGTERM and SIGKILL while the libraries load,
while training and while the run is written, onto a new folder and with --overwrite onto an
existing run. Exit codes tell the truth (130 / 143), the old run stays byte-identical, no
half-written run is ever visible, and what a SIGKILL leaves is swept by the next run.

Each case is a real `rnnlab forecast fit` process; a small runner pauses it at the phase under
test (announcing it with a marker file) so the signal lands exactly there."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rnnlab.runs import RunFolder
from tests.conftest import run_cli, seasonal_frame, write_csv

RUNNER = '''
import builtins, sys, time
from pathlib import Path

phase, marker, args = sys.argv[1], Path(sys.argv[2]), sys.argv[3:]


def announce_and_wait():
    marker.write_text("now")
    time.sleep(120)


if phase == "imports":  # pause inside the import of the command line, signals already handled
    real_import = builtins.__import__

    def slow_import(name, *rest, **options):
        if name == "rnnlab.cli" and not marker.exists():
            announce_and_wait()
        return real_import(name, *rest, **options)

    builtins.__import__ = slow_import
elif phase == "writing":  # pause while the run folder is being written
    import rnnlab.runs as runs

    real_write = runs.RunFolder.write_json

    def slow_write(self, relative, obj):
        if relative == "metrics.json":
            announce_and_wait()
        return real_write(self, relative, obj)

    runs.RunFolder.write_json = slow_write
sys.argv = ["rnnlab", *args]
from rnnlab.entry import console_main

console_main()
'''
FIT = ["forecast", "fit", "--time-col", "date", "--target", "value", "--lookback", "14",
       "--horizon", "3", "--hidden", "8", "--arima-order", "1,0,0", "--device", "cpu",
       "--quiet"]
SIGNALS = {"int": signal.SIGINT, "term": signal.SIGTERM, "kill": signal.SIGKILL}
EXPECTED = {"int": (130, ["interrupted"]), "term": (143, ["terminated"]), "kill": (-9, None)}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The data, the runner script and one finished run to copy as "the existing run"."""
    root = tmp_path_factory.mktemp("interrupt")
    data = write_csv(root / "series.csv", seasonal_frame(n=120))
    runner = root / "runner.py"
    runner.write_text(RUNNER, encoding="utf-8")
    existing = root / "existing"
    result = run_cli([*FIT, "--data", data, "--epochs", "2", "--out", existing])
    assert result.code == 0, result.err
    return {"data": data, "runner": runner, "existing": existing}


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def _checkpoint_written(out: Path) -> bool:
    return any((out.parent / f".{out.name}.checkpoints").rglob("last.ckpt"))


def _start(workspace: dict[str, Path], phase: str, out: Path, overwrite: bool
           ) -> tuple[subprocess.Popen, Path]:
    marker = out.parent / f"{out.name}.{phase}.marker"
    epochs = "300" if phase == "training" else "2"
    args = [*FIT, "--data", workspace["data"], "--epochs", epochs, "--patience", "300",
            "--out", out, *(["--overwrite"] if overwrite else [])]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore", "COLUMNS": "200"}
    process = subprocess.Popen([sys.executable, str(workspace["runner"]), phase, str(marker),
                                *map(str, args)], cwd=out.parent, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=_as_in_a_terminal)
    return process, marker


def _as_in_a_terminal() -> None:
    """Ctrl-C as a terminal delivers it: a test run started in the background (CI, nohup)
    ignores SIGINT, and its children would inherit that."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _wait_for_phase(process: subprocess.Popen, phase: str, marker: Path, out: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if (marker.exists() if phase != "training" else _checkpoint_written(out)):
            return
        if process.poll() is not None:
            pytest.fail(f"ended before the {phase} phase: {process.communicate()}")
        time.sleep(0.05)
    process.kill()
    pytest.fail(f"the {phase} phase was never reached")


CASES = [(phase, name, True) for phase in ("imports", "training", "writing")
         for name in SIGNALS] + [(phase, "int", False) for phase in ("training", "writing")]


@pytest.mark.slow
@pytest.mark.parametrize(("phase", "name", "overwrite"), CASES,
                         ids=[f"{p}-{n}-{'overwrite' if o else 'new'}" for p, n, o in CASES])
def test_a_signal_at_any_phase_leaves_nothing_half_written(workspace, tmp_path, phase, name,
                                                           overwrite):
    out = tmp_path / "run"
    if overwrite:
        subprocess.run(["cp", "-r", str(workspace["existing"]), str(out)], check=True)
    before = _snapshot(out) if overwrite else None
    process, marker = _start(workspace, phase, out, overwrite)
    _wait_for_phase(process, phase, marker, out)
    process.send_signal(SIGNALS[name])
    _, stderr = process.communicate(timeout=120)
    code, lines = EXPECTED[name]
    assert process.returncode == code, stderr
    if lines is not None:
        assert [line for line in stderr.splitlines() if line.strip()] == lines, stderr
    if overwrite:
        assert _snapshot(out) == before  # the old run, byte for byte
    else:
        assert not out.exists()
    hidden = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".run."))
    if name != "kill":
        assert not [n for n in hidden if ".partial-" in n or ".old-" in n], hidden
    # whatever a kill left (a staging folder) goes with the next run written next to it
    RunFolder.create(tmp_path / "next", "forecast").discard()
    hidden = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".run."))
    assert not [n for n in hidden if ".partial-" in n or ".old-" in n], hidden
    if phase == "training":  # the interrupted run can be continued
        assert _checkpoint_written(out)
