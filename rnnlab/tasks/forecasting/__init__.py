"""Time-series forecasting with recurrent networks, always beside honest baselines."""

from rnnlab.tasks.forecasting.api import Forecaster
from rnnlab.tasks.forecasting.config import ForecastConfig

__all__ = ["ForecastConfig", "Forecaster"]
