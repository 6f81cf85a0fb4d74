"""What the viewer decodes: frames on demand from one fitted run, serialised, with its inputs checked."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from inrzoo.errors import InrzooError
from inrzoo.runs import FittedRun
from inrzoo.runs.decoding import decode_uint8, to_uint8

#: The scales a request may ask for (the page offers 0.5x to 4x).
MIN_SCALE, MAX_SCALE = 0.25, 4.0
#: Interpolators the page offers besides the run's own.
INTERPOLATORS = ("linear", "slerp")


class ViewerInputError(ValueError):
    """A request value outside what the run can decode (answered as HTTP 4xx with this one line)."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


def png_bytes(frame: Tensor) -> bytes:
    """uint8 (3, H, W) -> PNG file bytes (lossless: the page shows the decoder's exact pixels)."""
    from torchvision.io import encode_png

    return encode_png(frame.contiguous()).numpy().tobytes()


@dataclass
class Decoded:
    """One decoded image as PNG bytes and how long decoding it took (the page shows it)."""

    png: bytes
    decode_ms: float


@dataclass
class ViewedRun:
    """A fitted run the viewer serves. Decodes hold :attr:`lock`: a burst of requests queues instead of
    decoding in parallel, so memory stays that of one decode."""

    run: FittedRun
    lock: threading.Lock = field(default_factory=threading.Lock)
    _interpolators: dict[str, Any] = field(default_factory=dict)
    _frame_psnr: list[float] | None = None

    @classmethod
    def open(cls, path: str) -> ViewedRun:
        return cls(FittedRun.open(path))

    @property
    def title(self) -> str:
        return f"run {self.run.name}"

    @property
    def num_frames(self) -> int:
        return int(self.run.model.latents.num_frames)

    def has_source(self) -> bool:
        if not self.run.data:
            return False
        try:
            return self.run.datamodule is not None
        except InrzooError:  # the source video was moved or deleted: decode-only
            return False

    def metadata(self) -> dict[str, Any]:
        model = self.run.model
        height, width = model.frame_size
        configured = type(model.interpolator).__name__ if model.interpolator is not None else None
        run_dir = self.run.run_dir
        name = f"{run_dir.parent.name}/{run_dir.name}" if run_dir is not None else self.run.name
        return {
            "kind": "run", "name": name, "path": str(self.run.path), "frames": self.num_frames,
            "height": int(height), "width": int(width), "fps": self.run.fps,
            "coordinate_backbone": bool(model.backbone.is_coordinate_based),
            "scales": [MIN_SCALE, MAX_SCALE], "interpolators": ["run", *INTERPOLATORS],
            "run_interpolator": configured, "source": self.has_source(),
        }  # fmt: skip

    # -- checks: every request value is refused here with one line, before any decode -------------
    def frame_index(self, index: int) -> int:
        if not 0 <= index < self.num_frames:
            raise ViewerInputError(f"frame {index} is out of range: this run has frames 0..{self.num_frames - 1}", 404)
        return index

    def frame_time(self, t: float) -> float:
        if not math.isfinite(t) or not 0 <= t <= self.num_frames - 1:
            raise ViewerInputError(f"time t={t} must be a number in [0, {self.num_frames - 1}]")
        return t

    @staticmethod
    def scale(scale: float) -> float:
        if not math.isfinite(scale) or not MIN_SCALE <= scale <= MAX_SCALE:
            raise ViewerInputError(f"scale={scale} must be a number in [{MIN_SCALE}, {MAX_SCALE}]")
        return scale

    # -- decodes ----------------------------------------------------------------------------------
    def _timed(self, decode: Any) -> Decoded:
        with self.lock, torch.no_grad():
            start = time.perf_counter()
            frame = decode()
            seconds = time.perf_counter() - start
        return Decoded(png_bytes(frame), seconds * 1000)

    def frame(self, index: int, scale: float = 1.0) -> Decoded:
        """Frame ``index`` decoded now (random access), at ``scale`` times its size."""
        index, scale = self.frame_index(index), self.scale(scale)
        if scale == 1.0:
            return self._timed(lambda: decode_uint8(self.run.model, [index])[0])
        from inrzoo.tasks.super_resolution import default_sr_head, upscaled_size

        model = self.run.model
        size = upscaled_size(model.frame_size, scale)
        head = default_sr_head(model)
        return self._timed(lambda: to_uint8(head.render(model, torch.tensor([index]), size))[0])

    def at_time(self, t: float, interpolator: str = "run") -> Decoded:
        """The frame at fractional time ``t``, from the latent the interpolator gives there."""
        t = self.frame_time(t)
        if interpolator not in ("run", *INTERPOLATORS):
            choices = ", ".join(("run", *INTERPOLATORS))
            raise ViewerInputError(f"interpolator {interpolator!r} is not known here; choose from {choices}")
        model = self.run.model
        if interpolator == "run":
            return self._timed(lambda: to_uint8(model.decode_frames(torch.tensor([t])))[0])
        head = self._interpolator(interpolator)
        return self._timed(lambda: to_uint8(model.decode_latents(head.latents_at(model.latents, torch.tensor([t]))))[0])

    def _interpolator(self, name: str) -> Any:
        if name not in self._interpolators:
            from inrzoo.tasks.interpolation import fit_interpolator
            from inrzoo.tasks.registry import TASKS

            self._interpolators[name] = fit_interpolator(TASKS.create(name), self.run.model.latents)
        return self._interpolators[name]

    def truth(self, index: int) -> Decoded:
        """The source video's frame ``index`` (at the fitted geometry)."""
        index = self.frame_index(index)
        if not self.has_source():
            raise ViewerInputError("this run names no readable source video (a .inrz file, or the video moved)", 404)
        return self._timed(lambda: self.run.datamodule.frames[[index]][0])

    def frame_psnr(self) -> list[float]:
        """Every frame's PSNR against the source (computed once, on first ask: it decodes the whole video)."""
        if not self.has_source():
            raise ViewerInputError("per-frame PSNR needs the source video, which this run does not name", 404)
        if self._frame_psnr is None:
            from inrzoo.evaluation import evaluate_reconstruction

            with self.lock:
                result, _ = evaluate_reconstruction(
                    self.run.model, self.run.datamodule.frames, keep_decoded=False, ms_ssim=False
                )
            self._frame_psnr = list(result.frame_psnr)
        return self._frame_psnr


def png_reader(data: bytes) -> Tensor:
    """PNG bytes -> uint8 (3, H, W) (what a client sees; used by the tests and the benchmark)."""
    from torchvision.io import ImageReadMode, decode_png

    return decode_png(torch.frombuffer(bytearray(data), dtype=torch.uint8), ImageReadMode.RGB)
