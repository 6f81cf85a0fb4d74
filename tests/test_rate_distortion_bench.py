"""``benchmarks/rate_distortion.py`` fits the model the bench sized, not a neighbour of it."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from helpers import load_benchmark

from inrzoo.bench import size_to_budget
from inrzoo.bench.sizing import training_recipe
from inrzoo.models import VideoINR


@pytest.fixture(scope="module")
def rate_distortion() -> Iterator[ModuleType]:
    yield from load_benchmark("rate_distortion")


def _instantiate(value: Any) -> Any:
    """A ``class_path`` + ``init_args`` dict as the CLI would build it (the plugins here take plain values)."""
    if not (isinstance(value, dict) and "class_path" in value):
        return value
    module, _, name = value["class_path"].rpartition(".")
    cls = getattr(importlib.import_module(module), name)
    return cls(**{key: _instantiate(arg) for key, arg in (value.get("init_args") or {}).items()})


@pytest.mark.parametrize("backbone", ["hnerv", "nerv-conv"])
def test_the_fitted_config_has_the_sized_parameter_count(rate_distortion: ModuleType, backbone: str) -> None:
    """The override goes over the quickstart config, whose head sits on two named layers: the sized member's
    own layers (here the RGB conv only) must win, or the file holds a larger model than the budget says."""
    frames, size = 24, (90, 160)
    sized = size_to_budget(backbone, 30_000, frames, size, hypernet="film")
    config = rate_distortion.sized_config(backbone, "film", 30_000, frames, resize=size)
    init_args = {key: _instantiate(value) for key, value in config["model"]["init_args"].items()}
    model = VideoINR(**init_args, num_frames=frames, frame_size=size)
    assert model.parameter_count() == sized.params
    assert model.hypernet.layer_names == sized.build(frames, size).hypernet.layer_names
    # ... and trains with the backbone's recommended recipe, optimiser settings included
    assert model.adam_betas == tuple(training_recipe(backbone).get("adam_betas", (0.9, 0.999)))


@pytest.mark.parametrize("backbone", ["siren", "grid-mlp", "hnerv"])
def test_the_fitted_config_samples_pixels_as_the_bench_does(rate_distortion: ModuleType, backbone: str) -> None:
    """A coordinate MLP is fitted on its recommended pixel sample, as in ``inrzoo bench``; never under a rate term
    (which decodes whole frames), and never for a conv decoder."""
    frames, size = 24, (90, 160)
    expected = training_recipe(backbone).get("sampled_pixels")
    assert (expected is not None) == (backbone != "hnerv")
    plain = rate_distortion.sized_config(backbone, "film", 30_000, frames, resize=size)
    model = VideoINR(**{k: _instantiate(v) for k, v in plain["model"]["init_args"].items()}, num_frames=frames,
                     frame_size=size)  # fmt: skip
    assert model.sampled_pixels == expected
    rated = rate_distortion.sized_config(backbone, "film", 30_000, frames, lmbda=0.01, resize=size)
    assert rated["model"]["init_args"]["sampled_pixels"] is None
