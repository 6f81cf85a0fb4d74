"""Decode a whole fitted video and score it against the ground truth."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import torch
from torch import Tensor

from inrzoo.errors import InrzooError
from inrzoo.models.metrics import frame_metrics
from inrzoo.models.video_inr import VideoINR


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


@torch.no_grad()
def frame_psnr(decoded: Tensor, ground_truth: Tensor, batch_size: int = 16) -> Tensor:
    """PSNR of each uint8 (T, 3, H, W) frame, (T,) in dB (a perfect frame is capped at 100 dB)."""
    scores = []
    for first in range(0, ground_truth.shape[0], batch_size):
        sl = slice(first, first + batch_size)
        mse = ((decoded[sl].float() - ground_truth[sl].float()) / 255).pow(2).mean(dim=(1, 2, 3))
        scores.append(-10 * torch.log10(mse.clamp(min=1e-10)))
    return torch.cat(scores)


def frame_psnr_summary(scores: Tensor) -> dict[str, float | int]:
    """Worst frame, its index and the 5th percentile of per-frame PSNR scores (T,)."""
    return {
        "psnr_worst": float(scores.min()),
        "psnr_p5": float(torch.quantile(scores.double(), 0.05)),
        "worst_frame": int(scores.argmin()),
    }


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
    """PSNR/MS-SSIM (frame means) and the worst / 5th-percentile frame PSNR of uint8 (T, 3, H, W) frames:
    the one scoring path for inrzoo models and codec baselines."""
    return _score(decoded, ground_truth, batch_size)[0]


def _score(decoded: Tensor, ground_truth: Tensor, batch_size: int) -> tuple[dict[str, float], Tensor]:
    if decoded.shape != ground_truth.shape:
        raise InrzooError(f"decoded video has shape {tuple(decoded.shape)}, expected {tuple(ground_truth.shape)}")
    metrics = frame_metrics(tuple(ground_truth.shape[-2:]), sync_on_compute=False)  # one process scores alone
    for first in range(0, ground_truth.shape[0], batch_size):
        sl = slice(first, first + batch_size)
        metrics.update(decoded[sl].float() / 255, ground_truth[sl].float() / 255)
    per_frame = frame_psnr(decoded, ground_truth, batch_size)
    scores = {k: float(v) for k, v in metrics.compute().items()}
    return {**scores, **frame_psnr_summary(per_frame)}, per_frame


@torch.no_grad()
def evaluate_reconstruction(
    model: VideoINR, ground_truth: Tensor, batch_size: int = 8
) -> tuple[ReconstructionResult, Tensor]:
    """ground_truth: uint8 (T, 3, H, W). Returns the scores and the decoded uint8 frames.

    Scores use the 8-bit decoded frames, as a viewer would see them.
    """
    decoded, fps = decode_all(model, ground_truth.shape[0], batch_size)
    scores, per_frame = _score(decoded, ground_truth, batch_size)
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
