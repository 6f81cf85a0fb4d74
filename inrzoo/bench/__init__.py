"""The benchmark matrix: every backbone x hypernetwork-head combination at one or more parameter budgets,
against x264/x265 on the same frames (``inrzoo bench``)."""

from inrzoo.bench.matrix import Combination, SkippedCombination, plan_matrix
from inrzoo.bench.report import codec_psnr_at, leaderboard, plot_rate_distortion
from inrzoo.bench.runner import BenchOptions, run_bench
from inrzoo.bench.sizing import SizedModel, SizingError, size_to_budget
from inrzoo.bench.tiers import TIERS, Tier

__all__ = [
    "TIERS",
    "BenchOptions",
    "Combination",
    "SizedModel",
    "SizingError",
    "SkippedCombination",
    "Tier",
    "codec_psnr_at",
    "leaderboard",
    "plan_matrix",
    "plot_rate_distortion",
    "run_bench",
    "size_to_budget",
]
