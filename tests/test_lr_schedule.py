"""The learning-rate schedule: warm-up, a stretch at the peak, then a fall to the floor."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inrzoo.models.lr_schedule import FLOOR, rate_factor


def test_the_default_is_warm_up_then_cosine_to_the_floor() -> None:
    """decay_fraction 1 with a cosine is the schedule every fit used before the option existed."""
    for progress in (0.1, 0.3, 0.55, 0.8, 1.0):
        decay = (progress - 0.1) / 0.9
        expected = FLOOR + (1 - FLOOR) * 0.5 * (1 + math.cos(math.pi * decay))
        assert rate_factor(progress, 0.1) == pytest.approx(expected)
    assert rate_factor(0.05, 0.1) == pytest.approx(0.5)


def test_a_stable_stretch_holds_the_peak_then_falls_linearly() -> None:
    # warm-up 10%, then 90% left: held for the first half of it (to progress 0.55), falling over the second
    assert rate_factor(0.2, 0.1, "linear", 0.5) == 1.0
    assert rate_factor(0.55, 0.1, "linear", 0.5) == pytest.approx(1.0)
    assert rate_factor(0.775, 0.1, "linear", 0.5) == pytest.approx((1 + FLOOR) / 2)
    assert rate_factor(1.0, 0.1, "linear", 0.5) == pytest.approx(FLOOR)


@given(
    warmup=st.floats(0.0, 0.5),
    decay_fraction=st.floats(0.01, 1.0),
    decay=st.sampled_from(["cosine", "linear"]),
    a=st.floats(0.0, 1.0),
    b=st.floats(0.0, 1.0),
)
def test_after_the_warm_up_the_rate_never_rises_and_stays_within_floor_and_peak(
    warmup: float, decay_fraction: float, decay: str, a: float, b: float
) -> None:
    early, late = sorted((warmup + (1 - warmup) * a, warmup + (1 - warmup) * b))
    first, second = rate_factor(early, warmup, decay, decay_fraction), rate_factor(late, warmup, decay, decay_fraction)
    assert FLOOR - 1e-9 <= second <= first + 1e-9 <= 1 + 1e-9
    assert rate_factor(1.0, warmup, decay, decay_fraction) == pytest.approx(FLOOR)
