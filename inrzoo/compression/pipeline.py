"""Compress a fitted run into a file, decode frames from a file, and score what the file gives."""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from inrzoo.compression.bitstream import Bitstream
from inrzoo.compression.codec import CompressionSettings, decode_model, encode_model
from inrzoo.errors import InrzooError
from inrzoo.io.files import claim_output


@torch.no_grad()
def decode_frames(model: torch.nn.Module, indices: list[int], batch_size: int = 8) -> Tensor:
    """uint8 (N, 3, H, W) frames ``indices``, decoded in batches (any subset: random access)."""
    chunks = []
    for first in range(0, len(indices), batch_size):
        batch = torch.tensor(indices[first : first + batch_size])
        chunks.append((model.decode_frames(batch).clamp(0, 1) * 255).round().to(torch.uint8).cpu())
    return torch.cat(chunks)


def _source_frames(datamodule_config: dict[str, Any] | None) -> tuple[Tensor | None, float | None, str | None]:
    """The run's ground-truth frames and frame rate, when its source video is still there."""
    if not datamodule_config:
        return None, None, "the checkpoint records no data settings, so quality was not measured"
    from inrzoo.data import VideoDataModule

    settings = {k: v for k, v in datamodule_config.items() if not k.startswith("_")}
    try:
        dm = VideoDataModule(**settings)
        return dm.frames, dm.fps, None
    except InrzooError as err:
        return None, None, f"quality not measured: the source video is not readable ({err})"


def compress_run(
    run: str | Path,
    output: str | Path,
    weight_bits: int = 8,
    latent_bits: int = 6,
    prune: float = 0.0,
    keep_alignment: bool = True,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Write ``run``'s model as a .inrz file; report its size and the quality of decoding *that file*."""
    from inrzoo.evaluation import score_frames
    from inrzoo.models.loading import find_checkpoint, load_video_inr

    settings = CompressionSettings(weight_bits, latent_bits, prune, keep_alignment)
    output = claim_output(output, overwrite)  # refuse before any work
    checkpoint = find_checkpoint(run)
    saved = torch.load(checkpoint, map_location="cpu", weights_only=True)
    model_config = {k: v for k, v in (saved.get("hyper_parameters") or {}).items() if k != "_instantiator"}
    if "backbone" not in model_config or not isinstance(model_config.get("backbone"), dict):
        raise InrzooError(
            f"{checkpoint} does not record its model config; compress a checkpoint written by `inrzoo fit`"
        )
    model = load_video_inr(checkpoint)
    frames, fps, note = _source_frames(saved.get("datamodule_hyper_parameters"))
    height, width = model.frame_size
    num_frames = model.latents.num_frames
    video = {"name": model.video_name, "num_frames": num_frames, "height": height, "width": width, "fps": fps or 25.0}
    stream = encode_model(model, model_config, video, settings)
    fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.")
    os.close(fd)
    try:
        size = stream.write(tmp)
        output = claim_output(output, overwrite)  # checked again: it may have appeared meanwhile
        os.replace(tmp, output)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    report: dict[str, Any] = {
        "path": str(output), "bytes": size, "bpp": size * 8 / (num_frames * height * width),
        "frames": num_frames, "height": height, "width": width, "settings": asdict(settings),
    }  # fmt: skip
    if frames is None:
        report["note"] = note
        return report
    decoded_model = decode_model(Bitstream.read(output))  # the file alone, as a receiver would
    start = time.perf_counter()
    decoded = decode_frames(decoded_model, list(range(num_frames)))
    report["decode_fps"] = num_frames / max(time.perf_counter() - start, 1e-9)
    scores = score_frames(decoded, frames)
    report.update(psnr=scores["psnr"], ms_ssim=scores.get("ms_ssim"))
    return report
