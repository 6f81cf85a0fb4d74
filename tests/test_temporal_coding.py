"""Latents coded across time: exact, smaller for latents that change slowly, and random access within a GOP."""

from __future__ import annotations

import numpy as np
import pytest

from inrzoo.compression.temporal import TemporalModel, changes, decode_gop, encode_gops, fit_model, gop_ranges


def _random_walk(frames: int = 30, width: int = 12, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    start = rng.integers(-20, 20, size=(1, width))
    return (start + np.cumsum(rng.integers(-1, 2, size=(frames, width)), axis=0)).astype(np.int64)


def _decode_all(chunks: list[bytes], model: TemporalModel, frames: int, width: int, gop: int) -> np.ndarray:
    parts = [
        decode_gop(chunk, r.start, len(r), width, gop, model)
        for chunk, r in zip(chunks, gop_ranges(frames, gop), strict=True)
    ]
    return np.concatenate(parts)


@pytest.mark.parametrize("gop", [1, 4, 7, 30, 100])
def test_every_gop_round_trips_exactly(gop: int) -> None:
    symbols = _random_walk()
    model = fit_model(symbols, gop)
    chunks = encode_gops(symbols, gop, model)
    assert len(chunks) == len(gop_ranges(30, gop)) == -(-30 // gop)
    assert np.array_equal(_decode_all(chunks, model, 30, 12, gop), symbols)


def test_a_frame_decodes_from_its_own_gop_alone() -> None:
    symbols, gop = _random_walk(), 8
    model = fit_model(symbols, gop)
    chunks = encode_gops(symbols, gop, model)
    for k in (0, 5, 8, 13, 29):
        first = k // gop * gop
        rows = decode_gop(chunks[k // gop], first, k - first + 1, 12, gop, model)
        assert rows.shape[0] <= gop and np.array_equal(rows[-1], symbols[k]), k


def test_slowly_changing_latents_cost_less_with_prediction() -> None:
    symbols = _random_walk(frames=64, width=32)
    sizes = {gop: sum(len(c) for c in encode_gops(symbols, gop, fit_model(symbols, gop))) for gop in (1, 8, 64)}
    assert sizes[64] < sizes[8] < sizes[1], sizes


def test_changes_are_symbols_at_keys_and_differences_elsewhere() -> None:
    symbols = np.arange(12).reshape(6, 2) ** 2
    coded = changes(symbols, 3)
    assert np.array_equal(coded[[0, 3]], symbols[[0, 3]])
    assert np.array_equal(coded[[1, 2, 4, 5]], symbols[[1, 2, 4, 5]] - symbols[[0, 1, 3, 4]])


def test_constant_latents_cost_nothing_but_their_model() -> None:
    symbols = np.full((10, 4), 3)
    model = fit_model(symbols, 5)
    chunks = encode_gops(symbols, 5, model)
    assert np.array_equal(_decode_all(chunks, model, 10, 4, 5), symbols)
    assert TemporalModel.from_bytes(model.to_bytes()) == model and model.size == 32
