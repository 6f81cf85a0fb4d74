"""What the task commands need from a fitted video: the model, its frame rate, its source frames."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from inrzoo.errors import InrzooError


@dataclass
class FittedVideo:
    model: Any
    fps: float
    data_config: dict[str, Any] | None  # VideoDataModule arguments of the fit (None for .inrz files)


def load_fitted_video(path: str | Path) -> FittedVideo:
    """A run folder, a checkpoint, or a .inrz file, with its frame rate (25 when the source is gone)."""
    from inrzoo.models.loading import load_fitted

    fitted = load_fitted(path)
    fps = float((fitted.video or {}).get("fps") or 25.0)
    if fitted.data:
        try:
            from inrzoo.data import VideoDataModule

            fps = VideoDataModule(**fitted.data).fps
        except InrzooError:
            pass  # the source is gone: decoding still works, at 25 frames/s
    return FittedVideo(fitted.model, fps, fitted.data)


def source_frames(video: FittedVideo, what: str, **overrides: Any) -> Tensor:
    """The fit's own frames (or, with ``overrides``, the same video under another geometry)."""
    if video.data_config is None:
        raise InrzooError(f"{what} needs the source video, which a .inrz file does not name; give the run folder")
    from inrzoo.data import VideoDataModule

    return VideoDataModule(**{**video.data_config, **overrides}).frames


@torch.no_grad()
def to_uint8(frames: Tensor) -> Tensor:
    return (frames.clamp(0, 1) * 255).round().to(torch.uint8).cpu()
