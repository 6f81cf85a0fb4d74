"""What the task commands share: picking a task head by name, decoding at new times or sizes."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import torch
from torch import Tensor

from inrzoo.cli.parsing import one_line_parser
from inrzoo.errors import InrzooError
from inrzoo.io.files import claim_output
from inrzoo.io.video_io import write_side_by_side_png
from inrzoo.models.metrics import score_frames
from inrzoo.runs import FittedRun, to_uint8
from inrzoo.tasks.base import TaskHead
from inrzoo.tasks.super_resolution import upscaled_size  # noqa: F401 - inrzoo.tasks.command's deprecated alias

if TYPE_CHECKING:
    from jsonargparse import ArgumentParser

    from inrzoo.tasks.interpolation import LatentInterpolator
    from inrzoo.tasks.super_resolution import SuperResolutionHead

Head = TypeVar("Head", bound=TaskHead)


def run_parser(prog: str, description: str, argv: Sequence[str], run_help: str, output: str) -> ArgumentParser:
    """The arguments every task command takes: the fitted run, where to write (``output``: ``"mp4"`` for
    ``-o FILE.mp4``, ``"report"`` for ``--out FOLDER``) and ``--overwrite``; the command adds its own."""
    parser = one_line_parser(prog, description, argv)
    parser.add_argument("run", help=run_help)
    if output == "mp4":
        parser.add_argument("-o", "--output", required=True, help="the .mp4 to write")
    else:
        parser.add_argument("--out", required=True, help="folder for results.json and comparison.png")
    parser.add_argument("--overwrite", action="store_true", help="replace existing output files")
    return parser


def task_head(name: str, family: type[Head], option: str) -> Head:
    """The registered task head ``name``, which must be of ``family`` (a one-line error naming the others)."""
    from inrzoo.tasks.registry import TASKS

    head = TASKS.create(name)
    if not isinstance(head, family):
        known = [n for n in TASKS.names() if isinstance(TASKS.get(n), type) and issubclass(TASKS.get(n), family)]
        raise InrzooError(f"{option} {name!r} is not a {family.task} head; choose from {', '.join(known)}")
    return head


def interpolated_frames(
    video: FittedRun, interpolator: LatentInterpolator, times: Tensor, batch_size: int = 8
) -> Tensor:
    return torch.cat(list(iter_interpolated_frames(video, interpolator, times, batch_size)))


def iter_interpolated_frames(
    video: FittedRun, interpolator: LatentInterpolator, times: Tensor, batch_size: int = 8
) -> Iterator[Tensor]:
    """uint8 (n, 3, H, W) chunks of the frames at ``times`` (T,), decoded from interpolated latents, in order."""
    from inrzoo.tasks.interpolation import fit_interpolator

    model = video.model
    fit_interpolator(interpolator, model.latents)
    for first in range(0, len(times), batch_size):
        with torch.no_grad():
            latents = interpolator.latents_at(model.latents, times[first : first + batch_size])
            yield to_uint8(model.decode_latents(latents))


def sr_head(video: FittedRun, name: str) -> SuperResolutionHead:
    from inrzoo.compat import check_compatible
    from inrzoo.tasks.super_resolution import SuperResolutionHead, default_sr_head

    head = default_sr_head(video.model) if name == "auto" else task_head(name, SuperResolutionHead, "--head")
    check_compatible(video.model.backbone, head)
    return head


def upscaled_frames(video: FittedRun, head: SuperResolutionHead, size: tuple[int, int], batch_size: int = 4) -> Tensor:
    return torch.cat(list(iter_upscaled_frames(video, head, size, batch_size)))


def iter_upscaled_frames(
    video: FittedRun, head: SuperResolutionHead, size: tuple[int, int], batch_size: int = 4
) -> Iterator[Tensor]:
    """uint8 (n, 3, *size) chunks of every frame rendered at ``size``, in order."""
    for chunk in torch.arange(video.model.latents.num_frames).split(batch_size):
        with torch.no_grad():
            yield to_uint8(head.render(video.model, chunk, size))


def claim_report(out: Path, overwrite: bool) -> dict[str, Path]:
    return {name: claim_output(out / name, overwrite) for name in ("results.json", "comparison.png")}


class TaskReport:
    """What an ``eval-*`` command writes into ``out``: ``results.json`` (its protocol and each method's scores and
    seconds) and ``comparison.png`` (a few frames of each method side by side). Both are claimed on creation,
    so an existing report is refused before any work."""

    def __init__(self, out: Path, overwrite: bool) -> None:
        self.paths = claim_report(out, overwrite)
        self.overwrite = overwrite
        self.results: dict[str, dict[str, Any]] = {}

    def score(self, name: str, target: Tensor, make: Callable[[], Tensor]) -> Tensor:
        """The uint8 frames ``make()`` returns, scored against ``target`` (and timed) as method ``name``."""
        start = time.perf_counter()
        frames = make()
        self.results[name] = {**score_frames(frames, target), "seconds": time.perf_counter() - start}
        return frames

    def write(self, protocol: dict[str, Any], columns: dict[str, Tensor]) -> None:
        """``results.json`` (``protocol`` and the results), ``comparison.png`` (up to 3 frames of each of the uint8
        ``columns``, left to right) and one line per method."""
        self.paths["results.json"].write_text(json.dumps({**protocol, "results": self.results}, indent=2) + "\n")
        count = len(next(iter(columns.values())))
        show = torch.linspace(0, count - 1, min(3, count)).round().long()
        images = [frames[show].float() / 255 for frames in columns.values()]
        write_side_by_side_png(images, self.paths["comparison.png"], self.overwrite)
        width = max(map(len, self.results))
        for name, scores in self.results.items():
            print(f"{name:>{width}}: PSNR {scores['psnr']:.2f} dB, MS-SSIM {scores.get('ms_ssim') or float('nan'):.4f}")
        print(f"wrote {self.paths['results.json']} and {self.paths['comparison.png']} ({' | '.join(columns)})")
