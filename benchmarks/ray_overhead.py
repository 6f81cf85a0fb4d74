"""The local Ray backend's overhead against the process pool (issue 17), on the same 8 tiny videos, repeated.

The same 8 synthetic clips (benchmarks/packing.py's) are fitted from empty folders, the quickstart model for
the same epochs, two at a time with one thread each, by:
- the process pool: ``inrzoo fit-many --parallel 2``;
- Ray, warm: the library's :func:`inrzoo.fleet.fit_many` with Ray already running (started before the clock
  as ``--backend ray`` starts its own: ``init_options("local")``, 2 CPUs), as on a cluster that is up;
- Ray, cold: ``inrzoo fit-many --backend ray --cpus-per-fit 1``, which starts a Ray instance on this machine
  and stops it at the end (what one command on a laptop pays).

On a shared machine one run of each says little (two pool runs once differed by 27%), so the three are run
in rounds, interleaved, the order rotated every round (pool/warm/cold, warm/cold/pool, cold/pool/warm) so
that none is always first or last. Each is timed over its whole wall clock, after one untimed decode of every
clip into the frame cache. The figures are medians over the rounds with their spread, and each Ray run's
ratio to the pool run of its own round (the median of those: paired, so slow phases of the machine cancel).

Rounds can be split over several holds of the CPU lock: ``--add`` merges this call's rounds into ``--out``'s.

    flock -x /work/cpu.lock .venv/bin/python benchmarks/ray_overhead.py --rounds 1 \\
        --out benchmarks/results/ray_overhead_rounds_cpu.json
    flock -x /work/cpu.lock .venv/bin/python benchmarks/ray_overhead.py --rounds 1 --add \\
        --out benchmarks/results/ray_overhead_rounds_cpu.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from packing import REPO, add_clip_options, fitted_psnrs, short_fit_args, timed_fit_many, write_manifest

from inrzoo.bench.environment import provenance
from inrzoo.io.files import claim_output

BACKENDS = ("pool", "ray_warm", "ray_cold")


def round_order(round_index: int) -> list[str]:
    """The backends in the order round ``round_index`` runs them: rotated by one each round."""
    shift = round_index % len(BACKENDS)
    return list(BACKENDS[shift:] + BACKENDS[:shift])


#: Seconds of the last warm run's ``ray.init`` and ``ray.shutdown`` (outside its clock): what a cold run pays more.
RAY_START_STOP: dict[str, float] = {}


def warm_ray(manifest: Path, out: Path, fit_args: list[str]) -> tuple[float, list[float]]:
    """Seconds of the library's ``fit_many`` on a Ray instance started beforehand, and the PSNRs."""
    import ray

    from inrzoo.fleet import fit_many
    from inrzoo.fleet.ray_backend import RayOptions, init_options

    start = time.perf_counter()
    ray.init(num_cpus=2, **init_options("local"))
    RAY_START_STOP["init"] = time.perf_counter() - start
    try:
        start = time.perf_counter()
        fit_many(manifest, str(REPO / "configs" / "quickstart.yaml"), out, fit_args, ray=RayOptions(cpus_per_fit=1))
        seconds = time.perf_counter() - start
    finally:
        start = time.perf_counter()
        ray.shutdown()
        RAY_START_STOP["shutdown"] = time.perf_counter() - start
    return seconds, fitted_psnrs(out)


def run_backend(backend: str, manifest: Path, out: Path, fit_args: list[str]) -> tuple[float, list[float]]:
    """Seconds and PSNRs of one backend fitting the manifest into the empty folder ``out``."""
    if backend == "pool":
        return timed_fit_many(manifest, out, ["--parallel", "2"], fit_args)
    if backend == "ray_warm":
        return warm_ray(manifest, out, fit_args)
    return timed_fit_many(manifest, out, ["--backend", "ray", "--cpus-per-fit", "1"], fit_args)


def summarise(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians, spreads and paired overheads over ``rounds`` (each: its index, order, seconds per backend)."""
    seconds = {b: [r["seconds"][b] for r in rounds] for b in BACKENDS}
    medians = {b: statistics.median(s) for b, s in seconds.items()}
    overhead = {}
    for ray_backend in ("ray_warm", "ray_cold"):
        paired = [r["seconds"][ray_backend] / r["seconds"]["pool"] - 1 for r in rounds]
        overhead[ray_backend] = {
            "median_over_median_pool": medians[ray_backend] / medians["pool"] - 1,
            "paired_median": statistics.median(paired), "paired_min": min(paired), "paired_max": max(paired),
        }  # fmt: skip
    return {
        "round_count": len(rounds),
        "median_seconds": medians,
        "min_seconds": {b: min(s) for b, s in seconds.items()},
        "max_seconds": {b: max(s) for b, s in seconds.items()},
        "spread": {b: (max(s) - min(s)) / medians[b] for b, s in seconds.items()},  # (max - min) / median
        "overhead": overhead,
        "goal_met": all(o["median_over_median_pool"] <= 0.10 and o["paired_median"] <= 0.10 for o in overhead.values()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "ray_overhead_rounds_cpu.json")
    parser.add_argument("--overwrite", action="store_true")
    parser.add_argument("--add", action="store_true", help="merge this call's rounds into --out's earlier rounds")
    parser.add_argument("--rounds", type=int, default=3, help="rounds this call runs (each: every backend once)")
    parser.add_argument("--videos", type=int, default=8)
    add_clip_options(parser)
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1, got {args.rounds}")
    earlier: list[dict[str, Any]] = []
    if args.add and args.out.is_file():
        previous = json.loads(args.out.read_text())
        if (previous.get("epochs"), previous.get("clips", {}).get("count")) != (args.epochs, args.videos):
            parser.error(f"{args.out} was measured with other settings; --add merges only rounds of the same run")
        earlier, out = previous["rounds"], args.out
    else:
        out = claim_output(args.out, args.overwrite)
    height, width = map(int, args.size.split("x"))
    fit_args = short_fit_args(args.epochs)
    os.environ["OMP_NUM_THREADS"] = "1"  # each fit one thread, two at a time, on every backend
    work = Path(tempfile.mkdtemp(prefix="inrzoo-ray-overhead-"))
    manifest = write_manifest(work, args.videos, args.frames, height, width)
    from inrzoo.data import VideoDataModule

    for line in manifest.read_text().split():  # fill the frame cache first: the first run must not pay it alone
        VideoDataModule(path=str(work / line), resize=None)
    rounds = list(earlier)
    for index in range(len(earlier), len(earlier) + args.rounds):
        record: dict[str, Any] = {"round": index, "order": round_order(index), "seconds": {}, "mean_psnr": {},
                                  "load_1min_at_end": {}}  # fmt: skip
        for backend in record["order"]:
            seconds, psnrs = run_backend(backend, manifest, work / f"round{index}_{backend}", fit_args)
            record["seconds"][backend], record["mean_psnr"][backend] = seconds, sum(psnrs) / len(psnrs)
            # Two fits run at a time: much above 2, something outside this benchmark was running too.
            record["load_1min_at_end"][backend] = os.getloadavg()[0]
            print(f"round {index} {backend}: {seconds:.1f} s", flush=True)
        record["ray_start_stop_seconds"] = dict(RAY_START_STOP)  # the warm run's, outside its clock
        record.update(provenance())
        rounds.append(record)
    report = {
        "name": "ray_overhead", "model": "configs/quickstart.yaml", "epochs": args.epochs,
        "clips": {"count": args.videos, "frames": args.frames, "size": [height, width], "synthetic": True},
        "concurrency": "2 fits at a time, 1 thread each", "goal": "within 10% of the pool",
        **summarise(rounds), "rounds": rounds,
    }  # fmt: skip
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: report[k] for k in ("median_seconds", "spread", "overhead", "goal_met")}, indent=1))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
