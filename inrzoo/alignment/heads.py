"""Alignment heads: latent space -> teacher space (small: they are stored with the video)."""

from __future__ import annotations

from typing import Literal

from torch import Tensor, nn


class AlignmentHead(nn.Module):
    """``linear``: one matrix; ``mlp``: latent -> hidden (GELU) -> teacher dim.

    The projection, not the latent itself, is compared with the teacher, so the latent keeps
    its own size (and its reconstruction job) while sharing the teacher's geometry.
    """

    def __init__(self, latent_dim: int, feature_dim: int, kind: Literal["linear", "mlp"] = "linear",
                 hidden: int = 256) -> None:  # fmt: skip
        super().__init__()
        self.kind = kind
        if kind == "linear":
            self.net: nn.Module = nn.Linear(latent_dim, feature_dim)
        elif kind == "mlp":
            self.net = nn.Sequential(nn.Linear(latent_dim, hidden), nn.GELU(), nn.Linear(hidden, feature_dim))
        else:
            raise ValueError(f"alignment head must be 'linear' or 'mlp', got {kind!r}")

    def forward(self, latents: Tensor) -> Tensor:
        return self.net(latents)
