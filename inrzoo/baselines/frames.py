"""Classical baselines for the task heads (interpolation, super-resolution), run on exactly the frames the model
was given."""

from __future__ import annotations

import subprocess

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from inrzoo.baselines.codecs import require_ffmpeg
from inrzoo.errors import InrzooError


def _neighbours(known: list[int], t: int) -> tuple[int, int]:
    left = max(k for k in known if k < t)
    right = min(k for k in known if k > t)
    return left, right


def neighbour_average(frames: Tensor, known: list[int], held_out: list[int]) -> Tensor:
    """Each held-out frame as the time-weighted average of the kept frames either side."""
    out = []
    for t in held_out:
        left, right = _neighbours(known, t)
        a = (t - left) / (right - left)
        out.append(((1 - a) * frames[left].float() + a * frames[right].float()).round().clamp(0, 255).to(torch.uint8))
    return torch.stack(out)


def minterpolate(frames: Tensor, known: list[int], held_out: list[int], fps: float) -> Tensor:
    """ffmpeg's motion-compensated interpolation (``minterpolate``, mci) of the kept frames back to the full rate.

    The kept frames must be evenly spaced (every k-th frame); frames go in and out as raw RGB, so no
    codec touches them.
    """
    steps = {b - a for a, b in zip(known, known[1:], strict=False)}
    if len(steps) != 1:
        raise InrzooError("minterpolate needs evenly spaced kept frames (data.train_every)")
    step = steps.pop()
    kept = frames[known].permute(0, 2, 3, 1).contiguous().numpy()
    _, height, width, _ = kept.shape
    command = [
        require_ffmpeg(), "-hide_banner", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
        "-s", f"{width}x{height}", "-r", f"{fps / step:g}", "-i", "-",
        "-vf", f"minterpolate=fps={fps:g}:mi_mode=mci", "-f", "rawvideo", "-pix_fmt", "rgb24", "-",
    ]  # fmt: skip
    done = subprocess.run(command, input=kept.tobytes(), capture_output=True)
    if done.returncode != 0:
        raise InrzooError(f"ffmpeg minterpolate failed: {done.stderr.decode(errors='replace').strip()[-200:]}")
    output = np.frombuffer(done.stdout, dtype=np.uint8).reshape(-1, height, width, 3)
    first = known[0]
    picked = [output[min(t - first, len(output) - 1)] for t in held_out]
    return torch.from_numpy(np.stack(picked).copy()).permute(0, 3, 1, 2).contiguous()


def upscale_bicubic(frames: Tensor, size: tuple[int, int]) -> Tensor:
    out = [F.interpolate(c.float(), size=size, mode="bicubic", align_corners=False) for c in frames.split(16)]
    return torch.cat(out).round().clamp(0, 255).to(torch.uint8)


def upscale_lanczos(frames: Tensor, size: tuple[int, int]) -> Tensor:
    """Lanczos (PIL's, a=3) per frame."""
    from PIL import Image

    out = []
    for frame in frames:
        image = Image.fromarray(frame.permute(1, 2, 0).numpy())
        resized = image.resize((size[1], size[0]), Image.Resampling.LANCZOS)
        out.append(torch.from_numpy(np.asarray(resized).copy()).permute(2, 0, 1))
    return torch.stack(out)
