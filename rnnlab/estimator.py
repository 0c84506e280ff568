"""The contract every job's API class keeps (scikit-learn's estimator shape, one base class).

    fit(...) -> self          learns; fitted attributes end in `_`
    predict(...)              never prints, reads no module globals, changes no model state
                              (safe to call from several threads, e.g. inside a server)
    save(dir) -> dir          weights + JSON state + the manifest (rnnlab.store)
    load(dir) -> instance     classmethod; from a run folder or its model/ folder

Calling predict (or save) before fit or load is one clear `NotFittedError`, not an
AttributeError from deep inside.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rnnlab.errors import UserError

if TYPE_CHECKING:
    from torch import nn


class NotFittedError(UserError):
    """The object has no fitted model yet."""


class Estimator:
    """Base of `Forecaster`, `SentimentClassifier`, `LanguageModel`, ...: subclasses set
    `fitted_attribute` (the attribute `fit` and `load` create) and implement the four verbs."""

    fitted_attribute: ClassVar[str] = "net_"

    def __init__(self, config: Any) -> None:
        self.config = config

    def __repr__(self) -> str:
        state = "fitted" if self.is_fitted else "not fitted"
        return f"{type(self).__name__}({state})"

    @property
    def is_fitted(self) -> bool:
        return hasattr(self, self.fitted_attribute)

    def check_is_fitted(self) -> None:
        if not self.is_fitted:
            name = type(self).__name__
            raise NotFittedError(f"this {name} is not fitted yet: call fit(...) first, or use "
                                 f"{name}.load(run_dir) / rnnlab.load_run(run_dir)")

    def fit(self, *args: Any, **kwargs: Any) -> Estimator:  # pragma: no cover - abstract
        raise NotImplementedError

    def predict(self, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def save(self, directory: str | Path) -> Path:  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def load(cls, run_or_model_dir: str | Path) -> Estimator:  # pragma: no cover - abstract
        raise NotImplementedError

    def write_model(self, directory: str | Path, state: dict[str, Any]) -> Path:
        """What every job's `save` writes: `net_`'s weights (safetensors), the job's JSON
        `state` under its model file name, and the manifest; returns the folder."""
        from rnnlab import store
        from rnnlab.jobs import job_of_api

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        store.save_weights(self.net_, directory / store.WEIGHTS_FILE)  # type: ignore[attr-defined]
        store.write_state(directory, job_of_api(type(self)).model_file, state)
        self.write_manifest(directory)
        return directory

    @classmethod
    def restore(cls, run_or_model_dir: str | Path,
                build: Callable[[dict[str, Any]], tuple[Any, nn.Module]]) -> Any:
        """What every job's `load` does: find the job's model folder in a run (or take the
        model folder), read its JSON state, let `build(state)` make the object and its
        unfilled network (a missing key or a bad value there is a damaged run, one error
        line), fill the weights from safetensors, eval mode."""
        from rnnlab import store
        from rnnlab.jobs import job_of_api

        job = job_of_api(cls)
        folder = store.model_dir(run_or_model_dir, job.name)
        state = store.read_state(folder, job.model_file)
        try:
            self, net = build(state)
        except (KeyError, TypeError, ValueError) as exc:
            raise store.damaged(run_or_model_dir, f"{job.model_file} lacks or mangles {exc}"
                                ) from None
        self.net_ = store.load_weights(net, folder / store.WEIGHTS_FILE).eval()
        return self

    def write_manifest(self, directory: str | Path) -> Path:
        """model.json naming this object's job, so `rnnlab.load_run` can find its class."""
        from rnnlab.jobs import job_of_api
        from rnnlab.store import write_manifest

        job = job_of_api(type(self))
        return write_manifest(directory, job.name, job.api, job.model_file)
