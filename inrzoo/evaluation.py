"""Decode a whole fitted video and score it against the ground truth."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import torch
from torch import Tensor

from inrzoo.models.metrics import frame_psnr, frame_psnr_summary, score_frames, score_frames_with_per_frame
from inrzoo.models.video_inr import VideoINR
from inrzoo.runs.decoding import decode_uint8

__all__ = [
    "ReconstructionResult",
    "decode_all",
    "evaluate_reconstruction",
    "frame_psnr",
    "frame_psnr_summary",
    "score_frames",
]


@dataclass
class ReconstructionResult:
    """Scores of one decoded video (frames averaged), plus what it costs to store.

    A mean hides the frames a viewer notices: the worst frame and the 5th percentile of the
    per-frame PSNR are reported beside it, and ``frame_psnr`` keeps every frame's score.
    """

    psnr: float
    ms_ssim: float | None
    params: int
    bpp_16bit: float
    bpp_8bit: float
    decode_fps: float
    num_frames: int
    height: int
    width: int
    psnr_worst: float = float("nan")
    psnr_p5: float = float("nan")
    worst_frame: int = 0
    frame_psnr: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, float | int | None | list[float]]:
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
    scores, per_frame = score_frames_with_per_frame(decoded, ground_truth, batch_size)
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
        psnr_worst=scores["psnr_worst"],
        psnr_p5=scores["psnr_p5"],
        worst_frame=int(scores["worst_frame"]),
        frame_psnr=[round(float(v), 4) for v in per_frame],
    )
    return result, decoded
