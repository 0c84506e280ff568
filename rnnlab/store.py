"""The model store: what a run's `model/` folder holds and the one way to read it back.

Every API object's `save(dir)` writes `weights.safetensors`, its own JSON state (e.g.
`forecaster.json`) and the manifest `model.json`:

    {"job": "forecast", "format_version": 1, "rnnlab_version": "0.1.0",
     "api": "rnnlab.tasks.forecasting.api:Forecaster", "model_file": "forecaster.json"}

A `forecast compare` run keeps one model folder per variant (`model/<variant>/`) and a
manifest in `model/` that lists them (`"variants": [...]`). `load_run(path)` reads the manifest,
finds the job in the registry and returns its fitted API object. Runs written before the
manifest existed are recognised by their job's model file. Weights are only ever read through
safetensors: nothing in a run folder is unpickled.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from safetensors import SafetensorError
from safetensors.torch import load_model, save_model
from torch import nn

from rnnlab.errors import UserError
from rnnlab.runs import atomic_write_text

FORMAT_VERSION = 1  # bump when a saved model can no longer be read by older code
MANIFEST = "model.json"
WEIGHTS_FILE = "weights.safetensors"


def damaged(path: str | Path, what: str) -> UserError:
    return UserError(f"{path} is damaged or not an rnnlab run: {what}")


# -- weights and JSON state ----------------------------------------------------------------------
def save_weights(module: nn.Module, path: str | Path) -> Path:
    """safetensors (shared / tied tensors stored once), written to a temporary name first."""
    path = Path(path)
    partial = path.with_name(f".{path.name}.tmp")
    save_model(module, str(partial))
    partial.replace(path)
    return path


def load_weights(module: nn.Module, path: str | Path) -> nn.Module:
    """Fill `module` from a safetensors file; a missing, truncated or mismatched file is a
    UserError naming it."""
    path = Path(path)
    if not path.is_file():
        raise damaged(path.parent, f"{path.name} is missing")
    try:
        load_model(module, str(path))
    except (SafetensorError, RuntimeError, OSError, ValueError) as exc:
        reason = str(exc).splitlines()[0][:200]
        raise damaged(path.parent, f"{path.name} does not fit the saved model ({reason})"
                      ) from None
    return module


def write_state(directory: str | Path, filename: str, state: dict[str, Any]) -> Path:
    return atomic_write_text(Path(directory) / filename, json.dumps(state))


def read_state(directory: str | Path, filename: str) -> dict[str, Any]:
    """A JSON object saved next to the weights; UserError when missing or unreadable."""
    path = Path(directory) / filename
    if not path.is_file():
        raise damaged(directory, f"{filename} is missing")
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise damaged(directory, f"{filename} is not valid JSON ({exc})") from None
    if not isinstance(state, dict):
        raise damaged(directory, f"{filename} does not hold a JSON object")
    return state


# -- the manifest ------------------------------------------------------------------------------
def write_manifest(directory: str | Path, job: str, api: str, model_file: str | None,
                   **extra: Any) -> Path:
    from rnnlab import __version__

    manifest = {"job": job, "format_version": FORMAT_VERSION, "rnnlab_version": __version__,
                "api": api, "model_file": model_file, **extra}
    return write_state(directory, MANIFEST, manifest)


def read_manifest(model_dir: Path) -> dict[str, Any] | None:
    """The manifest of `model_dir` (None when it has none); a newer format is refused."""
    if not (model_dir / MANIFEST).is_file():
        return None
    manifest = read_state(model_dir, MANIFEST)
    version = manifest.get("format_version")
    if not isinstance(version, int) or not isinstance(manifest.get("job"), str):
        raise damaged(model_dir, f"{MANIFEST} has no job or format_version")
    if version > FORMAT_VERSION:
        from rnnlab import __version__

        raise UserError(f"{model_dir} was written by rnnlab {manifest.get('rnnlab_version')} in "
                        f"model format {version}; this rnnlab {__version__} reads formats up to "
                        f"{FORMAT_VERSION}: upgrade rnnlab to load it")
    return manifest


def describe(path: Path) -> dict[str, Any]:
    """{"job", "dir", "variants"} of the run or model folder `path`, from its manifest or, for
    runs written before manifests, from the job's model file."""
    from rnnlab.jobs import JOBS, get_job

    if not path.exists():
        raise UserError(f"{path} does not exist; give the --out folder of a finished "
                        "`rnnlab <job> fit`")
    for candidate in (path / "model", path):
        manifest = read_manifest(candidate) if candidate.is_dir() else None
        if manifest is not None:
            get_job(manifest["job"])
            return {"job": manifest["job"], "dir": candidate,
                    "variants": manifest.get("variants")}
        for job in JOBS.values():
            if (candidate / job.model_file).is_file():
                return {"job": job.name, "dir": candidate, "variants": None}
            variants = sorted(p.parent.name for p in candidate.glob(f"*/{job.model_file}"))
            if variants and candidate.name == "model":
                return {"job": job.name, "dir": candidate, "variants": variants}
    if (path / "config.yaml").is_file() and (path / "metrics.json").is_file():
        raise UserError(f"{path} is a run without a saved model (a backtest or label-curve "
                        "run): there is nothing to load; give the --out folder of a `fit`")
    raise UserError(f"{path} is not a run folder: it holds {_contents(path)}, not model/"
                    f"{MANIFEST}; give the --out folder of a finished `rnnlab <job> fit`")


def _contents(path: Path) -> str:
    """What a folder holds, for messages: "nothing", or its first few names."""
    if not path.is_dir():
        return "a file"
    names = sorted(p.name + ("/" if p.is_dir() else "") for p in path.iterdir())
    if not names:
        return "nothing"
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def model_dir(path: str | Path, job: str) -> Path:
    """The folder holding `job`'s model for a run folder or a model folder; UserError for a run
    of another job, or a `compare` run given without its variant."""
    from rnnlab.jobs import get_job

    path = Path(path)
    found = describe(path)
    if found["job"] != job:
        raise UserError(f"{path} is a {found['job']} run; this needs a {job} run (the --out "
                        f"folder of `rnnlab {job} ...`)")
    if found["variants"]:
        raise UserError(
            f"{path} is a `compare` run with one model per variant; pass --run "
            f"{found['dir'] / found['variants'][0]} (variants: {', '.join(found['variants'])})")
    if not (found["dir"] / get_job(job).model_file).is_file():
        raise damaged(path, f"{get_job(job).model_file} is missing")
    return found["dir"]


def load_run(path: str | Path | list[str | Path], variant: str | None = None) -> Any:
    """The fitted API object of any run: a `Forecaster`, `SentimentClassifier`,
    `LanguageModel`, ... as the run's manifest says. A `compare` run gives {variant: object}
    (or the one named by `variant`); a list of runs of a job that has ensembles (sentiment)
    gives that job's ensemble of them."""
    from rnnlab.jobs import get_job

    if isinstance(path, list | tuple):
        return _load_ensemble([Path(p) for p in path])
    path = Path(path)
    found = describe(path)
    api = get_job(found["job"]).api_class()
    if not found["variants"]:
        if variant is not None:
            raise UserError(f"{path} holds one model, not a `compare` run's variants; "
                            f"leave out variant={variant!r}")
        return api.load(found["dir"])
    if variant is not None:
        if variant not in found["variants"]:
            raise UserError(f"{path} has no variant {variant!r}; its variants: "
                            f"{', '.join(found['variants'])}")
        return api.load(found["dir"] / variant)
    return {name: api.load(found["dir"] / name) for name in found["variants"]}


def _load_ensemble(paths: list[Path]) -> Any:
    """Several runs of one job that has ensembles, as that job's ensemble object."""
    from rnnlab.jobs import get_job

    if not paths:
        raise UserError("no run folders given: an ensemble needs at least one run")
    jobs = [describe(p)["job"] for p in paths]
    if len(set(jobs)) > 1:
        raise UserError(f"an ensemble needs runs of one job; got {', '.join(sorted(set(jobs)))} "
                        f"runs ({', '.join(map(str, paths))})")
    job = get_job(jobs[0])
    ensemble = job.ensemble_class()
    if ensemble is None:
        raise UserError(f"{job.name} runs cannot be combined into an ensemble")
    members = [job.api_class().load(p) for p in paths]
    return members[0] if len(members) == 1 else ensemble(members, [str(p) for p in paths])
