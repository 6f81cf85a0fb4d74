"""A Gabor-wavelet coordinate MLP (WIRE-style, real-valued)."""

from __future__ import annotations

import torch
from torch import Tensor

from inrzoo.backbones import CoordinateMLP


class GaborMLPBackbone(CoordinateMLP):
    """Coordinate MLP with activation ``sin(omega x) * exp(-(scale x)^2)``.

    Args:
        width: hidden units per layer.
        depth: number of hidden layers.
        omega: frequency of the wavelet.
        scale: width of its Gaussian window (larger: more local).
    """

    def __init__(self, width: int = 64, depth: int = 4, omega: float = 10.0, scale: float = 3.0) -> None:
        super().__init__(width=width, depth=depth)
        self.omega = omega
        self.scale = scale

    def activation(self, x: Tensor, layer_index: int) -> Tensor:
        return torch.sin(self.omega * x) * torch.exp(-((self.scale * x) ** 2))
