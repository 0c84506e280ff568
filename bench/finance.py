"""Financial forecasting benchmark (issue #17, not run in CI): LSTM and GRU vs naive, drift and
ARIMA on daily prices, modelled as prices and as log returns.

Series: AAPL daily Close (../shared/data/stocks, 1980-2018, one null row forward-filled) and
the LBMA gold USD PM fix (../shared/data/gold-lbma, from 1968-04-01, the first PM fix; empty
cells forward-filled). Both are business-day series: the calendar is inferred as B (holidays
stay out, season 5). Protocol: lookback 60, horizon 5, the last 20% held out, origins every 5
trading days, the 90% adaptive conformal interval; each network trains for at most
`--minutes` (default 1). Reported: MASE, directional accuracy (against the last observed
price), interval coverage overall and per test period, the lagged-copy lag, and the wall time
split into training and everything else. Second part: the fit of a generated 35,000-row
trading-day random walk with --max-time 2, as a separate process, timed end to end.

    flock /tmp/rnnlab-bench.lock python bench/finance.py --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from rnnlab.config import TrainConfig
from rnnlab.tasks.forecasting import ForecastConfig
from rnnlab.tasks.forecasting.workflows import fit_models

SERIES = {
    "aapl": {"file": "stocks/AAPL.csv", "target": "Close", "start": None},
    "gold": {"file": "gold-lbma/LBMA-GOLD.csv", "target": "USD (PM)", "start": "1968-04-01"},
}
TRANSFORMS = {"prices": "none", "log-returns": "log-returns"}
MODELS = ("lstm", "gru")
SHOWN = ("lstm", "gru", "naive", "drift", "arima")
KEYS = ("mase", "directional_accuracy", "coverage", "copy_lag", "return_mae")


def run_case(name: str, transform: str, data_dir: Path, work: Path, minutes: float,
             seed: int) -> dict:
    """One run folder: both networks and every baseline on the same test windows."""
    spec = SERIES[name]
    frame = pd.read_csv(data_dir / spec["file"])
    if spec["start"]:
        frame = frame[frame["Date"] >= spec["start"]]
    data = work / f"{name}.csv"
    frame.to_csv(data, index=False)
    train = TrainConfig(max_time=minutes, quiet=True, device="cpu", seed=seed)
    cfg = ForecastConfig(data=str(data), time_col="Date", target=(spec["target"],),
                         lookback=60, horizon=5, fill="ffill",
                         transform=TRANSFORMS[transform], train=train)
    configs = {model: cfg.replace(model=model) for model in MODELS}
    started = time.perf_counter()
    forecasters, _, path = fit_models(cfg, configs, str(work / f"{name}-{transform}"), True)
    wall = time.perf_counter() - started
    metrics = json.loads((path / "metrics.json").read_text())
    training = sum(f.fit_result_.seconds for f in forecasters.values())
    rows = {model: ({"failed": values["failed"]} if "failed" in values else
                    {key: values[key] for key in KEYS if key in values})
            for model, values in metrics["test"].items() if model in SHOWN}
    periods = {model: [round(p["coverage"], 3) for p in metrics["coverage_by_period"][model]]
               for model in MODELS}
    return {"series": name, "transform": transform, "rows": rows, "periods": periods,
            "verdict": metrics["verdict"], "best": metrics["best"],
            "verdict_honest": honest(metrics), "split": metrics["split"],
            "test_origins": metrics["windows"]["test"], "freq": metrics["freq"],
            "season": metrics["season"], "arima": metrics["baseline_notes"].get("arima"),
            "wall_s": wall, "training_s": training, "other_s": wall - training,
            "phase_seconds": metrics["phase_seconds"]}


def honest(metrics: dict) -> bool:
    """The verdict names a network best only when its MASE is below naive's."""
    best, test = metrics["best"], metrics["test"]
    if best not in MODELS:
        return True
    naive = test["naive"].get("mase", np.inf)
    return test[best]["mase"] < naive


def long_series(work: Path, rows: int = 35_000, seed: int = 17) -> dict:
    """`rnnlab forecast fit` on a generated trading-day random walk (holidays removed, the
    volatility doubling in the last fifth), --max-time 2, timed as a process end to end."""
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("1890-01-01", periods=rows + 400)
    days = days.delete(np.sort(rng.choice(len(days), 400, replace=False)))
    returns = rng.normal(0.0003, 0.01, rows) * np.where(np.arange(rows) > 0.8 * rows, 2, 1)
    data = work / "random-walk-35k.csv"
    pd.DataFrame({"Date": days.strftime("%Y-%m-%d"),
                  "Close": (100 * np.exp(np.cumsum(returns))).round(4)}).to_csv(data, index=False)
    out = work / "random-walk-35k"
    command = [sys.executable, "-m", "rnnlab", "forecast", "fit", "--data", str(data),
               "--time-col", "Date", "--target", "Close", "--lookback", "60", "--horizon", "5",
               "--max-time", "2", "--device", "cpu", "--quiet", "--out", str(out),
               "--overwrite"]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    wall = time.perf_counter() - started
    metrics = json.loads((out / "metrics.json").read_text())
    return {"rows": rows, "test_origins": metrics["windows"]["test"], "wall_s": wall,
            "training_s": metrics["train_seconds"],
            "other_s": wall - metrics["train_seconds"],
            "phase_seconds": metrics["phase_seconds"], "freq": metrics["freq"],
            "coverage": metrics["test"]["lstm"]["coverage"],
            "coverage_by_period": [round(p["coverage"], 3)
                                   for p in metrics["coverage_by_period"]["lstm"]],
            "arima": metrics["baseline_notes"].get("arima")}


def markdown(cases: list[dict], long: dict | None) -> str:
    lines = ["| series | modelled as | model | MASE | dir. acc. | coverage (90%) | per period "
             "| copy lag |", "|---|---|---|---|---|---|---|---|"]
    for case in cases:
        for model, row in case["rows"].items():
            if "failed" in row:
                lines.append(f"| {case['series']} | {case['transform']} | {model} | FAILED: "
                             f"{row['failed']} | | | | |")
                continue
            cover = f"{row['coverage']:.3f}" if "coverage" in row else ""
            period = " ".join(f"{c:.2f}" for c in case["periods"].get(model, []))
            lines.append(f"| {case['series']} | {case['transform']} | {model} | "
                         f"{row['mase']:.3f} | {row['directional_accuracy']:.3f} | {cover} | "
                         f"{period} | {row['copy_lag']:.0f} |")
    lines += ["", "| series | modelled as | test origins | training s | everything else s | "
              "verdict honest | verdict |", "|---|---|---|---|---|---|---|"]
    for case in cases:
        lines.append(f"| {case['series']} | {case['transform']} | {case['test_origins']} | "
                     f"{case['training_s']:.0f} | {case['other_s']:.1f} | "
                     f"{case['verdict_honest']} | {case['verdict']} |")
    if long:
        lines += ["", f"35,000-row random walk: wall {long['wall_s']:.0f} s, training "
                  f"{long['training_s']:.0f} s, everything else {long['other_s']:.1f} s "
                  f"(phases {long['phase_seconds']}), {long['test_origins']} test origins, "
                  f"coverage {long['coverage']:.3f} per period {long['coverage_by_period']}"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--series", default=",".join(SERIES))
    parser.add_argument("--minutes", type=float, default=1.0, help="training cap per network")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-long", action="store_true", help="skip the 35,000-row timing")
    parser.add_argument("--json", type=Path, default=Path("bench/results/finance.json"))
    args = parser.parse_args()
    cases = []
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        for name in filter(None, args.series.split(",")):
            for transform in TRANSFORMS:
                cases.append(run_case(name, transform, args.data_dir, work, args.minutes,
                                      args.seed))
                print(json.dumps(cases[-1], default=float), flush=True)
        long = None if args.no_long else long_series(work)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"cases": cases, "long_series": long}, indent=1,
                                    default=float))
    print(markdown(cases, long))


if __name__ == "__main__":
    main()
