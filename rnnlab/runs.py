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


_COMMAND: list[str] = []


def set_command(command: str | None) -> None:
    """Record the command line being run (the CLI sets it for the duration of one command;
    config.yaml stores it). None clears it: API calls then record the host's command line."""
    _COMMAND[:] = [command] if command else []


def current_command() -> str:
    return _COMMAND[0] if _COMMAND else shlex.join(["python", *sys.argv])


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

    def __init__(self, path: Path, staging: Path | None = None) -> None:
        self.path = path  # final location
        self.staging = staging  # where files go until commit(); None once committed / loaded

    @property
    def root(self) -> Path:
        return self.staging if self.staging is not None else self.path

    # -- writing ---------------------------------------------------------------------------
    @classmethod
    def create(cls, path: str | Path | None, job: str, overwrite: bool = False) -> RunFolder:
        final = Path(path) if path else default_run_dir(job)
        check_writable(final, overwrite)
        staging = final.parent / f".{final.name}.partial-{os.getpid()}"
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir(parents=True)
        return cls(final, staging)

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

    def write_config(self, job: str, config: dict, data_path: Path | None, **extra: Any) -> Path:
        """config.yaml: everything needed to rerun, with versions and the data's sha256."""
        data = None
        if data_path is not None:
            data = {"path": str(data_path), "sha256": file_sha256(data_path)}
        record = {
            "job": job,
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


def check_writable(path: Path, overwrite: bool) -> None:
    """Refuse to replace a non-empty folder or a file unless `overwrite` is set."""
    if path.exists() and not path.is_dir():
        raise UserError(f"--out {path} is a file; give a folder name")
    if path.is_dir() and any(path.iterdir()) and not overwrite:
        raise UserError(f"--out {path} already exists; choose another folder or pass --overwrite")
