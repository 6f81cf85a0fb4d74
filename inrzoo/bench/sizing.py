"""Size a backbone + hypernetwork head to a total parameter budget, so combinations compare at equal size.

Each backbone declares a one-knob size family (:meth:`INRBackbone.scaled_kwargs`); a
bisection on the scale finds the member whose total parameter count (latents + head +
backbone: everything a decoder has to store) is nearest the budget.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

from inrzoo.backbones import BACKBONES, create_backbone
from inrzoo.backbones.layers import ModulatedConv2d
from inrzoo.errors import InrzooError
from inrzoo.hypernets import HYPERNETS, create_hypernet
from inrzoo.models import FrameEncoder, VideoINR
from inrzoo.models.pixel_sampling import renders_sampled_pixels

#: The head width stays fixed (the quickstart's); the backbone grows, with the latent its family gives
#: each size (``scaled_latent_dim``: the ``recommended_latent_dim`` unless the family widens it).
HYPERNET_HIDDEN = 32


class SizingError(InrzooError):
    """No member of the backbone's size family is near enough to the budget."""


@dataclass
class SizedModel:
    """An architecture that hits a parameter budget, and the recipe to build it again."""

    backbone: str
    hypernet: str
    budget: int
    params: int
    backbone_kwargs: dict[str, Any]
    hypernet_kwargs: dict[str, Any] = field(default_factory=dict)
    latent_dim: int = 32

    def build(self, num_frames: int, frame_size: tuple[int, int], **model_kwargs: Any) -> VideoINR:
        """A fresh (untrained) model; ``model_kwargs`` go to :class:`VideoINR` (learning rate, ...). Conv decoders
        keep channels_last unless told otherwise: the same numbers, and 10-25% faster steps at these sizes on a
        CPU (benchmarks/README.md), which a time-bounded tier turns into more steps."""
        encoder = BACKBONES.get(self.backbone).recommended_frame_encoder
        model_kwargs.setdefault("channels_last", is_conv_decoder(self.backbone))
        return VideoINR(
            backbone=create_backbone(self.backbone, **self.backbone_kwargs),
            frame_encoder=FrameEncoder(**encoder) if encoder is not None else None,
            hypernet=create_hypernet(self.hypernet, **self.hypernet_kwargs),
            latent_dim=self.latent_dim,
            num_frames=num_frames,
            frame_size=frame_size,
            **model_kwargs,
        )


def is_conv_decoder(backbone: str) -> bool:
    """Whether ``backbone`` modulates conv layers (its activations are images, which NHWC order suits)."""
    types = getattr(BACKBONES.get(backbone), "modulated_layer_types", ())
    return any(issubclass(t, ModulatedConv2d) for t in types)


def can_sample_pixels(backbone: str) -> bool:
    """Whether ``backbone`` can render a random sample of a frame's pixels (``VideoINR(sampled_pixels=...)``)."""
    return renders_sampled_pixels(BACKBONES.get(backbone))


def training_recipe(backbone: str) -> dict[str, Any]:
    """Batch size, learning rate and any other :class:`VideoINR` training argument (``adam_betas``; a coordinate
    MLP's ``sampled_pixels``) a fit of ``backbone`` uses unless told otherwise: its ``recommended_training`` over
    the defaults (batch 1, lr 1e-3) for backbones that declare none."""
    return {"batch_size": 1, "learning_rate": 1e-3, **BACKBONES.get(backbone).recommended_training}


def recipe_model_kwargs(training: dict[str, Any]) -> dict[str, Any]:
    """The part of a :func:`training_recipe` that goes to :class:`VideoINR` (all but the data's batch size)."""
    return {key: value for key, value in training.items() if key != "batch_size"}


def has_size_family(backbone: str) -> bool:
    target = BACKBONES.get(backbone)
    return isinstance(target, type) and target.scaled_kwargs(1.0) is not None


def bench_hypernet_kwargs(hypernet: str, backbone: str | None = None) -> dict[str, Any]:
    """Every head at the same width, where the head has a ``hidden`` argument (third-party heads may not), on the
    backbone's ``recommended_modulated_layers`` where it names some and the head takes a ``layers`` argument."""
    target = HYPERNETS.get(hypernet)
    try:
        accepted = inspect.signature(target).parameters
    except (TypeError, ValueError):
        accepted = {}
    kwargs: dict[str, Any] = {"hidden": HYPERNET_HIDDEN} if "hidden" in accepted else {}
    layers = getattr(BACKBONES.get(backbone), "recommended_modulated_layers", None) if backbone else None
    if layers is not None and "layers" in accepted:
        kwargs["layers"] = list(layers)
    return kwargs


def size_to_budget(
    backbone: str,
    budget: int,
    num_frames: int,
    frame_size: tuple[int, int],
    hypernet: str = "film",
    tolerance: float = 0.1,
) -> SizedModel:
    """The member of ``backbone``'s family whose total parameter count is nearest ``budget``.

    Raises :class:`SizingError` if the nearest is off by more than ``tolerance`` (relative):
    rounding channels makes the count a step function, and a silently oversized model
    would skew the comparison.
    """
    target = BACKBONES.get(backbone)
    if not has_size_family(backbone):
        raise SizingError(
            f"backbone {backbone!r} declares no size family; give {getattr(target, '__qualname__', target)} "
            "a scaled_kwargs(scale) classmethod to take part in sized benchmarks"
        )
    hypernet_kwargs = bench_hypernet_kwargs(hypernet, backbone)

    def sized(scale: float) -> SizedModel:
        kwargs = target.scaled_kwargs(scale)
        probe = SizedModel(backbone, hypernet, budget, 0, kwargs, hypernet_kwargs, target.scaled_latent_dim(scale))
        probe.params = probe.build(num_frames, frame_size).parameter_count()
        return probe

    low, high = 0.05, 64.0
    best = sized(low)
    if best.params > budget * (1 + tolerance):
        raise SizingError(
            f"the smallest {backbone}+{hypernet} has {best.params:,} parameters, over the budget of {budget:,}; "
            "raise the budget"
        )
    for _ in range(30):
        mid = (low * high) ** 0.5  # geometric: the scale spans three orders of magnitude
        candidate = sized(mid)
        if abs(candidate.params - budget) < abs(best.params - budget):
            best = candidate
        if candidate.params < budget:
            low = mid
        else:
            high = mid
        if high / low < 1.001:
            break
    if abs(best.params - budget) > tolerance * budget:
        raise SizingError(
            f"the {backbone}+{hypernet} nearest to {budget:,} parameters has {best.params:,} "
            f"({best.backbone_kwargs}); outside the {tolerance:.0%} tolerance"
        )
    return best
