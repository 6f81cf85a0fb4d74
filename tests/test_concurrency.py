"""Fits started at once: distinct run folders for ``inrzoo fit``, each video fitted once by ``fit-many``,
and a lock that a killed process does not leave stuck."""

from __future__ import annotations

import csv
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import REPO_ROOT, write_two_clip_corpus

from inrzoo.errors import InrzooError
from inrzoo.fleet.lock import lock_video
from inrzoo.runs.folder import CLAIM_FILE, claim_run_folder, next_free_version

CONFIG = str(REPO_ROOT / "configs" / "quickstart.yaml")
QUICK_FIT = [
    "--data.init_args.resize=null", "--data.init_args.batch_size=2", "--trainer.max_time=null",
    "--trainer.max_epochs=1", "--trainer.limit_train_batches=1", "--trainer.check_val_every_n_epoch=1000",
    "--trainer.enable_progress_bar=false", "--trainer.enable_model_summary=false",
]  # fmt: skip


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "INRZOO_STRICT_PLUGINS"}
    return env | {"OMP_NUM_THREADS": "1", "INRZOO_CACHE_DIR": str(tmp_path / "frame-cache")}


def start_together(commands: list[list[str]], tmp_path: Path) -> list[subprocess.CompletedProcess[str]]:
    """``inrzoo COMMAND`` for each command, all started at once; their exit codes and output."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "inrzoo", *command],
            cwd=REPO_ROOT,
            env=_env(tmp_path),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for command in commands
    ]
    done = []
    for process in processes:
        out, _ = process.communicate(timeout=300)
        done.append(subprocess.CompletedProcess(process.args, process.returncode, out))
    return done


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_two_clip_corpus(tmp_path_factory.mktemp("corpus"))
    (root / "videos.txt").write_text("shapes.mp4\nnegative.mp4\n")
    return root


# -- inrzoo fit: one folder per run --------------------------------------------------------------------
def _take_versions(root: str, barrier: multiprocessing.synchronize.Barrier, results: multiprocessing.Queue) -> None:
    barrier.wait()
    results.put([next_free_version(root) for _ in range(TAKES)])


TAKES = 25


def test_versions_taken_at_the_same_moment_are_distinct(tmp_path: Path) -> None:
    (tmp_path / "version_0").mkdir()
    (tmp_path / "version_3").mkdir()
    context = multiprocessing.get_context("fork")
    count = 8
    barrier, results = context.Barrier(count), context.Queue()
    workers = [context.Process(target=_take_versions, args=(str(tmp_path), barrier, results)) for _ in range(count)]
    for worker in workers:
        worker.start()
    taken = sorted(v for _ in workers for v in results.get(timeout=60))
    for worker in workers:
        worker.join(timeout=60)
    assert taken == list(range(4, 4 + count * TAKES))


def test_a_claimed_folder_is_refused(tmp_path: Path) -> None:
    run_dir = tmp_path / "version_0"
    claim_run_folder(run_dir, "pick another")
    assert json.loads((run_dir / CLAIM_FILE).read_text())["pid"] == os.getpid()
    with pytest.raises(InrzooError, match="already holds a run .* pick another"):
        claim_run_folder(run_dir, "pick another")
    older = tmp_path / "older"  # a run from before the marker
    older.mkdir()
    (older / "config.yaml").write_text("model: {}\n")
    with pytest.raises(InrzooError, match="config.yaml"):
        claim_run_folder(older, "pick another")
    assert not (older / CLAIM_FILE).exists()


def test_two_fits_started_at_once_get_two_folders(corpus: Path, tmp_path: Path) -> None:
    save_dir = tmp_path / "runs"
    command = [
        "fit", "--config", CONFIG, f"--data.init_args.path={corpus / 'shapes.mp4'}", *QUICK_FIT,
        f"--trainer.logger.init_args.save_dir={save_dir}",
    ]  # fmt: skip
    results = start_together([command, command], tmp_path)
    assert [r.returncode for r in results] == [0, 0], "\n".join(r.stdout[-2000:] for r in results)
    folders = sorted((save_dir / "quickstart").iterdir())
    assert [f.name for f in folders] == ["version_0", "version_1"]
    owners = set()
    for folder in folders:
        assert len(list(folder.glob("events.out.tfevents.*"))) == 1, f"{folder} mixes two runs' events"
        assert (folder / "config.yaml").is_file() and (folder / "metrics.json").is_file()
        owners.add(json.loads((folder / CLAIM_FILE).read_text())["pid"])
    assert len(owners) == 2


def test_a_fit_into_a_folder_another_fit_just_claimed_is_refused(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An explicit version that another fit has claimed (it has not written config.yaml yet): one clear refusal."""
    from test_cli import error_line, run

    save_dir = tmp_path / "runs"
    claim_run_folder(save_dir / "quickstart" / "mine", "pick another")
    command = [
        "fit", "--config", CONFIG, f"--data.init_args.path={corpus / 'shapes.mp4'}", *QUICK_FIT,
        f"--trainer.logger.init_args.save_dir={save_dir}", "--trainer.logger.init_args.version=mine",
    ]  # fmt: skip
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("INRZOO_CACHE_DIR", str(tmp_path / "frame-cache"))
        assert run(command) == 2
    assert "already holds a run" in error_line(capsys)
    assert sorted(p.name for p in (save_dir / "quickstart" / "mine").iterdir()) == [CLAIM_FILE]


# -- fit-many: each video once -------------------------------------------------------------------------
def test_two_fit_many_on_one_out_fit_each_video_once(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    command = [
        "fit-many", "--manifest", str(corpus / "videos.txt"), "--config", CONFIG, "--out", str(out), "--", *QUICK_FIT,
    ]  # fmt: skip
    results = start_together([command, command], tmp_path)
    assert [r.returncode for r in results] == [0, 0], "\n".join(r.stdout[-2000:] for r in results)
    for name in ("shapes", "negative"):
        assert [p.name for p in (out / name).glob("version_*")] == ["version_0"], f"{name} was fitted twice"
        starts = [line for line in (out / name / "fit.log").read_text().splitlines() if line.startswith("===")]
        assert len(starts) == 1, starts
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert sorted(r["status"] for r in rows) in (["done", "done"], ["done", "skipped"], ["skipped", "skipped"])
    assert not list(out.glob(".results.*")), "a temporary table was left behind"


def test_a_lock_held_by_a_killed_process_does_not_block(tmp_path: Path) -> None:
    video_dir = tmp_path / "shapes"
    holder = subprocess.Popen(
        [
            sys.executable, "-c",
            "import sys, time\nfrom inrzoo.fleet.lock import lock_video\n"
            f"lock = lock_video({str(video_dir)!r}, wait=True)\nprint('locked', flush=True)\ntime.sleep(120)\n",
        ],
        cwd=REPO_ROOT, env=_env(tmp_path), stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        assert lock_video(video_dir, wait=False) is None, "the lock was not held"
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    start = time.monotonic()
    lock = lock_video(video_dir, wait=True)
    assert lock is not None and time.monotonic() - start < 5
    lock.release()


@pytest.mark.slow
def test_a_fit_many_killed_alone_leaves_its_running_fit_the_lock(corpus: Path, tmp_path: Path) -> None:
    """Kill fit-many but not the fit it started: the video stays locked until that fit ends."""
    out = tmp_path / "out"
    (tmp_path / "one.txt").write_text(f"{corpus / 'shapes.mp4'}\n")
    parent = subprocess.Popen(
        [sys.executable, "-m", "inrzoo", "fit-many", "--manifest", str(tmp_path / "one.txt"), "--config", CONFIG,
         "--out", str(out), "--", *QUICK_FIT],
        cwd=REPO_ROOT, env=_env(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    claim = out / "shapes" / "version_0" / CLAIM_FILE  # the fit has started (and holds the lock with fit-many)
    deadline = time.monotonic() + 120
    while not claim.exists() and time.monotonic() < deadline and parent.poll() is None:
        time.sleep(0.02)
    parent.kill()
    parent.wait()
    assert claim.exists(), "the fit never started"
    try:
        if not (out / "shapes" / "version_0" / "metrics.json").exists():  # still fitting
            assert lock_video(out / "shapes", wait=False) is None, "the running fit lost its lock"
    finally:
        lock = lock_video(out / "shapes", wait=True)  # released when the orphaned fit ends
    assert lock is not None
    lock.release()
