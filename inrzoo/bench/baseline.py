"""Compare a bench run with a stored one, so that a change that makes a combination worse is caught.

A run with ``--fit_steps`` is deterministic on one machine kind (same seed, same thread count), so
the PSNR of each combination can be compared with a committed ``bench.json`` to a small tolerance.
Only runs of the same setting compare: a different video, size, frame count or training budget
is refused rather than compared.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inrzoo.errors import InrzooError

if TYPE_CHECKING:
    from inrzoo.bench.runner import ResolvedSettings

#: Settings two runs must share for their PSNRs to mean the same thing.
COMPARED_SETTINGS = (
    "video",
    "resolution",
    "frames",
    "fit_steps",
    "fit_seconds",
    "budgets",
    "learning_rate",
    "batch_size",
    "sampled_pixels",
)


@dataclass(frozen=True)
class Delta:
    """One combination's PSNR now and in the baseline (``None`` where one side lacks it)."""

    name: str
    psnr: float | None
    baseline_psnr: float | None

    @property
    def change(self) -> float | None:
        if self.psnr is None or self.baseline_psnr is None:
            return None
        return self.psnr - self.baseline_psnr


def load_baseline(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        report = json.loads(path.read_text())
    except FileNotFoundError:
        raise InrzooError(f"baseline {path} not found; pass the bench.json of an earlier run to --baseline") from None
    except (OSError, json.JSONDecodeError) as err:
        raise InrzooError(f"baseline {path} is not a readable bench.json ({err}); rerun that bench") from None
    if not isinstance(report, dict) or not isinstance(report.get("results"), list):
        raise InrzooError(f"baseline {path} has no 'results' list: it is not a bench.json written by inrzoo bench")
    return report


def check_comparable(settings: dict[str, Any], baseline: dict[str, Any], path: str | Path) -> None:
    """Refuse a baseline measured under other settings (``settings``: the new run's report header, or
    the part of it known before the run: only the keys it has are compared)."""
    for key in COMPARED_SETTINGS:
        if key in settings and baseline.get(key) != settings.get(key):
            raise InrzooError(
                f"baseline {path} was measured with {key}={baseline.get(key)!r}, this run uses "
                f"{settings.get(key)!r}; compare runs of the same tier and options"
            )


def compare(report: dict[str, Any], baseline: dict[str, Any]) -> list[Delta]:
    """Every inrzoo combination of either run, by name, in the new run's order (then the vanished ones)."""

    def psnrs(r: dict[str, Any]) -> dict[str, float]:
        return {x["name"]: float(x["psnr"]) for x in r["results"] if x.get("kind") == "inrzoo"}

    now, before = psnrs(report), psnrs(baseline)
    names = list(now) + [n for n in before if n not in now]
    return [Delta(n, now.get(n), before.get(n)) for n in names]


def regressions(deltas: list[Delta], tolerance: float) -> list[Delta]:
    """Combinations more than ``tolerance`` dB below the baseline, or in the baseline but not run now."""
    return [d for d in deltas if d.baseline_psnr is not None and (d.change is None or d.change < -tolerance)]


def delta_table(deltas: list[Delta], tolerance: float) -> str:
    lines = [
        f"| combination | PSNR (dB) | baseline (dB) | change (dB) | within {tolerance:g} dB |",
        "|---|---:|---:|---:|---|",
    ]
    failing = {d.name for d in regressions(deltas, tolerance)}
    for d in deltas:
        now = "" if d.psnr is None else f"{d.psnr:.2f}"
        before = "new" if d.baseline_psnr is None else f"{d.baseline_psnr:.2f}"
        change = "missing" if d.psnr is None else ("" if d.change is None else f"{d.change:+.3f}")
        lines.append(f"| {d.name} | {now} | {before} | {change} | {'NO' if d.name in failing else 'yes'} |")
    return "\n".join(lines) + "\n"


def planned_settings(settings: ResolvedSettings) -> dict[str, Any]:
    """The comparable part of a run known before it starts (from the bench's resolved settings)."""
    return {"video": settings.video, "budgets": list(settings.budgets), "fit_steps": settings.fit_steps,
            "fit_seconds": settings.fit_seconds, "learning_rate": settings.learning_rate,
            "batch_size": settings.batch_size, "sampled_pixels": settings.sampled_pixels}  # fmt: skip


def gate(report: dict[str, Any], baseline: dict[str, Any], path: str | Path, tolerance: float) -> bool:
    """Print the change of every combination against the baseline; True when one regressed."""
    check_comparable(report, baseline, path)
    deltas = compare(report, baseline)
    print(f"\nagainst the baseline {path}:\n")
    print(delta_table(deltas, tolerance))
    worse = regressions(deltas, tolerance)
    if worse:
        names = ", ".join(d.name for d in worse)
        print(f"inrzoo: error: {len(worse)} combination(s) fell more than {tolerance:g} dB below the baseline: {names}",
              file=sys.stderr)  # fmt: skip
    return bool(worse)
