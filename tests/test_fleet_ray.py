"""``fit-many --backend ray``: one Ray task per video on a real local Ray instance (loopback only)."""

from __future__ import annotations

import csv
import os
import signal
import time
from pathlib import Path

import pytest
from helpers import REPO_ROOT, encode_clip, synthetic_frames, write_two_clip_corpus
from test_cli import error_line, run

CONFIG = str(REPO_ROOT / "configs" / "quickstart.yaml")
FIT = [
    "--data.init_args.resize=null", "--data.init_args.batch_size=2", "--trainer.max_time=null",
    "--trainer.check_val_every_n_epoch=1000", "--report.write_video=false",
]  # fmt: skip


def _fit_many(manifest: Path, out: Path, *options: str, epochs: int = 2) -> list[str]:
    return ["fit-many", "--manifest", str(manifest), "--config", CONFIG, "--out", str(out), *options,
            "--", *FIT, f"--trainer.max_epochs={epochs}"]  # fmt: skip


def _rows(out: Path) -> dict[str, dict[str, str]]:
    return {r["name"]: r for r in csv.DictReader((out / "results.csv").open())}


def test_ray_option_errors(tmp_path: Path, capsys, monkeypatch) -> None:  # noqa: ANN001
    (tmp_path / "m.txt").write_text("a.mp4\n")
    base = ["fit-many", "--manifest", str(tmp_path / "m.txt"), "--config", CONFIG, "--out", str(tmp_path / "o")]
    assert run([*base, "--address", "auto"]) == 2
    assert "--address only apply to --backend ray" in error_line(capsys)
    assert run([*base, "--backend", "ray", "--parallel", "2"]) == 2
    assert "Ray places tasks by --cpus-per-fit" in error_line(capsys)
    monkeypatch.setitem(__import__("sys").modules, "ray", None)  # as if Ray were not installed
    assert run([*base, "--backend", "ray"]) == 2
    assert "--backend ray needs Ray: pip install 'inrzoo[ray]'" in error_line(capsys)


def test_an_unreachable_address_is_one_line(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    pytest.importorskip("ray")
    import socket

    with socket.socket() as closed:  # a loopback port that nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    (tmp_path / "m.txt").write_text("a.mp4\n")
    start = time.monotonic()
    for address in (f"ray://127.0.0.1:{port}", f"127.0.0.1:{port}"):
        assert run(_fit_many(tmp_path / "m.txt", tmp_path / "o", "--backend", "ray", "--address", address)) == 2
        assert f"--address {address}: nothing answers at 127.0.0.1:{port}" in error_line(capsys)
    assert run(_fit_many(tmp_path / "m.txt", tmp_path / "o", "--backend", "ray", "--address", "nohost")) == 2
    assert "expected auto, HOST:PORT or ray://HOST:PORT" in error_line(capsys)
    assert time.monotonic() - start < 30


@pytest.fixture(scope="module")
def ray_instance():  # noqa: ANN201
    """A local Ray with 2 CPUs on the loopback interface, shut down after the module."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def three_videos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_two_clip_corpus(tmp_path_factory.mktemp("corpus"))
    encode_clip(synthetic_frames().flip(-1).contiguous(), root / "mirrored.mp4")
    (root / "videos.txt").write_text("shapes.mp4\nnegative.mp4\nmirrored.mp4\n")
    return root / "videos.txt"


@pytest.mark.slow
def test_ray_fits_what_the_local_pool_fits(ray_instance, three_videos: Path, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # the Ray tasks fit with one thread (--cpus-per-fit 1)
    local, remote = tmp_path / "local", tmp_path / "ray"
    assert run(_fit_many(three_videos, local)) == 0
    assert run(_fit_many(three_videos, remote, "--backend", "ray", "--cpus-per-fit", "1")) == 0
    expected, got = _rows(local), _rows(remote)
    assert list(got) == ["shapes", "negative", "mirrored"]
    for name, row in got.items():
        assert row["status"] == "done" and float(row["psnr"]) == float(expected[name]["psnr"]), (row, expected[name])
    assert run(_fit_many(three_videos, remote, "--backend", "ray")) == 0  # again: every video skipped
    assert {r["status"] for r in _rows(remote).values()} == {"skipped"}
    # Packs as tasks: the same numbers again (a pack equals separate fits to float rounding).
    packed = tmp_path / "packed"
    assert run(_fit_many(three_videos, packed, "--backend", "ray", "--pack", "2")) == 0
    for name, row in _rows(packed).items():
        assert row["status"] == "done" and abs(float(row["psnr"]) - float(expected[name]["psnr"])) < 1e-3


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


@pytest.mark.slow
def test_a_ray_task_killed_mid_fit_is_retried_and_resumes(ray_instance, three_videos: Path, tmp_path: Path) -> None:  # noqa: ANN001
    """SIGKILL the Ray worker running a fit (and the fit): Ray reruns the task, which resumes from last.ckpt."""
    import json
    import threading

    (tmp_path / "one.txt").write_text(f"{three_videos.parent / 'shapes.mp4'}\n")
    out, reference = tmp_path / "ray", tmp_path / "reference"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OMP_NUM_THREADS", "1")
        assert run(_fit_many(tmp_path / "one.txt", reference, epochs=30)) == 0
    checkpoint = out / "shapes" / "version_0" / "checkpoints" / "last.ckpt"
    killed: list[int] = []

    def kill_at_first_checkpoint() -> None:
        deadline = time.monotonic() + 240
        while not checkpoint.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        fit = json.loads((out / "shapes" / "version_0" / ".inrzoo-run.json").read_text())["pid"]
        worker = _parent(fit)
        for pid in (worker, fit):  # the worker first: a fit that ends first is a failure it would report
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    killer = threading.Thread(target=kill_at_first_checkpoint)
    killer.start()
    status = run(_fit_many(tmp_path / "one.txt", out, "--backend", "ray", "--max-retries", "2", epochs=30))
    killer.join()
    assert len(killed) == 2 and status == 0
    row = _rows(out)["shapes"]
    assert row["status"] == "done" and row["resumed_from"].endswith("version_0/checkpoints/last.ckpt"), row
    assert abs(float(row["psnr"]) - float(_rows(reference)["shapes"]["psnr"])) < 0.05
