"""Encoding frames to files: mp4 through torchcodec's encoder, PNG stills and comparisons."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor
from torchvision.utils import make_grid, save_image

from inrzoo.io.files import claim_output


def write_mp4(
    frames: Tensor,
    path: str | Path,
    fps: float,
    crf: int = 10,
    overwrite: bool = False,
    overwrite_hint: str = "--overwrite",
) -> Path:
    """frames: uint8 (T, 3, H, W) -> H.264 mp4 (yuv420p needs even sides, so odd ones get one
    edge pixel repeated). A low CRF keeps the file faithful to the decoded frames."""
    from torchcodec.encoders import VideoEncoder

    path = claim_output(path, overwrite, overwrite_hint)
    height, width = frames.shape[-2:]
    pad = (0, width % 2, 0, height % 2)
    if any(pad):
        frames = torch.nn.functional.pad(frames, pad, mode="replicate")
    VideoEncoder(frames.contiguous(), frame_rate=float(fps)).to_file(
        str(path), codec="libx264", pixel_format="yuv420p", crf=crf
    )
    return path


def write_png_frames(
    frames: Tensor,
    directory: str | Path,
    indices: list[int],
    overwrite: bool = False,
    overwrite_hint: str = "--overwrite",
) -> list[Path]:
    """frames: uint8 (N, 3, H, W) -> ``directory/frame_000123.png`` each."""
    directory = Path(directory)
    written = []
    for frame, index in zip(frames, indices, strict=True):
        path = claim_output(directory / f"frame_{index:06d}.png", overwrite, overwrite_hint)
        save_image(frame.float() / 255.0, path)
        written.append(path)
    return written


def write_comparison_png(
    ground_truth: Tensor,
    reconstruction: Tensor,
    path: str | Path,
    overwrite: bool = False,
    row_labels: list[str] | None = None,
) -> Path:
    """Rows of [ground truth | reconstruction] for a few frames; inputs (N, 3, H, W) in [0, 1]."""
    return write_side_by_side_png(
        [ground_truth, reconstruction], path, overwrite, ["ground truth", "reconstruction"], row_labels
    )


def write_side_by_side_png(
    columns: list[Tensor],
    path: str | Path,
    overwrite: bool = False,
    column_labels: list[str] | None = None,
    row_labels: list[str] | None = None,
) -> Path:
    """One row per frame, the columns side by side (e.g. ground truth | baseline | inrzoo); (N, 3, H, W) in [0, 1].

    With labels, a caption strip above each column and a caption at the left of each row say what
    is shown: a comparison read without its command line still names its columns.
    """
    path = claim_output(path, overwrite)
    rows = torch.cat([c.float().clamp(0, 1) for c in columns], dim=-1)
    grid = make_grid(rows, nrow=1, padding=4, pad_value=1.0)
    if column_labels is None and row_labels is None:
        save_image(grid, path)
        return path
    image = _captioned(grid, columns[0].shape[-1], column_labels or [], row_labels or [])
    image.save(path)
    return path


def _captioned(grid: Tensor, column_width: int, column_labels: list[str], row_labels: list[str]):  # noqa: ANN202
    """The grid (3, H, W) in [0, 1] as a PIL image with a header strip and row captions."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default()
    pixels = (grid.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).contiguous().numpy()
    body = Image.fromarray(pixels)
    header = 16
    left = 8 + max((int(font.getlength(label)) for label in row_labels), default=0) if row_labels else 0
    canvas = Image.new("RGB", (body.width + left, body.height + header), "white")
    canvas.paste(body, (left, header))
    draw = ImageDraw.Draw(canvas)
    for i, label in enumerate(column_labels):
        draw.text((left + 4 + i * column_width + 2, 2), label, fill="black", font=font)
    row_height = (body.height - 4) / max(1, len(row_labels))
    for i, label in enumerate(row_labels):
        draw.text((2, header + 4 + i * row_height + row_height / 2 - 6), label, fill="black", font=font)
    return canvas
