"""``inrzoo bench``: the plugin-combination matrix from the command line (parsed by jsonargparse)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from inrzoo.bench.baseline import check_comparable, gate, load_baseline, planned_settings
from inrzoo.bench.matrix import plan_matrix
from inrzoo.bench.report import claim_outputs, leaderboard, write_json, write_outputs
from inrzoo.bench.runner import BenchOptions, resolve, run_bench, tier_note
from inrzoo.cli.parsing import bracket_number_lists, one_line_parser
from inrzoo.options import check_options

DESCRIPTION = (
    "Fit every backbone x hypernetwork-head combination matching the patterns at the same parameter budget(s) "
    "and the same training budget, score each on every frame, encode the same frames with x264/x265 in the "
    "same run, and write bench.json, leaderboard.md and rd.png (PSNR vs bpp)."
)


def parse_bench_args(argv: Sequence[str]) -> BenchOptions:
    argv = bracket_number_lists(argv, ("--resize",))  # --resize 320,640 as well as '[320,640]'
    parser = one_line_parser("inrzoo bench", DESCRIPTION, list(argv))
    parser.add_argument("--config", action="config", help="a YAML file with any of the options below")
    parser.add_class_arguments(BenchOptions, as_group=False, skip={"overwrite"})
    parser.add_argument("--overwrite", action="store_true", help="replace the results of an earlier run in --out")
    namespace = parser.parse_args(list(argv))
    namespace.pop("config", None)
    values = namespace.as_dict()
    check_options(BenchOptions, values, name=lambda key: f"--{key}")
    return BenchOptions(**values)


def main(argv: Sequence[str]) -> int:
    """Run the matrix; exit status 1 when a combination failed or none could run (the outputs say why)."""
    options = parse_bench_args(argv)
    settings = resolve(options)  # bad options and patterns fail before anything is claimed or fitted
    note = tier_note(options, settings)
    if note is not None:
        print(note, file=sys.stderr)
    plan_matrix(options.backbones, options.hypernets)
    baseline = load_baseline(options.baseline) if options.baseline is not None else None
    if baseline is not None:
        check_comparable(planned_settings(settings), baseline, options.baseline)
    out = Path(options.out) if options.out is not None else Path("runs") / "bench" / options.tier
    paths = claim_outputs(out, options.overwrite)  # refuse before minutes of fitting, not after
    report = run_bench(options, on_update=lambda partial: write_json(partial, paths["bench.json"]))
    write_outputs(report, paths)
    print()
    print(leaderboard(report))
    print(f"wrote {', '.join(str(p) for p in paths.values())}")
    if not any(r["kind"] == "inrzoo" for r in report["results"]):
        print("inrzoo: error: no combination could be fitted (see Skipped/Failed above)", file=sys.stderr)
        return 1
    if baseline is not None and gate(report, baseline, options.baseline, options.tolerance):
        return 1
    return 1 if report["failed"] else 0
