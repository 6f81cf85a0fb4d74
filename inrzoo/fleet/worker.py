"""What one worker of ``fit-many`` does: fit one video (an ``inrzoo fit`` process) or one pack (an
``inrzoo.cli.fit_pack`` process), holding the videos' locks, resuming from their newest checkpoint and
recording each outcome (``done.json``/``failed.json``). The local pool and the Ray backend both call these.

Torch is imported only to check a checkpoint: a Ray worker loads this module to run its first task, and
importing torch there (~2.5 s of CPU in each worker) delayed the first fits while they waited on it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from inrzoo.fleet.lock import VideoLock, lock_video
from inrzoo.fleet.manifest import ManifestEntry
from inrzoo.fleet.results import DONE_FILE, FAILED_FILE, VideoOutcome, read_outcome, write_outcome


def latest_checkpoint(video_dir: Path) -> Path | None:
    """The newest ``last.ckpt`` of any earlier attempt (a killed fit leaves one per finished epoch)."""
    candidates = sorted(video_dir.glob("version_*/checkpoints/last.ckpt"), key=lambda p: p.stat().st_mtime)
    if not candidates:
        return None
    import torch  # only here: see the module's docstring

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


def claim(entry: ManifestEntry, out: Path, wait: bool) -> VideoOutcome | VideoLock:
    """The video's lock, to fit it; or its outcome when it is done ("skipped") or another process holds it
    and ``wait`` is False ("busy")."""
    done = out / entry.name / DONE_FILE
    if done.is_file():
        return _skipped(done)
    lock = lock_video(out / entry.name, wait)
    if lock is None:
        return VideoOutcome(entry.name, entry.video, "busy")
    if done.is_file():  # finished by the process we waited for
        lock.release()
        return _skipped(done)
    return lock


def run_one(
    entry: ManifestEntry, config: str, out: Path, extra: list[str], env: dict[str, str], wait: bool = True
) -> VideoOutcome:
    """Fit one video unless it is done; ``wait``: for another process that is fitting it (else "busy")."""
    lock = claim(entry, out, wait)
    if isinstance(lock, VideoOutcome):
        return lock
    with lock:
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


def run_pack(
    entries: list[ManifestEntry], locks: list[VideoLock], config: str, out: Path, extra: list[str],
    env: dict[str, str],
) -> tuple[list[VideoOutcome], str | None]:  # fmt: skip
    """Fit ``entries`` as one pack in a process of their own (:mod:`inrzoo.cli.fit_pack`), which holds their
    locks too; each one's outcome, and the pack's one-line user error if it refused to start."""
    try:
        spec = {"config": config, "out": str(out), "extra": extra,
                "members": [{"name": e.name, "video": e.video} for e in entries]}  # fmt: skip
        header = f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} pack of {len(entries)}: "
        header += ", ".join(e.name for e in entries) + "\n"
        for entry in entries:
            (out / entry.name / FAILED_FILE).unlink(missing_ok=True)  # what this attempt leaves is the record
        start = time.perf_counter()
        done_process = subprocess.run(
            [sys.executable, "-m", "inrzoo.cli.fit_pack", json.dumps(spec)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
            pass_fds=tuple(lock.fd for lock in locks),
        )  # fmt: skip
        seconds = time.perf_counter() - start
        lines = done_process.stdout.strip().splitlines()
        for entry in entries:
            with (out / entry.name / "fit.log").open("a") as log:
                log.write(header + done_process.stdout)
        errors = [line.removeprefix("inrzoo: error: ") for line in lines if line.startswith("inrzoo: error: ")]
        reason = errors[-1] if errors else next((ln for ln in reversed(lines) if "error" in ln.lower()), "")
        outcomes = []
        for entry in entries:
            video_dir = out / entry.name
            if (video_dir / DONE_FILE).is_file():
                outcomes.append(read_outcome(video_dir / DONE_FILE))
            elif (video_dir / FAILED_FILE).is_file():
                outcomes.append(read_outcome(video_dir / FAILED_FILE))
            else:  # the pack ended before recording this video (a user error, a crash, a kill)
                reason = reason or f"the pack process exited with {done_process.returncode}"
                failed = VideoOutcome(entry.name, entry.video, "failed", seconds=seconds, error=reason[-300:])
                write_outcome(failed, video_dir)
                outcomes.append(failed)
        return outcomes, (errors[-1] if done_process.returncode == 2 and errors else None)
    finally:
        for lock in locks:
            lock.release()
