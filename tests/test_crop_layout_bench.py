"""``benchmarks/crop_layout.py``'s "before" variant really crops as hnerv did (an indexed slice, NCHW gradients),
and hnerv crops with :func:`crop_to` again once it is over."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import pytest
from helpers import block_gradients_channels_last, load_benchmark

import inrzoo.backbones.hnerv as hnerv_module
from inrzoo.backbones.hnerv import HNeRVBackbone
from inrzoo.backbones.layers import crop_to


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    yield from load_benchmark("crop_layout")


def _trimmed_hnerv() -> HNeRVBackbone:
    return HNeRVBackbone(channels=(8, 8), strides=(5, 2), head_stride=2, trim_padding=True).build(4, (30, 50))


def test_the_indexed_slice_variant_is_the_old_crop_and_ends(bench: ModuleType) -> None:
    with bench.indexed_slice():
        assert block_gradients_channels_last(_trimmed_hnerv()) == [False, False]
    assert hnerv_module.crop_to is crop_to
    assert block_gradients_channels_last(_trimmed_hnerv()) == [True, True]
