"""``inrzoo fit-many``: a corpus of videos, one fit each."""

from __future__ import annotations

import os
from collections.abc import Sequence

from inrzoo.cli.parsing import one_line_parser
from inrzoo.errors import InrzooError
from inrzoo.options import check_option, integers


def main(argv: Sequence[str]) -> int:
    from inrzoo.fleet.fit_many import fit_many

    argv = list(argv)
    extra: list[str] = []
    if "--" in argv:
        split = argv.index("--")
        argv, extra = argv[:split], argv[split + 1 :]

    parser = one_line_parser(
        "inrzoo fit-many",
        "Fit every video of a manifest with one config (one process per video; finished videos are skipped, "
        "interrupted ones resume from their last checkpoint). Arguments after -- go to every `inrzoo fit`.",
        argv,
    )
    parser.add_argument("--manifest", required=True, help="a text file: one video path (or sample:NAME) per line")
    parser.add_argument("--config", required=True, help="the `inrzoo fit` config every video uses")
    parser.add_argument("--out", required=True, help="folder: OUT/<video>/version_N, done.json, results.csv/.md")
    parser.add_argument("--parallel", type=int, default=1, help="videos fitted at the same time")
    parser.add_argument("--gpus", default="", help="comma-separated GPU ids, one per worker in turn (e.g. 0,1,2,3)")
    args = parser.parse_args(argv)
    check_option("--parallel", args.parallel, integers(1, 1024))
    if not os.path.isfile(args.config):
        raise InrzooError(f"config {args.config} does not exist; give an `inrzoo fit` YAML config")
    gpus = [g.strip() for g in args.gpus.split(",") if g.strip()]
    outcomes = fit_many(args.manifest, args.config, args.out, extra, args.parallel, gpus)
    for o in outcomes:
        detail = f"PSNR {o.psnr:.2f} dB" if o.psnr is not None else (o.error or "")
        print(f"{o.status:>8}  {o.name}: {detail}")
    print(f"wrote {args.out}/results.csv and results.md")
    return 1 if any(o.status == "failed" for o in outcomes) else 0
