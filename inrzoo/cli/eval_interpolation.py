"""inrzoo eval-interpolation: score the held-out frames of a run fitted with data.train_every=2, interpolators
vs neighbour averaging and ffmpeg minterpolate on the same frames."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from inrzoo.baselines.frames import minterpolate, neighbour_average
from inrzoo.cli.task_heads import TaskReport, interpolated_frames, run_parser, task_head
from inrzoo.errors import InrzooError
from inrzoo.runs import FittedRun
from inrzoo.tasks.interpolation import LatentInterpolator


def main(argv: Sequence[str]) -> int:
    # The module's docstring is the command's --help description.
    parser = run_parser("inrzoo eval-interpolation", __doc__, argv, output="report",
                        run_help="a run folder or .ckpt fitted with data.init_args.train_every=2")  # fmt: skip
    parser.add_argument("--interpolators", default="linear,slerp,temporal-mlp")
    parser.add_argument("--no-minterpolate", "--no_minterpolate", action="store_true", dest="no_minterpolate")
    args = parser.parse_args(list(argv))
    names = [n.strip() for n in args.interpolators.split(",") if n.strip()]
    heads = {n: task_head(n, LatentInterpolator, "--interpolators") for n in names}
    report = TaskReport(Path(args.out), args.overwrite)
    video = FittedRun.open(args.run)
    trained = video.model.latents.trained.cpu()
    known = torch.nonzero(trained).flatten()
    held_out = [t for t in torch.nonzero(~trained).flatten().tolist() if known[0] < t < known[-1]]
    if not held_out:
        raise InrzooError(
            f"{args.run} was fitted on every frame, so no frame is held out; fit it with "
            "--data.init_args.train_every=2 for this protocol"
        )
    truth = video.source_frames("eval-interpolation")[:]  # in memory: the baselines take whole tensors
    target = truth[held_out]
    times = torch.tensor(held_out, dtype=torch.float32)
    decoded = {}
    for name, head in heads.items():
        decoded[name] = report.score(name, target, lambda head=head: interpolated_frames(video, head, times))
    averaged = report.score("neighbour-average", target, lambda: neighbour_average(truth, known.tolist(), held_out))
    if not args.no_minterpolate:
        report.score("ffmpeg-minterpolate", target, lambda: minterpolate(truth, known.tolist(), held_out, video.fps))
    protocol = {
        "task": "interpolation", "run": str(args.run), "frames_scored": held_out, "fitted_frames": known.tolist(),
        "protocol": "fit on the kept frames only; predict each held-out frame from interpolated latents; baselines "
        "use the same kept frames",
    }  # fmt: skip
    columns = {"ground truth": target, "neighbour average": averaged}
    if names:  # and the first interpolator's frames
        columns[names[0]] = decoded[names[0]]
    report.write(protocol, columns)
    return 0
