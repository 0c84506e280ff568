"""The run folder every `fit` writes (layout in docs/contracts.md).

A run is written into a hidden staging folder next to its destination and renamed into place
when complete, so an interrupted run never leaves a half-written folder and an existing run is
only replaced with `--overwrite`. Every file is written to a temporary name and renamed.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import platform
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import yaml

from rnnlab.errors import UserError
from rnnlab.outputs import MARKER, check_writable, mark, signals_deferred, sweep_leftovers

_VERSIONED = ["rnnlab", "torch", "lightning", "numpy", "pandas", "scikit-learn", "statsmodels"]


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write `data` to `path` through a temporary file and `os.replace` (never half-written)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def to_jsonable(value: Any) -> Any:
    """Tuples to lists, numpy scalars and arrays to Python numbers, NaN to None."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "tolist"):
        return to_jsonable(value.tolist())
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, Path):
        return str(value)
    return value


# The command line being run, as config.yaml records it: set by the CLI for one command (a
# context variable, so threads and servers never see another caller's command).
_COMMAND: ContextVar[str | None] = ContextVar("rnnlab_command", default=None)


def set_command(command: str | None) -> None:
    """Record the command line being run (the CLI sets it for the duration of one command;
    config.yaml stores it). None clears it: API calls then record the host's command line."""
    _COMMAND.set(command or None)


def current_command() -> str:
    return _COMMAND.get() or shlex.join(["python", *sys.argv])


def default_run_dir(job: str) -> Path:
    """runs/<job>-<YYYYmmdd-HHMMSS>, with a numeric suffix if that folder already exists."""
    base = Path("runs") / f"{job}-{time.strftime('%Y%m%d-%H%M%S')}"
    candidate, counter = base, 1
    while candidate.exists():
        counter += 1
        candidate = base.with_name(f"{base.name}-{counter}")
    return candidate


def is_global_zero() -> bool:
    """True in the process that writes outputs (rank 0 under torchrun, SLURM or Lightning DDP)."""
    for name in ("RANK", "SLURM_PROCID", "LOCAL_RANK"):
        if name in os.environ:
            return int(os.environ[name]) == 0 and int(os.environ.get("NODE_RANK", 0)) == 0
    return True


class RunFolder:
    """A run folder being written (`create` ... `commit`) or read back (`load`)."""

    def __init__(self, path: Path, staging: Path | None = None, job: str | None = None) -> None:
        self.path = path  # final location
        self.staging = staging  # where files go until commit(); None once committed / loaded
        self.job = job  # the registered job name config.yaml and metrics.json record

    @property
    def root(self) -> Path:
        return self.staging if self.staging is not None else self.path

    # -- writing ---------------------------------------------------------------------------
    @classmethod
    def create(cls, path: str | Path | None, job: str, overwrite: bool = False,
               resume: bool = False) -> RunFolder:
        """A staging folder for the run at `path` (default runs/<job>-<time>). `resume`: the
        run at `path` was interrupted; its training checkpoints are continued."""
        if resume and not path:
            raise UserError("--resume needs the --out folder of the interrupted run")
        final = Path(path) if path else default_run_dir(job)
        run = cls(final, final.parent / f".{final.name}.partial-{os.getpid()}", job)
        if resume and not run.checkpoints.is_dir():
            state = "it is a finished run" if final.exists() else "no run was interrupted there"
            raise UserError(f"--resume: nothing to resume at --out {final} ({state}; no "
                            f"checkpoints in {run.checkpoints}); run without --resume")
        sweep_leftovers(final.parent)
        check_writable(final, overwrite)
        if not resume and run.checkpoints.exists():
            shutil.rmtree(run.checkpoints)  # an old interrupted run's: this is a fresh start
        if run.staging.exists():
            shutil.rmtree(run.staging)
        run.staging.mkdir(parents=True)
        mark(run.staging)
        return run

    @property
    def writes(self) -> bool:
        """False in DDP worker processes and once the run is committed or discarded."""
        return self.staging is not None

    @property
    def checkpoints(self) -> Path:
        """Training checkpoints of this run (kept while it is unfinished, for --resume)."""
        return self.path.parent / f".{self.path.name}.checkpoints"

    def check_options(self, options: dict[str, Any], resume: bool) -> None:
        """Keep the run's options beside its checkpoints; on --resume, refuse options that
        differ from the interrupted run's (other shapes would not load, other rates or seeds
        would silently continue a different run). Progress display options may differ."""
        saved = self.checkpoints / "options.json"
        current = _comparable(to_jsonable(options))
        if resume and saved.is_file():
            before = _comparable(json.loads(saved.read_text(encoding="utf-8")))
            changed = sorted(key for key in before.keys() & current.keys()
                             if before[key] != current[key])
            if changed:
                shown = ", ".join(f"{key} {before.get(key)!r} -> {current.get(key)!r}"
                                  for key in changed[:3])
                raise UserError(f"--resume with other options than the interrupted run ({shown}"
                                "); give the same options, or drop --resume to start afresh")
            return
        self.checkpoints.mkdir(parents=True, exist_ok=True)
        atomic_write_text(saved, json.dumps(current))

    def file(self, relative: str) -> Path:
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def write_json(self, relative: str, obj: Any) -> Path:
        text = json.dumps(to_jsonable(obj), indent=2, allow_nan=False)
        return atomic_write_text(self.file(relative), text + "\n")

    def write_yaml(self, relative: str, obj: Any) -> Path:
        text = yaml.safe_dump(to_jsonable(obj), sort_keys=False, allow_unicode=True)
        return atomic_write_text(self.file(relative), text)

    def write_text(self, relative: str, text: str) -> Path:
        return atomic_write_text(self.file(relative), text)

    def write_config(self, config: dict, data_path: Path | None, **extra: Any) -> Path:
        """config.yaml: everything needed to rerun, with versions and the data's sha256."""
        data = None
        if data_path is not None:
            data = {"path": str(data_path), "sha256": file_sha256(data_path)}
        record = {
            "job": self.job,
            "command": current_command(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "config": config,
            "data": data,
            "versions": library_versions(),
            **extra,
        }
        return self.write_yaml("config.yaml", record)

    def commit(self) -> Path:
        """Move the finished run into place (replacing an old run only when allowed earlier).
        The old run is moved aside before the new one is renamed in and deleted after; a
        Ctrl-C or SIGTERM meanwhile is acted on once the new run is in place, so at every
        moment one complete run exists."""
        assert self.staging is not None, "run folder already committed"
        aside = self.path.parent / f".{self.path.name}.old-{os.getpid()}"
        with signals_deferred():
            if self.path.exists():
                os.replace(self.path, aside)
                mark(aside)
            os.replace(self.staging, self.path)
            self.staging = None
            (self.path / MARKER).unlink(missing_ok=True)
            shutil.rmtree(aside, ignore_errors=True)
            shutil.rmtree(self.checkpoints, ignore_errors=True)
        return self.path

    def discard(self) -> None:
        if self.staging is not None and self.staging.exists():
            shutil.rmtree(self.staging, ignore_errors=True)
        self.staging = None


@contextmanager
def staged_run(out: str | Path | None, job: str, overwrite: bool = False,
               resume: bool = False, options: dict[str, Any] | None = None
               ) -> Iterator[RunFolder]:
    """The one way a run is written: files go to a staging folder that is renamed into place
    when the block ends normally and removed when it raises (an interrupted run leaves no
    half-written folder; its checkpoints stay for --resume). `options` (the run's config as a
    dict) are kept with the checkpoints, and --resume refuses other options. DDP worker
    processes get a run whose `writes` is False: they train (with the same checkpoint
    settings) but write nothing. `run.discard()` inside the block abandons the run."""
    if not is_global_zero():
        yield RunFolder(_worker_path(out, job), None, job)
        return
    run = RunFolder.create(out, job, overwrite, resume)
    try:
        if options is not None:
            run.check_options(options, resume)
        yield run
    except BaseException:
        run.discard()
        raise
    if run.staging is not None:
        run.commit()


def _worker_path(out: str | Path | None, job: str) -> Path:
    """Where a DDP worker keeps its (unused: rank 0's folder is broadcast) checkpoint folder:
    beside the run when --out is known, else in a temporary folder swept once it is dead."""
    if out:
        return Path(out)
    return Path(tempfile.gettempdir()) / f"rnnlab-ckpt-{os.getpid()}-worker" / job


# Options a resume may change: display, budget, hardware, training longer, and settings used
# only after training (intervals, baselines). Fields only one side has (a newer version) are
# not compared either.
_FREE_ON_RESUME = {"quiet", "max_time", "device", "devices", "strategy", "num_nodes", "epochs",
                   "patience", "level", "arima_budget", "vader_threshold", "tfidf_ngrams",
                   "tfidf_c"}
_PATHS = {"data", "test", "pretrained", "init"}  # compared as the files they name


def _comparable(options: Any, prefix: str = "") -> dict[str, Any]:
    """Flat {"train.lr": 0.001, ...} without the options a resume may change."""
    flat: dict[str, Any] = {}
    for key, value in (options.items() if isinstance(options, dict) else ()):
        if isinstance(value, dict):
            flat.update(_comparable(value, f"{prefix}{key}."))
        elif key in _PATHS and isinstance(value, str) and Path(value).exists():
            flat[prefix + key] = str(Path(value).resolve())
        elif key not in _FREE_ON_RESUME:
            flat[prefix + key] = value
    return flat
