"""The published protocol on a GPU: Bunny 640x1280 (centre crop of 720x1280), 132 frames, parameter
budgets 0.35M / 0.75M / 1.5M / 3M, 300 epochs, PSNR next to the published HNeRV and NeRV figures.

    .venv/bin/python benchmarks/gpu_protocol.py --out benchmarks/results/gpu_protocol.json
    # no GPU: prove it runs, the smallest budget for a few epochs on a few frames
    .venv/bin/python benchmarks/gpu_protocol.py --accelerator cpu --budgets 350000 --epochs 2 --max-frames 8 \\
        --out /tmp/gpu_protocol_cpu_smoke.json

Options for speed (report both when measured): ``--precision bf16-mixed`` and ``--compile``.
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

from inrzoo.bench.environment import provenance
from inrzoo.bench.sizing import size_to_budget
from inrzoo.cli import main as inrzoo_main
from inrzoo.io.files import claim_output

REPO = Path(__file__).resolve().parent.parent
#: HNeRV paper (Chen et al. 2023), Bunny 640x1280, 300 epochs: PSNR (dB) per budget.
PUBLISHED = {
    350_000: {"HNeRV": 30.15, "NeRV": 26.99},
    750_000: {"HNeRV": 32.81, "NeRV": 28.46},
    1_500_000: {"HNeRV": 35.57, "NeRV": 30.87},
    3_000_000: {"HNeRV": 37.43, "NeRV": 33.21},
}
CROP = (640, 1280)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "gpu_protocol.json")
    parser.add_argument("--overwrite", action="store_true")
    parser.add_argument("--budgets", type=int, nargs="+", default=list(PUBLISHED))
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--max-frames", type=int, default=None)
    parser.add_argument("--accelerator", default="gpu")
    parser.add_argument("--precision", default="32-true", help="e.g. bf16-mixed")
    parser.add_argument("--compile", action="store_true", help="torch.compile the backbone")
    parser.add_argument("--batch-size", type=int, default=1)
    args = parser.parse_args(argv)
    out = claim_output(args.out, args.overwrite)
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore")
    work = Path(tempfile.mkdtemp(prefix="inrzoo-gpu-protocol-"))
    frames = args.max_frames or 132
    report: dict[str, Any] = {
        "name": "gpu_protocol",
        "video": "sample:bunny",
        "crop": list(CROP),
        "frames": frames,
        "epochs": args.epochs,
        "precision": args.precision,
        "compile": args.compile,
        "results": [],
    }
    for budget in args.budgets:
        sized = size_to_budget("nerv-conv", budget, frames, CROP, hypernet="lowrank-gate")
        kw = sized.backbone_kwargs
        name = f"protocol_{budget // 1000}k"
        command = [
            "fit",
            "--config",
            str(REPO / "configs" / "quickstart.yaml"),
            "--data.init_args.path=sample:bunny",
            "--data.init_args.resize=null",
            f"--data.init_args.center_crop=[{CROP[0]},{CROP[1]}]",
            f"--data.init_args.batch_size={args.batch_size}",
            f"--model.init_args.backbone.init_args.channels={list(kw['channels'])}",
            f"--model.init_args.backbone.init_args.stem_channels={kw['stem_channels']}",
            "--model.init_args.hypernet=LowRankGateHyperHead",
            "--model.init_args.hypernet.init_args.hidden=32",
            "--model.init_args.learning_rate=0.005",
            "--model.init_args.lr_schedule=steps",
            f"--model.init_args.compile_backbone={str(args.compile).lower()}",
            f"--trainer.accelerator={args.accelerator}",
            f"--trainer.precision={args.precision}",
            f"--trainer.max_epochs={args.epochs}",
            "--trainer.max_time=null",
            "--trainer.check_val_every_n_epoch=1000000",
            "--trainer.enable_progress_bar=false",
            f"--trainer.logger.init_args.save_dir={work}",
            f"--trainer.logger.init_args.name={name}",
        ]
        if args.max_frames:
            command.append(f"--data.init_args.max_frames={args.max_frames}")
        start = time.perf_counter()
        if inrzoo_main(command) != 0:
            raise RuntimeError(f"the fit at {budget} parameters failed")
        metrics = json.loads((work / name / "version_0" / "metrics.json").read_text())
        record = {
            "budget": budget,
            "params": metrics["params"],
            "psnr": metrics["psnr"],
            "ms_ssim": metrics["ms_ssim"],
            "train_minutes": metrics["train_seconds"] / 60,
            "wall_minutes": (time.perf_counter() - start) / 60,
            "decode_fps": metrics["decode_fps"],
            "published": PUBLISHED.get(budget),
            "backbone_kwargs": kw,
        }
        report["results"].append(record)
        print(
            f"{budget:>9,}: {record['params']:,} params, {record['psnr']:.2f} dB (published HNeRV/NeRV "
            f"{PUBLISHED.get(budget)}), {record['train_minutes']:.1f} min, decode {record['decode_fps']:.0f} fps"
        )
    report.update(provenance("gpu" if args.accelerator != "cpu" else "cpu"))
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
