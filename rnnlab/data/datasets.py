"""Named data sets: small ones bundled in the package, others downloaded once, verified, cached.

`resolve_data("airline-passengers")` gives a local path for a bundled or downloadable set;
any other string is taken as a path to the user's own file.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from rnnlab.errors import UserError
from rnnlab.runs import file_sha256

_JBROWNLEE = "https://raw.githubusercontent.com/jbrownlee/Datasets/d20fcb6402ae34e653d4513b00f39257bb37ed7f"


@dataclass(frozen=True)
class Dataset:
    name: str
    job: str
    filename: str
    description: str
    sha256: str
    options: str  # the options that read it, shown by `rnnlab datasets`
    url: str | None = None  # None: bundled in rnnlab/data/bundled


DATASETS = {d.name: d for d in [
    Dataset("airline-passengers", "forecast", "airline-passengers.csv",
            "monthly airline passengers (thousands), 1949-1960, 144 rows",
            "8cb51be753a718d9be5d76d7e238cc224792754676adc21faa59e954b0201621",
            "--time-col Month --target Passengers"),
    Dataset("monthly-sunspots", "forecast", "monthly-sunspots.csv",
            "monthly mean sunspot numbers, 1749-1983, 2820 rows",
            "c4ec8cc57d9f6fb6ecdb3e1f37f25b6f4badd5124c55931052b0cd2fc3bc71f3",
            "--time-col Month --target Sunspots"),
    Dataset("daily-min-temperatures", "forecast", "daily-min-temperatures.csv",
            "daily minimum temperature, Melbourne 1981-1990, 3650 rows, 2 dates missing",
            "8b9de63ed6789492bf497625e7f9beb96a63d367b4b0a21754006f749fa5e5da",
            "--time-col Date --target Temp --fill interpolate"),
    Dataset("daily-max-temperatures", "forecast", "daily-max-temperatures.csv",
            "daily maximum temperature, Melbourne 1981-1990, 3650 rows (downloaded)",
            "4f4ab4d6134d9c0f8efb3d6af6edc30a0ad3c56573d0f20f45db010055d0371c",
            "--time-col Date --target Temperature --fill interpolate",
            f"{_JBROWNLEE}/daily-max-temperatures.csv"),
    Dataset("monthly-car-sales", "forecast", "monthly-car-sales.csv",
            "monthly car sales, Quebec 1960-1968, 108 rows (downloaded)",
            "a4194226eb1d0eba5fd503e829b1279f1a10683d8009f2871aca05e7fb648f70",
            "--time-col Month --target Sales", f"{_JBROWNLEE}/monthly-car-sales.csv"),
    Dataset("daily-total-female-births", "forecast", "daily-total-female-births.csv",
            "daily female births, California 1959, 365 rows (downloaded)",
            "7a0c1bdb32d68f7fa359e561a4f7e1fe8fb2fc26a1ea624a434a97a63735dd72",
            "--time-col Date --target Births", f"{_JBROWNLEE}/daily-total-female-births.csv"),
    Dataset("rt-polarity-demo", "sentiment", "rt-polarity-demo.csv",
            "3,000 movie-review sentences (1,500 pos, 1,500 neg) from sentence polarity v1.0",
            "3992ba85ccd55204117430d0b75b32e2a477c7ca959fab8875a900e79c3d5be3",
            "--text-col text --label-col label"),
    Dataset("tiny-shakespeare", "lm", "tiny-shakespeare.txt",
            "the first 200,000 characters (7,552 lines) of Karpathy's tiny Shakespeare",
            "d48b8b09f2897bd9046088795c8ba6060e7a4394a2f1e58a562a4cea0a0a74dc",
            "--level char"),
    Dataset("multi30k-demo", "translate", "multi30k-demo.tsv.gz",
            "5,000 German-English image descriptions sampled from the Multi30K training set",
            "bbc2987f798c3b80fb8807c8fb59b742a4d04fb54dbab0bb3c7adf17c4bdb6ab",
            "--src-col de --tgt-col en"),
]}


def cache_dir() -> Path:
    """Where downloads are kept: $RNNLAB_CACHE, else ~/.cache/rnnlab."""
    folder = Path(os.environ.get("RNNLAB_CACHE", Path.home() / ".cache" / "rnnlab"))
    if folder.exists() and not folder.is_dir():
        raise UserError(f"the download cache {folder} is a file, not a folder; set RNNLAB_CACHE "
                        "to a folder")
    return folder


def bundled_path(filename: str) -> Path:
    return Path(str(resources.files("rnnlab.data") / "bundled" / filename))


def resolve_data(name_or_path: str | Path) -> Path:
    """A local file for a path, a bundled name or a downloadable name."""
    if not str(name_or_path).strip():
        raise UserError("no data given: pass a file path or a data set name (`rnnlab datasets` "
                        "lists the names)")
    path = Path(name_or_path)
    if path.exists() or str(name_or_path) not in DATASETS:
        if not path.exists():
            raise UserError(
                f"data file {path} does not exist and is not a data set name "
                "(check the path; `rnnlab datasets` lists the names)"
            )
        return path
    dataset = DATASETS[str(name_or_path)]
    if dataset.url is None:
        return bundled_path(dataset.filename)
    return fetch(dataset.url, dataset.sha256, cache_dir() / dataset.filename)


def fetch(url: str, sha256: str, destination: Path, timeout: float = 30.0) -> Path:
    """Download `url` to `destination` once; the checksum is verified before the file is kept."""
    if destination.is_file() and file_sha256(destination) == sha256:
        return destination
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(f".{destination.name}.part-{os.getpid()}")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(partial, "wb") as out:
            while block := response.read(1 << 16):
                out.write(block)
    except (urllib.error.URLError, OSError) as exc:
        partial.unlink(missing_ok=True)
        raise UserError(
            f"could not download {url} ({exc}); download it by hand and pass its path as --data"
        ) from None
    found = file_sha256(partial)
    if found != sha256:
        partial.unlink(missing_ok=True)
        raise UserError(
            f"download of {url} has sha256 {found[:12]}..., expected {sha256[:12]}...; "
            "nothing was saved (try again, or download it by hand and pass --data)"
        )
    os.replace(partial, destination)
    return destination

