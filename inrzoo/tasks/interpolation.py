"""Frame interpolation: latents for in-between times, decoded by the same hypernetworks.

Only the *trained* latents are ever used (held-out frames keep untrained entries), so a frame
held out of the fit is predicted, never looked up. At a trained frame's own time every
interpolator returns that frame's latent exactly.
"""

from __future__ import annotations

import warnings
from abc import abstractmethod
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from inrzoo.options import LEARNING_RATE, WIDTH, check_options, integers
from inrzoo.tasks.base import TaskHead
from inrzoo.tasks.registry import register_task

if TYPE_CHECKING:  # the model layer sits above the plugin kinds: its types only
    from inrzoo.models.latent_dictionary import LatentDictionary


class LatentInterpolator(TaskHead):
    """Latents at any (fractional) frame time from the trained latents around it."""

    task = "interpolation"

    def fit(self, latents: Tensor, times: Tensor) -> LatentInterpolator:
        """Learn from the trained latents (T_train, D) at their frame ``times``; fixed rules need nothing."""
        return self

    @abstractmethod
    def blend(self, left: Tensor, right: Tensor, alpha: Tensor, span: Tensor | None = None) -> Tensor:
        """(B, D) latents either side, (B,) fractions in [0, 1] and (B,) frame distances between the two
        -> (B, D); alpha 0 must give ``left``."""

    @torch.no_grad()
    def latents_at(self, latents: LatentDictionary, times: Tensor) -> Tensor:
        """Latents (B, D) at frame ``times`` (B,) from the trained entries of ``latents``."""
        latents = _latent_dictionary(latents, "LatentInterpolator.latents_at")
        left, right, alpha = latents.neighbours(times)
        weight = latents.weight
        blended = self.blend(weight[left], weight[right], alpha, (right - left).float())
        exact = alpha == 0
        return torch.where(exact[:, None], weight[left], blended)  # a trained frame's own latent, bit for bit


@register_task("linear")
class LinearInterpolator(LatentInterpolator):
    """z(t) = (1 - a) z_left + a z_right (the Latent-INR paper's choice)."""

    def blend(self, left: Tensor, right: Tensor, alpha: Tensor, span: Tensor | None = None) -> Tensor:
        return torch.lerp(left, right, alpha[:, None])


@register_task("slerp")
class SlerpInterpolator(LatentInterpolator):
    """Spherical interpolation of the direction, linear interpolation of the norm: keeps in-between
    latents as long as their neighbours (a linear blend of two different directions is shorter)."""

    def blend(self, left: Tensor, right: Tensor, alpha: Tensor, span: Tensor | None = None) -> Tensor:
        a = alpha[:, None]
        norm_l, norm_r = left.norm(dim=-1, keepdim=True), right.norm(dim=-1, keepdim=True)
        unit_l, unit_r = left / norm_l.clamp(min=1e-8), right / norm_r.clamp(min=1e-8)
        cos = (unit_l * unit_r).sum(-1, keepdim=True).clamp(-1 + 1e-6, 1 - 1e-6)
        omega = torch.acos(cos)
        sin = torch.sin(omega)
        direction = torch.where(
            sin > 1e-4,
            (torch.sin((1 - a) * omega) * unit_l + torch.sin(a * omega) * unit_r) / sin.clamp(min=1e-8),
            torch.lerp(unit_l, unit_r, a),
        )
        return direction * torch.lerp(norm_l, norm_r, a)


@register_task("temporal-mlp")
class TemporalMLPInterpolator(LatentInterpolator):
    """Linear blend plus a learned correction from the two neighbours, zero at the endpoints.

    Trained only on the trained latents: each interior trained frame is predicted from the
    trained frames either side of it, which are twice as far apart as the neighbours of a
    held-out frame; the correction (a curvature term) is scaled by (span / training span)^2.

    Args:
        hidden: hidden units of the correction MLP.
        steps: Adam steps of its fit.
        learning_rate: its learning rate.
    """

    option_ranges = {"hidden": WIDTH, "steps": integers(0, 10**7), "learning_rate": LEARNING_RATE}

    def __init__(self, hidden: int = 64, steps: int = 500, learning_rate: float = 3e-3) -> None:
        check_options(self, locals())
        super().__init__()
        self.hidden = hidden
        self.steps = steps
        self.learning_rate = learning_rate
        self.net: nn.Sequential | None = None
        self.train_span = 1.0

    def _correction(self, left: Tensor, right: Tensor, alpha: Tensor) -> Tensor:
        assert self.net is not None
        a = alpha[:, None]
        return 4 * a * (1 - a) * self.net(torch.cat([left, right, a], dim=-1))

    def fit(self, latents: Tensor, times: Tensor) -> TemporalMLPInterpolator:
        latents, times = latents.detach().float(), times.float()
        dim = latents.shape[1]
        generator_state = torch.random.get_rng_state()
        torch.manual_seed(0)  # the same latents give the same interpolator
        self.net = nn.Sequential(nn.Linear(2 * dim + 1, self.hidden), nn.GELU(), nn.Linear(self.hidden, dim))
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)
        torch.random.set_rng_state(generator_state)
        if latents.shape[0] < 3:
            return self  # nothing to learn from: the correction stays zero (linear)
        self.train_span = float((times[2:] - times[:-2]).median())
        left, middle, right = latents[:-2], latents[1:-1], latents[2:]
        alpha = (times[1:-1] - times[:-2]) / (times[2:] - times[:-2])
        optimizer = torch.optim.Adam(self.net.parameters(), lr=self.learning_rate)
        with torch.enable_grad():
            for _ in range(self.steps):
                optimizer.zero_grad()
                prediction = torch.lerp(left, right, alpha[:, None]) + self._correction(left, right, alpha)
                F.mse_loss(prediction, middle).backward()
                optimizer.step()
        return self

    def blend(self, left: Tensor, right: Tensor, alpha: Tensor, span: Tensor | None = None) -> Tensor:
        linear = torch.lerp(left, right, alpha[:, None])
        if self.net is None:
            return linear
        self.net.to(left.device)
        scale = 1.0 if span is None else ((span / self.train_span) ** 2)[:, None]
        return linear + scale * self._correction(left, right, alpha)


def fit_interpolator(interpolator: LatentInterpolator, latents: LatentDictionary) -> LatentInterpolator:
    """Fit on the trained entries of ``latents`` only."""
    latents = _latent_dictionary(latents, "fit_interpolator")
    trained = torch.nonzero(latents.trained, as_tuple=False).flatten()
    return interpolator.fit(latents.weight[trained].detach().cpu(), trained.float().cpu())


def _latent_dictionary(latents: LatentDictionary, caller: str) -> LatentDictionary:
    """``latents`` itself; given a model (what ``caller`` took before 0.2), the model's dictionary, with a
    DeprecationWarning (removed in 0.3)."""
    if hasattr(latents, "neighbours"):
        return latents
    dictionary = getattr(latents, "latents", None)
    if dictionary is None or not hasattr(dictionary, "neighbours"):
        raise TypeError(f"{caller} takes a LatentDictionary, got {type(latents).__name__}")
    warnings.warn(
        f"{caller}(model, ...) is deprecated: pass the model's LatentDictionary (model.latents)",
        DeprecationWarning,
        stacklevel=3,
    )
    return dictionary
