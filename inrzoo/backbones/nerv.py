"""NeRV-style convolutional decoder: a small feature grid upsampled by conv + PixelShuffle.

It predicts the whole frame at once, which on a CPU is far cheaper per pixel than a
coordinate MLP. The frame's latent is projected to a coarse grid, added to a learned
positional grid, and refined by blocks whose conv weights the hypernetwork modulates.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from inrzoo.backbones.base import INRBackbone
from inrzoo.backbones.layers import LayerParams, ModulatedConv2d, ModulatedLayer, UpsampleBlock
from inrzoo.backbones.registry import register_backbone
from inrzoo.errors import InrzooError
from inrzoo.options import KERNEL, STRIDE, WIDTH, check_options, integers


@register_backbone("nerv-conv")
class NeRVBackbone(INRBackbone):
    """Conv decoder from a ``(stem_channels, h0, w0)`` grid to the frame.

    Args:
        channels: output channels of each upsampling block.
        strides: upsampling factor of each block; their product is the total upscaling,
            and frame sides are padded up to a multiple of it (then cropped back).
        stem_channels: channels of the coarse grid the latent is projected to.
        latent_grid: (h, w) cells the latent is projected onto before bilinear
            upsampling to the stem grid; small keeps the projection cheap.
        kernel_size: conv kernel of the blocks and the RGB head.
    """

    modulated_layer_types = (ModulatedConv2d,)
    #: The best cell of the recipe scan at the cpu tier's size (100k parameters, Bunny 180x320, 8 epochs;
    #: benchmarks/results/recipe_scan_cpu.json): batch 1 beat batch 2 at every rate, also per second.
    #: Adam's beta2 0.95 (PyTorch's 0.999) adds 0.65 dB at 1,500 steps (benchmarks/README.md, "Adam's beta2").
    #: The rate held at its peak for half the fit, then a linear fall: +0.18 dB at 1,500 steps ("A stable stretch
    #: before the decay").
    recommended_training = {
        "batch_size": 1, "learning_rate": 1e-2, "adam_betas": (0.9, 0.95), "lr_decay": "linear", "decay_fraction": 0.5,
    }  # fmt: skip
    #: The cpu tier's scan (1,500 steps at 100k parameters): a FiLM head on every block spent 29% of the budget
    #: on the first block's; on the RGB conv only, the decoder widens and the fit gains 0.8 dB at equal steps
    #: (0.5 dB on the last two layers). Frame content still reaches every layer through the latent's projection.
    recommended_modulated_layers = ("head",)

    @classmethod
    def scaled_kwargs(cls, scale: float) -> dict[str, Any] | None:
        """The quickstart's proportions: scale 4 is channels (24, 16, 12), stem 16."""
        return {
            "channels": tuple(max(2, round(c * scale)) for c in (6, 4, 3)),
            "strides": (5, 2, 2),
            "stem_channels": max(2, round(4 * scale)),
        }

    option_ranges = {
        "channels": WIDTH.per_item(),
        "strides": STRIDE.per_item(),
        "stem_channels": WIDTH,
        "latent_grid": integers(1, 1024).per_item(),
        "kernel_size": KERNEL,
    }

    def __init__(
        self,
        channels: tuple[int, ...] = (48, 32, 16),
        strides: tuple[int, ...] = (5, 2, 2),
        stem_channels: int = 32,
        latent_grid: tuple[int, int] = (3, 4),
        kernel_size: int = 3,
    ) -> None:
        check_options(self, locals())
        super().__init__()
        if len(channels) != len(strides) or not strides:
            raise InrzooError(
                f"nerv-conv needs one channel count per stride, got channels={list(channels)} strides={list(strides)}"
            )
        self.channels = tuple(channels)
        self.strides = tuple(strides)
        self.stem_channels = stem_channels
        self.latent_grid = tuple(latent_grid)
        self.kernel_size = kernel_size
        self.size_multiple = math.prod(self.strides)

    def _build(self) -> None:
        self.require_frames_of_at_least_size_multiple("nerv-conv", self.strides)
        render_h, render_w = self.render_size()
        self.stem_size = (render_h // self.size_multiple, render_w // self.size_multiple)
        grid_h, grid_w = self.latent_grid
        self.latent_to_grid = nn.Linear(self.latent_dim, self.stem_channels * grid_h * grid_w)
        self.positional_grid = nn.Parameter(0.1 * torch.randn(1, self.stem_channels, *self.stem_size))
        blocks = []
        in_channels = self.stem_channels
        for out_channels, stride in zip(self.channels, self.strides, strict=True):
            blocks.append(UpsampleBlock(in_channels, out_channels, stride, self.kernel_size))
            in_channels = out_channels
        self.blocks = nn.ModuleList(blocks)
        self.head = ModulatedConv2d(in_channels, 3, self.kernel_size)

    def forward(self, latent: Tensor, params: Mapping[ModulatedLayer, LayerParams]) -> Tensor:
        params = self.keyed_by_layer(params)
        batch = latent.shape[0]
        coarse = self.latent_to_grid(latent).reshape(batch, self.stem_channels, *self.latent_grid)
        x = F.interpolate(coarse, size=self.stem_size, mode="bilinear", align_corners=False) + self.positional_grid
        for block in self.blocks:
            x = block(x, params.get(block.conv))
        return torch.sigmoid(self.head(x, params.get(self.head)))
