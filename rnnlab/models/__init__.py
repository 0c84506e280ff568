"""Model core shared by every job: the fused encoder, inspectable cells, task heads."""

from rnnlab.models.cells import InspectableRNN
from rnnlab.models.encoder import RecurrentEncoder

__all__ = ["InspectableRNN", "RecurrentEncoder"]
