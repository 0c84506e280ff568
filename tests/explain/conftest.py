"""The explain tests reuse the sentiment tests' small fitted run."""

from tests.tasks.sentiment.conftest import fitted_run  # noqa: F401 - re-exported fixture
