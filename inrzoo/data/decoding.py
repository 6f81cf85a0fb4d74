"""Stream the frames that really decode, in chunks, with their timestamps.

A container's header may over- or under-count its frames (packed MPEG-4 B-frames in AVI, a truncated or
damaged file), and index-based access then fails or stops one frame short. So frames are read in one
sequential pass, as FFmpeg decodes them: through the ``ffmpeg`` binary (a raw RGB pipe) when it is installed,
else through torchcodec frame by frame. The pass counts the frames; their timestamps give the frame rate and
show where damaged data lost frames.
"""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import torch
from torch import Tensor

from inrzoo.errors import InrzooError

#: showinfo's line for each frame that leaves the decoder.
_SHOWINFO = re.compile(r"\bn:\s*(\d+)\s+pts:\s*(-?\d+)\s+pts_time:(-?[\d.eE+-]+)")
_TIME_BASE = re.compile(r"config in time_base:\s*(\d+)/(\d+)")
_ERROR_LINE = re.compile(r"\[(error|fatal|panic)\]\s*(.*)")


@dataclass
class DecodeLog:
    """What one sequential pass saw: every decoded frame's time (seconds, None when the stream has none)
    and FFmpeg's error lines."""

    times: list[float | None] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.times)

    def frame_interval(self) -> float | None:
        """The median time between frames (robust to gaps and variable rates), or None."""
        known = [t for t in self.times if t is not None]
        steps = [b - a for a, b in zip(known, known[1:], strict=False) if b > a]
        return statistics.median(steps) if steps else None

    def frame_rate(self) -> float | None:
        """Frames per second from the timestamps: one over the median interval when the stream is regular
        (a few gaps do not slow it down), else frames over the time they span (variable rate: same length)."""
        interval = self.frame_interval()
        known = [t for t in self.times if t is not None]
        if interval is None or len(known) < 2:
            return None
        steps = [b - a for a, b in zip(known, known[1:], strict=False)]
        regular = sum(abs(s - interval) <= 0.1 * interval for s in steps) >= 0.9 * len(steps)
        span = known[-1] - known[0]
        return 1.0 / interval if regular or span <= 0 else (len(known) - 1) / span

    def gaps(self) -> list[tuple[int, int]]:
        """(frame index before the gap, frames missing there): a jump of k >= 2 frame intervals inside an
        otherwise regular run (the intervals before and after it agree), which is what damaged data leaves.
        A rate that changes and stays changed (variable frame rate) is not a gap."""
        times = self.times
        steps = [b - a if a is not None and b is not None else None for a, b in zip(times, times[1:], strict=False)]
        found = []
        for index, step in enumerate(steps):
            neighbours = [s for s in (steps[index - 1] if index else None, _at(steps, index + 1)) if s]
            if step is None or not neighbours or min(neighbours) <= 0:
                continue
            base = sum(neighbours) / len(neighbours)
            regular = all(abs(s - base) <= 0.1 * base for s in neighbours)
            multiple = step / base
            if regular and multiple > 1.5 and abs(multiple - round(multiple)) <= 0.1 * round(multiple):
                found.append((index, round(multiple) - 1))
        return found


def _at(values: list, index: int):  # noqa: ANN202 - any element
    return values[index] if 0 <= index < len(values) else None


def ffmpeg_binary() -> str | None:
    return shutil.which("ffmpeg")


def iter_frames(path: Path, height: int, width: int, log: DecodeLog, chunk: int = 16) -> Iterator[Tensor]:
    """uint8 (n <= chunk, 3, height, width) chunks of every frame that decodes, in order; ``log`` fills as
    they come. ``height``/``width`` are the displayed size (after any rotation tag)."""
    binary = ffmpeg_binary()
    if binary is not None:
        yield from _iter_ffmpeg(binary, path, height, width, log, chunk)
    else:
        yield from _iter_torchcodec(path, log, chunk)


def _iter_ffmpeg(binary: str, path: Path, height: int, width: int, log: DecodeLog, chunk: int) -> Iterator[Tensor]:
    # FFmpeg's default YUV -> RGB conversion is bit-exact with torchcodec's: results match earlier decodes.
    command = [
        binary, "-nostdin", "-hide_banner", "-nostats", "-loglevel", "level+info",
        "-i", str(path), "-map", "0:V:0", "-an", "-sn", "-dn",
        "-vf", "showinfo", "-fps_mode", "passthrough",
        "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1",
    ]  # fmt: skip
    frame_bytes = height * width * 3
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stderr_lines: list[str] = []
    reader = threading.Thread(target=_collect_lines, args=(process.stderr, stderr_lines), daemon=True)
    reader.start()
    try:
        while True:
            data = _read_exactly(process.stdout, frame_bytes * chunk)
            whole = len(data) // frame_bytes
            if whole:
                raw = torch.frombuffer(bytearray(data[: whole * frame_bytes]), dtype=torch.uint8)
                yield raw.view(whole, height, width, 3).permute(0, 3, 1, 2).contiguous()
            if len(data) < frame_bytes * chunk:
                break
    finally:  # also when the caller stops early (max_frames): ffmpeg then ends on the closed pipe
        process.stdout.close()
        process.wait()
        reader.join()
        _parse_stderr(stderr_lines, log)
    if process.returncode != 0 and not log.times:
        reason = next((e for e in reversed(log.errors) if e), f"ffmpeg exit status {process.returncode}")
        raise InrzooError(f"{path} is not a readable video ({reason}); give an mp4/mkv/webm file")


def _parse_stderr(lines: list[str], log: DecodeLog) -> None:
    time_base: Fraction | None = None  # exact times from integer pts (pts_time is printed rounded)
    for line in lines:
        if time_base is None and (match := _TIME_BASE.search(line)) is not None and int(match.group(2)):
            time_base = Fraction(int(match.group(1)), int(match.group(2)))
        elif (match := _SHOWINFO.search(line)) is not None:
            pts = int(match.group(2))
            log.times.append(float(pts * time_base) if time_base else float(match.group(3)))
        elif (match := _ERROR_LINE.search(line)) is not None:
            log.errors.append(re.sub(r"^\[[^\]]*@ 0x[0-9a-f]+\]\s*", "", match.group(2)).strip())


def _collect_lines(stream, lines: list[str]) -> None:  # noqa: ANN001 - a binary pipe
    for raw in stream:
        lines.append(raw.decode("utf-8", "replace").rstrip())
    stream.close()


def _read_exactly(stream, size: int) -> bytes:  # noqa: ANN001 - a binary pipe
    parts, remaining = [], size
    while remaining:
        part = stream.read(remaining)
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def _iter_torchcodec(path: Path, log: DecodeLog, chunk: int) -> Iterator[Tensor]:
    """Without the ffmpeg binary: torchcodec, one frame after another until the decoder has no more."""
    from torchcodec.decoders import VideoDecoder

    decoder = VideoDecoder(str(path), dimension_order="NCHW", seek_mode="approximate")
    batch: list[Tensor] = []
    index = 0
    while True:
        try:
            frame = decoder.get_frame_at(index)
        except (RuntimeError, IndexError) as err:
            if "no more frames" not in str(err) and not isinstance(err, IndexError):
                log.errors.append(str(err).splitlines()[0] if str(err) else type(err).__name__)
            break
        log.times.append(float(frame.pts_seconds))
        batch.append(frame.data)
        index += 1
        if len(batch) == chunk:
            yield torch.stack(batch)
            batch = []
    if batch:
        yield torch.stack(batch)
