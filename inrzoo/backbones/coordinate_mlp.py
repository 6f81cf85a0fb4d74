"""Coordinate MLPs: colour = f((x, y); per-frame weights).

Two classic encodings of the coordinates share one body: SIREN (sine activations on raw
coordinates) and a Fourier-feature MLP (sin/cos positional encoding, ReLU).
Because they are queried at continuous coordinates, a finer grid gives super-resolution.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from inrzoo.backbones.base import INRBackbone
from inrzoo.backbones.layers import LayerParams, ModulatedLinear
from inrzoo.backbones.registry import register_backbone


def pixel_grid(height: int, width: int, device: torch.device | None = None) -> Tensor:
    """Pixel-centre coordinates (H*W, 2) as (x, y) in [-1, 1] (align_corners=False convention)."""
    ys = (torch.arange(height, device=device, dtype=torch.float32) + 0.5) / height * 2 - 1
    xs = (torch.arange(width, device=device, dtype=torch.float32) + 0.5) / width * 2 - 1
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([grid_x, grid_y], dim=-1).reshape(-1, 2)


class CoordinateMLP(INRBackbone):
    """Shared body: encoding -> hidden ModulatedLinear layers -> RGB."""

    is_coordinate_based = True

    def __init__(self, width: int = 64, depth: int = 4) -> None:
        super().__init__()
        if depth < 2:
            raise ValueError(f"depth must be >= 2, got {depth}")
        self.width = width
        self.depth = depth

    def encoding_dim(self) -> int:
        return 2

    def encode(self, coords: Tensor) -> Tensor:
        return coords

    def activation(self, x: Tensor, layer_index: int) -> Tensor:
        return torch.relu(x)

    def _build(self) -> None:
        dims = [self.encoding_dim()] + [self.width] * (self.depth - 1)
        self.layers = nn.ModuleList(ModulatedLinear(a, b) for a, b in zip(dims[:-1], dims[1:], strict=True))
        self.head = ModulatedLinear(self.width, 3)
        self._init_weights()

    def _init_weights(self) -> None:
        """Hook for activation-specific initialisation."""

    def query(self, latent: Tensor, params: dict[str, LayerParams], coords: Tensor) -> Tensor:
        """Colours at coordinates. coords: (B, N, 2) or (N, 2) in [-1, 1] -> (B, N, 3)."""
        if coords.dim() == 2:
            coords = coords.unsqueeze(0).expand(latent.shape[0], -1, -1)
        h = self.encode(coords)
        for i, layer in enumerate(self.layers):
            h = self.activation(layer(h, params.get(f"layers.{i}")), i)
        return torch.sigmoid(self.head(h, params.get("head")))

    def render_at(self, latent: Tensor, params: dict[str, LayerParams], size: tuple[int, int]) -> Tensor:
        """Frames on an arbitrary (H, W) pixel grid -> (B, 3, H, W)."""
        height, width = size
        rgb = self.query(latent, params, pixel_grid(height, width, device=latent.device))
        return rgb.transpose(1, 2).reshape(latent.shape[0], 3, height, width)

    def forward(self, latent: Tensor, params: dict[str, LayerParams]) -> Tensor:
        return self.render_at(latent, params, self.render_size())


@register_backbone("siren")
class SirenBackbone(CoordinateMLP):
    """SIREN (Sitzmann et al. 2020): sine activations, frequency ``omega_0``.

    Args:
        width: hidden units per layer.
        depth: number of hidden layers.
        omega_0: frequency of the sines; higher fits finer detail, lower generalises.
    """

    def __init__(self, width: int = 64, depth: int = 4, omega_0: float = 30.0) -> None:
        super().__init__(width=width, depth=depth)
        self.omega_0 = omega_0

    def activation(self, x: Tensor, layer_index: int) -> Tensor:
        return torch.sin(self.omega_0 * x)

    @torch.no_grad()
    def _init_weights(self) -> None:
        for i, layer in enumerate(self.layers):
            fan_in = layer.weight.shape[1]
            bound = 1 / fan_in if i == 0 else math.sqrt(6 / fan_in) / self.omega_0
            layer.weight.uniform_(-bound, bound)
            layer.bias.uniform_(-bound, bound)


@register_backbone("fourier-mlp")
class FourierMLPBackbone(CoordinateMLP):
    """ReLU MLP on sin/cos positional encodings of (x, y) (NeRF/Tancik et al. 2020).

    Args:
        width: hidden units per layer.
        depth: number of hidden layers.
        num_frequencies: octaves of the encoding; sets the finest detail it can express.
    """

    def __init__(self, width: int = 64, depth: int = 4, num_frequencies: int = 10) -> None:
        super().__init__(width=width, depth=depth)
        self.num_frequencies = num_frequencies
        self.register_buffer(
            "frequencies", math.pi * 2.0 ** torch.arange(num_frequencies, dtype=torch.float32), persistent=False
        )

    def encoding_dim(self) -> int:
        return 2 + 4 * self.num_frequencies

    def encode(self, coords: Tensor) -> Tensor:
        angles = (coords.unsqueeze(-1) * self.frequencies).flatten(-2)
        return torch.cat([coords, torch.sin(angles), torch.cos(angles)], dim=-1)
