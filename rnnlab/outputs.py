"""What protects the user's files when rnnlab writes: which folders `--overwrite` may replace
(only rnnlab's own outputs; never the working folder, its parents, home or a root), the
signature on folders a killed process may leave and the sweep that removes them, and the
deferral of Ctrl-C / SIGTERM while a finished run is moved into place."""

from __future__ import annotations

import fnmatch
import json
import os
import platform
import re
import shutil
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from rnnlab.errors import UserError

# What a run folder may hold: anything else in a folder means it is not (only) a run, and
# --overwrite must not delete it.
RUN_ENTRIES = {"config.yaml", "metrics.json", "model", "plots", "report.html", "forecast.csv",
               "predictions.csv", "label_curve.csv", "anomalies",
               "activations.html", "activations.json", "gradients.json", "embeddings.json",
               ".rnnlab-writer", ".DS_Store", "Thumbs.db"}  # (and what file browsers add)


TOOLS = ("explain",)  # command groups that write run-like folders (config.yaml "explain-...")


def check_writable(path: Path, overwrite: bool) -> None:
    """Refuse to write a run over a file or a non-empty folder unless `overwrite` is set, and
    even then unless that folder is an rnnlab run (config.yaml naming a job, nothing else
    unknown inside); never the working folder, one of its parents, the home folder or a root."""
    if path.exists() and not path.is_dir():
        raise UserError(f"--out {path} is a file; give a folder name")
    if not path.is_dir() or not any(path.iterdir()):
        return
    if not overwrite:
        raise UserError(f"--out {path} already exists; choose another folder or pass --overwrite")
    check_not_precious(path, "--out")
    found = sorted(p.name + ("/" if p.is_dir() else "") for p in path.iterdir())
    unknown = [name for name in found if name.rstrip("/") not in RUN_ENTRIES]
    if unknown or "config.yaml" not in found or _job_of(path / "config.yaml") is None:
        shown = ", ".join((unknown or found)[:5]) + (" ..." if len(unknown or found) > 5 else "")
        raise UserError(f"--out {path} is not an rnnlab run (it holds {shown}); --overwrite only "
                        "replaces run folders: choose another --out")


def check_output_file(path: Path, overwrite: bool, option: str = "--out") -> None:
    """A single output file the user named: refused when it exists (without `overwrite`), is a
    folder, or its folder is a file."""
    if path.is_dir():
        raise UserError(f"{option} {path} is a folder; give a file name")
    if path.exists() and not overwrite:
        raise UserError(f"{option} {path} already exists; choose another name or --overwrite")
    if path.parent.exists() and not path.parent.is_dir():
        raise UserError(f"{option} {path}: {path.parent} is a file, not a folder")


def check_output_folder(path: Path, overwrite: bool, expected: tuple[str, ...],
                        option: str = "--out") -> None:
    """A folder a command fills with its own files (glob patterns `expected`): it may be
    replaced with `overwrite` only when it holds nothing else."""
    if path.exists() and not path.is_dir():
        raise UserError(f"{option} {path} is a file; give a folder name")
    if not path.is_dir() or not any(path.iterdir()):
        return
    if not overwrite:
        raise UserError(f"{option} {path} already exists; choose another folder or pass "
                        "--overwrite")
    check_not_precious(path, option)
    unknown = sorted(p.name for p in path.iterdir()
                     if not any(fnmatch.fnmatch(p.name, pattern) for pattern in expected))
    if unknown:
        raise UserError(f"{option} {path} holds other files ({', '.join(unknown[:5])}); "
                        "--overwrite only replaces this command's own output: choose another "
                        f"{option}")


def check_not_precious(path: Path, option: str) -> None:
    """UserError when `path` is the working folder, one of its parents, the home folder or a
    filesystem root: no option may replace those."""
    resolved = path.resolve()
    cwd = Path.cwd().resolve()
    if resolved == cwd or resolved in cwd.parents or resolved == Path.home().resolve() \
            or resolved.parent == resolved:
        raise UserError(f"{option} {path} is the working folder, one of its parents, the home "
                        "folder or a filesystem root; rnnlab never replaces those: give a new "
                        "folder name")


def _job_of(config: Path) -> str | None:
    try:
        record = yaml.safe_load(config.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    from rnnlab.jobs import JOBS

    job = record.get("job") if isinstance(record, dict) else None
    known = (*JOBS, *TOOLS)
    return job if isinstance(job, str) and job.split("-")[0] in known else None


# -- leftovers of killed processes -------------------------------------------------------------


_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.(?P<kind>partial|old)-(?P<pid>\d+)$")


MARKER = ".rnnlab-writer"  # in a staging folder / an old run moved aside: who put it there


def mark(folder: Path) -> None:
    """Sign a folder this process may leave behind if killed, so that only folders rnnlab
    made on this machine are ever swept (never a user's look-alike)."""
    (folder / MARKER).write_text(json.dumps({"host": platform.node(), "pid": os.getpid()}),
                                 encoding="utf-8")


def _left_by_dead_process(folder: Path) -> bool:
    """True for a folder signed by a process of this machine that has ended."""
    try:
        writer = json.loads((folder / MARKER).read_text(encoding="utf-8"))
        return writer["host"] == platform.node() and not process_alive(int(writer["pid"]))
    except (OSError, ValueError, KeyError, TypeError):
        return False


def process_alive(pid: int) -> bool:
    """Whether process `pid` of this machine is running (unsure: True, so nothing of it is
    touched)."""
    if os.name == "nt":
        return True  # os.kill(pid, 0) would signal the process there
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError, ValueError):
        return True  # another user's process, or an impossible pid: leave it alone
    return True


def sweep_leftovers(folder: Path) -> None:
    """Remove what runs killed with SIGKILL left in `folder`: their staging folders
    (`.<run>.partial-<pid>`) and, when a kill came in the middle of replacing a run, put the
    old run (`.<run>.old-<pid>`) back if the new one never arrived. Only folders signed by a
    process of this machine that has ended are touched."""
    if not folder.is_dir():
        return
    for entry in folder.iterdir():
        match = _LEFTOVER.match(entry.name)
        if not match or not entry.is_dir() or not _left_by_dead_process(entry):
            continue
        target = folder / match["name"]
        try:
            if match["kind"] == "old" and not target.exists():
                (entry / MARKER).unlink()
                os.replace(entry, target)
            else:
                shutil.rmtree(entry)
        except OSError:  # another process swept it first
            continue


@contextmanager
def signals_deferred() -> Iterator[None]:
    """Run the block to its end even when Ctrl-C or SIGTERM arrives (in any thread); the
    signal is then acted on as it would have been. Main thread only (elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    names = (signal.SIGINT, signal.SIGTERM)
    previous = {signum: signal.signal(signum, lambda signum, frame: received.append(signum))
                for signum in names}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in received[:1]:
            handler = previous[signum]
            if callable(handler):
                handler(signum, None)
            elif handler == signal.SIG_DFL:
                signal.raise_signal(signum)
