"""Deprecated alias: this code moved to ``inrzoo.cli`` (one module per command); removed in 0.3."""

import warnings

from inrzoo.cli.compress import main as compress_main
from inrzoo.cli.decompress import main as decompress_main
from inrzoo.cli.decompress import parse_frames

warnings.warn(
    "inrzoo.compression.command is deprecated: its code moved to inrzoo.cli (see the CHANGELOG)",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = ["compress_main", "decompress_main", "parse_frames"]
