"""``inrzoo fit-many``: a corpus of videos, one fit each (or one shard of it, or only the merged table)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from inrzoo.cli.parsing import one_line_parser
from inrzoo.errors import InrzooError
from inrzoo.options import check_option, integers, numbers

if TYPE_CHECKING:
    from inrzoo.fleet.ray_backend import RayOptions


def main(argv: Sequence[str]) -> int:
    argv = list(argv)
    extra: list[str] = []
    if "--" in argv:
        split = argv.index("--")
        argv, extra = argv[:split], argv[split + 1 :]

    parser = one_line_parser(
        "inrzoo fit-many",
        "Fit every video of a manifest with one config (one process per video, or per pack of K; on this machine, "
        "one shard of a job array, or Ray; finished videos are skipped, interrupted ones resume from their last "
        "checkpoint). Arguments after -- go to every `inrzoo fit`.",
        argv,
    )
    parser.add_argument("--manifest", help="a text file: one video path (or sample:NAME) per line")
    parser.add_argument("--config", help="the `inrzoo fit` config every video uses")
    parser.add_argument("--out", required=True, help="folder: OUT/<video>/version_N, done.json, results.csv/.md")
    parser.add_argument("--parallel", type=int, default=1, help="videos (with --pack: packs) fitted at the same time")
    parser.add_argument("--gpus", default="", help="comma-separated GPU ids, one per worker in turn (e.g. 0,1,2,3)")
    parser.add_argument(
        "--shard", default=None,
        help="I/N: fit only shard I of N (I counts from 0: video k of the manifest is in shard k mod N), "
        "for job arrays; every shard rewrites the merged results table",
    )  # fmt: skip
    parser.add_argument(
        "--pack", type=int, default=None,
        help="K: fit K videos of one geometry at a time in one process, as one batched computation "
        "(same results as separate fits; see README 'Fitting a corpus' for what a pack supports)",
    )  # fmt: skip
    parser.add_argument(
        "--backend", choices=("local", "ray"), default="local",
        help="local: a process pool on this machine; ray: one Ray task per video (or pack) on a Ray cluster "
        "(pip install 'inrzoo[ray]')",
    )  # fmt: skip
    parser.add_argument("--address", help="ray: auto, HOST:PORT or ray://HOST:PORT (default: RAY_ADDRESS, else local)")
    parser.add_argument("--cpus-per-fit", type=float, default=None, help="ray: CPUs each task asks for (default 1)")
    parser.add_argument("--gpus-per-fit", type=float, default=None, help="ray: GPUs each task asks for, e.g. 0.25")
    parser.add_argument("--max-retries", type=int, default=None, help="ray: reruns of a task whose worker died (3)")
    parser.add_argument(
        "--report", action="store_true",
        help="fit nothing: merge every video's state under --out (all shards') into results.csv/.md; "
        "exit 1 unless every video is done",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.report:
        return _report(args, extra)
    from inrzoo.fleet.fit_many import fit_many
    from inrzoo.fleet.sharding import parse_shard

    if args.manifest is None or args.config is None:
        raise InrzooError("fit-many needs --manifest and --config (or --report to only merge the results of --out)")
    check_option("--parallel", args.parallel, integers(1, 1024))
    if args.pack is not None:
        check_option("--pack", args.pack, integers(1, 1024))
    shard = parse_shard(args.shard) if args.shard is not None else None
    if not os.path.isfile(args.config):
        raise InrzooError(f"config {args.config} does not exist; give an `inrzoo fit` YAML config")
    gpus = [g.strip() for g in args.gpus.split(",") if g.strip()]
    ray = _ray_options(args, gpus)
    outcomes = fit_many(args.manifest, args.config, args.out, extra, args.parallel, gpus, shard, args.pack, ray)
    for o in outcomes:
        detail = f"PSNR {o.psnr:.2f} dB" if o.psnr is not None else (o.error or "")
        print(f"{o.status:>8}  {o.name}: {detail}")
    print(
        f"wrote {args.out}/results.csv and results.md"
        + (f" (all shards so far; this was shard {shard})" if shard else "")
    )
    return 1 if any(o.status == "failed" for o in outcomes) else 0


def _ray_options(args: argparse.Namespace, gpus: list[str]) -> RayOptions | None:
    """The Ray backend's options (None: the local pool); options of the other backend are refused."""
    ray_only = {"--address": args.address, "--cpus-per-fit": args.cpus_per_fit,
                "--gpus-per-fit": args.gpus_per_fit, "--max-retries": args.max_retries}  # fmt: skip
    if args.backend == "local":
        given = [flag for flag, value in ray_only.items() if value is not None]
        if given:
            raise InrzooError(f"{', '.join(given)} only apply to --backend ray")
        return None
    if gpus or args.parallel != 1:
        raise InrzooError(
            "--gpus and --parallel are the local pool's; Ray places tasks by --cpus-per-fit/--gpus-per-fit"
        )
    from inrzoo.fleet.ray_backend import RayOptions, import_ray

    import_ray()  # not installed: say so before anything else
    options = RayOptions(
        args.address,
        1.0 if args.cpus_per_fit is None else args.cpus_per_fit,
        0.0 if args.gpus_per_fit is None else args.gpus_per_fit,
        3 if args.max_retries is None else args.max_retries,
    )
    check_option("--cpus-per-fit", options.cpus_per_fit, numbers(0, 1024))
    check_option("--gpus-per-fit", options.gpus_per_fit, numbers(0, 64))
    check_option("--max-retries", options.max_retries, integers(0, 100))
    return options


def _report(args: argparse.Namespace, extra: list[str]) -> int:
    """``--report``: the merged table of ``--out``; 0 only when every video is done."""
    from collections import Counter

    from inrzoo.fleet.results import write_report

    options = {"--manifest": args.manifest, "--config": args.config, "--shard": args.shard, "--pack": args.pack,
               "--address": args.address, "--backend": None if args.backend == "local" else args.backend}  # fmt: skip
    given = [flag for flag, value in options.items() if value is not None] + (["-- ..."] if extra else [])
    if given:
        raise InrzooError(f"--report fits nothing and reads only --out; drop {', '.join(given)}")
    out = Path(args.out)
    if not out.is_dir():
        raise InrzooError(f"--out {out} does not exist; give the folder fit-many wrote")
    outcomes = write_report(out)
    counts = Counter("done" if o.status in ("done", "skipped") else o.status for o in outcomes)
    print(", ".join(f"{n} {status}" for status, n in sorted(counts.items())) + f" of {len(outcomes)} videos")
    print(f"wrote {out}/results.csv and results.md")
    return 0 if counts["done"] == len(outcomes) else 1
