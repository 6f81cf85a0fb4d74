"""``inrzoo fit-many``: a corpus fitted once, skipped when done, resumed after a SIGKILL."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from helpers import REPO_ROOT, write_two_clip_corpus
from test_cli import error_line, run

from inrzoo.fleet import read_manifest

FIT_ARGS = [
    "--data.init_args.resize=null",
    "--data.init_args.batch_size=2",
    "--trainer.max_time=null",
    "--model.init_args.lr_schedule=steps",
    "--trainer.check_val_every_n_epoch=1000",
]
CONFIG = str(REPO_ROOT / "configs" / "quickstart.yaml")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_two_clip_corpus(tmp_path_factory.mktemp("corpus"))
    (root / "videos.txt").write_text("# two clips\nshapes.mp4\n\nnegative.mp4  # the negative\n")
    (root / "one.txt").write_text("shapes.mp4\n")
    return root


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "INRZOO_STRICT_PLUGINS"} | {"OMP_NUM_THREADS": "1"}


def test_manifest_names_and_paths(corpus: Path) -> None:
    entries = read_manifest(corpus / "videos.txt")
    assert [e.name for e in entries] == ["shapes", "negative"]
    assert entries[0].video == str(corpus / "shapes.mp4")


def test_fit_many_fits_each_video_once(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = [
        "fit-many",
        "--manifest",
        str(corpus / "videos.txt"),
        "--config",
        CONFIG,
        "--out",
        str(out),
        "--parallel",
        "2",
        "--",
        *FIT_ARGS,
        "--trainer.max_epochs=3",
    ]
    assert run(args) == 0
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert [(r["name"], r["status"]) for r in rows] == [("shapes", "done"), ("negative", "done")]
    assert all(float(r["psnr"]) > 10 for r in rows)
    assert (out / "shapes" / "done.json").is_file() and (out / "results.md").is_file()
    # Again: nothing is refitted.
    assert run(args) == 0
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert [r["status"] for r in rows] == ["skipped", "skipped"]
    assert sorted(p.name for p in (out / "shapes").glob("version_*")) == ["version_0"]


def kill_at_first_checkpoint(command: list[str], checkpoint: Path, group: bool = False) -> None:
    """Start ``inrzoo COMMAND``, SIGKILL it (and its children with ``group``) once ``checkpoint`` exists."""
    process = subprocess.Popen(
        [sys.executable, "-m", "inrzoo", *command],
        env=_env(),
        start_new_session=group,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 240
    while not checkpoint.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    if group:
        os.killpg(process.pid, signal.SIGKILL)
    else:
        process.kill()
    process.wait()
    assert checkpoint.exists(), "the fit never wrote a checkpoint"


def _final_psnr(out: Path) -> float:
    return float(next(csv.DictReader((out / "results.csv").open()))["psnr"])


def test_a_killed_corpus_fit_resumes_to_the_same_result(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same result needs the same arithmetic: the in-process and the subprocess fit-many must give their
    # fits the same thread count (a different count sums in another order, and a fit amplifies that).
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # what _env() gives the killed one
    common = ["--manifest", str(corpus / "one.txt"), "--config", CONFIG]
    tail = ["--", *FIT_ARGS, "--trainer.max_epochs=40"]
    reference = tmp_path / "reference"
    assert run(["fit-many", *common, "--out", str(reference), *tail]) == 0

    out = tmp_path / "killed"
    # The fit-many process and the fit it started, together.
    checkpoint = out / "shapes" / "version_0" / "checkpoints" / "last.ckpt"
    kill_at_first_checkpoint(["fit-many", *common, "--out", str(out), *tail], checkpoint, group=True)
    assert not (out / "shapes" / "done.json").exists(), "the fit finished before the kill; nothing to resume"

    assert run(["fit-many", *common, "--out", str(out), *tail]) == 0
    row = next(csv.DictReader((out / "results.csv").open()))
    assert row["status"] == "done" and row["resumed_from"].endswith("version_0/checkpoints/last.ckpt")
    assert abs(float(row["psnr"]) - _final_psnr(reference)) < 0.05, (row["psnr"], _final_psnr(reference))
    newest = max((out / "shapes").glob("version_*/checkpoints/last.ckpt"), key=lambda p: p.stat().st_mtime)
    assert torch.load(newest, weights_only=True)["epoch"] >= 39  # the resumed fit went on to the end


def test_fit_many_errors(corpus: Path, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    assert run(["fit-many", "--manifest", str(tmp_path / "none.txt"), "--config", CONFIG, "--out", str(tmp_path)]) == 2
    assert "manifest" in error_line(capsys)
    assert (
        run(["fit-many", "--manifest", str(corpus / "one.txt"), "--config", "nope.yaml", "--out", str(tmp_path)]) == 2
    )
    assert "config nope.yaml does not exist" in error_line(capsys)


def test_a_failing_video_is_reported_and_the_rest_still_run(corpus: Path, tmp_path: Path) -> None:
    manifest = tmp_path / "m.txt"
    manifest.write_text(f"{corpus / 'shapes.mp4'}\n{tmp_path / 'missing.mp4'}\n")
    out = tmp_path / "out"
    assert (
        run(
            [
                "fit-many",
                "--manifest",
                str(manifest),
                "--config",
                CONFIG,
                "--out",
                str(out),
                "--",
                *FIT_ARGS,
                "--trainer.max_epochs=1",
            ]
        )
        == 1
    )
    rows = {r["name"]: r for r in csv.DictReader((out / "results.csv").open())}
    assert rows["shapes"]["status"] == "done"
    assert rows["missing"]["status"] == "failed" and "not found" in rows["missing"]["error"]
    assert json.loads((out / "shapes" / "done.json").read_text())["psnr"] > 10


def test_a_killed_fit_resumes_with_the_same_command_and_resume(corpus: Path, tmp_path: Path) -> None:
    """SIGKILL an ordinary `inrzoo fit`, rerun the same command with --resume: same final quality."""

    def command(save_dir: Path) -> list[str]:
        return [
            "fit",
            "--config",
            CONFIG,
            f"--data.init_args.path={corpus / 'shapes.mp4'}",
            *FIT_ARGS,
            "--trainer.max_epochs=40",
            "--trainer.enable_progress_bar=false",
            f"--trainer.logger.init_args.save_dir={save_dir}",
        ]

    assert run(command(tmp_path / "reference")) == 0
    reference = json.loads((tmp_path / "reference" / "quickstart" / "version_0" / "metrics.json").read_text())

    killed = tmp_path / "killed"
    checkpoint = killed / "quickstart" / "version_0" / "checkpoints" / "last.ckpt"
    kill_at_first_checkpoint(command(killed), checkpoint)
    assert not (checkpoint.parent.parent / "metrics.json").exists(), "killed too late: the fit had finished"

    assert run([*command(killed), "--resume"]) == 0
    resumed = json.loads((killed / "quickstart" / "version_1" / "metrics.json").read_text())
    assert abs(resumed["psnr"] - reference["psnr"]) < 0.05, (resumed["psnr"], reference["psnr"])


def test_an_index_is_built_from_a_fit_many_folder(corpus: Path, tmp_path: Path) -> None:
    """The corpus path to retrieval: fit-many with alignment, then `inrzoo index OUT` (finished runs only)."""
    import numpy as np

    features = tmp_path / "features.npy"  # a feature-file teacher: nothing to download or register
    np.save(features, np.random.default_rng(0).normal(size=(12, 8)).astype(np.float32))
    out = tmp_path / "aligned"
    aligned = [
        "--model.init_args.alignment.teacher=FeatureFileTeacher",
        f"--model.init_args.alignment.teacher.init_args.path={features}",
        f"--model.init_args.alignment.cache_dir={tmp_path / 'cache'}",
    ]
    command = ["fit-many", "--manifest", str(corpus / "videos.txt"), "--config", CONFIG, "--out", str(out)]
    assert run([*command, "--", *FIT_ARGS, "--trainer.max_epochs=2", *aligned]) == 0
    assert run(["index", str(out), "--out", str(tmp_path / "index")]) == 0
    names = [v["name"] for v in json.loads((tmp_path / "index" / "index.json").read_text())["videos"]]
    assert names == ["shapes", "negative"]
