"""The learning-rate schedule of a fit: warm-up, an optional stretch at the peak, then a decay to 1%.

A short fit (the cpu tier's ~1,500 steps) gains from holding the peak rate longer than a cosine does and then
decaying straight to the floor ("warm-up, stable, decay"): +0.2 to +0.3 dB for hnerv, nerv-conv and hinerv on
Bunny, bikes and carphone at 1,500 steps (benchmarks/README.md, "A stable stretch before the decay").
"""

from __future__ import annotations

import math
from typing import Literal, get_args

#: The rate the decay ends at, as a share of the peak: low enough to settle, high enough that the last steps
#: still move the weights (a resumed or extended fit is not frozen).
FLOOR = 0.01

DecayShape = Literal["cosine", "linear"]
DECAY_SHAPES: tuple[str, ...] = get_args(DecayShape)
#: What tells a fit how far along it is: its planned steps, or the share of its time budget used.
ScheduleClock = Literal["steps", "time"]
SCHEDULE_CLOCKS: tuple[str, ...] = get_args(ScheduleClock)


def rate_factor(
    progress: float, warmup_fraction: float, decay: DecayShape = "cosine", decay_fraction: float = 1.0
) -> float:
    """The learning rate as a share of its peak, ``progress`` (in [0, 1]) of the way through training.

    Args:
        progress: share of the steps (or of the time budget) done.
        warmup_fraction: share spent rising linearly to the peak.
        decay: the shape of the fall from the peak to :data:`FLOOR`.
        decay_fraction: share of the steps after the warm-up over which the rate falls; before that it holds the
            peak (1.0: it falls from the end of the warm-up on, the classic warm-up + cosine).
    """
    if progress < warmup_fraction:
        return max(progress / warmup_fraction, 1e-3)
    after_warmup = (progress - warmup_fraction) / max(1e-8, 1 - warmup_fraction)
    held = 1 - decay_fraction
    if after_warmup <= held:
        return 1.0
    fallen = min(1.0, (after_warmup - held) / max(1e-8, decay_fraction))
    remaining = 0.5 * (1 + math.cos(math.pi * fallen)) if decay == "cosine" else 1 - fallen
    return FLOOR + (1 - FLOOR) * remaining
