"""Benchmark tiers: how much video, model and time one ``inrzoo bench`` run uses."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tier:
    """One tier's defaults; every field can be overridden on the command line.

    A fit stops after ``fit_seconds`` of wall clock (equal time per combination) or, when
    ``fit_steps`` is set, after that many optimiser steps (deterministic: the smoke tier).
    """

    video: str
    resize: tuple[int, int] | None
    max_frames: int | None
    budgets: tuple[int, ...]
    fit_seconds: float | None
    fit_steps: int | None
    crfs: tuple[int, ...]


TIERS: dict[str, Tier] = {
    # CI: checks the pipeline end to end in seconds per combination; the numbers mean nothing.
    "smoke": Tier(
        video="sample:carphone", resize=(40, 48), max_frames=6, budgets=(80_000,), fit_seconds=None, fit_steps=3,
        crfs=(26, 38),
    ),
    # CI's quality gate: every built-in combination for a fixed step count (deterministic on one machine
    # kind), compared with the committed benchmarks/results/bench_ci/bench.json; a few minutes in all.
    "ci": Tier(
        video="sample:bunny", resize=(90, 160), max_frames=24, budgets=(30_000,), fit_seconds=None, fit_steps=150,
        crfs=(26, 38),
    ),
    # This 2-core machine: Bunny at 180x320, ~100k parameters, 35 s per combination (~12 min for 4 x 3).
    "cpu": Tier(
        video="sample:bunny", resize=(180, 320), max_frames=None, budgets=(100_000,), fit_seconds=35.0, fit_steps=None,
        crfs=(18, 22, 26, 30, 34, 38, 42),
    ),
}  # fmt: skip
