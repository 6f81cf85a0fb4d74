"""Coordinate MLPs: colour = f((x, y); per-frame weights).

Two classic encodings of the coordinates share one body: SIREN (sine activations on raw
coordinates) and a Fourier-feature MLP (sin/cos positional encoding, ReLU).
Because they are queried at continuous coordinates, a finer grid gives super-resolution.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from inrzoo.backbones.base import INRBackbone
from inrzoo.backbones.layers import LayerParams, ModulatedLayer, ModulatedLinear
from inrzoo.backbones.registry import register_backbone
from inrzoo.errors import InrzooError
from inrzoo.options import WIDTH, check_options, integers, numbers


def pixel_grid(height: int, width: int, device: torch.device | None = None) -> Tensor:
    """Pixel-centre coordinates (H*W, 2) as (x, y) in [-1, 1] (align_corners=False convention)."""
    ys = (torch.arange(height, device=device, dtype=torch.float32) + 0.5) / height * 2 - 1
    xs = (torch.arange(width, device=device, dtype=torch.float32) + 0.5) / width * 2 - 1
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([grid_x, grid_y], dim=-1).reshape(-1, 2)


class CoordinateMLP(INRBackbone):
    """Shared body: encoding -> hidden ModulatedLinear layers -> RGB.

    With ``patch_size`` p > 1 each query is a patch centroid and the head predicts the
    p x p patch's pixels (PixelShuffle), the Latent-INR paper's patch variant: p^2 fewer
    MLP evaluations per frame, at the price of decoding only on grids of whole patches.
    """

    is_coordinate_based = True
    modulated_layer_types = (ModulatedLinear,)
    #: A training step scores ``sampled_pixels`` random pixels of its frame (:meth:`render_sampled`), not all of them:
    #: at equal wall clock (35 s, Bunny 180x320) 1,024 beat 4,096 and whole frames (benchmarks/README.md).
    recommended_training = {
        "batch_size": 1, "learning_rate": 1e-3, "sampled_pixels": 1024, "lr_decay": "linear",
        "decay_fraction": 0.5,
    }  # fmt: skip

    @classmethod
    def scaled_kwargs(cls, scale: float) -> dict[str, Any] | None:
        """Width 16 x scale at depth 4 (depth fixed: width is the smoother knob)."""
        return {"width": max(4, round(16 * scale)), "depth": 4}

    option_ranges = {"width": WIDTH, "depth": integers(2, 64), "patch_size": integers(1, 64)}

    def __init__(self, width: int = 64, depth: int = 4, patch_size: int = 1) -> None:
        check_options(self, locals())
        super().__init__()
        if depth < 2:
            raise InrzooError(f"{type(self).__name__} depth must be >= 2, got {depth}")
        if patch_size < 1:
            raise InrzooError(f"{type(self).__name__} patch_size must be >= 1, got {patch_size}")
        self.width = width
        self.depth = depth
        self.patch_size = patch_size
        self.size_multiple = patch_size

    def encoding_dim(self) -> int:
        return 2

    def encode(self, coords: Tensor) -> Tensor:
        return coords

    def activation(self, x: Tensor, layer_index: int) -> Tensor:
        return torch.relu(x)

    def _build(self) -> None:
        dims = [self.encoding_dim()] + [self.width] * (self.depth - 1)
        self.layers = nn.ModuleList(ModulatedLinear(a, b) for a, b in zip(dims[:-1], dims[1:], strict=True))
        self.head = ModulatedLinear(self.width, 3 * self.patch_size**2)
        self._init_weights()

    def _init_weights(self) -> None:
        """Hook for activation-specific initialisation."""

    def query(self, latent: Tensor, params: Mapping[ModulatedLayer, LayerParams], coords: Tensor) -> Tensor:
        """Colours at coordinates. coords: (B, N, 2) or (N, 2) in [-1, 1] -> (B, N, 3 * p^2)
        (one RGB pixel per coordinate, or with patches the p x p pixels around each centroid)."""
        params = self.keyed_by_layer(params)
        if coords.dim() == 2:
            coords = coords.unsqueeze(0).expand(latent.shape[0], -1, -1)
        h = self.encode(coords)
        for i, layer in enumerate(self.layers):
            h = self.activation(layer(h, params.get(layer)), i)
        return torch.sigmoid(self.head(h, params.get(self.head)))

    def render_at(self, latent: Tensor, params: Mapping[ModulatedLayer, LayerParams], size: tuple[int, int]) -> Tensor:
        """Frames on an arbitrary (H, W) pixel grid (multiples of the patch size) -> (B, 3, H, W)."""
        height, width = size
        p = self.patch_size
        if height % p or width % p:
            raise InrzooError(
                f"{type(self).__name__} with patch_size {p} cannot render {height}x{width}; use multiples of {p}"
            )
        rows, cols = height // p, width // p
        out = self.query(latent, params, pixel_grid(rows, cols, device=latent.device))
        patches = out.transpose(1, 2).reshape(latent.shape[0], 3 * p * p, rows, cols)
        return F.pixel_shuffle(patches, p) if p > 1 else patches

    def render_sampled(
        self, latent: Tensor, params: Mapping[ModulatedLayer, LayerParams], count: int
    ) -> tuple[Tensor, Tensor]:
        """About ``count`` random pixels of each frame, drawn afresh (without repeats) from the global torch RNG.

        A training step that scores these instead of whole frames costs about count / (H x W) as much, so the
        latents and weights get many more updates in the same time (``VideoINR(sampled_pixels=...)``).
        With patches, whole patches are drawn: ceil(count / p^2) of them. Returns (colours (B, 3, N) in [0, 1],
        pixel indices (B, N) into the row-major ``render_size()`` grid); ``count`` >= the frame's pixels gives
        every pixel, in order.
        """
        batch = latent.shape[0]
        p = self.patch_size
        height, width = self.render_size()
        rows, cols = height // p, width // p
        queries = min(-(-count // (p * p)), rows * cols)
        if queries == rows * cols:
            cells = torch.arange(rows * cols, device=latent.device).expand(batch, -1)
        else:
            cells = torch.stack([torch.randperm(rows * cols, device=latent.device)[:queries] for _ in range(batch)])
        row, col = cells // cols, cells % cols
        centres = torch.stack([(col + 0.5) / cols * 2 - 1, (row + 0.5) / rows * 2 - 1], dim=-1).float()
        colours = self.query(latent, params, centres).reshape(batch, queries, 3, p, p)
        # A patch's p x p pixels in the order pixel_shuffle lays them out (channel c, sub-row i, sub-column j).
        offsets = torch.arange(p, device=latent.device)
        pixel_rows = (row * p)[..., None, None] + offsets[:, None]
        pixel_cols = (col * p)[..., None, None] + offsets[None, :]
        pixels = (pixel_rows * width + pixel_cols).reshape(batch, -1)
        return colours.permute(0, 2, 1, 3, 4).reshape(batch, 3, -1), pixels

    def forward(self, latent: Tensor, params: Mapping[ModulatedLayer, LayerParams]) -> Tensor:
        return self.render_at(latent, params, self.render_size())


@register_backbone("siren")
class SirenBackbone(CoordinateMLP):
    """SIREN (Sitzmann et al. 2020): sine activations, frequency ``omega_0``.

    Args:
        width: hidden units per layer.
        depth: number of hidden layers.
        omega_0: frequency of the sines; higher fits finer detail, lower generalises.
        patch_size: pixels per side predicted per query (1: per pixel).
    """

    #: The best rate of a short scan at 40-60 s fits on Bunny 180x320; the pixel count of a 35 s scan on sampled
    #: pixels (benchmarks/README.md, "Coordinate MLPs on sampled pixels").
    #: The rate held at its peak for half the fit, then a linear fall: +0.06 dB at 2,500 steps, the worst frame +2.9
    #: ("A stable stretch before the decay").
    recommended_training = {
        "batch_size": 1, "learning_rate": 1e-3, "sampled_pixels": 1024, "lr_decay": "linear",
        "decay_fraction": 0.5,
    }  # fmt: skip

    option_ranges = {"omega_0": numbers(0, 10_000, low_open=True)}

    def __init__(self, width: int = 64, depth: int = 4, omega_0: float = 30.0, patch_size: int = 1) -> None:
        check_options(self, locals())
        super().__init__(width=width, depth=depth, patch_size=patch_size)
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
        patch_size: pixels per side predicted per query (1: per pixel).
    """

    #: The best rate of a short scan at 40-60 s fits on Bunny 180x320; the pixel count of a 35 s scan on sampled
    #: pixels (benchmarks/README.md, "Coordinate MLPs on sampled pixels").
    #: The rate held at its peak for half the fit, then a linear fall: +0.22 dB at 2,500 steps ("A stable stretch
    #: before the decay").
    recommended_training = {
        "batch_size": 1, "learning_rate": 5e-3, "sampled_pixels": 1024, "lr_decay": "linear",
        "decay_fraction": 0.5,
    }  # fmt: skip

    #: Past ~24 octaves float32 coordinates cannot resolve the highest frequency anyway.
    option_ranges = {"num_frequencies": integers(0, 32)}

    def __init__(self, width: int = 64, depth: int = 4, num_frequencies: int = 10, patch_size: int = 1) -> None:
        check_options(self, locals())
        super().__init__(width=width, depth=depth, patch_size=patch_size)
        self.num_frequencies = num_frequencies
        self.register_buffer(
            "frequencies", math.pi * 2.0 ** torch.arange(num_frequencies, dtype=torch.float32), persistent=False
        )

    def encoding_dim(self) -> int:
        return 2 + 4 * self.num_frequencies

    def encode(self, coords: Tensor) -> Tensor:
        angles = (coords.unsqueeze(-1) * self.frequencies).flatten(-2)
        return torch.cat([coords, torch.sin(angles), torch.cos(angles)], dim=-1)
