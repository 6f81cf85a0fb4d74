"""Decode a whole fitted video and score it against the ground truth."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import torch
from torch import Tensor

from inrzoo.errors import InrzooError
from inrzoo.models.metrics import frame_metrics
from inrzoo.models.video_inr import VideoINR


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


@torch.no_grad()
def decode_all(model: VideoINR, num_frames: int, batch_size: int = 8) -> tuple[Tensor, float]:
    """Every frame as uint8 (T, 3, H, W) and the decode speed in frames/second."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    start = time.perf_counter()
    chunks = []
    for first in range(0, num_frames, batch_size):
        indices = torch.arange(first, min(first + batch_size, num_frames), device=device)
        chunks.append((model.decode_frames(indices).clamp(0, 1) * 255).round().to(torch.uint8).cpu())
    seconds = time.perf_counter() - start
    model.train(was_training)
    return torch.cat(chunks), num_frames / max(seconds, 1e-9)


@torch.no_grad()
def score_frames(decoded: Tensor, ground_truth: Tensor, batch_size: int = 16) -> dict[str, float]:
    """PSNR/MS-SSIM of uint8 (T, 3, H, W) frames: the one scoring path for inrzoo models and codec baselines."""
    if decoded.shape != ground_truth.shape:
        raise InrzooError(f"decoded video has shape {tuple(decoded.shape)}, expected {tuple(ground_truth.shape)}")
    metrics = frame_metrics(tuple(ground_truth.shape[-2:]), sync_on_compute=False)  # one process scores alone
    for first in range(0, ground_truth.shape[0], batch_size):
        sl = slice(first, first + batch_size)
        metrics.update(decoded[sl].float() / 255, ground_truth[sl].float() / 255)
    return {k: float(v) for k, v in metrics.compute().items()}


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
