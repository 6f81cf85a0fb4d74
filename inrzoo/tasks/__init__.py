"""Task heads that use a fitted representation: interpolation, super-resolution, the LLM bridge (and plugins)."""

from inrzoo.tasks.base import TaskHead
from inrzoo.tasks.interpolation import (
    LatentInterpolator,
    LinearInterpolator,
    SlerpInterpolator,
    TemporalMLPInterpolator,
    fit_interpolator,
)
from inrzoo.tasks.llm_bridge import LLMBridge
from inrzoo.tasks.registry import TASKS, create_task, list_tasks, register_task
from inrzoo.tasks.super_resolution import BicubicUpsampleSR, CoordinateGridSR, SuperResolutionHead, default_sr_head

__all__ = [
    "TASKS",
    "BicubicUpsampleSR",
    "CoordinateGridSR",
    "LLMBridge",
    "LatentInterpolator",
    "LinearInterpolator",
    "SlerpInterpolator",
    "SuperResolutionHead",
    "TaskHead",
    "TemporalMLPInterpolator",
    "create_task",
    "default_sr_head",
    "fit_interpolator",
    "list_tasks",
    "register_task",
]
