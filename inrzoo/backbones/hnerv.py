"""HNeRV-style conv decoder fed by a small *spatial* latent per frame.

Where :class:`~inrzoo.backbones.nerv.NeRVBackbone` squeezes a latent vector through a linear
projection onto a 3x4 grid (so every frame's spatial detail must come from modulation), this
decoder takes the latent as a ``(C, h, w)`` feature map at the coarsest resolution and upsamples
it: each frame owns its layout, and the parameters go to a decoder whose channels shrink
gradually while its kernels grow with resolution (cheap wide kernels late, where channels are
few). Hypernetwork heads still modulate its convs from the flattened latent.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

from inrzoo.backbones.base import INRBackbone
from inrzoo.backbones.layers import LayerParams, ModulatedConv2d, ModulatedLayer, UpsampleBlock
from inrzoo.backbones.registry import register_backbone
from inrzoo.errors import InrzooError


@register_backbone("hnerv")
class HNeRVBackbone(INRBackbone):
    """Conv decoder from a ``(latent_dim, h, w)`` latent to the frame.

    The latent grid is the render size divided by the product of the strides, so ``latent_dim``
    is the latent's channel count and each frame stores ``latent_dim * h * w`` numbers.

    Args:
        channels: output channels of each upsampling block (HNeRV: shrinking by ~1.2 per block).
        strides: upsampling factor of each block; frame sides are padded to their product.
        kernel_sizes: conv kernel of each block (None: 1 for the first, 3 after; HNeRV grows them).
        head_kernel: kernel of the final RGB conv.
        head_stride: the RGB conv predicts ``head_stride x head_stride`` pixels per cell (PixelShuffle):
            the last, full-resolution layer is the costliest on a CPU, and this keeps it narrow.
        shared_grid: add a learned grid shared by all frames to every latent: it learns what frames have
            in common from every step, while each frame's own latent (one update per epoch) only has to
            learn how that frame differs.
    """

    modulated_layer_types = (ModulatedConv2d,)
    #: Batch 2 beat batch 4 at equal epochs in the design scan (benchmarks/results/design_scan_cpu.jsonl);
    #: 3e-3 is the learning rate that stays stable in long fits (1e-2 collapsed in a 150-epoch fit).
    recommended_training = {"batch_size": 2, "learning_rate": 3e-3}
    recommended_latent_dim = 4

    #: Fitted with a frame encoder by ``inrzoo bench`` (its FrameEncoder kwargs): spatial latents learn
    #: from one frame per epoch each, far too slowly on their own.
    recommended_frame_encoder = {"channels": 16}

    @classmethod
    def scaled_kwargs(cls, scale: float) -> dict[str, Any] | None:
        """The quickstart's proportions: scale 4 is channels (48, 16) over strides (5, 2), head stride 2."""
        return {
            "channels": (max(2, round(12 * scale)), max(2, round(4 * scale))),
            "strides": (5, 2),
            "kernel_sizes": (3, 3),
            "head_stride": 2,
        }

    def __init__(
        self,
        channels: tuple[int, ...] = (64, 53, 44, 37),
        strides: tuple[int, ...] = (5, 2, 2, 2),
        kernel_sizes: tuple[int, ...] | None = None,
        head_kernel: int = 3,
        head_stride: int = 1,
        shared_grid: bool = False,
    ) -> None:
        super().__init__()
        if len(channels) != len(strides) or not strides:
            raise InrzooError(
                f"hnerv needs one channel count per stride, got channels={list(channels)} strides={list(strides)}"
            )
        kernels = tuple(kernel_sizes) if kernel_sizes is not None else (1,) + (3,) * (len(strides) - 1)
        if len(kernels) != len(strides) or any(k < 1 or k % 2 == 0 for k in kernels):
            raise InrzooError(
                f"hnerv needs one odd kernel size per stride, got kernel_sizes={list(kernels)} strides={list(strides)}"
            )
        self.channels = tuple(channels)
        self.strides = tuple(strides)
        self.kernel_sizes = kernels
        self.head_kernel = head_kernel
        self.head_stride = head_stride
        self.shared_grid = shared_grid
        self.size_multiple = math.prod(self.strides) * head_stride

    def latent_shape(self, latent_dim: int, frame_size: tuple[int, int]) -> tuple[int, ...]:
        height, width = frame_size
        m = self.size_multiple
        return (latent_dim, -(-int(height) // m), -(-int(width) // m))

    def _build(self) -> None:
        self.require_frames_of_at_least_size_multiple("hnerv", self.strides)
        self.grid = self.latent_shape(self.latent_dim, self.frame_size)
        self.base_grid = nn.Parameter(torch.zeros(1, *self.grid)) if self.shared_grid else None
        blocks = []
        in_channels = self.latent_dim
        for out_channels, stride, kernel in zip(self.channels, self.strides, self.kernel_sizes, strict=True):
            blocks.append(UpsampleBlock(in_channels, out_channels, stride, kernel))
            in_channels = out_channels
        self.blocks = nn.ModuleList(blocks)
        self.head = ModulatedConv2d(in_channels, 3 * self.head_stride**2, self.head_kernel)
        self.head_shuffle = nn.PixelShuffle(self.head_stride)

    def forward(self, latent: Tensor, params: Mapping[ModulatedLayer, LayerParams]) -> Tensor:
        params = self.keyed_by_layer(params)
        x = latent.reshape(latent.shape[0], *self.grid)
        if self.base_grid is not None:
            x = x + self.base_grid
        for block in self.blocks:
            x = block(x, params.get(block.conv))
        return torch.sigmoid(self.head_shuffle(self.head(x, params.get(self.head))))
