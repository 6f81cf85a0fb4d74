"""The task-head contract: something useful computed from a fitted representation."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from torch import nn

from inrzoo.compat import Pluggable


class TaskHead(Pluggable, nn.Module, ABC):
    """Uses a fitted video representation (retrieval, interpolation, super-resolution, ...)."""

    @abstractmethod
    def evaluate(self, model: Any, datamodule: Any) -> dict[str, float]:
        """Run the task on a fitted model and return named metrics."""
