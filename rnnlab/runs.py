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
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import yaml

from rnnlab.errors import UserError

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
        check_writable(final, overwrite)
        if not resume and run.checkpoints.exists():
            shutil.rmtree(run.checkpoints)  # an old interrupted run's: this is a fresh start
        if run.staging.exists():
            shutil.rmtree(run.staging)
        run.staging.mkdir(parents=True)
        return run

    @property
    def writes(self) -> bool:
        """False in DDP worker processes and once the run is committed or discarded."""
        return self.staging is not None

    @property
    def checkpoints(self) -> Path:
        """Training checkpoints of this run (kept while it is unfinished, for --resume)."""
        return self.path.parent / f".{self.path.name}.checkpoints"

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
        """Move the finished run into place (replacing an old run only when allowed earlier)."""
        assert self.staging is not None, "run folder already committed"
        if self.path.exists():
            shutil.rmtree(self.path)
        os.replace(self.staging, self.path)
        self.staging = None
        shutil.rmtree(self.checkpoints, ignore_errors=True)
        return self.path

    def discard(self) -> None:
        if self.staging is not None and self.staging.exists():
            shutil.rmtree(self.staging, ignore_errors=True)
        self.staging = None

    # -- reading ---------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path) -> RunFolder:
        path = Path(path)
        if not (path / "config.yaml").is_file() or not (path / "model").is_dir():
            raise UserError(
                f"{path} is not a run folder (no config.yaml and model/); "
                "give the --out folder of a finished `fit`"
            )
        return cls(path)

    def read_yaml(self, relative: str = "config.yaml") -> dict:
        with open(self.root / relative, encoding="utf-8") as handle:
            return yaml.safe_load(handle)

    def read_json(self, relative: str) -> Any:
        with open(self.root / relative, encoding="utf-8") as handle:
            return json.load(handle)


@contextmanager
def staged_run(out: str | Path | None, job: str, overwrite: bool = False,
               resume: bool = False) -> Iterator[RunFolder]:
    """The one way a run is written: files go to a staging folder that is renamed into place
    when the block ends normally and removed when it raises (an interrupted run leaves no
    half-written folder; its checkpoints stay for --resume). DDP worker processes get a run
    whose `writes` is False: they train (with the same checkpoint folder) but write nothing.
    `run.discard()` inside the block abandons the run."""
    if not is_global_zero():
        yield RunFolder(Path(out) if out else default_run_dir(job), None, job)
        return
    run = RunFolder.create(out, job, overwrite, resume)
    try:
        yield run
    except BaseException:
        run.discard()
        raise
    if run.staging is not None:
        run.commit()


def check_writable(path: Path, overwrite: bool) -> None:
    """Refuse to replace a non-empty folder or a file unless `overwrite` is set."""
    if path.exists() and not path.is_dir():
        raise UserError(f"--out {path} is a file; give a folder name")
    if path.is_dir() and any(path.iterdir()) and not overwrite:
        raise UserError(f"--out {path} already exists; choose another folder or pass --overwrite")
