"""Multi-resolution feature grids + a small MLP (Instant-NGP-style, dense, pure PyTorch).

The grids hold most of the capacity and are shared by all frames; the per-frame weights
modulate only the small MLP that reads them. Levels are dense 2D grids sampled with
``grid_sample`` (no hashing: an image's finest useful level fits in memory, and dense
lookups are far faster than hashed gathers without a CUDA kernel).
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from inrzoo.backbones.coordinate_mlp import CoordinateMLP
from inrzoo.backbones.registry import register_backbone
from inrzoo.errors import InrzooError
from inrzoo.options import check_options, integers


@register_backbone("grid-mlp")
class GridMLPBackbone(CoordinateMLP):
    """Coordinates -> concatenated bilinear features of ``num_levels`` grids -> ReLU MLP.

    Args:
        width: hidden units per MLP layer.
        depth: number of hidden layers.
        num_levels: grid levels, resolutions growing geometrically.
        features_per_level: feature channels stored per grid cell.
        base_resolution: cells along the shorter frame side at the coarsest level.
        finest_resolution: cells along the shorter side at the finest level (the longer
            side follows the frame's aspect ratio); sets the grids' size.
        patch_size: pixels per side predicted per query (1: per pixel).
    """

    #: Instant-NGP's usual rate for feature grids; 2,048 sampled pixels a step beat 512, 8,192 and whole frames in
    #: 35 s fits (benchmarks/README.md, "Coordinate MLPs on sampled pixels").
    #: The rate held at its peak for half the fit, then a linear fall: +0.09 dB at 3,000 steps ("A stable stretch
    #: before the decay").
    recommended_training = {
        "batch_size": 1, "learning_rate": 1e-2, "sampled_pixels": 2048, "lr_decay": "linear",
        "decay_fraction": 0.5,
    }  # fmt: skip

    @classmethod
    def scaled_kwargs(cls, scale: float) -> dict[str, Any] | None:
        """The finest grid level (16 x scale cells on the short side) and the MLP width grow together."""
        return {"width": max(8, round(8 * scale)), "depth": 2, "finest_resolution": max(8, round(16 * scale))}

    option_ranges = {
        "num_levels": integers(1, 32),
        "features_per_level": integers(1, 64),
        "base_resolution": integers(1, 65_536),
        "finest_resolution": integers(1, 65_536),
    }

    def __init__(
        self,
        width: int = 32,
        depth: int = 2,
        num_levels: int = 6,
        features_per_level: int = 2,
        base_resolution: int = 8,
        finest_resolution: int = 64,
        patch_size: int = 1,
    ) -> None:
        check_options(self, locals())
        super().__init__(width=width, depth=depth, patch_size=patch_size)
        if num_levels < 1 or features_per_level < 1 or not 1 <= base_resolution <= finest_resolution:
            raise InrzooError(
                "grid-mlp needs num_levels >= 1, features_per_level >= 1 and "
                f"1 <= base_resolution <= finest_resolution, got {num_levels}, {features_per_level}, "
                f"{base_resolution}, {finest_resolution}"
            )
        self.num_levels = num_levels
        self.features_per_level = features_per_level
        self.base_resolution = base_resolution
        self.finest_resolution = finest_resolution

    def encoding_dim(self) -> int:
        return 2 + self.num_levels * self.features_per_level

    def level_sizes(self) -> list[tuple[int, int]]:
        """(rows, cols) of each level for the frame's aspect ratio."""
        height, width = self.frame_size
        short, long_over_short = min(height, width), max(height, width) / min(height, width)
        growth = (self.finest_resolution / self.base_resolution) ** (1 / max(1, self.num_levels - 1))
        sizes = []
        for level in range(self.num_levels):
            cells = max(2, round(self.base_resolution * growth**level))
            other = max(2, round(cells * long_over_short))
            sizes.append((cells, other) if height == short else (other, cells))
        return sizes

    def _build(self) -> None:
        # Tiny uniform init (as Instant-NGP): the MLP starts from near-constant features.
        self.grids = nn.ParameterList(
            nn.Parameter(torch.empty(1, self.features_per_level, rows, cols).uniform_(-1e-4, 1e-4))
            for rows, cols in self.level_sizes()
        )
        super()._build()

    def encode(self, coords: Tensor) -> Tensor:
        batch, num_points, _ = coords.shape
        # grid_sample wants (x, y) in [-1, 1]; align_corners=False matches pixel_grid's centres.
        sample_at = coords.reshape(1, batch * num_points, 1, 2)
        features = [
            F.grid_sample(grid, sample_at, mode="bilinear", padding_mode="border", align_corners=False)
            for grid in self.grids
        ]
        stacked = torch.cat(features, dim=1).reshape(-1, batch * num_points).t()
        return torch.cat([coords, stacked.reshape(batch, num_points, -1)], dim=-1)

    @torch.no_grad()
    def _init_weights(self) -> None:
        for layer in self.layers:
            nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5))
