"""Training on a random subset of each frame's pixels: what a coordinate backbone needs from the model."""

from __future__ import annotations

from torch import Tensor

from inrzoo.backbones.base import INRBackbone
from inrzoo.errors import InrzooError
from inrzoo.models.losses import ReconstructionLoss
from inrzoo.models.rate import RateTerm


def renders_sampled_pixels(backbone: INRBackbone | type[INRBackbone]) -> bool:
    """Whether a backbone (or its class) can render a random sample of a frame's pixels (``render_sampled``)."""
    return callable(getattr(backbone, "render_sampled", None))


def check_pixel_sampling(
    backbone: INRBackbone, frame_size: tuple[int, int], loss: ReconstructionLoss, rate: RateTerm | None
) -> None:
    """One clear error where ``sampled_pixels`` cannot work, before any training step."""
    name = type(backbone).__name__
    if not renders_sampled_pixels(backbone):
        raise InrzooError(
            f"sampled_pixels: {name} renders whole frames only (it has no render_sampled); leave sampled_pixels "
            "unset (null) for it, or use a coordinate backbone (siren, fourier-mlp, grid-mlp)"
        )
    if tuple(backbone.render_size()) != tuple(frame_size):
        raise InrzooError(
            f"sampled_pixels: {name} renders {backbone.render_size()} for {frame_size} frames; sampling needs a "
            "patch_size that divides the frame's sides"
        )
    if loss.ssim:
        raise InrzooError("sampled_pixels: the SSIM loss term needs whole frames; set loss.ssim to 0 or leave it unset")
    if rate is not None:
        raise InrzooError("sampled_pixels: a rate term decodes whole frames; leave sampled_pixels unset with rate")


def pixels_of(frames: Tensor, pixels: Tensor) -> Tensor:
    """frames (B, C, H, W), pixels (B, N) row-major indices into H x W -> the frames' colours there (B, C, N)."""
    return frames.flatten(2).gather(2, pixels.unsqueeze(1).expand(-1, frames.shape[1], -1))
