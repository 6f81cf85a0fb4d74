"""The local Ray backend's overhead against the process pool (issue 17), on the same 8 tiny videos, one run.

The same 8 synthetic clips (benchmarks/packing.py's) are fitted from empty folders, the quickstart model for
the same epochs, two at a time with one thread each, by:
- the process pool: ``inrzoo fit-many --parallel 2`` (twice: first and last, to show the run-to-run spread);
- Ray, cold: ``inrzoo fit-many --backend ray --cpus-per-fit 1``, which starts a Ray instance on this machine
  and stops it at the end (what one command on a laptop pays);
- Ray, warm: the same through the library (:func:`inrzoo.fleet.fit_many`) with Ray already running
  (``ray.init(num_cpus=2)`` before the clock starts), as on a cluster that is up.
Each is timed over its whole wall clock, after one untimed decode of every clip into the frame cache (which
the first run would otherwise pay alone); the overhead is Ray's time over the mean of the two pool runs.

    flock -x /work/cpu.lock .venv/bin/python benchmarks/ray_overhead.py --out benchmarks/results/ray_overhead_cpu.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from packing import REPO, add_clip_options, fitted_psnrs, short_fit_args, timed_fit_many, write_manifest

from inrzoo.bench.environment import provenance
from inrzoo.io.files import claim_output


def warm_ray(manifest: Path, out: Path, fit_args: list[str]) -> tuple[float, list[float]]:
    """Seconds of the library's ``fit_many`` on a Ray instance started beforehand, and the PSNRs."""
    import ray

    from inrzoo.fleet import fit_many
    from inrzoo.fleet.ray_backend import RayOptions

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        start = time.perf_counter()
        fit_many(manifest, str(REPO / "configs" / "quickstart.yaml"), out, fit_args, ray=RayOptions(cpus_per_fit=1))
        seconds = time.perf_counter() - start
    finally:
        ray.shutdown()
    return seconds, fitted_psnrs(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "ray_overhead_cpu.json")
    parser.add_argument("--overwrite", action="store_true")
    parser.add_argument("--videos", type=int, default=8)
    add_clip_options(parser)
    args = parser.parse_args(argv)
    out = claim_output(args.out, args.overwrite)
    height, width = map(int, args.size.split("x"))
    fit_args = short_fit_args(args.epochs)
    os.environ["OMP_NUM_THREADS"] = "1"  # each fit one thread, two at a time, on every backend
    work = Path(tempfile.mkdtemp(prefix="inrzoo-ray-overhead-"))
    manifest = write_manifest(work, args.videos, args.frames, height, width)
    from inrzoo.data import VideoDataModule

    for line in manifest.read_text().split():  # fill the frame cache first: the first run must not pay it alone
        VideoDataModule(path=str(work / line), resize=None)
    runs = {}
    runs["pool_first"] = timed_fit_many(manifest, work / "pool_first", ["--parallel", "2"], fit_args)
    runs["ray_warm"] = warm_ray(manifest, work / "ray_warm", fit_args)
    runs["ray_cold"] = timed_fit_many(
        manifest, work / "ray_cold", ["--backend", "ray", "--cpus-per-fit", "1"], fit_args
    )
    runs["pool_last"] = timed_fit_many(manifest, work / "pool_last", ["--parallel", "2"], fit_args)
    for name, (seconds, _) in runs.items():
        print(f"{name}: {seconds:.1f} s", flush=True)
    pool = (runs["pool_first"][0] + runs["pool_last"][0]) / 2
    psnrs = {name: sum(p) / len(p) for name, (_, p) in runs.items()}
    report = {
        "name": "ray_overhead", "model": "configs/quickstart.yaml", "epochs": args.epochs,
        "clips": {"count": args.videos, "frames": args.frames, "size": [height, width], "synthetic": True},
        "concurrency": "2 fits at a time, 1 thread each",
        "seconds": {name: seconds for name, (seconds, _) in runs.items()}, "pool_mean_seconds": pool,
        "pool_spread": abs(runs["pool_first"][0] - runs["pool_last"][0]) / pool,
        "overhead_ray_warm": runs["ray_warm"][0] / pool - 1, "overhead_ray_cold": runs["ray_cold"][0] / pool - 1,
        "goal": "within 10% of the pool", "mean_psnr": psnrs,
    }  # fmt: skip
    report.update(provenance())
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: report[k] for k in ("seconds", "overhead_ray_warm", "overhead_ray_cold", "pool_spread")}))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
