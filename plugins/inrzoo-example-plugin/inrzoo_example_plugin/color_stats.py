"""A frozen, parameter-free teacher: colour means and spreads on a coarse grid."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from inrzoo.teachers import Teacher


class ColorStatsTeacher(Teacher):
    """Per-frame features = mean and standard deviation of RGB over a ``grid x grid`` layout.

    Args:
        grid: cells per side; feature_dim = 6 * grid^2.
    """

    def __init__(self, grid: int = 2) -> None:
        super().__init__()
        self.grid = grid
        self.feature_dim = 6 * grid * grid

    @torch.no_grad()
    def encode_frames(self, frames: Tensor) -> Tensor:
        mean = F.adaptive_avg_pool2d(frames, self.grid)
        spread = (F.adaptive_avg_pool2d(frames**2, self.grid) - mean**2).clamp(min=0).sqrt()
        return torch.cat([mean.flatten(1), spread.flatten(1)], dim=1)
