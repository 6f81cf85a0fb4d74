"""Frame-quality metrics (torchmetrics), set up for the frame size at hand."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor
from torchmetrics import MetricCollection
from torchmetrics.image import MultiScaleStructuralSimilarityIndexMeasure, PeakSignalNoiseRatio

from inrzoo.errors import InrzooError, warn

#: Pixels scored at once by :func:`score_frame_chunks` (MS-SSIM holds ~20 float copies of its input).
SCORE_PIXELS = 1920 * 1088
#: Frames larger than this (720p) are scored without MS-SSIM unless asked: see :func:`score_frame_chunks`.
MS_SSIM_MAX_PIXELS = 1280 * 720
# The standard 5-scale MS-SSIM weights (Wang et al. 2003).
MS_SSIM_BETAS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
MS_SSIM_KERNEL = 11


def ms_ssim_scales(frame_size: tuple[int, int]) -> int:
    """How many MS-SSIM scales fit: the smallest side must exceed (kernel - 1) * 2^(scales - 1),
    and pass torchmetrics' own check, side // max(1, scales - 1)^2 > kernel - 1 (stricter at 3-5 scales:
    without it, e.g. 90x160 or 96x96 frames crash in validation)."""
    side = min(frame_size)

    def fits(scales: int) -> bool:
        return side > (MS_SSIM_KERNEL - 1) * 2 ** (scales - 1) and side // max(1, scales - 1) ** 2 > MS_SSIM_KERNEL - 1

    scales = 0
    while scales < len(MS_SSIM_BETAS) and fits(scales + 1):
        scales += 1
    return scales


def frame_metrics(
    frame_size: tuple[int, int], prefix: str = "", sync_on_compute: bool = True, ms_ssim: bool = True
) -> MetricCollection:
    """PSNR averaged over frames (the NeRV-family convention) and MS-SSIM where the frame
    is large enough (fewer scales, renormalised, for small frames).

    ``sync_on_compute=False`` for scores one process computes alone (under DDP, rank 0's report):
    a reduction across ranks would wait for ranks that are not computing.
    """
    common = {"sync_on_compute": sync_on_compute}
    metrics = {"psnr": PeakSignalNoiseRatio(data_range=1.0, dim=(1, 2, 3), reduction="elementwise_mean", **common)}
    scales = ms_ssim_scales(frame_size) if ms_ssim else 0
    if scales >= 1:
        betas = MS_SSIM_BETAS[:scales]
        total = sum(betas)
        metrics["ms_ssim"] = MultiScaleStructuralSimilarityIndexMeasure(
            data_range=1.0, betas=tuple(b / total for b in betas), normalize="relu", **common
        )
    return MetricCollection(metrics, prefix=prefix)


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
    """Worst frame, its index and the 5th percentile of per-frame PSNR scores (T,): a mean hides the
    frames a viewer notices."""
    return {
        "psnr_worst": float(scores.min()),
        "psnr_p5": float(torch.quantile(scores.double(), 0.05)),
        "worst_frame": int(scores.argmin()),
    }


@torch.no_grad()
def score_frames(decoded: Tensor, ground_truth: Tensor, batch_size: int = 16) -> dict[str, float]:
    """PSNR/MS-SSIM (frame means) and the worst / 5th-percentile frame PSNR of uint8 (T, 3, H, W) frames:
    the one scoring path for inrzoo models and codec baselines."""
    return score_frames_with_per_frame(decoded, ground_truth, batch_size)[0]


@torch.no_grad()
def score_frames_with_per_frame(
    decoded: Tensor, ground_truth: Tensor, batch_size: int = 16
) -> tuple[dict[str, float], Tensor]:
    """:func:`score_frames` and every frame's PSNR (T,)."""
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
def score_frame_chunks(
    chunks: Iterable[Tensor], ground_truth: Any, ms_ssim: bool | None = None
) -> tuple[dict[str, float], Tensor]:
    """:func:`score_frames_with_per_frame` over decoded uint8 (n, 3, H, W) chunks in frame order, each scored
    against the same frames of ``ground_truth`` (a tensor or anything sliced like one, e.g. a lazy frame
    store) as it comes: memory holds one chunk, whatever the video's length.

    ``ms_ssim=None`` computes MS-SSIM only for frames of at most :data:`MS_SSIM_MAX_PIXELS` (it then says so
    in one warning line): on a CPU one 1080p frame's MS-SSIM holds ~1.5 GB and takes seconds."""
    num_frames = int(ground_truth.shape[0])
    size = tuple(ground_truth.shape[-2:])
    if ms_ssim is None:
        ms_ssim = size[0] * size[1] <= MS_SSIM_MAX_PIXELS
        if not ms_ssim:
            warn(
                f"MS-SSIM not computed for {size[0]}x{size[1]} frames (over {MS_SSIM_MAX_PIXELS:,} pixels it needs "
                "~1.5 GB and seconds a frame); PSNR is; ask for it with ms_ssim=true (e.g. --report.ms_ssim=true)"
            )
    metrics = frame_metrics(size, sync_on_compute=False, ms_ssim=ms_ssim)  # one process scores alone
    per_frame, first = [], 0
    for decoded in chunks:
        truth = ground_truth[first : first + decoded.shape[0]]
        if decoded.shape != truth.shape:
            expected = (num_frames, *tuple(ground_truth.shape[1:]))
            raise InrzooError(f"decoded frames have shape {tuple(decoded.shape[1:])}, expected {expected}")
        step = max(1, SCORE_PIXELS // (decoded.shape[-1] * decoded.shape[-2]))  # MS-SSIM's temporaries: ~35x
        for part in range(0, decoded.shape[0], step):
            metrics.update(decoded[part : part + step].float() / 255, truth[part : part + step].float() / 255)
        per_frame.append(frame_psnr(decoded, truth, step))
        first += decoded.shape[0]
    if first != num_frames:
        raise InrzooError(f"decoded {first} frames, expected {num_frames}")
    scores = torch.cat(per_frame)
    return {**{k: float(v) for k, v in metrics.compute().items()}, **frame_psnr_summary(scores)}, scores
