"""A two-process DDP fit on CPU (gloo) through the real console script: rank 0 writes the run
folder exactly once and records the world size."""

from __future__ import annotations

import json

import pytest

from rnnlab.tasks.forecasting import Forecaster
from rnnlab.tasks.forecasting.baselines import BASELINES
from tests.conftest import FAST_FIT, run_process, seasonal_frame, write_csv


@pytest.mark.slow
def test_two_process_ddp_fit_writes_one_complete_run(tmp_path):
    data = write_csv(tmp_path / "tiny.csv", seasonal_frame(n=120))
    result = run_process(["forecast", "fit", "--data", data.name, "--time-col", "date",
                          "--target", "value", "--lookback", "14", "--horizon", "3", *FAST_FIT,
                          "--devices", "2", "--strategy", "ddp", "--out", "run"],
                         cwd=tmp_path, timeout=400)
    combined = result.stdout + result.stderr
    assert result.returncode == 0, combined[-3000:]
    assert combined.count("run folder:") == 1, combined[-3000:]
    assert "Traceback" not in combined
    run = tmp_path / "run"
    for relative in ("config.yaml", "metrics.json", "forecast.csv", "report.html",
                     "model/weights.safetensors", "model/forecaster.json", "plots/mase.png"):
        assert (run / relative).is_file(), relative
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["world_size"] == 2
    assert set(metrics["test"]) == {"lstm", *BASELINES}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "tiny.csv"]  # no .partial-*
    table = Forecaster.load(run).predict(data)
    assert len(table) == 3
