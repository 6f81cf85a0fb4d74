"""The per-frame latent table: the part of the representation that changes with time."""

from __future__ import annotations

import warnings

import torch
from torch import Tensor, nn

from inrzoo.options import COUNT, check_options, integers, numbers


class LatentDictionary(nn.Module):
    """One learnable latent vector per frame (an ``nn.Embedding``-like table).

    Frames held out of training keep an untrained entry; :meth:`at_times` decodes any
    time from the *trained* entries only, so a held-out frame is never seen.

    Args:
        num_frames: T, rows of the table.
        dim: D, size of each latent.
        init_std: latents start from N(0, init_std^2) (small, as in the Latent-INR paper).
    """

    #: ``dim`` is a spatial latent's whole size (channels x grid), so it may exceed a layer's width.
    option_ranges = {"num_frames": COUNT, "dim": integers(1, 2**24), "init_std": numbers(0, 10)}

    def __init__(self, num_frames: int, dim: int, init_std: float = 0.1) -> None:
        check_options(self, locals())
        super().__init__()
        self.weight = nn.Parameter(init_std * torch.randn(num_frames, dim))
        self.register_buffer("trained", torch.ones(num_frames, dtype=torch.bool))

    @property
    def latents(self) -> LatentDictionary:
        """The dictionary itself: an interpolator written for ``latents_at(model, times)`` (before 0.2) reads
        ``model.latents`` and now receives the dictionary. Deprecated, removed in 0.3."""
        warnings.warn(
            "LatentInterpolator.latents_at receives the LatentDictionary, not the model: use it directly, "
            "not its .latents",
            DeprecationWarning,
            stacklevel=2,
        )
        return self

    @property
    def num_frames(self) -> int:
        return self.weight.shape[0]

    @property
    def dim(self) -> int:
        return self.weight.shape[1]

    def forward(self, indices: Tensor) -> Tensor:
        """indices: (B,) long -> (B, D)."""
        return self.weight[indices]

    def mark_trained(self, indices: list[int]) -> None:
        self.trained.zero_()
        self.trained[torch.as_tensor(indices, dtype=torch.long)] = True

    def at_times(self, times: Tensor) -> Tensor:
        """Latents at (possibly fractional) frame times (B,) by linear blending of the
        nearest trained entries on each side; outside the trained range, the nearest one."""
        left, right, alpha = self.neighbours(times)
        return torch.lerp(self.weight[left], self.weight[right], alpha[:, None])

    def neighbours(self, times: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """For each time: the trained frames on its left and right and its fraction of the way between
        (an exact hit, or a time beyond the ends, gives the same frame twice and fraction 0)."""
        return trained_neighbours(self.trained.to(self.weight.device), times.to(self.weight.device))


def trained_neighbours(trained: Tensor, times: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """:meth:`LatentDictionary.neighbours` from the ``trained`` mask alone (a decoder that has not loaded the
    latents yet asks which rows a time reads)."""
    known = torch.nonzero(trained, as_tuple=False).flatten()
    times = times.to(torch.float32)
    right = torch.searchsorted(known.float(), times).clamp(max=len(known) - 1)
    left = (right - 1).clamp(min=0)
    # An exact hit (or a time beyond the ends) uses one entry.
    exact = known[right].float() <= times
    left = torch.where(exact, right, left)
    t_left, t_right = known[left].float(), known[right].float()
    span = (t_right - t_left).clamp(min=1e-8)
    alpha = ((times - t_left) / span).clamp(0, 1).where(t_right > t_left, torch.zeros_like(times))
    return known[left], known[right], alpha
