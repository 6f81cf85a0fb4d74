"""``fit-many --pack K``: K videos fitted in one process as one batched computation, each as its own fit."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import REPO_ROOT, encode_clip, synthetic_frames, write_two_clip_corpus
from test_cli import error_line, run
from test_fleet import kill_at_first_checkpoint

from inrzoo.fleet.packing import check_pack, fit_pack, plan_from_trainer
from inrzoo.models.loading import load_video_inr

CONFIG = str(REPO_ROOT / "configs" / "quickstart.yaml")  # frame encoder, FiLM head, HNeRV decoder, channels_last
FIT = [
    "--data.init_args.resize=null", "--data.init_args.batch_size=2", "--trainer.max_time=null",
    "--trainer.check_val_every_n_epoch=1000", "--trainer.max_epochs=3", "--report.write_video=false",
]  # fmt: skip
NAMES = ("shapes", "negative")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_two_clip_corpus(tmp_path_factory.mktemp("corpus"))
    (root / "videos.txt").write_text("shapes.mp4\nnegative.mp4\n")
    return root


@pytest.fixture(scope="module")
def separate(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The two videos fitted the ordinary way: one `inrzoo fit` process each."""
    out = tmp_path_factory.mktemp("separate") / "out"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OMP_NUM_THREADS", "1")  # the packed fits run with one thread too
        command = ["fit-many", "--manifest", str(corpus / "videos.txt"), "--config", CONFIG, "--out", str(out)]
        assert run([*command, "--", *FIT]) == 0
    return out


def _state(run_dir: Path) -> dict[str, torch.Tensor]:
    return torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]


def _psnr(run_dir: Path) -> float:
    return json.loads((run_dir / "metrics.json").read_text())["psnr"]


def assert_same_fit(packed: Path, separate: Path) -> None:
    """Same PSNR to 1e-3 dB and the same weights to float rounding (batched kernels sum in another order)."""
    assert abs(_psnr(packed) - _psnr(separate)) < 1e-3, (_psnr(packed), _psnr(separate))
    mine, theirs = _state(packed), _state(separate)
    assert mine.keys() == theirs.keys()
    for name in mine:
        assert torch.allclose(mine[name].float(), theirs[name].float(), rtol=1e-4, atol=1e-5), name


def test_a_packed_fit_equals_separate_fits(corpus: Path, separate: Path, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    out = tmp_path / "packed"
    command = ["fit-many", "--manifest", str(corpus / "videos.txt"), "--config", CONFIG, "--out", str(out)]
    assert run([*command, "--pack", "2", "--", *FIT]) == 0
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert [(r["name"], r["status"]) for r in rows] == [(n, "done") for n in NAMES]
    for name in NAMES:  # each video its own run folder, checkpoint, metrics and config
        run_dir = out / name / "version_0"
        assert (run_dir / "config.yaml").is_file() and json.loads((run_dir / "metrics.json").read_text())["steps"] == 18
        assert_same_fit(run_dir, separate / name / "version_0")
        params = json.loads((run_dir / "metrics.json").read_text())["params"]
        assert load_video_inr(run_dir).parameter_count() == params  # an ordinary run, as everything reads one
    assert "pack of 2: shapes, negative" in (out / "shapes" / "fit.log").read_text()
    assert run([*command, "--pack", "2", "--", *FIT]) == 0  # again: nothing is refitted
    assert [r["status"] for r in csv.DictReader((out / "results.csv").open())] == ["skipped", "skipped"]


def test_a_diverging_video_does_not_stop_its_pack(corpus: Path, separate: Path, tmp_path: Path) -> None:
    from inrzoo.cli.fit_pack import build_member, claim_run_folders

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the separate fits ran with one thread
    try:
        built = [build_member(CONFIG, tmp_path, name, str(corpus / f"{name}.mp4"), FIT) for name in NAMES]
        members = [member for member, _ in built]
        plan = plan_from_trainer(built[0][1])
        check_pack(members, plan)
        claim_run_folders(members)
        with torch.no_grad():
            next(members[1].model.backbone.parameters()).fill_(float("nan"))  # `negative` diverges at once
        outcomes = fit_pack(members, plan, log=lambda line: None)
    finally:
        torch.set_num_threads(threads)
    assert [o.status for o in outcomes] == ["done", "failed"]
    assert "diverged: loss nan at step 0" in outcomes[1].error
    assert json.loads((tmp_path / "negative" / "failed.json").read_text())["status"] == "failed"
    assert not (tmp_path / "negative" / "done.json").exists()
    assert_same_fit(tmp_path / "shapes" / "version_0", separate / "shapes" / "version_0")


def test_a_killed_pack_resumes_to_the_same_result(corpus: Path, separate: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    command = ["fit-many", "--manifest", str(corpus / "videos.txt"), "--config", CONFIG, "--out", str(out),
               "--pack", "2", "--", *FIT]  # fmt: skip
    kill_at_first_checkpoint(command, out / "negative" / "version_0" / "checkpoints" / "last.ckpt", group=True)
    assert not (out / "negative" / "done.json").exists(), "the pack finished before the kill; nothing to resume"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OMP_NUM_THREADS", "1")
        assert run(command) == 0
    for row in csv.DictReader((out / "results.csv").open()):
        assert row["status"] == "done" and row["resumed_from"].endswith("version_0/checkpoints/last.ckpt")
        assert_same_fit(Path(row["run_dir"]), separate / row["name"] / "version_0")


def test_pack_errors(corpus: Path, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    base = ["fit-many", "--manifest", str(corpus / "videos.txt"), "--config", CONFIG, "--out", str(tmp_path / "o")]
    assert run([*base, "--pack", "0"]) == 2
    assert "--pack: got 0, expected an integer from 1 to 1024" in error_line(capsys)

    encode_clip(synthetic_frames(12, 32, 48), tmp_path / "small.mp4")
    (tmp_path / "mixed.txt").write_text(f"{corpus / 'shapes.mp4'}\n{tmp_path / 'small.mp4'}\n")
    out = tmp_path / "mixed"
    mixed = ["fit-many", "--manifest", str(tmp_path / "mixed.txt"), "--config", CONFIG, "--out", str(out)]
    assert run([*mixed, "--pack", "2", "--", *FIT]) == 2
    line = error_line(capsys)
    assert "shapes (12 frames 40x60" in line and "small (12 frames 32x48" in line and "one geometry" in line
    assert not list(out.glob("*/version_*")), "a refused pack claimed run folders"
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert [r["status"] for r in rows] == ["failed", "failed"] and "one geometry" in rows[0]["error"]

    assert run([*base, "--pack", "2", "--", *FIT, "--model.init_args.lr_schedule=time"]) == 2
    assert "--pack does not support lr_schedule=time" in error_line(capsys)


def test_a_packed_aligned_fit_equals_separate_aligned_fits(corpus: Path, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """Alignment in a pack: each member's head learns from its own teacher features, as in its own fit."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    features = tmp_path / "features.npy"
    np.save(features, np.random.default_rng(0).normal(size=(12, 8)).astype(np.float32))
    aligned = [
        "--model.init_args.alignment.teacher=FeatureFileTeacher",
        f"--model.init_args.alignment.teacher.init_args.path={features}",
        "--model.init_args.alignment.weight=0.5", f"--model.init_args.alignment.cache_dir={tmp_path / 'cache'}",
        "--trainer.max_epochs=2",
    ]  # fmt: skip
    base = ["fit-many", "--manifest", str(corpus / "videos.txt"), "--config", CONFIG]
    assert run([*base, "--out", str(tmp_path / "separate"), "--", *FIT, *aligned]) == 0
    assert run([*base, "--out", str(tmp_path / "packed"), "--pack", "2", "--", *FIT, *aligned]) == 0
    for name in NAMES:
        packed, separate = tmp_path / "packed" / name / "version_0", tmp_path / "separate" / name / "version_0"
        assert any(k.startswith("alignment_objective.head.") for k in _state(packed))
        assert_same_fit(packed, separate)
        with torch.no_grad():
            embeddings = load_video_inr(packed).aligned_embeddings()
        assert torch.allclose(embeddings, load_video_inr(separate).aligned_embeddings(), atol=1e-5)


def test_a_model_part_a_pack_does_not_know_is_refused(corpus: Path, tmp_path: Path) -> None:
    """Fail closed: a part added to VideoINR later may add to its training step, which a pack would skip."""
    from inrzoo.cli.fit_pack import build_member
    from inrzoo.errors import InrzooError
    from inrzoo.fleet.packing import check_packable

    member, _ = build_member(CONFIG, tmp_path, "shapes", str(corpus / "shapes.mp4"), FIT)
    check_packable(member.model)
    member.model.new_head = torch.nn.Linear(2, 2)
    with pytest.raises(InrzooError, match="does not know the model's new_head"):
        check_packable(member.model)


def test_a_member_ends_the_same_alone_or_packed_at_batch_1(corpus: Path, tmp_path: Path) -> None:
    """One frame per step (the quickstart's batch) with channels_last weights: vmap's grouped convolution once
    mixed the members there, so a video's result depended on its pack-mates."""
    from inrzoo.cli.fit_pack import build_member, claim_run_folders

    fit = [*FIT, "--data.init_args.batch_size=1", "--trainer.max_epochs=1"]

    def pack(names: tuple[str, ...], out: Path) -> dict[str, float]:
        built = [build_member(CONFIG, out, name, str(corpus / f"{name}.mp4"), fit) for name in names]
        members = [member for member, _ in built]
        assert members[0].model.hparams["channels_last"]
        claim_run_folders(members)
        return {o.name: o.psnr for o in fit_pack(members, plan_from_trainer(built[0][1]), log=lambda line: None)}

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        alone, together = pack(("shapes",), tmp_path / "alone"), pack(NAMES, tmp_path / "together")
    finally:
        torch.set_num_threads(threads)
    assert abs(alone["shapes"] - together["shapes"]) < 1e-3, (alone, together)
    mine, theirs = (
        _state(tmp_path / "together" / "shapes" / "version_0"),
        _state(tmp_path / "alone" / "shapes" / "version_0"),
    )
    for name in mine:
        assert torch.allclose(mine[name], theirs[name], rtol=1e-4, atol=1e-5), name
