"""Interpolation and super-resolution on Bunny and bikes (cpu tier), with their baselines in the same run.

Interpolation: the quickstart model (``configs/quickstart.yaml``) fitted on the even frames only at
180x320 (bikes: 136x320); every odd frame between two kept ones predicted by each interpolator,
against neighbour averaging and ffmpeg minterpolate (``inrzoo eval-interpolation``).
Super-resolution: grid-mlp + FiLM (a coordinate backbone; no frame encoder) fitted on the 180x320
(bikes 136x320) frames with grid-mlp's recommended training (2,048 sampled pixels per step, lr 1e-2);
decoded at 2x and compared with the real 360x640 (bikes 272x640) frames,
against bicubic and lanczos upscaling of the same 180x320 frames (``inrzoo eval-sr``).

Both fits are bounded by epochs (``lr_schedule: steps``), so the figures do not depend on the machine's
load; the wall clock of each is recorded beside them.

    .venv/bin/python benchmarks/tasks.py --out benchmarks/results/tasks_cpu.json
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import yaml

from inrzoo.bench.environment import provenance
from inrzoo.bench.sizing import training_recipe
from inrzoo.cli import main as inrzoo_main
from inrzoo.io.files import claim_output

REPO = Path(__file__).resolve().parent.parent
VIDEOS = {"bunny": (180, 320), "bikes": (136, 320)}


def run(args: list[str]) -> None:
    status = inrzoo_main(args)
    if status != 0:
        raise RuntimeError(f"inrzoo {' '.join(args[:2])} failed with status {status}")


def sr_config(work: Path, sampled_pixels: int | None) -> Path:
    """The quickstart config with a grid-mlp backbone (FiLM on every layer, batch 1, no encoder) and grid-mlp's
    recommended training (lr 1e-2, Adam's default betas), on ``sampled_pixels`` random pixels per step (None:
    whole frames)."""
    config = yaml.safe_load((REPO / "configs" / "quickstart.yaml").read_text())
    model = config["model"]["init_args"]
    model.pop("adam_betas", None)  # the quickstart's; grid-mlp's recipe names none, so Adam's default
    model.update(latent_dim=32, frame_encoder=None, sampled_pixels=sampled_pixels)
    model["learning_rate"] = float(training_recipe("grid-mlp")["learning_rate"])
    model["backbone"] = {"class_path": "inrzoo.backbones.GridMLPBackbone",
                         "init_args": {"width": 32, "finest_resolution": 128}}  # fmt: skip
    model["hypernet"]["init_args"] = {"hidden": 16}
    config["data"]["init_args"]["batch_size"] = 1
    path = work / "sr.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def fit(root: Path, name: str, config: Path, video: str, size: tuple[int, int], epochs: int,
        extra: list[str]) -> tuple[Path, float]:  # fmt: skip
    start = time.perf_counter()
    run(
        [
            "fit",
            "--config",
            str(config),
            f"--data.init_args.path=sample:{video}",
            f"--data.init_args.resize=[{size[0]},{size[1]}]",
            "--trainer.max_time=null",
            f"--trainer.max_epochs={epochs}",
            "--model.init_args.lr_schedule=steps",
            "--trainer.check_val_every_n_epoch=100000",
            "--trainer.enable_progress_bar=false",
            f"--trainer.logger.init_args.save_dir={root}",
            f"--trainer.logger.init_args.name={name}",
            *extra,
        ]
    )
    return root / name / "version_0", time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "tasks_cpu.json")
    parser.add_argument("--overwrite", action="store_true")
    parser.add_argument("--interpolation-epochs", type=int, default=100, help="epochs of the even-frame fit")
    parser.add_argument(
        "--sr-epochs",
        type=int,
        default=150,
        help="epochs of the grid-mlp fit (sampled pixels; 20 whole-frame epochs took as long)",
    )
    parser.add_argument("--sr-sampled-pixels", type=int, default=training_recipe("grid-mlp")["sampled_pixels"],
                        help="pixels per frame a step of the SR fit scores (0: whole frames, as before)")  # fmt: skip
    args = parser.parse_args(argv)
    out = claim_output(args.out, args.overwrite)
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore")
    start = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="inrzoo-tasks-"))
    report: dict[str, Any] = {"name": "tasks", "tier": "cpu", "interpolation_epochs": args.interpolation_epochs,
                              "sr_epochs": args.sr_epochs, "sr_sampled_pixels": args.sr_sampled_pixels or None,
                              "videos": {}}  # fmt: skip
    quickstart, grid = REPO / "configs" / "quickstart.yaml", sr_config(work, args.sr_sampled_pixels or None)
    for video, size in VIDEOS.items():
        entry: dict[str, Any] = {"size": list(size)}
        run_dir, seconds = fit(work, f"{video}_even", quickstart, video, size, args.interpolation_epochs,
                               ["--data.init_args.train_every=2"])  # fmt: skip
        t0 = time.perf_counter()
        run(["eval-interpolation", str(run_dir), "--out", str(work / f"{video}_interp")])
        entry["interpolation"] = json.loads((work / f"{video}_interp" / "results.json").read_text())["results"]
        entry["interpolation_fit_seconds"], entry["interpolation_eval_seconds"] = seconds, time.perf_counter() - t0
        run_dir, seconds = fit(work, f"{video}_lowres", grid, video, size, args.sr_epochs, [])
        t0 = time.perf_counter()
        run(["eval-sr", str(run_dir), "--scale", "2", "--out", str(work / f"{video}_sr")])
        entry["super_resolution"] = json.loads((work / f"{video}_sr" / "results.json").read_text())["results"]
        entry["sr_fit_seconds"], entry["sr_eval_seconds"] = seconds, time.perf_counter() - t0
        report["videos"][video] = entry
        (out.parent / f"tasks_{video}_interpolation.png").write_bytes(
            (work / f"{video}_interp" / "comparison.png").read_bytes()
        )
        (out.parent / f"tasks_{video}_sr.png").write_bytes((work / f"{video}_sr" / "comparison.png").read_bytes())
    report.update(provenance(), run_seconds=time.perf_counter() - start)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report["videos"], indent=1))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
