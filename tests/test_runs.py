"""The run folder: atomic writes, staging and commit, refusing to overwrite, reading back."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
from pathlib import Path

import numpy as np
import pytest
import yaml

from rnnlab import outputs, runs
from rnnlab.errors import UserError
from rnnlab.runs import (
    RunFolder,
    atomic_write_bytes,
    atomic_write_text,
    default_run_dir,
    file_sha256,
    is_global_zero,
    library_versions,
    to_jsonable,
)


def test_atomic_write_creates_parents_and_leaves_no_temporary_file(tmp_path):
    path = atomic_write_text(tmp_path / "a" / "b" / "note.txt", "héllo")
    assert path.read_text(encoding="utf-8") == "héllo"
    assert os.listdir(path.parent) == ["note.txt"]


def test_atomic_write_replaces_existing_content(tmp_path):
    path = tmp_path / "w.bin"
    atomic_write_bytes(path, b"old")
    atomic_write_bytes(path, b"new")
    assert path.read_bytes() == b"new"


def test_interrupted_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "weights.bin"
    path.write_bytes(b"good old weights")

    def crash(fd):
        raise OSError("disk full")

    monkeypatch.setattr(runs.os, "fsync", crash)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_bytes(path, b"half")
    assert path.read_bytes() == b"good old weights"


def test_file_sha256_matches_hashlib(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes(b"a,b\n1,2\n" * 1000)
    assert file_sha256(path) == hashlib.sha256(path.read_bytes()).hexdigest()


def test_to_jsonable_converts_numpy_tuples_paths_and_nan(tmp_path):
    value = {"a": (1, 2), "b": np.float32(1.5), "c": np.arange(3), "d": float("nan"),
             "e": tmp_path, 3: [np.int64(4)]}
    converted = to_jsonable(value)
    assert converted == {"a": [1, 2], "b": 1.5, "c": [0, 1, 2], "d": None, "e": str(tmp_path),
                         "3": [4]}
    json.dumps(converted, allow_nan=False)


def test_library_versions_name_the_main_libraries():
    versions = library_versions()
    for name in ("python", "rnnlab", "torch", "lightning", "numpy", "pandas"):
        assert versions[name] and versions[name] != "not installed"


def test_default_run_dir_is_under_runs_with_a_timestamp():
    path = default_run_dir("forecast")
    assert path.parent.name == "runs"
    assert re.fullmatch(r"forecast-\d{8}-\d{6}", path.name)


# -- create / commit / discard -------------------------------------------------------------


def test_create_writes_into_hidden_staging_until_commit(tmp_path):
    final = tmp_path / "run"
    run = RunFolder.create(final, "forecast")
    run.write_text("report.html", "<p>hi</p>")
    run.write_json("metrics.json", {"mae": np.float64(1.25)})
    assert not final.exists()
    assert run.staging.parent == tmp_path and run.staging.name.startswith(".run.partial")
    assert run.commit() == final
    assert sorted(os.listdir(final)) == ["metrics.json", "report.html"]
    assert json.loads((final / "metrics.json").read_text()) == {"mae": 1.25}
    assert os.listdir(tmp_path) == ["run"]  # staging folder gone


def test_create_refuses_a_non_empty_folder_without_overwrite(tmp_path):
    final = tmp_path / "run"
    final.mkdir()
    (final / "keep.txt").write_text("mine")
    with pytest.raises(UserError, match=r"--out .*run already exists; .*--overwrite"):
        RunFolder.create(final, "forecast")
    assert (final / "keep.txt").read_text() == "mine"
    assert os.listdir(tmp_path) == ["run"]


def test_create_accepts_an_existing_empty_folder(tmp_path):
    final = tmp_path / "run"
    final.mkdir()
    run = RunFolder.create(final, "forecast")
    run.write_text("a.txt", "a")
    run.commit()
    assert os.listdir(final) == ["a.txt"]


def test_create_refuses_a_file(tmp_path):
    target = tmp_path / "run"
    target.write_text("not a folder")
    with pytest.raises(UserError, match="is a file"):
        RunFolder.create(target, "forecast", overwrite=True)


def _old_run(final):
    (final / "model").mkdir(parents=True)
    (final / "config.yaml").write_text("job: forecast\n")
    (final / "metrics.json").write_text('{"old": true}')


def test_overwrite_replaces_the_old_run_only_at_commit(tmp_path):
    final = tmp_path / "run"
    _old_run(final)
    run = RunFolder.create(final, "forecast", overwrite=True)
    run.write_text("new.txt", "new")
    assert (final / "metrics.json").read_text() == '{"old": true}'  # untouched until complete
    run.commit()
    assert os.listdir(final) == ["new.txt"]
    assert os.listdir(tmp_path) == ["run"]  # the old run moved aside is gone too


@pytest.mark.parametrize("content", [["series.csv"], ["notes.txt", "config.yaml"],
                                     ["config.yaml"]])
def test_overwrite_never_deletes_a_folder_that_is_not_a_run(tmp_path, content):
    """`--out mydata --overwrite` where mydata holds the user's data: refused, nothing lost."""
    final = tmp_path / "mydata"
    final.mkdir()
    for name in content:
        (final / name).write_text("the user's" if name != "config.yaml" else "other: tool\n")
    before = {p.name: p.read_bytes() for p in final.iterdir()}
    with pytest.raises(UserError, match=r"--out .*mydata is not an rnnlab run \(it holds "
                                        r".*\); --overwrite only replaces run folders"):
        RunFolder.create(final, "forecast", overwrite=True)
    assert {p.name: p.read_bytes() for p in final.iterdir()} == before
    assert os.listdir(tmp_path) == ["mydata"]


def test_overwrite_refuses_a_run_with_unknown_files_inside(tmp_path):
    final = tmp_path / "run"
    _old_run(final)
    (final / "my-notes.md").write_text("keep me")
    with pytest.raises(UserError, match=r"it holds my-notes.md\)"):
        RunFolder.create(final, "forecast", overwrite=True)
    assert (final / "my-notes.md").read_text() == "keep me"


@pytest.mark.parametrize("where", ["cwd", "parent", "home", "root"])
def test_overwrite_never_replaces_the_working_folder_its_parents_home_or_root(
        tmp_path, monkeypatch, where):
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    _old_run(work)  # even when it looks like a run
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(tmp_path / "a"))
    target = {"cwd": Path("."), "parent": Path(".."), "home": Path.home(),
              "root": Path("/")}[where]
    with pytest.raises(UserError, match="rnnlab never replaces those"):
        outputs.check_not_precious(target, "--out")
    if where == "cwd":
        with pytest.raises(UserError, match="the working folder"):
            RunFolder.create(target, "forecast", overwrite=True)
        assert (work / "config.yaml").is_file()


def test_staging_of_a_killed_run_is_swept_by_the_next_run(tmp_path):
    dead = _dead_pid()
    leftover = tmp_path / f".old-run.partial-{dead}"
    (leftover / "model").mkdir(parents=True)
    _sign(leftover, dead)
    alive = tmp_path / f".busy.partial-{os.getpid()}"
    alive.mkdir()
    _sign(alive, os.getpid())
    lookalike = tmp_path / f".photos.partial-{dead}"  # the user's own folder: no signature
    lookalike.mkdir()
    other_host = tmp_path / f".shared.partial-{dead}"
    other_host.mkdir()
    _sign(other_host, dead, host="another-machine")
    run = RunFolder.create(tmp_path / "next", "forecast")
    run.commit()
    assert not leftover.exists()
    assert alive.exists()  # a running process's staging folder is not touched
    assert lookalike.exists() and other_host.exists()
    assert sorted(p.name for p in (tmp_path / "next").iterdir()) == []  # no signature left


def test_a_kill_while_replacing_a_run_gives_the_old_run_back(tmp_path):
    """Killed between moving the old run aside and moving the new one in: the next run that
    writes there restores the old run instead of deleting it."""
    dead = _dead_pid()
    aside = tmp_path / f".run.old-{dead}"
    _old_run(aside)
    _sign(aside, dead)
    RunFolder.create(tmp_path / "other", "forecast").discard()
    assert (tmp_path / "run" / "metrics.json").read_text() == '{"old": true}'
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [
        "config.yaml", "metrics.json", "model"]
    assert not aside.exists()
    with pytest.raises(UserError, match="already exists"):  # restored: not replaced silently
        RunFolder.create(tmp_path / "run", "forecast")


def _sign(folder, pid, host=None):
    import platform

    (folder / outputs.MARKER).write_text(json.dumps({"host": host or platform.node(), "pid": pid}))


def test_a_signal_during_commit_is_acted_on_once_the_new_run_is_in_place(tmp_path,
                                                                          monkeypatch):
    final = tmp_path / "run"
    _old_run(final)
    run = RunFolder.create(final, "forecast", overwrite=True)
    run.write_text("metrics.json", "new")
    real_replace = os.replace

    def replace_then_ctrl_c(source, target):
        real_replace(source, target)
        if str(target) == str(final):
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(runs.os, "replace", replace_then_ctrl_c)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal
    try:
        with pytest.raises(KeyboardInterrupt):
            run.commit()
    finally:
        signal.signal(signal.SIGINT, previous)
    assert (final / "metrics.json").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # nothing aside, no staging


def _dead_pid() -> int:
    """The pid of a process that has ended."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(done.stdout)


def test_discard_leaves_nothing(tmp_path):
    run = RunFolder.create(tmp_path / "run", "forecast")
    run.write_text("model/weights.txt", "w")
    run.discard()
    assert os.listdir(tmp_path) == []
    run.discard()  # a second discard is harmless


def test_commit_twice_is_an_internal_error(tmp_path):
    run = RunFolder.create(tmp_path / "run", "forecast")
    run.commit()
    with pytest.raises(AssertionError):
        run.commit()


def test_write_config_records_command_versions_and_data_hash(tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("t,y\n1,2\n")
    run = RunFolder.create(tmp_path / "run", "forecast")
    run.write_config({"lookback": 3, "target": ("y",)}, data, seed=4)
    record = yaml.safe_load((run.root / "config.yaml").read_text())
    assert record["job"] == "forecast" and record["seed"] == 4
    assert record["config"] == {"lookback": 3, "target": ["y"]}
    assert record["data"] == {"path": str(data),
                              "sha256": hashlib.sha256(data.read_bytes()).hexdigest()}
    # called from Python (not the CLI): the host command line is recorded
    assert record["versions"]["torch"] and "pytest" in record["command"]


# -- resuming with the same options ------------------------------------------------------


def test_resume_refuses_other_options_and_accepts_display_ones(tmp_path):
    options = {"hidden": 8, "train": {"lr": 0.01, "quiet": False}}
    run = RunFolder.create(tmp_path / "run", "forecast")
    run.check_options(options, resume=False)
    run.discard()  # interrupted: the checkpoints (and the options) stay
    again = RunFolder.create(tmp_path / "run", "forecast", resume=True)
    again.check_options({"hidden": 8, "train": {"lr": 0.01, "quiet": True}}, resume=True)
    with pytest.raises(UserError, match=r"--resume with other options than the interrupted "
                                        r"run \(hidden 8 -> 16, train.lr 0.01 -> 0.1\)"):
        again.check_options({"hidden": 16, "train": {"lr": 0.1, "quiet": False}}, resume=True)


# -- which process writes ------------------------------------------------------------------


@pytest.mark.parametrize(("env", "expected"), [
    ({}, True),
    ({"RANK": "0"}, True),
    ({"RANK": "1"}, False),
    ({"LOCAL_RANK": "1"}, False),
    ({"SLURM_PROCID": "3"}, False),
    ({"RANK": "0", "NODE_RANK": "1"}, False),
])
def test_is_global_zero(monkeypatch, env, expected):
    for name in ("RANK", "SLURM_PROCID", "LOCAL_RANK", "NODE_RANK"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert is_global_zero() is expected
