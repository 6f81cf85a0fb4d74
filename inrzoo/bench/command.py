"""Deprecated alias: this code moved to ``inrzoo.cli`` (one module per command); removed in 0.3."""

import warnings

from inrzoo.cli.bench import main as bench_main
from inrzoo.cli.bench import parse_bench_args

warnings.warn(
    "inrzoo.bench.command is deprecated: its code moved to inrzoo.cli (see the CHANGELOG)",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = ["bench_main", "parse_bench_args"]
