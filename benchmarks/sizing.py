"""Size a backbone + hypernetwork to a total parameter budget, so combos compare at equal size.

Each backbone gets a one-knob family ``scale -> architecture`` (wider/more channels as the
scale grows); a bisection on the scale finds the member whose total parameter count
(latents + hypernetwork + backbone, what a decoder has to store) is nearest the budget.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from inrzoo.backbones import BACKBONES, CoordinateMLP, create_backbone
from inrzoo.errors import InrzooError
from inrzoo.hypernets import create_hypernet
from inrzoo.models import VideoINR

#: The latent size and hypernetwork width stay fixed (the quickstart's): only the backbone grows.
LATENT_DIM = 32
HYPERNET_HIDDEN = 32


def nerv_family(scale: float) -> dict[str, Any]:
    """nerv-conv at the quickstart's proportions: scale 4 is channels (24, 16, 12), stem 16."""
    return {
        "channels": tuple(max(2, round(c * scale)) for c in (6, 4, 3)),
        "strides": (5, 2, 2),
        "stem_channels": max(2, round(4 * scale)),
    }


def mlp_family(scale: float) -> dict[str, Any]:
    """Coordinate MLPs: 4 layers, width 16 x scale (depth fixed: width is the cheaper knob to scan)."""
    return {"width": max(4, round(16 * scale)), "depth": 4}


def grid_family(scale: float) -> dict[str, Any]:
    """grid-mlp: the grids' finest level (16 x scale cells on the short side) and the MLP width grow together."""
    return {"width": max(8, round(8 * scale)), "depth": 2, "finest_resolution": max(8, round(16 * scale))}


FAMILIES: dict[str, Callable[[float], dict[str, Any]]] = {
    "nerv-conv": nerv_family,
    "grid-mlp": grid_family,
    "siren": mlp_family,
    "fourier-mlp": mlp_family,
}


def family_for(backbone: str) -> Callable[[float], dict[str, Any]] | None:
    """The size family of a registered backbone: by name, else any coordinate MLP (plugins included)."""
    if backbone in FAMILIES:
        return FAMILIES[backbone]
    target = BACKBONES.get(backbone)
    if isinstance(target, type) and issubclass(target, CoordinateMLP):
        return mlp_family
    return None


@dataclass
class SizedModel:
    """An architecture that hits a parameter budget, and the recipe to build it again."""

    backbone: str
    hypernet: str
    budget: int
    params: int
    backbone_kwargs: dict[str, Any]
    hypernet_kwargs: dict[str, Any] = field(default_factory=dict)
    latent_dim: int = LATENT_DIM

    def build(self, num_frames: int, frame_size: tuple[int, int], **model_kwargs: Any) -> VideoINR:
        """A fresh (untrained) model; ``model_kwargs`` go to :class:`VideoINR` (learning rate, ...)."""
        return VideoINR(
            backbone=create_backbone(self.backbone, **self.backbone_kwargs),
            hypernet=create_hypernet(self.hypernet, **self.hypernet_kwargs),
            latent_dim=self.latent_dim,
            num_frames=num_frames,
            frame_size=frame_size,
            **model_kwargs,
        )


def size_to_budget(
    backbone: str,
    budget: int,
    num_frames: int,
    frame_size: tuple[int, int],
    hypernet: str = "film",
    tolerance: float = 0.1,
) -> SizedModel:
    """The member of ``backbone``'s family whose total parameter count is nearest ``budget``.

    Raises if the nearest is off by more than ``tolerance`` (relative): rounding channels
    makes the count a step function, and a silently oversized model would skew the comparison.
    """
    family = family_for(backbone)
    if family is None:
        raise InrzooError(f"no size family for backbone {backbone!r}; add one to benchmarks/sizing.py FAMILIES")
    hypernet_kwargs = {"hidden": HYPERNET_HIDDEN}

    def sized(scale: float) -> SizedModel:
        kwargs = family(scale)
        probe = SizedModel(backbone, hypernet, budget, 0, kwargs, hypernet_kwargs)
        probe.params = probe.build(num_frames, frame_size).parameter_count()
        return probe

    low, high = 0.05, 64.0
    best = sized(low)
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
        raise InrzooError(
            f"{backbone}+{hypernet}: nearest size to {budget} parameters is {best.params} "
            f"({best.backbone_kwargs}); outside the {tolerance:.0%} tolerance"
        )
    return best
