"""Fit one representation per video of a corpus: in parallel, skipping finished videos, resuming
interrupted ones from their last checkpoint, with one results table at the end.

Each video is an ordinary ``inrzoo fit`` in its own process (a crash or a kill costs one video,
not the corpus) writing under ``OUT/<name>/version_N``; ``OUT/<name>/done.json`` marks it finished.
A per-video lock (:mod:`inrzoo.fleet.lock`) lets several ``fit-many`` processes share one ``--out``:
a video another process is fitting is left to it until the rest are done, then waited for (and
skipped once it is finished).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch

from inrzoo.fleet.lock import VideoLock, lock_video
from inrzoo.fleet.manifest import ManifestEntry, read_manifest
from inrzoo.fleet.results import (
    DONE_FILE,
    VideoOutcome,
    read_outcome,
    record_manifest,
    write_outcome,
    write_report,
    write_table,
)
from inrzoo.fleet.sharding import Shard


def latest_checkpoint(video_dir: Path) -> Path | None:
    """The newest ``last.ckpt`` of any earlier attempt (a killed fit leaves one per finished epoch)."""
    candidates = sorted(video_dir.glob("version_*/checkpoints/last.ckpt"), key=lambda p: p.stat().st_mtime)
    for candidate in reversed(candidates):
        try:
            torch.load(candidate, map_location="cpu", weights_only=True)
            return candidate
        except Exception:  # a torn file from a kill mid-write: try an older one
            continue
    return None


def fit_command(entry: ManifestEntry, config: str, out: Path, extra: list[str], resume: Path | None) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "inrzoo",
        "fit",
        "--config",
        config,
        f"--data.init_args.path={entry.video}",
        "--trainer.logger=lightning.pytorch.loggers.TensorBoardLogger",
        f"--trainer.logger.init_args.save_dir={out / entry.name}",
        "--trainer.logger.init_args.name=",
        "--trainer.enable_progress_bar=false",
        *extra,
    ]
    if resume is not None:
        command.append(f"--ckpt_path={resume}")
    return command


def run_one(
    entry: ManifestEntry, config: str, out: Path, extra: list[str], env: dict[str, str], wait: bool = True
) -> VideoOutcome:
    """Fit one video unless it is done; ``wait``: for another process that is fitting it (else "busy")."""
    video_dir = out / entry.name
    done = video_dir / DONE_FILE
    if done.is_file():
        return _skipped(done)
    lock = lock_video(video_dir, wait)
    if lock is None:
        return VideoOutcome(entry.name, entry.video, "busy")
    with lock:
        if done.is_file():  # finished by the process we waited for
            return _skipped(done)
        return _fit(entry, config, out, extra, env, lock)


def _skipped(done: Path) -> VideoOutcome:
    outcome = read_outcome(done)
    outcome.status = "skipped"
    return outcome


def _fit(
    entry: ManifestEntry, config: str, out: Path, extra: list[str], env: dict[str, str], lock: VideoLock
) -> VideoOutcome:
    video_dir = out / entry.name
    resume = latest_checkpoint(video_dir)
    before = set(video_dir.glob("version_*"))
    start = time.perf_counter()
    with (video_dir / "fit.log").open("a") as log:
        log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} {'resume from ' + str(resume) if resume else 'start'}\n")
        log.flush()
        done_process = subprocess.run(
            fit_command(entry, config, out, extra, resume),
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            pass_fds=(lock.fd,),  # the fit holds the lock too, should this process be killed
        )
    seconds = time.perf_counter() - start
    new_runs = sorted(set(video_dir.glob("version_*")) - before)
    run_dir = new_runs[-1] if new_runs else None
    if done_process.returncode != 0 or run_dir is None or not (run_dir / "metrics.json").is_file():
        lines = (video_dir / "fit.log").read_text().strip().splitlines()
        reason = next((line for line in reversed(lines) if "error" in line.lower()), lines[-1] if lines else "")
        failed = VideoOutcome(
            entry.name,
            entry.video,
            "failed",
            str(run_dir) if run_dir else None,
            str(resume) if resume else None,
            seconds=seconds,
            error=reason[-300:],
        )
        write_outcome(failed, video_dir)  # for a merged report; the next attempt replaces it
        return failed
    metrics = json.loads((run_dir / "metrics.json").read_text())
    outcome = VideoOutcome(
        entry.name,
        entry.video,
        "done",
        str(run_dir),
        str(resume) if resume else None,
        metrics.get("psnr"),
        metrics.get("ms_ssim"),
        metrics.get("params"),
        metrics.get("bpp_16bit"),
        seconds,
    )
    write_outcome(outcome, video_dir)
    return outcome


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
) -> list[VideoOutcome]:
    """Fit the videos of ``manifest`` (only ``shard``'s, when given) into ``out``; this run's outcomes.

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
        # First the videos nobody else is fitting; then wait for those another process holds.
        first = [pool.submit(run_one, e, config, out, extra, env, False) for e, env in zip(entries, envs, strict=True)]
        outcomes = [f.result() for f in first]
        again = {i: pool.submit(run_one, entries[i], config, out, extra, envs[i]) for i, o in enumerate(outcomes)
                 if o.status == "busy"}  # fmt: skip
        for i, future in again.items():
            outcomes[i] = future.result()
    if shard.count > 1:
        write_report(out)
    else:
        write_table(outcomes, out)
    return outcomes
