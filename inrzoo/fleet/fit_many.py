"""Fit one representation per video of a corpus: in parallel, skipping finished videos, resuming
interrupted ones from their last checkpoint, with one results table at the end.

Each video is an ordinary ``inrzoo fit`` in its own process (a crash or a kill costs one video,
not the corpus) writing under ``OUT/<name>/version_N``; ``OUT/<name>/done.json`` marks it finished.
A per-video lock (:mod:`inrzoo.fleet.lock`) lets several ``fit-many`` processes share one ``--out``:
a video another process is fitting is left to it until the rest are done, then waited for (and
skipped once it is finished).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from inrzoo.errors import InrzooError
from inrzoo.fleet.manifest import ManifestEntry, read_manifest
from inrzoo.fleet.results import (
    VideoOutcome,
    record_manifest,
    write_report,
    write_table,
)
from inrzoo.fleet.sharding import Shard
from inrzoo.fleet.worker import claim, latest_checkpoint, run_one, run_pack

if TYPE_CHECKING:
    from inrzoo.fleet.ray_backend import RayOptions


def worker_env(slot: int, parallel: int, gpus: list[str]) -> dict[str, str]:
    """One device per worker when there are GPUs; otherwise split the CPU threads."""
    env = dict(os.environ)
    if gpus:
        env["CUDA_VISIBLE_DEVICES"] = gpus[slot % len(gpus)]
    else:
        env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // parallel)))
    return env


def fit_many(
    manifest: str | Path,
    config: str,
    out: str | Path,
    extra: list[str],
    parallel: int = 1,
    gpus: list[str] | None = None,
    shard: Shard | None = None,
    pack: int | None = None,
    ray: RayOptions | None = None,
) -> list[VideoOutcome]:
    """Fit the videos of ``manifest`` (only ``shard``'s, when given) into ``out``; this run's outcomes.

    ``pack``: fit that many videos at a time in one process as one batched computation
    (:mod:`inrzoo.fleet.packing`); None: one ``inrzoo fit`` process per video. ``ray``: one Ray task per video
    or pack on a Ray cluster (:mod:`inrzoo.fleet.ray_backend`) instead of this machine's process pool.
    Unsharded, ``results.csv``/``.md`` list this run's outcomes; a shard instead rewrites the merged table of
    every shard's videos (what ``--report`` writes), so the last shard to end leaves the whole corpus's table.
    """
    shard = shard or Shard()
    every = read_manifest(manifest)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    record_manifest(out, every)
    entries = shard.select(every)
    if not entries:
        write_report(out)
        return []
    gpus = gpus or []
    envs = [worker_env(i % parallel, parallel, gpus) for i in range(len(entries))]
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        if ray is not None:
            from inrzoo.fleet.ray_backend import fit_on_ray

            outcomes, user_error = fit_on_ray(entries, config, out, extra, pack, ray)
        elif pack:
            outcomes, user_error = _fit_in_packs(pool, entries, config, out, extra, envs, pack)
        else:
            # First the videos nobody else is fitting; then wait for those another process holds.
            first = [
                pool.submit(run_one, e, config, out, extra, env, False) for e, env in zip(entries, envs, strict=True)
            ]
            outcomes, user_error = [f.result() for f in first], None
            again = {i: pool.submit(run_one, entries[i], config, out, extra, envs[i]) for i, o in enumerate(outcomes)
                     if o.status == "busy"}  # fmt: skip
            for i, future in again.items():
                outcomes[i] = future.result()
    if shard.count > 1:
        write_report(out)
    else:
        write_table(outcomes, out)
    if user_error is not None:  # a pack refused its config (after the table, which shows every video)
        raise InrzooError(user_error)
    return outcomes


def _fit_in_packs(
    pool: ThreadPoolExecutor, entries: list[ManifestEntry], config: str, out: Path, extra: list[str],
    envs: list[dict[str, str]], pack: int,
) -> tuple[list[VideoOutcome], str | None]:  # fmt: skip
    """The videos not done, locked and fitted ``pack`` at a time in one process each (first those nobody
    else holds, then, waited for, those another process was fitting); the outcomes and a pack's user error."""
    outcomes: list[VideoOutcome] = [VideoOutcome(e.name, e.video, "busy") for e in entries]
    user_errors: list[str] = []
    for wait in (False, True):
        locked = []
        for i, entry in enumerate(entries):
            if outcomes[i].status == "busy":
                got = claim(entry, out, wait)
                if isinstance(got, VideoOutcome):
                    outcomes[i] = got
                else:
                    locked.append((i, got))
        groups = [locked[k : k + pack] for k in range(0, len(locked), pack)]
        futures = [
            pool.submit(run_pack, [entries[i] for i, _ in g], [lock for _, lock in g], config, out, extra, envs[n])
            for n, g in enumerate(groups)
        ]
        for group, future in zip(groups, futures, strict=True):
            results, error = future.result()
            user_errors += [error] if error else []
            for (i, _), outcome in zip(group, results, strict=True):
                outcomes[i] = outcome
    return outcomes, (user_errors[0] if user_errors else None)


__all__ = ["fit_many", "latest_checkpoint", "worker_env"]
