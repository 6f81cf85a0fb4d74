"""HNeRV-style conv decoder fed by a small *spatial* latent per frame.

Where :class:`~inrzoo.backbones.nerv.NeRVBackbone` squeezes a latent vector through a linear
projection onto a 3x4 grid (so every frame's spatial detail must come from modulation), this
decoder takes the latent as a ``(C, h, w)`` feature map at the coarsest resolution and upsamples
it: each frame owns its layout, and the parameters go to a decoder whose channels shrink
gradually while its kernels grow with resolution (cheap wide kernels late, where channels are
few). Hypernetwork heads still modulate its convs from the flattened latent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

from inrzoo.backbones.layers import LayerParams, ModulatedLayer, UpsampleBlock, crop_to
from inrzoo.backbones.registry import register_backbone
from inrzoo.backbones.spatial import SpatialLatentBackbone
from inrzoo.errors import InrzooError
from inrzoo.options import KERNEL, check_options


@register_backbone("hnerv")
class HNeRVBackbone(SpatialLatentBackbone):
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
        modulation_grid: (h, w) cells the latent map is average-pooled to before hypernetwork heads read it
            (None: the whole map; see :meth:`SpatialLatentBackbone.set_geometry`).
        trim_padding: after each block, keep only the rows and columns the frame needs
            (:meth:`~SpatialLatentBackbone.trimmed_sizes`) instead of upsampling the padded latent grid to the end and
            cropping the frame out of it: a frame whose sides are not multiples of the strides' product costs
            that much less a step (Bunny 180x320 over strides 40: 10% of every stage; carphone 144x176: 21%).
            Off by default, so models fitted before it decode as they did; the size family turns it on.
    """

    #: Where the size family changes form (about 170k parameters at 180x320; see :meth:`scaled_kwargs`).
    FINE_LATENT_SCALE = 5.0

    @classmethod
    def scaled_kwargs(cls, scale: float) -> dict[str, Any] | None:
        """Up to :attr:`FINE_LATENT_SCALE`: three blocks of shrinking channels (scale 4: 48, 24, 12) over strides
        (5, 2, 2) and a head stride of 2, so the latent grid is the frame / 40 (5x8 cells at 180x320: a 100k model
        keeps most of its parameters for the decoder). Above it, the quickstart's form: two blocks (16t, 4t
        channels, t = scale - 1) over strides (5, 2), a frame / 20 latent grid (9x16) whose channels
        :meth:`scaled_latent_dim` widens. At 400k and 120 s this form is +1.5 dB (Bunny, 8/6-bit files) over the
        three-block one: its parameters sit in the latents and the coarse block, which cost little time a step,
        where the three-block form's sit in its full-resolution blocks (benchmarks/README.md, "A family whose
        larger members widen the latent").
        Heads read the latent pooled to 3x4 cells either way (their cost does not grow with the frame)."""
        if scale <= cls.FINE_LATENT_SCALE:
            return cls.three_block_kwargs(scale)
        width = scale - 1
        return {
            "channels": (round(16 * width), round(4 * width)),
            "strides": (5, 2),
            "kernel_sizes": (3, 3),
            "head_stride": 2,
            "modulation_grid": (3, 4),
            "trim_padding": True,
        }

    @classmethod
    def three_block_kwargs(cls, scale: float) -> dict[str, Any]:
        """The family's form up to :attr:`FINE_LATENT_SCALE` (a frame / 40 latent grid), at any scale."""
        return {
            "channels": (max(2, round(12 * scale)), max(2, round(6 * scale)), max(2, round(3 * scale))),
            "strides": (5, 2, 2),
            "kernel_sizes": (3, 3, 3),
            "head_stride": 2,
            "modulation_grid": (3, 4),
            "trim_padding": True,
        }

    @classmethod
    def scaled_latent_dim(cls, scale: float) -> int:
        """4 channels in the three-block form; in the two-block form the cube of the width unit / 24 (4 at about
        200k, 8 at 400k on 180x320), at least 4: past 200k the per-frame latent is where added parameters buy
        the most per second of fitting."""
        if scale <= cls.FINE_LATENT_SCALE:
            return cls.recommended_latent_dim
        return max(cls.recommended_latent_dim, round((scale - 1) ** 3 / 24))

    option_ranges = {"kernel_sizes": KERNEL.per_item().optional()}
    #: The cpu tier's scan (100k parameters, Bunny 180x320, 1,500 steps; benchmarks/README.md, "The cpu tier:
    #: heads on the RGB conv"): FiLM on the first block alone cost 38% of the budget (it modulates the 25x
    #: wider conv before the PixelShuffle); on the RGB conv only, the freed parameters widen the decoder, for
    #: +1.7 dB at equal steps together with the higher rate. 5e-3 keeps a 2x margin to 1.2e-2, which collapsed.
    #: Adam's beta2 0.95 (PyTorch's 0.999): +0.39 dB at 1,500 steps ("Adam's beta2"); 0.9 is as good, 0.99 +0.28.
    #: A 10% warm-up (VideoINR's default is 5%), as the quickstart and rate_distortion.py use: with 5% the 100k
    #: member never started on bikes (13.9 dB, a dead start the divergence guard cannot rewind: it was never
    #: healthy) and reached 22.7 dB with 10%, while Bunny moved +0.03 dB ("A 10% warm-up for hnerv").
    #: The rate held at its peak for half the fit, then a linear fall (cosine from the warm-up on before): +0.20 dB
    #: on Bunny, +0.33 on bikes, +0.16 on carphone at 1,500 steps ("A stable stretch before the decay").
    #: The frame encoder hands over at 60% of the steps: the latents then train directly (the encoder produces
    #: them no more, so the rest of the fit's steps cost less). At 1,500 steps with the held-peak schedule:
    #: Bunny +0.12 dB, carphone +0.22, bikes -0.10 ("The frame encoder's handoff").
    #: Gradients clipped to norm 0.1: with the encoder's He start, a few large steps at the peak rate still knocked
    #: 1 of 3 bikes fits (seeds 0-2, 1,500 steps, channels_last) into one mean picture for every frame (13.9 dB);
    #: clipped, all three reach 22.6-23.0, while Bunny and carphone move -0.03 / +0.10 dB ("Clipped gradients").
    recommended_frame_encoder = {"channels": 16, "handoff": 0.6}
    recommended_modulated_layers = ("head",)
    recommended_training = {
        "batch_size": 1, "learning_rate": 5e-3, "adam_betas": (0.9, 0.95), "warmup_fraction": 0.1,
        "lr_decay": "linear", "decay_fraction": 0.5, "gradient_clip_norm": 0.1,
    }  # fmt: skip

    def __init__(
        self,
        channels: tuple[int, ...] = (64, 53, 44, 37),
        strides: tuple[int, ...] = (5, 2, 2, 2),
        kernel_sizes: tuple[int, ...] | None = None,
        head_kernel: int = 3,
        head_stride: int = 1,
        shared_grid: bool = False,
        modulation_grid: tuple[int, int] | None = None,
        trim_padding: bool = False,
    ) -> None:
        check_options(self, locals())
        super().__init__()
        self.set_geometry("hnerv", channels, strides, head_stride, head_kernel, modulation_grid)
        kernels = tuple(kernel_sizes) if kernel_sizes is not None else (1,) + (3,) * (len(strides) - 1)
        if len(kernels) != len(strides) or any(k < 1 or k % 2 == 0 for k in kernels):
            raise InrzooError(
                f"hnerv needs one odd kernel size per stride, got kernel_sizes={list(kernels)} strides={list(strides)}"
            )
        self.kernel_sizes = kernels
        self.shared_grid = shared_grid
        self.trim_padding = trim_padding

    def _build(self) -> None:
        self.require_frames_of_at_least_size_multiple("hnerv", self.strides)
        self.base_grid = nn.Parameter(torch.zeros(1, *self.grid)) if self.shared_grid else None
        blocks = []
        in_channels = self.latent_dim
        for out_channels, stride, kernel in zip(self.channels, self.strides, self.kernel_sizes, strict=True):
            blocks.append(UpsampleBlock(in_channels, out_channels, stride, kernel))
            in_channels = out_channels
        self.blocks = nn.ModuleList(blocks)
        self.build_rgb_head(in_channels)

    def forward(self, latent: Tensor, params: Mapping[ModulatedLayer, LayerParams]) -> Tensor:
        params = self.keyed_by_layer(params)
        x = self.latent_map(latent)
        if self.base_grid is not None:
            x = x + self.base_grid
        sizes = self.trimmed_sizes() if self.trim_padding else [None] * len(self.blocks)
        for block, size in zip(self.blocks, sizes, strict=True):
            x = block(x, params.get(block.conv))
            if size is not None:
                x = crop_to(x, *size)
        return self.render_rgb(x, params)
