"""A teacher's own input preprocessing, on tensors (its library's transforms expect PIL images).

Follows the resize -> centre-crop -> normalise recipe both open_clip and timm use, with the
numbers (size, crop fraction, interpolation, mean, std) taken from the model's own config.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor


@dataclass(frozen=True)
class ImagePreprocess:
    """frames (B, 3, H, W) in [0, 1] -> the normalised (B, 3, *size) input the model was trained on.

    Args:
        size: (H, W) the model takes.
        mean, std: per-channel normalisation.
        interpolation: ``"bicubic"``, ``"bilinear"`` or ``"nearest"``.
        crop_pct: timm's crop fraction: resize to size / crop_pct, then centre-crop to size.
        resize_mode: ``"shortest"`` (resize the short side, centre-crop; open_clip's and timm's
            default), ``"longest"`` (fit inside, pad) or ``"squash"`` (resize to size, ignoring aspect).
    """

    size: tuple[int, int]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    interpolation: str = "bicubic"
    crop_pct: float = 1.0
    resize_mode: str = "shortest"

    def __call__(self, frames: Tensor) -> Tensor:
        frames = frames.float()
        height, width = frames.shape[-2:]
        target_h, target_w = self.size
        if self.resize_mode == "squash":
            frames = self._resize(frames, (target_h, target_w))
        elif self.resize_mode == "longest":
            scale = min(target_h / height, target_w / width)
            frames = self._resize(frames, (max(1, round(height * scale)), max(1, round(width * scale))))
            pad_h, pad_w = target_h - frames.shape[-2], target_w - frames.shape[-1]
            frames = F.pad(frames, (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2))
        else:
            scale = max(target_h / height, target_w / width) / self.crop_pct
            resized = (max(target_h, math.floor(height * scale)), max(target_w, math.floor(width * scale)))
            frames = self._resize(frames, resized)
            top, left = (frames.shape[-2] - target_h) // 2, (frames.shape[-1] - target_w) // 2
            frames = frames[..., top : top + target_h, left : left + target_w]
        mean = torch.tensor(self.mean, device=frames.device).view(1, -1, 1, 1)
        std = torch.tensor(self.std, device=frames.device).view(1, -1, 1, 1)
        return (frames - mean) / std

    def _resize(self, frames: Tensor, size: tuple[int, int]) -> Tensor:
        if tuple(frames.shape[-2:]) == tuple(size):
            return frames
        mode = self.interpolation if self.interpolation in {"bicubic", "bilinear", "nearest"} else "bicubic"
        if mode == "nearest":
            return F.interpolate(frames, size=size, mode=mode)
        return F.interpolate(frames, size=size, mode=mode, antialias=True, align_corners=False).clamp(0, 1)
