"""The hypernetwork head contract: latent -> per-sample parameters of backbone layers."""

from __future__ import annotations

import fnmatch
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import ClassVar

from torch import Tensor, nn

from inrzoo.backbones.base import INRBackbone
from inrzoo.backbones.layers import LayerParams, ModulatedLayer
from inrzoo.compat import Pluggable
from inrzoo.errors import InrzooError


def _key(layer_name: str) -> str:
    # ModuleDict keys cannot contain dots.
    return layer_name.replace(".", "__")


class LayerHyperNet(nn.Module, ABC):
    """Predicts one layer's per-sample parameters from the latent."""

    @abstractmethod
    def forward(self, latent: Tensor, weight: Tensor, bias: Tensor | None) -> LayerParams:
        """latent: (B, D); weight/bias: the layer's shared base -> per-sample params."""


def _type_names(types: tuple[type, ...]) -> str:
    return "/".join(t.__name__ for t in types)


def latent_mlp(latent_dim: int, hidden: int, out_features: int) -> nn.Sequential:
    """latent -> hidden (tanh) -> out.

    The last layer starts near zero so training starts at the shared base weights, but not
    at exactly zero: that would leave the latents without a gradient on the first step.
    """
    last = nn.Linear(hidden, out_features)
    nn.init.normal_(last.weight, std=1e-3)
    nn.init.zeros_(last.bias)
    return nn.Sequential(nn.Linear(latent_dim, hidden), nn.Tanh(), last)


class HyperHead(Pluggable, nn.Module, ABC):
    """A family of per-layer hypernetworks, one per modulated backbone layer.

    Like backbones, construction is two-phase: ``__init__`` holds the user's choices,
    :meth:`build` creates one :class:`LayerHyperNet` per selected layer.

    Args:
        layers: shell patterns of backbone layer names to modulate (``["blocks.*"]``);
            ``None`` modulates every modulated layer.
    """

    #: Layer types this head can modulate; a backbone exposing none of them is incompatible.
    supported_layer_types: ClassVar[tuple[type[ModulatedLayer], ...]] = (ModulatedLayer,)

    @classmethod
    def incompatibility(cls, other: type) -> str | None:
        if issubclass(other, INRBackbone) and not any(
            issubclass(exposed, supported) or issubclass(supported, exposed)
            for exposed in other.modulated_layer_types
            for supported in cls.supported_layer_types
        ):
            return (
                f"the head modulates {_type_names(cls.supported_layer_types)} layers and the backbone has only "
                f"{_type_names(other.modulated_layer_types)}"
            )
        return super().incompatibility(other)

    def __init__(self, layers: Sequence[str] | None = None) -> None:
        super().__init__()
        self.layer_patterns = list(layers) if layers is not None else None
        self.heads = nn.ModuleDict()
        self.layer_names: list[str] = []

    @property
    def is_built(self) -> bool:
        return bool(self.layer_names)

    def select(self, layers: Mapping[str, ModulatedLayer]) -> list[str]:
        if self.layer_patterns is None:
            return list(layers)
        chosen = [n for n in layers if any(fnmatch.fnmatchcase(n, p) for p in self.layer_patterns)]
        if not chosen:
            raise InrzooError(
                f"hypernetwork layer patterns {self.layer_patterns} match no backbone layer; "
                f"modulated layers are: {', '.join(layers)}"
            )
        return chosen

    def build(self, latent_dim: int, layers: Mapping[str, ModulatedLayer]) -> HyperHead:
        self.layer_names = self.select(layers)
        for name in self.layer_names:
            self.heads[_key(name)] = self.make_layer_hypernet(latent_dim, layers[name])
        return self

    @abstractmethod
    def make_layer_hypernet(self, latent_dim: int, layer: ModulatedLayer) -> LayerHyperNet:
        """Create the hypernetwork for one layer."""

    def forward(self, latent: Tensor, layers: Mapping[str, ModulatedLayer]) -> dict[str, LayerParams]:
        """latent: (B, D) -> {layer name: per-sample params} for the selected layers (a backbone takes them
        keyed by the layers themselves: :meth:`INRBackbone.params_by_layer`)."""
        return {
            name: self.heads[_key(name)](latent, layers[name].weight, layers[name].bias) for name in self.layer_names
        }
