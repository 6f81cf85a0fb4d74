"""The task-head contract: something useful computed from a fitted representation.

Task heads come in families with their own interface (:class:`LatentInterpolator`,
:class:`SuperResolutionHead`, ...); all register in the ``inrzoo.tasks`` group so a third party
can add one, and all may declare what they cannot work with (``incompatibility``).
"""

from __future__ import annotations

from typing import ClassVar

from torch import nn

from inrzoo.compat import Pluggable


class TaskHead(Pluggable, nn.Module):
    """Uses a fitted video representation (retrieval, interpolation, super-resolution, ...)."""

    #: The family: "interpolation", "super-resolution", ...
    task: ClassVar[str] = "task"
