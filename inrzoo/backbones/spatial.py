"""What the decoders fed by a small *spatial* latent share: the latent's grid and the heads' view of it."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from inrzoo.backbones.base import INRBackbone
from inrzoo.backbones.layers import LayerParams, ModulatedConv2d, ModulatedLayer
from inrzoo.errors import InrzooError
from inrzoo.options import KERNEL, STRIDE, WIDTH, integers


class SpatialLatentBackbone(INRBackbone):
    """A backbone whose latent is a ``(latent_dim, h, w)`` map at the render size / ``size_multiple``.

    Subclasses call :meth:`set_geometry` in ``__init__``, build their upsampling stages from
    ``self.channels`` / ``self.strides`` and end with :meth:`build_rgb_head` / :meth:`render_rgb`; the built
    latent grid is ``self.grid``.
    """

    modulated_layer_types = (ModulatedConv2d,)
    #: The best cell for both hnerv and hinerv of the recipe scan at the cpu tier's size (100k parameters,
    #: Bunny 180x320, 8 epochs; benchmarks/results/recipe_scan_cpu.json), ahead per second too; hinerv
    #: diverges at 5e-3 with batch 1, and hnerv collapsed at 1e-2 in a 150-epoch fit.
    recommended_training = {"batch_size": 1, "learning_rate": 3e-3}
    recommended_latent_dim = 4
    #: Fitted with a frame encoder by ``inrzoo bench`` (its FrameEncoder kwargs): spatial latents learn
    #: from one frame per epoch each, far too slowly on their own.
    recommended_frame_encoder = {"channels": 16}
    modulation_grid: tuple[int, int] | None = None
    #: What subclasses' constructors check (with ``check_options``) before :meth:`set_geometry`.
    option_ranges = {
        "channels": WIDTH.per_item(),
        "strides": STRIDE.per_item(),
        "head_stride": integers(1, 16),
        "head_kernel": KERNEL,
        "modulation_grid": integers(1, 1024).per_item().optional(),
    }

    def set_geometry(
        self,
        name: str,
        channels: Sequence[int],
        strides: Sequence[int],
        head_stride: int,
        head_kernel: int,
        modulation_grid: tuple[int, int] | None,
    ) -> None:
        """Check and keep the decoder's shape: one channel count per upsampling stride, a PixelShuffle RGB
        head, and ``modulation_grid``: the (h, w) cells the latent map is average-pooled to before
        hypernetwork heads read it, so a head's first layer costs ``hidden x latent_dim x h x w`` parameters
        whatever the frame's grid (None: heads read the whole map)."""
        if len(channels) != len(strides) or not strides:
            raise InrzooError(
                f"{name} needs one channel count per stride, got channels={list(channels)} strides={list(strides)}"
            )
        if min(strides) < 1 or head_stride < 1:
            raise InrzooError(f"{name} strides must be >= 1, got strides={list(strides)} head_stride={head_stride}")
        if modulation_grid is not None and (len(modulation_grid) != 2 or min(modulation_grid) < 1):
            raise InrzooError(f"{name} modulation_grid must be two positive sizes, got {list(modulation_grid)}")
        self.channels = tuple(channels)
        self.strides = tuple(strides)
        self.head_stride = head_stride
        self.head_kernel = head_kernel
        self.modulation_grid = (int(modulation_grid[0]), int(modulation_grid[1])) if modulation_grid else None
        self.size_multiple = math.prod(self.strides) * head_stride

    def build_rgb_head(self, in_channels: int) -> None:
        """The last, modulated conv: ``head_stride x head_stride`` RGB pixels per cell (PixelShuffle), which
        keeps the costliest, full-resolution layer narrow on a CPU."""
        self.head = ModulatedConv2d(in_channels, 3 * self.head_stride**2, self.head_kernel)
        self.head_shuffle = nn.PixelShuffle(self.head_stride)

    def trimmed_sizes(self) -> list[tuple[int, int]]:
        """(h, w) of each upsampling stage's output that the frame needs: ceil(frame side / the strides still to
        come). The rows and columns past them only feed the padding that the final crop discards."""
        assert self.frame_size is not None, "call build() first"
        height, width = self.frame_size
        remaining = self.size_multiple
        sizes = []
        for stride in self.strides:
            remaining //= stride
            sizes.append((-(-height // remaining), -(-width // remaining)))
        return sizes

    def render_rgb(self, features: Tensor, params: Mapping[ModulatedLayer, LayerParams]) -> Tensor:
        return torch.sigmoid(self.head_shuffle(self.head(features, params.get(self.head))))

    def latent_shape(self, latent_dim: int, frame_size: tuple[int, int]) -> tuple[int, ...]:
        height, width = frame_size
        m = self.size_multiple
        return (latent_dim, -(-int(height) // m), -(-int(width) // m))

    @property
    def grid(self) -> tuple[int, ...]:
        """The built latent's shape ``(latent_dim, h, w)``."""
        assert self.latent_dim is not None and self.frame_size is not None, "call build() first"
        return self.latent_shape(self.latent_dim, self.frame_size)

    def latent_map(self, latent: Tensor) -> Tensor:
        """(B, latent_size) -> (B, latent_dim, h, w)."""
        return latent.reshape(latent.shape[0], *self.grid)

    def modulation_input(self, latent: Tensor) -> Tensor:
        if self.modulation_grid is None:
            return latent
        return F.adaptive_avg_pool2d(self.latent_map(latent), self.modulation_grid).flatten(1)

    @property
    def modulation_input_size(self) -> int:
        if self.modulation_grid is None:
            return self.latent_size
        return self.latent_dim * self.modulation_grid[0] * self.modulation_grid[1]
