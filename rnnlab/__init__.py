"""rnnlab: recurrent neural networks on real sequence data, always beside honest baselines."""

__version__ = "0.1.0"
