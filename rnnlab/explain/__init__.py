"""Explaining trained networks: per-token attributions, activations, gradients."""
