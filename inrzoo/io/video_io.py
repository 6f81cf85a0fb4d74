"""Encoding frames to files: mp4 streamed to an ffmpeg pipe (torchcodec's encoder without one), PNG stills and
comparisons."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import torch
from torch import Tensor
from torchvision.utils import make_grid, save_image

from inrzoo.errors import InrzooError
from inrzoo.io.files import claim_output


def write_mp4(
    frames: Tensor | Iterable[Tensor],
    path: str | Path,
    fps: float,
    crf: int = 10,
    overwrite: bool = False,
    overwrite_hint: str = "--overwrite",
) -> Path:
    """frames: uint8 (T, 3, H, W), or an iterable of uint8 (n, 3, H, W) chunks written as they come (memory
    holds one chunk) -> H.264 mp4 (yuv420p needs even sides, so odd ones get one edge pixel repeated). A low
    CRF keeps the file faithful to the decoded frames. See :class:`Mp4Writer`."""
    chunks = [frames] if isinstance(frames, Tensor) else frames
    with Mp4Writer(path, fps, crf, overwrite, overwrite_hint) as writer:
        for chunk in chunks:
            writer.write(chunk)
    return writer.path


class Mp4Writer:
    """An mp4 written chunk by chunk: ``with Mp4Writer(path, fps) as w: w.write(chunk)``.

    Frames go down a pipe to the ``ffmpeg`` binary (libx264) as they arrive, so any length fits in memory,
    and ffmpeg's own timing copes with any rate (fractional, well below one frame a second) and any content.
    Without the binary, chunks are collected and given to torchcodec's encoder at the end. The file appears
    under its name only when complete: a failure leaves no half-written mp4, and one line says why.
    """

    def __init__(
        self, path: str | Path, fps: float, crf: int = 10, overwrite: bool = False, overwrite_hint: str = "--overwrite"
    ) -> None:
        if not (fps > 0 and math.isfinite(fps)):
            raise InrzooError(f"cannot write {path} at {fps} frames per second; the rate must be a positive number")
        self.path = claim_output(path, overwrite, overwrite_hint)
        self.fps = float(fps)
        self.crf = crf
        self.count = 0
        self._tmp = self.path.with_name(f".{self.path.stem}.partial{os.getpid()}.mp4")
        self._process: subprocess.Popen | None = None
        self._collected: list[Tensor] = []
        self._size: tuple[int, int] | None = None

    def write(self, frames: Tensor) -> None:
        """uint8 (n, 3, H, W), every chunk the same size."""
        frames = _even_sides(frames)
        size = (int(frames.shape[-2]), int(frames.shape[-1]))
        if self._size is None:
            self._size = size
            self._start()
        elif size != self._size:
            first = f"{self._size[0]}x{self._size[1]}"
            raise InrzooError(f"{self.path}: frames of {size[0]}x{size[1]} after frames of {first}; sizes must agree")
        self.count += frames.shape[0]
        if self._process is None:
            self._collected.append(frames.contiguous())
            return
        data = frames.permute(0, 2, 3, 1).contiguous().numpy().tobytes()
        try:
            self._process.stdin.write(data)
        except BrokenPipeError:
            self._finish_process()  # raises with ffmpeg's reason

    def close(self) -> Path:
        if self.count == 0:
            raise InrzooError(f"no frames to write to {self.path}")
        if self._process is not None:
            self._finish_process()
        else:
            from torchcodec.encoders import VideoEncoder

            try:
                VideoEncoder(torch.cat(self._collected), frame_rate=self.fps).to_file(
                    str(self._tmp), codec="libx264", pixel_format="yuv420p", crf=self.crf
                )
            except Exception as err:  # FFmpeg's words, one line
                raise InrzooError(f"could not write {self.path} ({_first_line(err)}); install ffmpeg") from err
            self._collected = []
        os.replace(self._tmp, self.path)
        return self.path

    def abort(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> Mp4Writer:
        return self

    def __exit__(self, kind: object, *_: object) -> None:
        if kind is None:
            try:
                self.close()
            except BaseException:
                self.abort()
                raise
        else:
            self.abort()

    def _start(self) -> None:
        binary = shutil.which("ffmpeg")
        if binary is None:
            return
        height, width = self._size
        rate = Fraction(self.fps).limit_denominator(100_000)
        command = [
            binary, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-framerate", f"{rate}", "-i", "pipe:0",
            "-c:v", "libx264", "-crf", str(self.crf), "-pix_fmt", "yuv420p", "-f", "mp4", str(self._tmp),
        ]  # fmt: skip
        self._stderr = tempfile.TemporaryFile()
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=self._stderr)

    def _finish_process(self) -> None:
        process = self._process
        try:
            process.stdin.close()
        except BrokenPipeError:
            pass
        process.wait()
        if process.returncode != 0:
            self._stderr.seek(0)
            lines = self._stderr.read().decode("utf-8", "replace").strip().splitlines()
            raise InrzooError(f"could not write {self.path} (ffmpeg: {lines[-1] if lines else process.returncode})")


def _even_sides(frames: Tensor) -> Tensor:
    height, width = frames.shape[-2:]
    pad = (0, width % 2, 0, height % 2)
    return torch.nn.functional.pad(frames, pad, mode="replicate") if any(pad) else frames


def _first_line(err: BaseException) -> str:
    return str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__


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
