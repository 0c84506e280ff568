"""Named data sets: bundled files, and downloads that are verified and cached (served here from
a loopback HTTP server, so no network is needed)."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import http.server
import threading
from pathlib import Path

import pytest

from rnnlab.data import datasets
from rnnlab.data.datasets import DATASETS, cache_dir, fetch, resolve_data
from rnnlab.data.io import read_table
from rnnlab.errors import UserError

PAYLOAD = b"Month,Sales\n1960-01,6550\n1960-02,8728\n1960-03,12026\n"
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture
def server(tmp_path, monkeypatch):
    """Serve tmp_path/www on 127.0.0.1; yields (base url, list of requested paths)."""
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                 "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    root = tmp_path / "www"
    root.mkdir()
    (root / "sales.csv").write_bytes(PAYLOAD)
    requests: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            requests.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", requests
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("RNNLAB_CACHE", str(folder))
    return folder


def test_cli_lists_every_data_set_name(cli):
    result = cli(["datasets"])
    assert result.code == 0, result.err
    for name in DATASETS:
        assert name in result.out
    assert "bundled" in result.out and "download" in result.out


@pytest.mark.parametrize("name", [d.name for d in DATASETS.values() if d.url is None])
def test_bundled_data_sets_resolve_to_their_verified_files(name):
    path = resolve_data(name)
    assert path.is_file()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == DATASETS[name].sha256
    if path.suffix == ".txt":  # a corpus for language models, read as text
        text = path.read_text(encoding="utf-8")
        assert len(text) > 100_000 and text.count("\n") > 1000
        return
    frame = read_table(path)
    assert len(frame.columns) == 2 and len(frame) > 100


def test_airline_passengers_is_the_box_jenkins_series():
    frame = read_table(resolve_data("airline-passengers"))
    assert list(frame.columns) == ["Month", "Passengers"]
    assert len(frame) == 144
    assert frame["Passengers"].iloc[:3].tolist() == [112, 118, 132]


def test_cli_fetch_prints_the_local_path_of_a_bundled_set(cli):
    result = cli(["datasets", "fetch", "airline-passengers"])
    assert result.code == 0, result.err
    assert Path(result.out.strip()) == resolve_data("airline-passengers")


def test_a_path_resolves_to_itself_and_a_missing_one_is_a_user_error(tmp_path):
    own = tmp_path / "mine.csv"
    own.write_text("a\n1\n")
    assert resolve_data(str(own)) == own
    with pytest.raises(UserError, match=r"missing\.csv does not exist .*rnnlab datasets"):
        resolve_data(str(tmp_path / "missing.csv"))


def test_cache_dir_follows_rnnlab_cache(cache):
    assert cache_dir() == cache


def test_fetch_downloads_verifies_and_caches(server, cache):
    base, requests = server
    destination = cache / "sales.csv"
    assert fetch(f"{base}/sales.csv", PAYLOAD_SHA, destination) == destination
    assert destination.read_bytes() == PAYLOAD
    assert requests == ["/sales.csv"]
    assert fetch(f"{base}/sales.csv", PAYLOAD_SHA, destination) == destination
    assert requests == ["/sales.csv"]  # the second call used the cache
    assert [p.name for p in cache.iterdir()] == ["sales.csv"]  # no partial files left


def test_fetch_replaces_a_corrupted_cached_file(server, cache):
    base, requests = server
    destination = cache / "sales.csv"
    cache.mkdir()
    destination.write_bytes(b"truncated")
    fetch(f"{base}/sales.csv", PAYLOAD_SHA, destination)
    assert destination.read_bytes() == PAYLOAD
    assert len(requests) == 1


def test_wrong_checksum_raises_and_keeps_nothing(server, cache):
    base, _ = server
    destination = cache / "sales.csv"
    with pytest.raises(UserError, match=r"sha256 .*expected 000000000000\.\.\.; nothing was saved"):
        fetch(f"{base}/sales.csv", "0" * 64, destination)
    assert not destination.exists()
    assert list(cache.iterdir()) == []


def test_unreachable_url_is_a_user_error(server, cache):
    base, _ = server
    with pytest.raises(UserError, match=r"could not download .*missing\.csv"):
        fetch(f"{base}/missing.csv", PAYLOAD_SHA, cache / "missing.csv")
    assert list(cache.iterdir()) == []


def test_resolve_data_downloads_a_named_set_into_the_cache(server, cache, monkeypatch):
    base, requests = server
    entry = DATASETS["monthly-car-sales"]
    monkeypatch.setitem(datasets.DATASETS, entry.name, dataclasses.replace(
        entry, url=f"{base}/sales.csv", sha256=PAYLOAD_SHA))
    path = resolve_data("monthly-car-sales")
    assert path == cache / entry.filename
    assert read_table(path)["Sales"].tolist() == [6550, 8728, 12026]
    resolve_data("monthly-car-sales")
    assert requests == ["/sales.csv"]
