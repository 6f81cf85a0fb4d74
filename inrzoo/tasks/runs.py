"""Deprecated alias: opening a fitted run moved to :mod:`inrzoo.runs` (``FittedRun``); removed in 0.3."""

import warnings

from inrzoo.runs import FittedRun, to_uint8

warnings.warn(
    "inrzoo.tasks.runs is deprecated: use inrzoo.runs.FittedRun (.open, .fps, .data, .source_frames) and "
    "inrzoo.runs.to_uint8",
    DeprecationWarning,
    stacklevel=2,
)

FittedVideo = FittedRun
load_fitted_video = FittedRun.open


def source_frames(video: FittedRun, what: str, **overrides: object) -> object:
    return video.source_frames(what, **overrides)


__all__ = ["FittedVideo", "load_fitted_video", "source_frames", "to_uint8"]
