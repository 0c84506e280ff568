"""Model core shared by every job: the fused encoder, task heads, the language model.
(`cells.InspectableRNN`, the per-step cells with their gates, is for explanation; it is
imported from `rnnlab.models.cells` where it is used.)"""

from rnnlab.models.encoder import RecurrentEncoder

__all__ = ["RecurrentEncoder"]
