"""Hypernetwork heads: map a frame latent to the weights of backbone layers."""

from inrzoo.hypernets.base import HyperHead, LayerHyperNet
from inrzoo.hypernets.heads import FiLMHyperHead, FullWeightHyperHead, LowRankGateHyperHead
from inrzoo.hypernets.registry import HYPERNETS, create_hypernet, list_hypernets, register_hypernet

__all__ = [
    "HYPERNETS",
    "FiLMHyperHead",
    "FullWeightHyperHead",
    "HyperHead",
    "LayerHyperNet",
    "LowRankGateHyperHead",
    "create_hypernet",
    "list_hypernets",
    "register_hypernet",
]
