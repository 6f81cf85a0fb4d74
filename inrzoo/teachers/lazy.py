"""Teachers whose weights load on first use: a config parses (and ``--help`` runs) without them."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar

from inrzoo.teachers.base import Teacher


class LazyTeacher(Teacher):
    """Holds the wrapped model under :attr:`module_name` once :meth:`_load` has built it, frozen."""

    #: Submodule name of the loaded model (it appears in ``state_dict`` keys only after loading).
    module_name: ClassVar[str] = "net"

    def __init__(self) -> None:
        super().__init__()
        self._model: Any = None

    @abstractmethod
    def _load(self) -> Any:
        """Build the model with its weights (and set up its preprocessing)."""

    @property
    def model(self) -> Any:
        if self._model is None:
            self._model = self._load()
            self.add_module(self.module_name, self._model)
            self.requires_grad_(False).eval()
        return self._model

    def load(self) -> Teacher:
        _ = self.model
        return self
