"""The Python API: Forecaster.fit / forecast / predict / save / load."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from rnnlab.config import TrainConfig
from rnnlab.data.timeseries import gather
from rnnlab.errors import UserError
from rnnlab.tasks.forecasting import ForecastConfig, Forecaster
from tests.conftest import seasonal_frame, write_csv

TRAIN = TrainConfig(epochs=3, patience=2, device="cpu", quiet=True, seed=0)
CFG = ForecastConfig(data="tiny.csv", target=("value",), time_col="date", lookback=14,
                     horizon=3, hidden=8, arima_order=(1, 0, 0), train=TRAIN)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return seasonal_frame(n=120)  # 2000-01-01 .. 2000-04-29, daily


@pytest.fixture(scope="module")
def fitted(frame) -> Forecaster:
    return Forecaster(CFG).fit(frame, source="tiny.csv")


def test_fit_returns_self_with_the_split_by_hand(fitted):
    assert isinstance(fitted, Forecaster)
    # 120 rows: test round(0.2 * 120) = 24, validation 12, training 84
    assert fitted.split_.sizes == {"train": 84, "val": 12, "test": 24}
    assert fitted.season_ == 7  # daily data


def test_scaler_is_fitted_on_the_training_rows(fitted, frame):
    state = fitted.preprocessor_.to_dict()["target_scaler"]
    assert state["mean_"] == pytest.approx([frame["value"].iloc[:84].mean()])
    assert state["scale_"] == pytest.approx([frame["value"].iloc[:84].std(ddof=0)])


def test_origins(fitted):
    # validation targets in [84, 96) with stride 1; test origins every H = 3 steps from 96
    assert fitted.val_origins().tolist() == list(range(84, 94))
    assert fitted.test_origins().tolist() == [96, 99, 102, 105, 108, 111, 114, 117]


def test_forecast_shape_and_validation_residuals(fitted):
    series = fitted.series_
    forecasts = fitted.forecast(series, fitted.test_origins())
    assert forecasts.shape == (8, 3, 1) and np.isfinite(forecasts).all()
    origins = fitted.val_origins()
    residuals = np.abs(fitted.forecast(series, origins) - gather(series.targets, origins, 0, 3))
    np.testing.assert_allclose(fitted.val_abs_residuals_, residuals, rtol=1e-6)


def test_halfwidth_is_the_conformal_quantile_of_validation_residuals(fitted):
    ordered = np.sort(fitted.val_abs_residuals_, axis=0)  # 10 residuals per step
    np.testing.assert_allclose(fitted.halfwidth(0.9), ordered[9])  # ceil(11 * 0.9) = 10th
    np.testing.assert_allclose(fitted.halfwidth(0.5), ordered[5])  # ceil(11 * 0.5) = 6th


def test_interval_note_warns_when_too_few_residuals_back_the_level(fitted):
    assert fitted.interval_note(0.9) is None  # 10 residuals: ceil(11 * 0.9) = 10 <= 10
    note = fitted.interval_note(0.95)  # ceil(11 * 0.95) = 11 > 10
    assert note == ("95% interval from only 10 validation forecasts (>= 19 needed for its "
                    "coverage): widen --val-size")


def test_predict_gives_the_next_h_dates_with_intervals(fitted, frame):
    table = fitted.predict(frame)
    assert list(table.index) == list(pd.date_range("2000-04-30", periods=3, freq="D"))
    assert table.index.name == "date"
    assert list(table.columns) == ["value", "value_lower", "value_upper"]
    # adaptive interval: the conformal quantile of validation |residual| / volatility scores,
    # times the volatility (mean |change|) over the 60 rows before the forecast origin
    scores = np.sort(fitted.val_abs_residuals_[:, :, 0] / fitted.val_scales_[:, :1], axis=0)
    volatility = np.mean(np.abs(np.diff(frame["value"].to_numpy()[-61:])))
    width = scores[9] * volatility  # 10 validation scores: ceil(11 * 0.9) = 10th
    np.testing.assert_allclose(table["value_upper"] - table["value"], width)
    np.testing.assert_allclose(table["value"] - table["value_lower"], width)
    point = fitted.forecast(fitted.series_, np.array([120]))[0, :, 0]
    np.testing.assert_allclose(table["value"], point)
    narrow = fitted.predict(frame, level=0.5)
    assert (narrow["value_upper"] <= table["value_upper"]).all()
    np.testing.assert_allclose(narrow["value"], table["value"])


def test_predict_needs_only_the_last_window(fitted, frame):
    full = fitted.predict(frame)
    recent = fitted.predict(frame.tail(14))
    np.testing.assert_allclose(recent["value"], full["value"], rtol=1e-6)
    assert list(recent.index) == list(full.index)
    # the interval's volatility reads the 60 changes before the origin: 61 rows suffice
    np.testing.assert_allclose(fitted.predict(frame.tail(61)).to_numpy(), full.to_numpy(),
                               rtol=1e-6)


def test_predict_from_a_path_equals_predict_from_a_frame(fitted, frame, tmp_path):
    path = write_csv(tmp_path / "history.csv", frame)
    np.testing.assert_allclose(fitted.predict(path).to_numpy(), fitted.predict(frame).to_numpy())


def test_predict_with_too_few_rows_says_how_many_are_needed(fitted, frame):
    with pytest.raises(UserError, match=r"has 13 rows; forecasting needs the last 14 "
                                        r"\(the run was fitted with --lookback 14\)"):
        fitted.predict(frame.tail(13))


def test_predict_on_a_table_without_the_target_column(fitted, frame):
    with pytest.raises(UserError, match="has no column 'value'"):
        fitted.predict(frame.rename(columns={"value": "sales"}))


def test_save_and_load_give_the_same_forecasts(fitted, frame, tmp_path):
    fitted.save(tmp_path / "model")
    assert {p.name for p in (tmp_path / "model").iterdir()} == {"weights.safetensors",
                                                                "forecaster.json",
                                                                "model.json"}
    loaded = Forecaster.load(tmp_path)  # a run folder holding model/
    assert loaded.config == fitted.config
    pd.testing.assert_frame_equal(loaded.predict(frame), fitted.predict(frame))
    origins = fitted.test_origins()
    np.testing.assert_allclose(loaded.forecast(fitted.series_, origins),
                               fitted.forecast(fitted.series_, origins), rtol=1e-6)
    np.testing.assert_allclose(loaded.halfwidth(), fitted.halfwidth())
    assert Forecaster.load(tmp_path / "model").split_ == fitted.split_


def test_load_of_a_folder_without_a_model_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match=r"is not a run folder: it holds nothing, not "
                                        r"model/model.json"):
        Forecaster.load(tmp_path)


def test_config_round_trips_through_its_dict(fitted):
    assert ForecastConfig.from_dict(fitted.config.to_dict()) == fitted.config


def test_fitting_twice_with_the_same_seed_gives_the_same_network(frame):
    """Python users (and `compare`, which trains variants one after another in one process)
    must get the same model from the same seed, whatever ran before."""
    first = Forecaster(CFG).fit(frame).predict(frame)
    np.random.default_rng(0)
    __import__("torch").rand(100)  # some unrelated use of torch's global generator
    second = Forecaster(CFG).fit(frame).predict(frame)
    pd.testing.assert_frame_equal(first, second)


VARIANTS = {
    "recursive-calendar": {"multi_step": "recursive", "calendar": ("auto",)},
    "log-diff": {"log": True, "diff": True, "scale": "minmax"},
    "two-targets-features-lags": {"target": ("value", "other"), "features": ("temp",),
                                  "lags": (7,)},
    "mlp": {"model": "mlp", "layers": 2},
    "bigru-features-layout": {"model": "gru", "bidirectional": True, "layers": 2,
                              "layout": "features", "dropout": 0.1},
}


@pytest.mark.parametrize("changes", list(VARIANTS.values()), ids=list(VARIANTS))
def test_variants_fit_predict_and_round_trip(changes, frame, tmp_path):
    data = frame.assign(other=frame["value"] * 2 + 1, temp=np.cos(np.arange(len(frame))))
    cfg = CFG.replace(**changes, train=TrainConfig(epochs=1, device="cpu", quiet=True))
    forecaster = Forecaster(cfg).fit(data)
    k = len(cfg.target)
    forecasts = forecaster.forecast(forecaster.series_, forecaster.test_origins())
    assert forecasts.shape == (8, 3, k) and np.isfinite(forecasts).all()
    table = forecaster.predict(data)
    assert table.shape == (3, 3 * k) and np.isfinite(table.to_numpy()).all()
    assert table.index[0] == pd.Timestamp("2000-04-30")
    forecaster.save(tmp_path / "model")
    pd.testing.assert_frame_equal(Forecaster.load(tmp_path).predict(data), table)
    if cfg.log:
        assert (forecasts > 0).all() and math.isfinite(table.iloc[0, 0])


# -- ensembles, refit, highway ---------------------------------------------------------------


@pytest.fixture(scope="module")
def ensemble_refit(frame) -> Forecaster:
    cfg = CFG.replace(ensemble=3, refit=True)
    return Forecaster(cfg).fit(frame, source="tiny.csv")


def test_ensemble_averages_members_that_differ(ensemble_refit):
    members = ensemble_refit.net_.members
    assert len(members) == 3
    x = torch.randn(4, 14, ensemble_refit.n_inputs_)
    with torch.no_grad():
        outputs = torch.stack([m(x) for m in members])
        assert not torch.allclose(outputs[0], outputs[1])  # different initialisations
        torch.testing.assert_close(ensemble_refit.net_(x), outputs.mean(dim=0))


def test_refit_retrains_on_training_and_validation_windows(ensemble_refit):
    first, refit = ensemble_refit.fit_results_
    assert refit.epochs == first.best_epoch + 1  # the epochs early stopping chose
    assert refit.best_epoch is None  # no monitoring: the final weights are kept
    assert ensemble_refit.fit_result_.seconds == pytest.approx(first.seconds + refit.seconds)


def test_refit_intervals_come_from_the_held_out_fit(ensemble_refit):
    """The validation windows are training data after a refit; the residuals behind the
    intervals must still be those of the early-stopped, held-out networks."""
    series, origins = ensemble_refit.series_, ensemble_refit.val_origins()
    in_sample = np.abs(ensemble_refit.forecast(series, origins) - gather(series.targets,
                                                                          origins, 0, 3))
    assert not np.allclose(in_sample, ensemble_refit.val_abs_residuals_)


def test_ensemble_round_trips_through_save_and_load(ensemble_refit, frame, tmp_path):
    ensemble_refit.save(tmp_path / "model")
    loaded = Forecaster.load(tmp_path / "model")
    pd.testing.assert_frame_equal(loaded.predict(frame), ensemble_refit.predict(frame))


def test_highway_is_a_linear_map_of_the_target_window():
    from rnnlab.tasks.forecasting.model import ForecastNet

    torch.manual_seed(0)
    net = ForecastNet(n_inputs=1, n_targets=1, lookback=5, steps=2, hidden=4).eval()
    without = ForecastNet(n_inputs=1, n_targets=1, lookback=5, steps=2, hidden=4,
                          highway=False).eval()
    assert net.highway is not None and without.highway is None
    x = torch.randn(3, 5, 1)
    with torch.no_grad():
        base = net(x)
        net.highway.weight.zero_()
        net.highway.bias.zero_()
        shifted = net(x)
        expected = base - shifted  # the highway's contribution, relative to the last value
        level = x[:, -1:, :1]
        weight = torch.randn_like(net.highway.weight)
        net.highway.weight.copy_(weight)
        got = net(x) - shifted
    relative = (x[:, :, 0] - level[:, :, 0])  # window normalised by its last value
    torch.testing.assert_close(got, (relative @ weight.T).view(3, 2, 1))
    assert expected.abs().sum() > 0
