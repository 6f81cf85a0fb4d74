"""Deprecated alias: this code moved to ``inrzoo.cli`` (one module per command); removed in 0.3."""

import warnings

from inrzoo.cli.eval_interpolation import main as eval_interpolation_main
from inrzoo.cli.eval_sr import main as eval_sr_main
from inrzoo.cli.interpolate import main as interpolate_main
from inrzoo.cli.task_heads import interpolated_frames, sr_head, upscaled_frames, upscaled_size
from inrzoo.cli.upscale import main as upscale_main

warnings.warn(
    "inrzoo.tasks.command is deprecated: its code moved to inrzoo.cli (see the CHANGELOG)",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = [
    "eval_interpolation_main",
    "eval_sr_main",
    "interpolate_main",
    "interpolated_frames",
    "sr_head",
    "upscale_main",
    "upscaled_frames",
    "upscaled_size",
]
