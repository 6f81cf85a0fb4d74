"""A frame encoder for content-adaptive latents (HNeRV's idea), used only while fitting.

A latent looked up in a table learns from its own frame once per epoch; an encoder's weights learn
from every frame at every step, so early in a fit the latents it produces are far better than the
table's. During training the latent of a frame is ``encoder(frame)``; the encoder's outputs are
written into the :class:`~inrzoo.models.latent_dictionary.LatentDictionary` whenever a checkpoint
is saved and when training ends (or hands over), so a fitted model decodes from the dictionary
alone and the encoder is neither stored in a bitstream nor counted in the model's size. Only
trained frames ever pass through it: held-out frames keep their untrained entries and are decoded
from their neighbours, as without an encoder.
"""

from __future__ import annotations

import math
from typing import Literal, get_args

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from inrzoo.errors import InrzooError
from inrzoo.options import WIDTH, check_choice, check_options, numbers
from inrzoo.stored_config import trust_stored_class

EncoderInit = Literal["kaiming", "torch"]
ENCODER_INITS: tuple[str, ...] = get_args(EncoderInit)


def downsampling_factors(total: int) -> list[int]:
    """``total`` as a product of small factors, largest first (5 * 2 * 2 for 20): one strided conv each."""
    factors, rest = [], total
    for prime in (5, 3, 2):
        while rest % prime == 0 and rest > 1:
            factors.append(prime)
            rest //= prime
    if rest > 1:
        factors.append(rest)
    return factors


@trust_stored_class  # quickstart.yaml names it, so checkpoints and bitstreams store it
class FrameEncoder(nn.Module):
    """Frames (B, 3, H, W) in [0, 1] -> flat latents (B, latent_size).

    A strided-conv pyramid down to the latent grid (spatial latents ``(C, h, w)``), or to a coarse
    grid that is averaged and projected (vector latents ``(D,)``).

    Args:
        channels: width of the first stage; each later stage doubles it, up to ``max_channels``.
        max_channels: the widest stage.
        handoff: share of the training steps after which the encoder's outputs are copied into the
            latent dictionary and the latents train directly (1.0: the encoder serves the whole fit).
        init: ``"kaiming"`` draws each layer's weights with He's variance for its fan-in (zero biases), so a
            frame's content reaches the latent at the first step; ``"torch"`` keeps PyTorch's default, under
            which the signal shrinks ~3x a layer: the latent starts as the biases alone, every frame decodes
            to the same picture, and a fit spends hundreds of steps (on some clips the whole fit) before it
            tells frames apart (benchmarks/README.md, "The frame encoder's initialisation").
    """

    option_ranges = {"channels": WIDTH, "max_channels": WIDTH, "handoff": numbers(0, 1, low_open=True)}

    def __init__(
        self, channels: int = 16, max_channels: int = 64, handoff: float = 1.0, init: EncoderInit = "kaiming"
    ) -> None:
        check_options(self, locals())
        check_choice("FrameEncoder init", init, ENCODER_INITS)
        super().__init__()
        self.channels = channels
        self.max_channels = max_channels
        self.handoff = handoff
        self.init = init
        self.latent_shape: tuple[int, ...] | None = None

    @property
    def is_built(self) -> bool:
        return self.latent_shape is not None

    def build(self, latent_shape: tuple[int, ...], render_size: tuple[int, int]) -> FrameEncoder:
        """Layers for latents of ``latent_shape`` from frames padded to ``render_size``."""
        self.latent_shape = tuple(latent_shape)
        self.render_size = tuple(render_size)
        spatial = len(self.latent_shape) == 3
        if spatial:
            grid = self.latent_shape[1:]
            factor = render_size[0] // grid[0]
            if factor * grid[0] != render_size[0] or factor * grid[1] != render_size[1]:
                raise InrzooError(
                    f"frame_encoder cannot map {render_size[0]}x{render_size[1]} frames onto a "
                    f"{grid[0]}x{grid[1]} latent grid: the sides must be the same multiple of the grid"
                )
        else:
            # Vector latents: downsample to a coarse grid of about 4 cells on the short side, then pool.
            factor = 2 ** max(0, int(math.log2(max(1, min(render_size) // 4))))
        stages: list[nn.Module] = []
        width = 3
        for i, stride in enumerate(downsampling_factors(factor)):
            out = min(self.max_channels, self.channels * 2**i)
            stages += [nn.Conv2d(width, out, kernel_size=stride, stride=stride), nn.GELU()]
            stages += [nn.Conv2d(out, out, kernel_size=3, padding=1), nn.GELU()]
            width = out
        self.stages = nn.Sequential(*stages)
        if spatial:
            self.to_latent: nn.Module = nn.Conv2d(width, self.latent_shape[0], kernel_size=1)
        else:
            self.to_latent = nn.Sequential(
                nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, self.latent_shape[0])
            )
        if self.init == "kaiming":
            self._initialise_kaiming()
        return self

    @torch.no_grad()
    def _initialise_kaiming(self) -> None:
        for layer in self.modules():
            if isinstance(layer, nn.Conv2d | nn.Linear):
                nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
                if layer.bias is not None:
                    layer.bias.zero_()

    def forward(self, frames: Tensor) -> Tensor:
        """frames: (B, 3, H, W) at the frame size; padded (replicated edges) up to the render size."""
        if not self.is_built:
            raise InrzooError("FrameEncoder.build() must run before encoding (VideoINR builds it)")
        height, width = frames.shape[-2:]
        pad = (0, self.render_size[1] - width, 0, self.render_size[0] - height)
        if any(pad):
            frames = F.pad(frames, pad, mode="replicate")
        return self.to_latent(self.stages(frames)).flatten(1)
