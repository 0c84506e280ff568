"""rnnlab: recurrent neural networks on real sequence data, always beside honest baselines."""

import os

# OpenMP threads that spin while waiting made a 3-second fit take over 5 minutes whenever a
# second PyTorch process shared the CPU (measured on a 2-core machine); sleeping waiters keep
# the slowdown proportional. It must be set before torch loads OpenMP; the user's value wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"


def load_run(path, variant=None):  # noqa: ANN001, ANN201 - see rnnlab.store.load_run
    """The fitted API object of any run folder (see `rnnlab.store.load_run`)."""
    from rnnlab.store import load_run as _load_run

    return _load_run(path, variant)
