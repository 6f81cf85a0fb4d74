"""Deprecated alias: the task baselines moved to :mod:`inrzoo.baselines.frames`; removed in 0.3."""

import warnings

from inrzoo.baselines.frames import minterpolate, neighbour_average, upscale_bicubic, upscale_lanczos

warnings.warn(
    "inrzoo.tasks.baselines is deprecated: its code moved to inrzoo.baselines.frames",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = ["minterpolate", "neighbour_average", "upscale_bicubic", "upscale_lanczos"]
