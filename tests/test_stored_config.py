"""Stored configs are data, not code: crafted checkpoints, ``.inrz`` files and indexes are refused
before anything they name is imported."""

from __future__ import annotations

import importlib
import json
import re
import sys
import uuid
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from helpers import REPO_ROOT
from test_cli import error_line, run

from inrzoo.backbones import SirenBackbone
from inrzoo.backbones.base import INRBackbone
from inrzoo.backbones.registry import BACKBONES
from inrzoo.compression import Bitstream
from inrzoo.models import VideoINR
from inrzoo.stored_config import UntrustedConfigError, check_stored_config
from inrzoo.teachers import Teacher
from inrzoo.teachers.from_config import teacher_from_config


@pytest.fixture(scope="module")
def saved(shared_clip_path: Path, tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """One aligned fit (a feature-file teacher), its checkpoint, its .inrz file and its index."""
    root = tmp_path_factory.mktemp("stored_config")
    features = root / "features.npy"
    np.save(features, np.random.default_rng(0).normal(size=(12, 8)).astype(np.float32))
    args = [
        "fit", "--config", str(REPO_ROOT / "configs" / "quickstart.yaml"),
        f"--data.init_args.path={shared_clip_path}", "--data.init_args.resize=null",
        "--trainer.max_epochs=1", "--trainer.limit_train_batches=1", "--trainer.max_time=null",
        "--trainer.check_val_every_n_epoch=1000", "--trainer.enable_progress_bar=false",
        f"--trainer.logger.init_args.save_dir={root / 'runs'}",
        "--model.init_args.alignment.teacher=FeatureFileTeacher",
        f"--model.init_args.alignment.teacher.init_args.path={features}",
        f"--model.init_args.alignment.cache_dir={root / 'cache'}",
    ]  # fmt: skip
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("INRZOO_CACHE_DIR", str(root / "frames"))
        assert run(args) == 0
    run_dir = root / "runs" / "quickstart" / "version_0"
    assert run(["compress", str(run_dir), "-o", str(root / "video.inrz")]) == 0
    assert run(["index", str(run_dir), "--out", str(root / "index")]) == 0
    return SimpleNamespace(
        checkpoint=run_dir / "checkpoints" / "last.ckpt", inrz=root / "video.inrz", index=root / "index"
    )


@pytest.fixture
def trap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """A module on sys.path that leaves a marker file when imported (and a class in it)."""
    name = f"inrzoo_trap_{uuid.uuid4().hex}"
    marker = tmp_path / "imported"
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / f"{name}.py").write_text(
        f"import pathlib\npathlib.Path({str(marker)!r}).write_text('imported')\n\nclass Payload:\n    pass\n"
    )
    monkeypatch.syspath_prepend(str(folder))
    return SimpleNamespace(module=name, class_path=f"{name}.Payload", marker=marker)


def assert_not_imported(trap: SimpleNamespace) -> None:
    assert not trap.marker.exists(), "the module named in the file was imported"
    assert trap.module not in sys.modules


def test_the_trap_springs_when_imported(trap: SimpleNamespace) -> None:
    """The marker is a real witness: importing the module writes it."""
    importlib.import_module(trap.module)
    assert trap.marker.exists()
    sys.modules.pop(trap.module)


# -- crafted files, through the commands that open them --------------------------------------------
def craft_checkpoint(saved: SimpleNamespace, tmp_path: Path, class_path: str) -> Path:
    checkpoint = torch.load(saved.checkpoint, map_location="cpu", weights_only=True)
    checkpoint["hyper_parameters"]["alignment"]["teacher"]["class_path"] = class_path
    crafted = tmp_path / "crafted.ckpt"
    torch.save(checkpoint, crafted)
    return crafted


@pytest.mark.parametrize("target", ["module", "popen"])
def test_a_crafted_checkpoint_is_refused_before_import(
    saved: SimpleNamespace, trap: SimpleNamespace, tmp_path: Path, target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    class_path = trap.class_path if target == "module" else "subprocess.Popen"
    crafted = craft_checkpoint(saved, tmp_path, class_path)
    assert run(["compress", str(crafted), "-o", str(tmp_path / "out.inrz")]) == 2
    line = error_line(capsys)
    assert str(crafted) in line and repr(class_path) in line and "install the plugin" in line
    assert not (tmp_path / "out.inrz").exists()
    assert_not_imported(trap)


def test_a_plain_string_where_a_class_goes_is_checked_too(
    saved: SimpleNamespace, trap: SimpleNamespace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """jsonargparse reads ``hypernet: "pkg.Class"`` as a class path (and imports pkg): so does the check."""
    checkpoint = torch.load(saved.checkpoint, map_location="cpu", weights_only=True)
    checkpoint["hyper_parameters"]["hypernet"] = trap.class_path
    crafted = tmp_path / "string.ckpt"
    torch.save(checkpoint, crafted)
    assert run(["compress", str(crafted), "-o", str(tmp_path / "out.inrz")]) == 2
    assert "hyper_parameters.hypernet" in error_line(capsys)
    assert_not_imported(trap)


def test_a_crafted_checkpoint_model_class_is_refused(
    saved: SimpleNamespace, trap: SimpleNamespace, tmp_path: Path
) -> None:
    checkpoint = torch.load(saved.checkpoint, map_location="cpu", weights_only=True)
    checkpoint["hyper_parameters"]["_class_path"] = trap.class_path
    crafted = tmp_path / "model.ckpt"
    torch.save(checkpoint, crafted)
    from inrzoo.runs import FittedRun

    with pytest.raises(UntrustedConfigError, match="_class_path"):
        FittedRun.open(crafted)
    assert_not_imported(trap)


@pytest.mark.parametrize("target", ["module", "popen"])
def test_a_crafted_bitstream_is_refused_before_import(
    saved: SimpleNamespace, trap: SimpleNamespace, tmp_path: Path, target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    class_path = trap.class_path if target == "module" else "subprocess.Popen"
    stream = Bitstream.read(saved.inrz)
    stream.header["model"]["backbone"]["class_path"] = class_path
    crafted = tmp_path / "crafted.inrz"
    stream.write(crafted)  # a valid checksum: only the config is wrong
    assert run(["decompress", str(crafted), "-o", str(tmp_path / "out.mp4")]) == 2
    line = error_line(capsys)
    assert str(crafted) in line and repr(class_path) in line and "model.backbone.class_path" in line
    assert not (tmp_path / "out.mp4").exists()
    assert_not_imported(trap)


def test_a_bitstream_built_in_memory_is_checked_when_decoded(saved: SimpleNamespace, trap: SimpleNamespace) -> None:
    from inrzoo.compression import decode_model

    stream = Bitstream.read(saved.inrz)
    stream.header["model"]["hypernet"] = trap.class_path  # never through from_bytes
    with pytest.raises(UntrustedConfigError, match="model.hypernet"):
        decode_model(stream)
    assert_not_imported(trap)


@pytest.mark.parametrize("target", ["module", "popen"])
def test_a_crafted_index_is_refused_before_import(
    saved: SimpleNamespace, trap: SimpleNamespace, tmp_path: Path, target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    class_path = trap.class_path if target == "module" else "subprocess.Popen"
    crafted = tmp_path / "index"
    crafted.mkdir()
    (crafted / "embeddings.safetensors").write_bytes((saved.index / "embeddings.safetensors").read_bytes())
    meta = json.loads((saved.index / "index.json").read_text())
    meta["teacher"]["class_path"] = class_path
    (crafted / "index.json").write_text(json.dumps(meta))
    assert run(["retrieve", "--index", str(crafted), "--text", "a red disc"]) == 2
    line = error_line(capsys)
    assert str(crafted) in line and repr(class_path) in line
    assert_not_imported(trap)
    with pytest.raises(UntrustedConfigError):  # the teacher loader checks on its own too
        teacher_from_config(meta["teacher"])
    assert_not_imported(trap)


def test_the_genuine_files_still_open(saved: SimpleNamespace, tmp_path: Path) -> None:
    assert run(["decompress", str(saved.inrz), "-o", str(tmp_path / "out.mp4")]) == 0
    assert run(["compress", str(saved.checkpoint), "-o", str(tmp_path / "again.inrz")]) == 0
    meta = json.loads((saved.index / "index.json").read_text())
    assert type(teacher_from_config(meta["teacher"])).__name__ == "FeatureFileTeacher"


# -- the allow-list itself ---------------------------------------------------------------------------
class RegisteredAtRuntime(SirenBackbone):
    """A backbone this test registers, as an entry-point plugin would be."""


def test_a_registered_plugin_is_allowed_and_an_unregistered_one_refused() -> None:
    config = {"class_path": f"{__name__}.RegisteredAtRuntime", "init_args": {"width": 8}}
    with pytest.raises(UntrustedConfigError, match="RegisteredAtRuntime"):
        check_stored_config(config, INRBackbone, "test")
    BACKBONES.register("test-registered-at-runtime")(RegisteredAtRuntime)
    try:
        check_stored_config(config, INRBackbone, "test")
    finally:
        BACKBONES.unregister("test-registered-at-runtime")


@pytest.mark.parametrize(
    "config",
    [
        {"backbone": {"class_path": "inrzoo.backbones.SirenBackbone"}, "lr_schedule": "steps"},  # a re-export path
        {"backbone": {"class_path": "inrzoo.backbones.coordinate_mlp.SirenBackbone"}},  # where it is defined
        {"backbone": "SirenBackbone", "video_name": "os.system"},  # a short name; a name that is only a string
        {"alignment": {"teacher": {"class_path": "FeatureFileTeacher", "init_args": {"path": "subprocess.run"}}}},
    ],
)
def test_what_inrzoo_writes_passes(config: dict) -> None:
    check_stored_config(config, VideoINR, "test")


@pytest.mark.parametrize(
    ("config", "where"),
    [
        ({"backbone": "os.system"}, "model.backbone"),
        ({"backbone": {"class_path": "inrzoo.backbones.base.INRBackbone"}}, "model.backbone.class_path"),
        ({"backbone": {"class_path": "inrzoo.backbones.registry"}}, "model.backbone.class_path"),  # a module
        ({"loss": {"class_path": "os.system"}}, "model.loss.class_path"),
        ({"alignment": {"teacher": "builtins.eval"}}, "model.alignment.teacher"),
        ({"alignment": {"class_path": "inrzoo.alignment.Alignment", "teacher": "builtins.eval"}},
         "model.alignment.teacher"),  # an argument beside its class path
        ({"hypernet": {"class_path": "inrzoo.hypernets.FiLMHyperHead", "dict_kwargs": {"x": {"class_path": "os.X"}}}},
         "model.hypernet.x.class_path"),
        ({"_class_path": "lightning.pytorch.LightningModule"}, "model._class_path"),
        ({"unknown_key": [{"class_path": "os.system"}]}, "model.unknown_key[0].class_path"),
    ],
)  # fmt: skip
def test_anything_else_is_refused(config: dict, where: str) -> None:
    with pytest.raises(UntrustedConfigError, match=re.escape(f"at {where})")):
        check_stored_config(config, VideoINR, "test", "model")


def test_a_teacher_kwarg_of_any_type_may_not_hide_a_class() -> None:
    """A dict-of-Any option (timm's model_kwargs): jsonargparse builds a class_path there, so it is checked."""
    with pytest.raises(UntrustedConfigError, match="model_kwargs.act"):
        check_stored_config(
            {"class_path": "TimmTeacher", "init_args": {"model_kwargs": {"act": {"class_path": "os.system"}}}},
            Teacher,
            "test",
        )
    check_stored_config({"class_path": "TimmTeacher", "init_args": {"model_kwargs": {"pool": "avg"}}}, Teacher, "t")
