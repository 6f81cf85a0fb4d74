"""Decode a whole fitted video and score it against the ground truth."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import torch
from torch import Tensor

from inrzoo.models.metrics import score_frames
from inrzoo.models.video_inr import VideoINR
from inrzoo.runs.decoding import decode_uint8

__all__ = ["ReconstructionResult", "decode_all", "evaluate_reconstruction", "score_frames"]


@dataclass
class ReconstructionResult:
    """Scores of one decoded video (frames averaged), plus what it costs to store."""

    psnr: float
    ms_ssim: float | None
    params: int
    bpp_16bit: float
    bpp_8bit: float
    decode_fps: float
    num_frames: int
    height: int
    width: int

    def as_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


def decode_all(model: VideoINR, num_frames: int, batch_size: int = 8) -> tuple[Tensor, float]:
    """Every frame as uint8 (T, 3, H, W) and the decode speed in frames/second."""
    start = time.perf_counter()
    frames = decode_uint8(model, range(num_frames), batch_size)
    return frames, num_frames / max(time.perf_counter() - start, 1e-9)


@torch.no_grad()
def evaluate_reconstruction(
    model: VideoINR, ground_truth: Tensor, batch_size: int = 8
) -> tuple[ReconstructionResult, Tensor]:
    """ground_truth: uint8 (T, 3, H, W). Returns the scores and the decoded uint8 frames.

    Scores use the 8-bit decoded frames, as a viewer would see them.
    """
    decoded, fps = decode_all(model, ground_truth.shape[0], batch_size)
    scores = score_frames(decoded, ground_truth, batch_size)
    height, width = ground_truth.shape[-2:]
    result = ReconstructionResult(
        psnr=scores["psnr"],
        ms_ssim=scores.get("ms_ssim"),
        params=model.parameter_count(),
        bpp_16bit=model.bits_per_pixel(16),
        bpp_8bit=model.bits_per_pixel(8),
        decode_fps=fps,
        num_frames=int(ground_truth.shape[0]),
        height=int(height),
        width=int(width),
    )
    return result, decoded
