"""A hierarchical-grid conv decoder in the spirit of HiNeRV (Kwan et al., 2023).

Where :class:`~inrzoo.backbones.hnerv.HNeRVBackbone` upsamples with a wide conv and a PixelShuffle
(every output position in a cell has its own weights, so the upsampling conv holds most of the
parameters), this decoder upsamples *bilinearly* and gives each scale its own learned grid of
features, shared by all frames: the grid tells the layers after it where in the coarse cell a pixel
sits, which a smooth upsampling cannot. The parameters then go to cheap depthwise-plus-pointwise
(ConvNeXt-like) blocks at every resolution. As in HNeRV the frame's latent is a small spatial map;
hypernetwork heads modulate each stage's channel-mixing conv and the RGB head.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from inrzoo.backbones.layers import LayerParams, ModulatedConv2d, ModulatedLayer
from inrzoo.backbones.registry import register_backbone
from inrzoo.backbones.spatial import SpatialLatentBackbone
from inrzoo.errors import InrzooError
from inrzoo.options import KERNEL, check_options, integers


class GridUpsampleStage(nn.Module):
    """Mix channels at the coarse scale (modulated), upsample bilinearly, add the scale's learned
    position grid, then refine with a residual depthwise + pointwise block."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, kernel_size: int, expansion: int) -> None:
        super().__init__()
        self.stride = stride
        self.mix = ModulatedConv2d(in_channels, out_channels, 3)
        # One feature vector per position inside an upsampled cell (s x s of them), tiled over the frame.
        self.position_grid = nn.Parameter(0.1 * torch.randn(1, out_channels, stride, stride))
        self.depthwise = nn.Conv2d(out_channels, out_channels, kernel_size, padding=kernel_size // 2,
                                   groups=out_channels)  # fmt: skip
        self.expand = nn.Conv2d(out_channels, out_channels * expansion, 1)
        self.project = nn.Conv2d(out_channels * expansion, out_channels, 1)

    def forward(self, x: Tensor, params: LayerParams | None) -> Tensor:
        x = F.gelu(self.mix(x, params))
        height, width = x.shape[-2] * self.stride, x.shape[-1] * self.stride
        x = F.interpolate(x, size=(height, width), mode="bilinear", align_corners=False)
        x = x + self.position_grid.repeat(1, 1, height // self.stride, width // self.stride)
        return x + self.project(F.gelu(self.expand(self.depthwise(x))))


@register_backbone("hinerv")
class HiNeRVBackbone(SpatialLatentBackbone):
    """Bilinear upsampling with per-scale learned position grids, from a ``(latent_dim, h, w)`` latent.

    Args:
        channels: output channels of each stage (shrinking with resolution).
        strides: upsampling factor of each stage; frame sides are padded to their product (times
            ``head_stride``).
        kernel_size: depthwise kernel of each stage's refinement block (large: it is cheap).
        expansion: hidden width of the pointwise block, as a multiple of the stage's channels.
        head_stride: the RGB conv predicts ``head_stride x head_stride`` pixels per cell (PixelShuffle).
        head_kernel: kernel of the RGB conv.
        modulation_grid: (h, w) cells the latent map is average-pooled to for the hypernetwork heads
            (None: the whole map; see :meth:`SpatialLatentBackbone.set_geometry`).
    """

    @classmethod
    def scaled_kwargs(cls, scale: float) -> dict[str, Any] | None:
        """Scale 4: channels (48, 24, 12) over strides (5, 2, 2), head stride 2 (a 5x8 latent grid at 180x320)."""
        return {
            "channels": (max(2, round(12 * scale)), max(2, round(6 * scale)), max(2, round(3 * scale))),
            "strides": (5, 2, 2),
            "head_stride": 2,
            "modulation_grid": (3, 4),
        }

    option_ranges = {"kernel_size": KERNEL, "expansion": integers(1, 16)}
    #: The spatial family's rate, with Adam's beta2 0.95: +0.20 dB at 1,500 steps (benchmarks/README.md).
    #: The rate held at its peak for half the fit, then a linear fall: +0.28 dB at 1,500 steps ("A stable stretch
    #: before the decay").
    recommended_training = {
        "batch_size": 1, "learning_rate": 3e-3, "adam_betas": (0.9, 0.95), "lr_decay": "linear", "decay_fraction": 0.5,
    }  # fmt: skip

    def __init__(
        self,
        channels: tuple[int, ...] = (48, 24, 12),
        strides: tuple[int, ...] = (5, 2, 2),
        kernel_size: int = 5,
        expansion: int = 2,
        head_stride: int = 2,
        head_kernel: int = 3,
        modulation_grid: tuple[int, int] | None = (3, 4),
    ) -> None:
        check_options(self, locals())
        super().__init__()
        self.set_geometry("hinerv", channels, strides, head_stride, head_kernel, modulation_grid)
        if kernel_size < 1 or kernel_size % 2 == 0 or expansion < 1:
            raise InrzooError(
                f"hinerv needs an odd kernel_size and expansion >= 1, got kernel_size={kernel_size} "
                f"expansion={expansion}"
            )
        self.kernel_size = kernel_size
        self.expansion = expansion

    def _build(self) -> None:
        self.require_frames_of_at_least_size_multiple("hinerv", self.strides)
        stages, in_channels = [], self.latent_dim
        for out_channels, stride in zip(self.channels, self.strides, strict=True):
            stages.append(GridUpsampleStage(in_channels, out_channels, stride, self.kernel_size, self.expansion))
            in_channels = out_channels
        self.stages = nn.ModuleList(stages)
        self.build_rgb_head(in_channels)

    def forward(self, latent: Tensor, params: Mapping[ModulatedLayer, LayerParams]) -> Tensor:
        params = self.keyed_by_layer(params)
        x = self.latent_map(latent)
        for stage in self.stages:
            x = stage(x, params.get(stage.mix))
        return self.render_rgb(x, params)
