"""Which backbone x hypernetwork-head combinations a benchmark runs, and which it must skip (and why)."""

from __future__ import annotations

from dataclasses import dataclass

from inrzoo.backbones import BACKBONES
from inrzoo.bench.sizing import has_size_family
from inrzoo.compat import incompatibility
from inrzoo.errors import InrzooError
from inrzoo.hypernets import HYPERNETS
from inrzoo.registry import Registry


@dataclass(frozen=True)
class Combination:
    backbone: str
    hypernet: str

    @property
    def name(self) -> str:
        return f"{self.backbone}+{self.hypernet}"


@dataclass(frozen=True)
class SkippedCombination:
    backbone: str
    hypernet: str
    reason: str


def split_patterns(patterns: str) -> list[str]:
    """``"siren*,nerv-conv"`` -> ``["siren*", "nerv-conv"]``."""
    return [p.strip() for p in patterns.split(",") if p.strip()]


def match_names(registry: Registry, patterns: str, option: str) -> list[str]:
    """Registered names matching any of the comma-separated shell patterns, in registry order."""
    wanted = split_patterns(patterns)
    if not wanted:
        raise InrzooError(f"{option} is empty; give names or shell patterns, e.g. {option} '*'")
    names: list[str] = []
    for pattern in wanted:
        matched = registry.names(pattern)
        if not matched:
            raise InrzooError(
                f"{option} {pattern!r} matches no registered {registry.kind}; "
                f"known {registry.kind}s: {', '.join(registry.names())}"
            )
        names += [n for n in matched if n not in names]
    return names


def plan_matrix(backbones: str, hypernets: str) -> tuple[list[Combination], list[SkippedCombination]]:
    """Every matching combination, split into those to run and those declared impossible.

    A pattern that matches nothing is an error; so is a request whose every combination is
    impossible (a name given on purpose deserves an error, not an empty leaderboard).
    """
    runnable: list[Combination] = []
    skipped: list[SkippedCombination] = []
    for backbone in match_names(BACKBONES, backbones, "--backbones"):
        for hypernet in match_names(HYPERNETS, hypernets, "--hypernets"):
            reason = incompatibility(BACKBONES.get(backbone), HYPERNETS.get(hypernet))
            if reason is None and not has_size_family(backbone):
                reason = "the backbone declares no size family (INRBackbone.scaled_kwargs)"
            if reason:
                skipped.append(SkippedCombination(backbone, hypernet, reason))
            else:
                runnable.append(Combination(backbone, hypernet))
    if not runnable:
        details = "; ".join(f"{s.backbone}+{s.hypernet}: {s.reason}" for s in skipped)
        raise InrzooError(
            f"no combination of --backbones {backbones!r} and --hypernets {hypernets!r} can run ({details})"
        )
    return runnable, skipped
