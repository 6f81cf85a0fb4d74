"""The INR backbone contract."""

from __future__ import annotations

import math
import warnings
from abc import ABC, abstractmethod
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

from torch import Tensor, nn

from inrzoo.backbones.layers import LayerParams, LayerParamsMap, ModulatedLayer
from inrzoo.compat import Pluggable
from inrzoo.errors import InrzooError


class INRBackbone(Pluggable, nn.Module, ABC):
    """An implicit neural representation of one frame whose layers a hypernetwork modulates.

    Construction is two-phase: ``__init__`` takes the architecture choices a user writes
    in a config; :meth:`build` adds the layers once the latent size and frame size are
    known (they come from the data, which the config does not repeat).

    Time enters only through ``latent`` and the per-layer params, so any frame decodes
    on its own (random access). ``forward`` finds each layer's params by the layer itself
    (``params.get(self.head)``), never by its name: a misspelt key then fails rather than leaving a
    layer silently unmodulated.
    """

    #: Output side lengths must be multiples of this (the model renders padded, crops back).
    size_multiple: int = 1
    #: True when the backbone can be queried at arbitrary continuous coordinates.
    is_coordinate_based: bool = False
    #: Layer types :meth:`modulated_layers` returns; hypernetwork heads check them (inrzoo.compat).
    modulated_layer_types: ClassVar[tuple[type[ModulatedLayer], ...]] = (ModulatedLayer,)
    #: Training settings that suit the backbone; ``inrzoo bench`` uses them for every combination: the data's
    #: ``batch_size``, and :class:`~inrzoo.models.VideoINR` arguments (``learning_rate``, ``adam_betas``).
    recommended_training: ClassVar[dict[str, Any]] = {"batch_size": 1, "learning_rate": 1e-3}
    #: ``latent_dim`` that ``inrzoo bench`` gives this backbone (spatial latents count it per grid cell).
    recommended_latent_dim: ClassVar[int] = 32
    #: ``FrameEncoder`` kwargs ``inrzoo bench`` fits this backbone with (None: latents from the dictionary).
    recommended_frame_encoder: ClassVar[dict[str, Any] | None] = None
    #: Layer patterns the hypernetwork heads of ``inrzoo bench`` modulate (None: every modulated layer). A head
    #: on a wide early layer can cost more than the layer itself; where the sized fits showed that budget is
    #: better spent on the decoder, the backbone names the layers worth modulating.
    recommended_modulated_layers: ClassVar[tuple[str, ...] | None] = None

    @classmethod
    def scaled_kwargs(cls, scale: float) -> dict[str, Any] | None:
        """Constructor kwargs of a one-knob size family (larger ``scale``: more parameters).

        ``inrzoo bench`` searches ``scale`` to fit a parameter budget, so combinations compare
        at equal size. ``None`` (the default) means the backbone takes no part in sized benchmarks.
        """
        return None

    @classmethod
    def scaled_latent_dim(cls, scale: float) -> int:
        """``latent_dim`` of the size family's member at ``scale`` (default: :attr:`recommended_latent_dim` at
        every size). A family may widen the latent as it grows, where a larger model's parameters cost less
        time in the latents than in the decoder's later layers."""
        return cls.recommended_latent_dim

    def __init__(self) -> None:
        super().__init__()
        self.latent_dim: int | None = None
        self.frame_size: tuple[int, int] | None = None
        self._modulated_layers: dict[str, ModulatedLayer] | None = None

    @property
    def is_built(self) -> bool:
        return self.latent_dim is not None

    def build(self, latent_dim: int, frame_size: tuple[int, int]) -> INRBackbone:
        """Create the layers for ``latent_dim``-sized latents and ``frame_size`` = (H, W) frames."""
        self.latent_dim = latent_dim
        self.frame_size = (int(frame_size[0]), int(frame_size[1]))
        self._modulated_layers = None
        self._build()
        self._modulated_layers = self._find_modulated_layers()
        return self

    @abstractmethod
    def _build(self) -> None:
        """Create layers; ``self.latent_dim`` and ``self.frame_size`` are set."""

    def require_frames_of_at_least_size_multiple(self, name: str, strides: tuple[int, ...]) -> None:
        """One clear error for a frame smaller than the backbone's total upscaling (a decoder cannot render it)."""
        height, width = self.frame_size
        if height < self.size_multiple or width < self.size_multiple:
            raise InrzooError(
                f"{name} cannot produce {height}x{width} frames: its strides {list(strides)} upscale by "
                f"{self.size_multiple}, more than the frame side; use smaller strides or a larger resize"
            )

    def latent_shape(self, latent_dim: int, frame_size: tuple[int, int]) -> tuple[int, ...]:
        """Shape of one frame's latent: ``(latent_dim,)`` for vector latents (the default); a spatial
        backbone returns ``(latent_dim, h, w)``, a small feature map whose grid follows the frame size."""
        return (latent_dim,)

    @property
    def latent_size(self) -> int:
        """Numbers stored per frame: the product of :meth:`latent_shape` (a built backbone's latents
        arrive flattened to this size; heads and the latent dictionary see this size too)."""
        assert self.latent_dim is not None and self.frame_size is not None, "call build() first"
        return math.prod(self.latent_shape(self.latent_dim, self.frame_size))

    def modulation_input(self, latent: Tensor) -> Tensor:
        """What hypernetwork heads read of a frame's latent, (B, latent_size) -> (B, modulation_input_size).

        The latent itself by default. A spatial backbone may summarise its latent map (e.g. pool it to a
        few cells): a head's first layer then costs ``hidden x modulation_input_size`` parameters however
        large the frame's grid, and the per-pixel layout stays the decoder's job.
        """
        return latent

    @property
    def modulation_input_size(self) -> int:
        """Size of :meth:`modulation_input`'s output per frame (what a head is built for)."""
        return self.latent_size

    def render_size(self) -> tuple[int, int]:
        """(H, W) the backbone renders for the frame size: padded up to ``size_multiple``."""
        assert self.frame_size is not None, "call build() first"
        m = self.size_multiple
        height, width = self.frame_size
        return (-(-height // m) * m, -(-width // m) * m)

    def modulated_layers(self) -> Mapping[str, ModulatedLayer]:
        """Every layer a hypernetwork head may modulate, by dotted module name (read-only; found once, by
        :meth:`build`, not on every call)."""
        cached = self.__dict__.get("_modulated_layers")
        if cached is None:  # not built yet (or built by an override that skips build())
            cached = self._find_modulated_layers()
            if self.is_built:
                self._modulated_layers = cached
        return MappingProxyType(cached)

    def _find_modulated_layers(self) -> dict[str, ModulatedLayer]:
        return {name: m for name, m in self.named_modules() if isinstance(m, ModulatedLayer)}

    def params_by_layer(self, params: Mapping[str, LayerParams]) -> LayerParamsMap:
        """A hypernetwork head's params (keyed by layer name) keyed by this backbone's layers, as :meth:`forward`
        takes them; a name that is no modulated layer is an :class:`InrzooError`."""
        return LayerParamsMap.by_name(params, self.modulated_layers())

    def keyed_by_layer(self, params: Mapping[ModulatedLayer, LayerParams]) -> Mapping[ModulatedLayer, LayerParams]:
        """``params`` as given; params keyed by layer *name* (what a backbone took before 0.2) keyed by the layers,
        with a DeprecationWarning (until 0.3), rather than silently reaching no layer."""
        if isinstance(params, LayerParamsMap) or not any(isinstance(key, str) for key in params):
            return params
        warnings.warn(
            f"{type(self).__name__} was given params keyed by layer name: key them by the layers "
            "(backbone.params_by_layer(params), or VideoINR.modulation(latents)); name keys are removed in 0.3",
            DeprecationWarning,
            stacklevel=3,
        )
        return self.params_by_layer(params)

    @abstractmethod
    def forward(self, latent: Tensor, params: Mapping[ModulatedLayer, LayerParams]) -> Tensor:
        """Render frames.

        latent: (B, latent_size) (a spatial backbone reshapes it to ``(B, *latent_shape)``);
        params: per-sample parameters for (a subset of) ``modulated_layers()``, keyed by the layers themselves
        (a :class:`LayerParamsMap`, or any mapping: ``{}`` renders unmodulated).
        Returns (B, 3, *render_size()) with values meant to lie in [0, 1].
        """
