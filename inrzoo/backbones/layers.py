"""Layers whose weights a hypernetwork can replace per sample.

A modulated layer owns a *base* weight and bias (shared by all frames). A hypernetwork
head turns a frame's latent into per-sample parameters (:class:`LayerParams`) derived
from that base; the layer then applies sample ``b``'s parameters to sample ``b``'s input.
Keeping the base inside the layer lets every head (full, low-rank, FiLM) share one
contract: ``(latent, base weight, base bias) -> per-sample weight, bias``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from inrzoo.errors import InrzooError


@dataclass
class LayerParams:
    """Per-sample parameters for one modulated layer.

    weight: (B, *base_weight.shape), or None with ``out_scale``; bias: (B, out_features) or None.
    out_scale: (B, out_features): the per-sample weight is the base weight with each output row scaled
        (FiLM). A conv then runs one ordinary batched conv and scales its output instead of a grouped
        conv per sample (the same result, far faster on a CPU); a linear layer builds the small weight.
    """

    weight: Tensor | None
    bias: Tensor | None
    out_scale: Tensor | None = None

    def __post_init__(self) -> None:
        if self.weight is None and self.out_scale is None:
            raise ValueError("LayerParams needs a per-sample weight or an out_scale")

    def dense_weight(self, base_weight: Tensor) -> Tensor:
        """The per-sample weight as a tensor (B, *base_weight.shape), whichever form it was given in."""
        if self.weight is not None:
            return self.weight
        assert self.out_scale is not None
        return self.out_scale.reshape(*self.out_scale.shape, *([1] * (base_weight.dim() - 1))) * base_weight


class ModulatedLayer(nn.Module):
    """Marker base: a layer with ``weight`` (out, in, ...) and ``bias`` (out,) that
    accepts optional per-sample :class:`LayerParams`."""

    weight: nn.Parameter
    bias: nn.Parameter | None

    @property
    def out_features(self) -> int:
        return self.weight.shape[0]

    @property
    def fan_in(self) -> int:
        return int(self.weight[0].numel())


def _listing(layers: Mapping[str, ModulatedLayer]) -> str:
    return ", ".join(layers) or "none"


class LayerParamsMap(Mapping[ModulatedLayer, LayerParams]):
    """Per-sample params keyed by the modulated layer they are for: what a backbone's ``forward`` receives.

    A backbone looks its layers' params up by the layer itself (``params.get(self.head)``; None: the layer runs
    unmodulated). A key that is not one of the backbone's modulated layers is an :class:`InrzooError`, never a
    silently unmodulated layer. Lookup by dotted name (``params.get("head")``, the contract before 0.2) still
    works until 0.3, with a DeprecationWarning.

    Args:
        params: the params, keyed by layer.
        layers: every modulated layer of the backbone, by dotted name (:meth:`INRBackbone.modulated_layers`).
    """

    def __init__(self, params: Mapping[ModulatedLayer, LayerParams], layers: Mapping[str, ModulatedLayer]) -> None:
        self._layers = layers
        self._names_by_layer: dict[ModulatedLayer, str] | None = None
        for layer in params:
            self._known(layer)
        self._params = dict(params)

    @classmethod
    def by_name(cls, params: Mapping[str, LayerParams], layers: Mapping[str, ModulatedLayer]) -> LayerParamsMap:
        """A hypernetwork head's params (keyed by layer name) keyed by the layers of ``layers`` they name."""
        unknown = [name for name in params if name not in layers]
        if unknown:
            raise InrzooError(
                f"hypernetwork params for {', '.join(map(repr, unknown))}: no modulated layer has that name; "
                f"the backbone's modulated layers are: {_listing(layers)}"
            )
        return cls({layers[name]: p for name, p in params.items()}, layers)

    def name_of(self, layer: ModulatedLayer) -> str:
        """The dotted name of one of the backbone's modulated layers."""
        return self._names()[self._known(layer)]

    def _names(self) -> dict[ModulatedLayer, str]:
        if self._names_by_layer is None:
            self._names_by_layer = {layer: name for name, layer in self._layers.items()}
        return self._names_by_layer

    def _known(self, layer: ModulatedLayer) -> ModulatedLayer:
        if layer not in self._names():
            raise InrzooError(
                f"a {type(layer).__name__} that is not one of the backbone's modulated layers was given or looked "
                f"up as a key of its params; its modulated layers are: {_listing(self._layers)}"
            )
        return layer

    def _layer(self, key: ModulatedLayer | str) -> ModulatedLayer:
        if not isinstance(key, str):
            return key if key in self._params else self._known(key)
        layer = self._layers.get(key)
        if layer is None:
            raise InrzooError(f"params looked up for {key!r}: no modulated layer has that name; the backbone's "
                              f"modulated layers are: {_listing(self._layers)}")  # fmt: skip
        warnings.warn(
            f"looking up a layer's params by name ({key!r}) is deprecated: look them up by the layer itself, "
            "e.g. params.get(self.head) (removed in 0.3)",
            DeprecationWarning,
            stacklevel=3,
        )
        return layer

    def __getitem__(self, key: ModulatedLayer | str) -> LayerParams:
        return self._params[self._layer(key)]

    def get(self, key: ModulatedLayer | str, default: LayerParams | None = None) -> LayerParams | None:
        return self._params.get(self._layer(key), default)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, (ModulatedLayer, str)) and self._layer(key) in self._params

    def __iter__(self) -> Iterator[ModulatedLayer]:
        return iter(self._params)

    def __len__(self) -> int:
        return len(self._params)

    def __repr__(self) -> str:
        return f"LayerParamsMap({', '.join(self.name_of(layer) for layer in self._params)})"


class ModulatedLinear(ModulatedLayer):
    """Linear layer over ``x: (B, N, in)`` with optional per-sample weights."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        self.bias = nn.Parameter(torch.empty(out_features)) if bias else None
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(in_features)
            nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Tensor, params: LayerParams | None = None) -> Tensor:
        if params is None:
            return F.linear(x, self.weight, self.bias)
        # A row-scaled base weight is built per sample here: the weight is small next to the N queries,
        # and scaling the (B, N, out) output instead would cost two more passes over it.
        weight = params.dense_weight(self.weight)
        out = torch.bmm(x, weight.transpose(1, 2))
        if params.bias is not None:
            out = out + params.bias[:, None, :]
        return out


class ModulatedConv2d(ModulatedLayer):
    """Conv2d over ``x: (B, C, H, W)``; per-sample weights run as one grouped conv."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, bias: bool = True) -> None:
        super().__init__()
        self.padding = kernel_size // 2
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(in_channels * kernel_size * kernel_size)
            nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Tensor, params: LayerParams | None = None) -> Tensor:
        if params is None:
            return F.conv2d(x, self.weight, self.bias, padding=self.padding)
        if params.weight is None:  # row-scaled base weight: scale the shared conv's output
            out = F.conv2d(x, self.weight, padding=self.padding) * params.out_scale[:, :, None, None]
            return out + params.bias[:, :, None, None] if params.bias is not None else out
        batch, channels, height, width = x.shape
        weight = params.weight.reshape(-1, *params.weight.shape[2:])
        bias = params.bias.reshape(-1) if params.bias is not None else None
        out = F.conv2d(x.reshape(1, batch * channels, height, width), weight, bias, padding=self.padding, groups=batch)
        return out.reshape(batch, -1, height, width)


def crop_to(x: Tensor, height: int, width: int) -> Tensor:
    """``x`` (..., H, W) cut to its first ``height`` rows and ``width`` columns (a side already no longer stays, as
    with ``x[..., :height, :width]``), as a negative pad: the gradient of an indexed slice comes back in NCHW order
    whatever the activations' order, so every backward op of a channels_last decoder behind it ran on mixed
    layouts; the pad's gradient keeps the activations' order."""
    extra_rows, extra_columns = max(0, x.shape[-2] - height), max(0, x.shape[-1] - width)
    if extra_rows == 0 and extra_columns == 0:
        return x
    return F.pad(x, (0, -extra_columns, 0, -extra_rows))


class UpsampleBlock(nn.Module):
    """conv (C_in -> C_out * s^2, modulated) -> PixelShuffle(s) -> GELU: the NeRV-family upsampling block."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, kernel_size: int) -> None:
        super().__init__()
        self.conv = ModulatedConv2d(in_channels, out_channels * stride * stride, kernel_size)
        self.shuffle = nn.PixelShuffle(stride)

    def forward(self, x: Tensor, params: LayerParams | None) -> Tensor:
        return F.gelu(self.shuffle(self.conv(x, params)))
