"""The BD-rate of benchmarks/rate_distortion.py: what the RD figures in the README are computed with."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import pytest
from helpers import load_benchmark

pytest.importorskip("bjontegaard")


@pytest.fixture(scope="module")
def rate_distortion() -> Iterator[ModuleType]:
    yield from load_benchmark("rate_distortion")


def _curve(points: list[tuple[float, float]]) -> list[dict[str, float]]:
    return [{"bpp": bpp, "psnr": psnr} for bpp, psnr in points]


ANCHOR = _curve([(0.01, 22.0), (0.02, 25.0), (0.04, 28.0), (0.08, 31.0)])


def test_a_curve_at_twice_the_rate_is_plus_100_percent(rate_distortion) -> None:  # noqa: ANN001
    doubled = _curve([(2 * p["bpp"], p["psnr"]) for p in ANCHOR])
    assert rate_distortion.bd_rate(ANCHOR, doubled) == pytest.approx(100.0, abs=0.5)
    assert rate_distortion.bd_rate(ANCHOR, ANCHOR) == pytest.approx(0.0, abs=1e-6)


def test_a_collapsed_fit_far_below_the_anchor_does_not_bend_the_curve(rate_distortion) -> None:  # noqa: ANN001
    test = _curve([(0.03, 23.0), (0.05, 25.5), (0.09, 27.5)])
    collapsed = [*test, {"bpp": 0.004, "psnr": 11.5}]  # a rate term that zeroed the weights
    assert rate_distortion.bd_rate(ANCHOR, collapsed) == pytest.approx(rate_distortion.bd_rate(ANCHOR, test))
    near = [*test, {"bpp": 0.02, "psnr": 21.0}]  # within the margin: a real point of the curve
    assert rate_distortion.bd_rate(ANCHOR, near) != pytest.approx(rate_distortion.bd_rate(ANCHOR, test))
