"""Super-resolution: decode a fitted video on a finer pixel grid than it was fitted on."""

from __future__ import annotations

import math
from abc import abstractmethod
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import Tensor

from inrzoo.backbones.base import INRBackbone
from inrzoo.errors import InrzooError
from inrzoo.tasks.base import TaskHead
from inrzoo.tasks.registry import register_task

if TYPE_CHECKING:  # the model layer sits above the plugin kinds: its types only
    from inrzoo.models.video_inr import VideoINR


def upscaled_size(frame_size: tuple[int, int], scale: float) -> tuple[int, int]:
    """(height, width) of frames rendered at ``scale`` times ``frame_size`` (at least one pixel a side)."""
    if not (scale > 0 and math.isfinite(scale)):
        raise InrzooError(f"--scale must be a positive number (e.g. 2, 4 or 1.5), got {scale}")
    return max(1, round(frame_size[0] * scale)), max(1, round(frame_size[1] * scale))


class SuperResolutionHead(TaskHead):
    """Renders frames at any (H, W)."""

    task = "super-resolution"

    @abstractmethod
    def render(self, model: VideoINR, indices: Tensor, size: tuple[int, int]) -> Tensor:
        """Frames ``indices`` at ``size`` -> (B, 3, H, W) in [0, 1]."""


@register_task("coordinate-grid")
class CoordinateGridSR(SuperResolutionHead):
    """Query a coordinate INR at the pixel centres of the finer grid: any scale, integer or not."""

    @classmethod
    def incompatibility(cls, other: type) -> str | None:
        if issubclass(other, INRBackbone) and not other.is_coordinate_based:
            return (
                "it queries the INR at new coordinates and this backbone renders a fixed pixel grid; "
                "use the bicubic-upsample head"
            )
        return super().incompatibility(other)

    @torch.no_grad()
    def render(self, model: VideoINR, indices: Tensor, size: tuple[int, int]) -> Tensor:
        backbone = model.backbone
        if tuple(backbone.render_size()) != tuple(model.frame_size):
            raise InrzooError(
                f"the model renders {backbone.render_size()} and crops to {model.frame_size}: its pixel grid "
                "does not span the frame, so finer grids would be misplaced; fit with patch_size dividing the frame"
            )
        latents = model.latents.at_times(indices.float())
        return backbone.render_at(latents, model.modulation(latents), size)


@register_task("bicubic-upsample")
class BicubicUpsampleSR(SuperResolutionHead):
    """Decode at the fitted size, then bicubic-upsample: the head for backbones with a fixed output grid."""

    @torch.no_grad()
    def render(self, model: VideoINR, indices: Tensor, size: tuple[int, int]) -> Tensor:
        frames = model.decode_frames(indices).clamp(0, 1)
        if tuple(frames.shape[-2:]) == tuple(size):
            return frames
        return F.interpolate(frames, size=size, mode="bicubic", align_corners=False).clamp(0, 1)


def default_sr_head(model: VideoINR) -> SuperResolutionHead:
    return CoordinateGridSR() if model.backbone.is_coordinate_based else BicubicUpsampleSR()
