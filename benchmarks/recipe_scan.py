"""Training-recipe scan: learning rate x batch size per backbone family, at equal frames seen.

Each backbone (with the FiLM head, sized by ``inrzoo bench`` to the budget) is fitted at every
learning rate and batch size of the grid for the same number of *epochs* (steps = epochs x frames /
batch), so a larger batch is not credited with seeing more frames. The best cell of each backbone
is what its ``recommended_training`` declares. Deterministic on one machine kind (fixed seed and
steps); the wall clock is recorded but never ranks.

    .venv/bin/python benchmarks/recipe_scan.py --out benchmarks/results/recipe_scan.json
"""

from __future__ import annotations

import argparse
import math
import tempfile
from pathlib import Path

from inrzoo.bench.report import write_json
from inrzoo.bench.runner import BenchOptions, quiet_lightning, run_bench
from inrzoo.errors import InrzooError
from inrzoo.io.files import claim_output


def scan(backbone: str, rates: list[float], batches: list[int], epochs: float, video: str, size: tuple[int, int],
         frames: int, budget: int) -> list[dict]:  # fmt: skip
    rows = []
    for batch in batches:
        for rate in rates:
            options = BenchOptions(
                backbones=backbone, hypernets="film", tier="ci", video=video, resize=size, max_frames=frames,
                budgets=str(budget), fit_steps=max(1, math.ceil(epochs * frames / batch)), codecs="none",
                learning_rate=rate, batch_size=batch, out=Path(tempfile.mkdtemp(prefix="inrzoo-scan-")),
            )  # fmt: skip
            report = run_bench(options)
            [record] = [r for r in report["results"] if r["kind"] == "inrzoo"] or [None]
            if record is None:
                continue
            rows.append({"backbone": backbone, "learning_rate": rate, "batch_size": batch, "psnr": record["psnr"],
                         "psnr_worst": record["psnr_worst"], "steps": record["steps"],
                         "train_seconds": record["train_seconds"], "params": record["params"]})  # fmt: skip
            print(f"{backbone:12s} lr {rate:<7g} batch {batch}: {record['psnr']:.2f} dB", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbones", default="hnerv,nerv-conv,grid-mlp,fourier-mlp,siren")
    parser.add_argument("--rates", default="0.002,0.005,0.01")
    parser.add_argument("--batches", default="1,2,4")
    parser.add_argument("--epochs", type=float, default=6.0)
    parser.add_argument("--video", default="sample:bunny")
    parser.add_argument("--size", default="90,160")
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--budget", type=int, default=30_000)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    args = parser.parse_args()
    # An earlier result is kept unless asked: refuse before minutes of fitting, not after.
    try:
        out = claim_output(args.out, args.overwrite) if args.out is not None else None
    except InrzooError as err:
        parser.error(str(err))
    quiet_lightning()
    size = tuple(int(v) for v in args.size.split(","))
    rates = [float(v) for v in args.rates.split(",")]
    batches = [int(v) for v in args.batches.split(",")]
    results = []
    for backbone in args.backbones.split(","):
        results += scan(backbone, rates, batches, args.epochs, args.video, size, args.frames, args.budget)
    best = {}
    for row in results:
        if row["backbone"] not in best or row["psnr"] > best[row["backbone"]]["psnr"]:
            best[row["backbone"]] = row
    report = {"name": "recipe_scan", "video": args.video, "resolution": list(size), "frames": args.frames,
              "budget": args.budget, "epochs": args.epochs, "results": results, "best": best}  # fmt: skip
    for name, row in best.items():
        print(f"best {name}: lr {row['learning_rate']:g}, batch {row['batch_size']} ({row['psnr']:.2f} dB)")
    if out is not None:
        write_json(report, out)
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
