"""The ``inrzoo`` command, run in-process through ``main(args)``."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
import yaml
from helpers import CLIP_FRAMES, REPO_ROOT, requires_samples

from inrzoo.cli import COMMANDS, Command, main, register_command
from inrzoo.errors import InrzooError
from inrzoo.registry import all_registries

CONFIGS = sorted((REPO_ROOT / "configs").glob("*.yaml"))
QUICKSTART = REPO_ROOT / "configs" / "quickstart.yaml"


def run(args: Sequence[str]) -> int:
    """``inrzoo ARGS`` in-process -> its exit status."""
    try:
        return main(list(args))
    except SystemExit as exit_:
        return 0 if exit_.code is None else exit_.code


def error_line(capsys: pytest.CaptureFixture[str]) -> str:
    """The one ``inrzoo: error:`` line a user error must produce, and no traceback."""
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.startswith("inrzoo: error:")]
    assert len(lines) == 1, f"expected one error line, got stderr:\n{captured.err}"
    assert "Traceback" not in captured.err + captured.out
    return lines[0]


def decode(path: Path) -> torch.Tensor:
    from torchcodec.decoders import VideoDecoder

    decoder = VideoDecoder(str(path), dimension_order="NCHW")
    return decoder.get_frames_in_range(0, len(decoder)).data


def logged_scalar(run_dir: Path, tag: str) -> float:
    """The last value of a scalar in a run folder's TensorBoard events."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    return EventAccumulator(str(run_dir)).Reload().Scalars(tag)[-1].value


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run the CLI from a scratch folder, so relative outputs never land in the repository."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def fast_args(config: Path, clip: Path, root: Path, tiny_clip: str | None = None) -> list[str]:
    """Run a shipped config for one step on the fixture clip, writing under ``root``
    (an alignment teacher is swapped for the tiny random CLIP: tests never download weights)."""
    args = [
        "fit", "--config", str(config),
        "--trainer.fast_dev_run=true", "--trainer.accelerator=cpu", "--trainer.enable_progress_bar=false",
        f"--trainer.default_root_dir={root}",
        f"--data.init_args.path={clip}", "--data.init_args.resize=[40,60]", "--data.init_args.center_crop=null",
        "--data.init_args.max_frames=4",
    ]  # fmt: skip
    settings = yaml.safe_load(config.read_text())
    if (settings.get("model") or {}).get("init_args", {}).get("alignment") and tiny_clip is not None:
        args += [
            f"--model.init_args.alignment.teacher.init_args.model_name={tiny_clip}",
            "--model.init_args.alignment.teacher.init_args.pretrained=null",
            f"--model.init_args.alignment.cache_dir={root / 'teacher-cache'}",
        ]
    bridge = ((settings.get("model") or {}).get("init_args") or {}).get("llm_bridge")
    if bridge:  # stand-in exported tokens of the bridge's shape (a real export comes from the video-language model)
        from safetensors.torch import save_file

        shape = (bridge["init_args"]["num_tokens"], bridge["init_args"]["token_dim"])
        save_file({"tokens": torch.randn(shape)}, str(root / "tokens.safetensors"))
        args.append(f"--model.init_args.llm_bridge.init_args.tokens={root / 'tokens.safetensors'}")
    logger = (settings.get("trainer") or {}).get("logger")
    if isinstance(logger, dict) and "save_dir" in (logger.get("init_args") or {}):
        args.append(f"--trainer.logger.init_args.save_dir={root / 'runs'}")
    return args


# -- every shipped config ----------------------------------------------------------------------
def test_there_are_configs() -> None:
    assert QUICKSTART in CONFIGS


@pytest.mark.parametrize("config", CONFIGS, ids=[c.stem for c in CONFIGS])
def test_config_runs(
    config: Path, clip_path: Path, workdir: Path, tiny_clip: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(fast_args(config, clip_path, workdir, tiny_clip)) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "inrzoo fit: 4 frames 40x60" in out, "the fit report names the frames it scored"
    psnr = float(out.split("PSNR")[1].split("dB")[0])
    assert math.isfinite(psnr)
    assert not list(workdir.glob("**/*.ckpt")), "fast_dev_run writes no files (the summary says so)"


def test_plugin_backbone_by_short_name(clip_path: Path, workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if importlib.util.find_spec("inrzoo_example_plugin") is None:
        pytest.skip("the example plugin is not installed (pip install -e plugins/inrzoo-example-plugin)")
    args = fast_args(REPO_ROOT / "configs" / "carphone_siren.yaml", clip_path, workdir)
    args += ["--model.init_args.backbone=GaborMLPBackbone", "--model.init_args.backbone.init_args.width=16"]
    assert run(args) == 0, capsys.readouterr().err


def test_plugin_backbone_and_teacher_together(
    clip_path: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Backbone x head x teacher x task, each picked by short class name, two of them from the plugin package."""
    if importlib.util.find_spec("inrzoo_example_plugin") is None:
        pytest.skip("the example plugin is not installed (pip install -e plugins/inrzoo-example-plugin)")
    args = fast_args(REPO_ROOT / "configs" / "carphone_siren.yaml", clip_path, workdir)
    args += [
        "--model.init_args.backbone=GaborMLPBackbone", "--model.init_args.backbone.init_args.width=16",
        "--model.init_args.hypernet=FiLMHyperHead",
        "--model.init_args.alignment.teacher=ColorStatsTeacher", "--model.init_args.alignment.weight=0.5",
        "--model.init_args.interpolator=TemporalMLPInterpolator", "--data.init_args.train_every=2",
        f"--model.init_args.alignment.cache_dir={workdir / 'teacher-cache'}",
    ]  # fmt: skip
    assert run(args) == 0, capsys.readouterr().err
    assert list((workdir / "teacher-cache").glob("*.safetensors")), "the teacher's features were not cached"


# -- help and plugins ---------------------------------------------------------------------
def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--help"]) == 0
    out = capsys.readouterr().out
    for word in ("fit", "validate", "test", "predict", "inrzoo plugins"):
        assert word in out


def test_fit_help_mentions_model_and_data(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["fit", "--help"]) == 0
    out = capsys.readouterr().out
    for key in ("--model", "--data", "--config", "--trainer.max_epochs", "--report", "--predict_writer"):
        assert key in out


def test_data_help_lists_the_data_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["fit", "--data.help", "VideoDataModule"]) == 0
    out = capsys.readouterr().out
    for key in ("--data.path", "--data.resize", "--data.center_crop", "--data.max_frames", "--data.train_every"):
        assert key in out


def test_plugins_lists_every_registered_plugin(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["plugins"]) == 0
    lines = capsys.readouterr().out.splitlines()
    sections: dict[str, list[str]] = {}  # "backbones (inrzoo.backbones):" -> its rows (a name may recur in two kinds)
    for line in lines:
        if not line.startswith(" "):
            sections[line] = rows = []
        else:
            rows.append(line)
    for kind, registry in all_registries().items():
        assert any(line.startswith(f"{kind}s ({registry.group})") for line in lines)
        for info in registry.entries():
            row = [line for line in sections[f"{kind}s ({registry.group}):"] if line.split()[:1] == [info.name]]
            assert row, f"{kind} {info.name} missing from `inrzoo plugins`"
            assert info.package in row[0] and info.qualname in row[0]
    assert any("nerv-conv" in line and " inrzoo " in f"{line} " for line in lines)


@pytest.fixture
def broken_plugin_registries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fresh registries whose entry points include one that cannot be imported."""
    import importlib.metadata

    from inrzoo import registry as registry_module
    from inrzoo.backbones import INRBackbone, SirenBackbone

    fresh = registry_module.Registry("backbone", "inrzoo.backbones", INRBackbone)
    fresh.register("siren")(SirenBackbone)
    broken = importlib.metadata.EntryPoint(
        name="broken", value="inrzoo_no_such_module_xyz:Backbone", group="inrzoo.backbones"
    )
    COMMANDS.discover()  # the installed commands first: the fake entry points must reach only `fresh`
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda *, group: [broken])
    monkeypatch.setattr(registry_module, "all_registries", lambda: {"backbone": fresh})
    monkeypatch.delenv("INRZOO_DISABLE_PLUGIN_AUTOLOAD", raising=False)


def test_plugins_reports_a_broken_plugin(
    broken_plugin_registries: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("INRZOO_STRICT_PLUGINS", raising=False)
    with pytest.warns(UserWarning, match="skipping backbone plugin 'broken'"):
        assert run(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "siren" in out
    failed = out.split("failed to load:")[1]
    assert "broken = inrzoo_no_such_module_xyz:Backbone" in failed and "ModuleNotFoundError" in failed


def test_strict_plugins_turn_a_broken_plugin_into_exit_2(
    broken_plugin_registries: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("INRZOO_STRICT_PLUGINS", "1")
    assert run(["plugins"]) == 2
    assert "'broken'" in error_line(capsys)


# -- the command table and third-party commands ----------------------------------------------
def _squeezed(text: str) -> str:
    """Help text without whitespace: the epilog is wrapped (also at hyphens) to the terminal width."""
    return "".join(text.split())


def test_help_lists_every_command_of_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--help"]) == 0
    out = _squeezed(capsys.readouterr().out)
    own = [info for info in COMMANDS.entries() if not info.target.lightning]
    assert {"plugins", "bench", "compress", "decompress", "index", "retrieve", "fit-many"} <= {i.name for i in own}
    for info in own:
        assert f"`inrzoo{info.name}`:{_squeezed(info.target.help)}" in out, f"{info.name} missing from --help"


def test_a_row_added_to_the_table_is_listed_and_dispatched(capsys: pytest.CaptureFixture[str]) -> None:
    """--help and dispatch read the same table: one row, and the command exists."""
    seen: list[list[str]] = []

    def hello(argv: Sequence[str]) -> int:
        seen.append(list(argv))
        print("hello from the table")
        return 3

    register_command("hello-from-test", Command("say hello (a test row)", hello))
    try:
        assert run(["--help"]) == 0
        assert "`inrzoohello-from-test`:sayhello(atestrow)" in _squeezed(capsys.readouterr().out)
        assert run(["hello-from-test", "--loud", "x"]) == 3
        assert seen == [["--loud", "x"]]
        assert "hello from the table" in capsys.readouterr().out
    finally:
        COMMANDS.unregister("hello-from-test")
    assert run(["plugins"]) == 0
    assert "hello-from-test" not in capsys.readouterr().out


def test_a_command_cannot_take_a_builtin_name() -> None:
    with pytest.raises(InrzooError, match="command name 'fit' from package inrzoo collides"):
        register_command("fit", Command("not Lightning's fit", lambda argv: 0))
    assert COMMANDS.get("fit").lightning


def _inrzoo_process(*args: str, site: Path | None = None, strict: bool = False) -> subprocess.CompletedProcess[str]:
    """``python -m inrzoo ARGS`` in a fresh interpreter (entry points as installed), ``site`` on the path."""
    env = {k: v for k, v in os.environ.items() if k not in {"INRZOO_STRICT_PLUGINS", "INRZOO_DISABLE_PLUGIN_AUTOLOAD"}}
    if site is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(site), env.get("PYTHONPATH", "")])
    if strict:
        env["INRZOO_STRICT_PLUGINS"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "inrzoo", *args], capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=300
    )


def test_the_example_plugin_command_through_its_entry_point(
    shared_clip_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`inrzoo color-stats`, declared in plugins/inrzoo-example-plugin/pyproject.toml, as a user runs it."""
    if importlib.util.find_spec("inrzoo_example_plugin") is None:
        pytest.skip("the example plugin is not installed (pip install -e plugins/inrzoo-example-plugin)")
    from inrzoo.data import VideoDataModule

    assert "color-stats" in COMMANDS, (
        "the example plugin's inrzoo.commands entry point is not installed: reinstall it "
        "(pip install -e plugins/inrzoo-example-plugin) after its pyproject.toml changes"
    )
    done = _inrzoo_process("color-stats", str(shared_clip_path), "--frames", "2", strict=True)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["frame 0", "frame 1"]
    frames = VideoDataModule(path=str(shared_clip_path), max_frames=2, cache_dir=None).frames.float() / 255
    for line, frame in zip(lines, frames, strict=True):
        printed = [float(v) for v in line.split("mean RGB ")[1].split(",")[0].split()]
        assert printed == pytest.approx(frame.mean(dim=(1, 2)).tolist(), abs=1e-3)

    assert run(["plugins"]) == 0
    [row] = [line for line in capsys.readouterr().out.splitlines() if "inrzoo_example_plugin.command" in line]
    assert row.split()[0] == "color-stats" and "inrzoo-example-plugin" in row
    assert COMMANDS.info("color-stats").package == "inrzoo-example-plugin", "not loaded from the entry point?"
    assert run(["--help"]) == 0
    assert "`inrzoocolor-stats`:" in _squeezed(capsys.readouterr().out)
    assert run(["color-stats", str(shared_clip_path), "--frames", "0"]) == 2
    assert "--frames must be >= 1" in error_line(capsys)


@pytest.fixture(scope="module")
def broken_command_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site folder holding an installed distribution with a command that fails to import and one that is
    not a Command."""
    site = tmp_path_factory.mktemp("site")
    dist = site / "broken_inrzoo_command-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-inrzoo-command\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[inrzoo.commands]\nbroken-cmd = broken_inrzoo_command:command\nnot-a-cmd = collections:OrderedDict\n"
    )
    (site / "broken_inrzoo_command.py").write_text('raise ImportError("needs libbroken, which is not installed")\n')
    return site


def test_an_installed_broken_command_is_reported_and_skipped(broken_command_site: Path) -> None:
    done = _inrzoo_process("plugins", site=broken_command_site)
    assert done.returncode == 0, done.stderr
    listed, failed = done.stdout.split("failed to load:")
    assert "compress" in listed and "broken-cmd" not in listed and "not-a-cmd" not in listed
    assert "command broken-cmd = broken_inrzoo_command:command from broken-inrzoo-command" in failed
    assert "needs libbroken" in failed
    assert "not-a-cmd = collections:OrderedDict" in failed and "not a Command" in failed
    assert "skipping command plugin 'broken-cmd'" in done.stderr


def test_strict_mode_makes_an_installed_broken_command_fatal(broken_command_site: Path) -> None:
    done = _inrzoo_process("plugins", site=broken_command_site, strict=True)
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("inrzoo: error:")]
    assert len(errors) == 1 and "broken-cmd" in errors[0] and "broken-inrzoo-command" in errors[0]
    assert "Traceback" not in done.stderr


# -- user errors: exit 2 and one line --------------------------------------------------------
def _misspelt_trainer_key(tmp_path: Path) -> list[str]:
    config = yaml.safe_load(QUICKSTART.read_text())
    config["trainer"]["max_epoch"] = config["trainer"].pop("max_epochs")
    path = tmp_path / "misspelt.yaml"
    path.write_text(yaml.safe_dump(config))
    return ["--config", str(path)]


# case -> (fixture giving a bad file or None, extra arguments given (tmp folder, bad file), expected words)
BAD_INPUTS = {
    "missing-file": (None, lambda tmp, bad: [f"--data.init_args.path={tmp / 'nowhere.mp4'}"], "video file not found"),
    "non-video-file": ("text_file", lambda tmp, bad: [f"--data.init_args.path={bad}"], "not a readable video"),
    "zero-byte-file": ("empty_file", lambda tmp, bad: [f"--data.init_args.path={bad}"], "not a readable video"),
    "zero-video-frames": ("audio_only_file", lambda tmp, bad: [f"--data.init_args.path={bad}"], "silence.mp4"),
    "unknown-sample": (None, lambda tmp, bad: ["--data.init_args.path=sample:xyz"], "unknown sample clip 'xyz'"),
    "impossible-resolution": (None, lambda tmp, bad: ["--data.init_args.resize=[10,10]"], "cannot produce 10x10"),
    "crop-larger-than-frame": (None, lambda tmp, bad: ["--data.init_args.center_crop=[50,50]"], "center_crop 50x50"),
    "unknown-backbone": (
        None,
        lambda tmp, bad: ["--model.init_args.backbone.class_path=NoSuchBackbone"],
        "NoSuchBackbone",
    ),
    "unknown-backbone-key": (None, lambda tmp, bad: ["--model.init_args.backbone.init_args.nope=1"], "nope"),
    "misspelt-trainer-key": (None, lambda tmp, bad: _misspelt_trainer_key(tmp), "max_epoch"),
    "layer-pattern-matching-nothing": (
        None,
        lambda tmp, bad: ["--model.init_args.hypernet.init_args.layers=[nothing*]"],
        "match no backbone layer",
    ),
    # Options out of range, or of the wrong form: named by their whole key, with the range or form (issue 14).
    "zero-batch-size": (
        None,
        lambda tmp, bad: ["--data.init_args.batch_size=0"],
        "config key data.init_args.batch_size: got 0, expected an integer from 1 to",
    ),
    "negative-latent-dim": (
        None,
        lambda tmp, bad: ["--model.init_args.latent_dim=-3"],
        "config key model.init_args.latent_dim: got -3, expected an integer from 1 to 8192",
    ),
    "negative-learning-rate": (
        None,
        lambda tmp, bad: ["--model.init_args.learning_rate=-1"],
        "config key model.init_args.learning_rate: got -1.0, expected a finite number in (0, 1,000,000]",
    ),
    "nan-learning-rate": (
        None,
        lambda tmp, bad: ["--model.init_args.learning_rate=.nan"],
        "config key model.init_args.learning_rate: got nan",
    ),
    "text-for-a-number": (
        None,
        lambda tmp, bad: ["--model.init_args.hypernet.init_args.hidden=abc"],
        "config key model.init_args.hypernet.init_args.hidden: got 'abc', expected an integer",
    ),
    "list-without-brackets": (
        None,
        lambda tmp, bad: ["--data.init_args.resize=40,60"],
        "config key data.init_args.resize: got '40,60', expected a list of 2 integers such as [40,60] or null",
    ),
    "negative-loss-weight": (
        None,
        lambda tmp, bad: ["--model.init_args.loss.l2=-1"],
        "config key model.init_args.loss.l2: got -1.0",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_user_errors_exit_2_with_one_line(
    case: str, clip_path: Path, workdir: Path, request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]
) -> None:
    fixture, make_args, expected = BAD_INPUTS[case]
    bad = request.getfixturevalue(fixture) if fixture else None
    extra = make_args(workdir, bad)
    config = [] if extra[0] == "--config" else ["--config", str(QUICKSTART)]
    args = ["fit", *config, "--trainer.fast_dev_run=true", "--trainer.accelerator=cpu",
            f"--data.init_args.path={clip_path}", "--data.init_args.resize=[40,60]", *extra]  # fmt: skip
    assert run(args) == 2
    line = error_line(capsys)
    assert expected in line, line
    if case == "unknown-backbone":
        for name in all_registries()["backbone"].names():
            assert name in line, f"the message should list the known backbone {name}"
    assert not list(workdir.glob("**/*.ckpt")), "a refused run must not leave a checkpoint"


# -- a real (short) fit, twice, then predict -------------------------------------------------
FIT_SIZE = (30, 50)  # not a multiple of nerv-conv's 20: rendered padded, cropped back


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory, shared_clip_path: Path) -> SimpleNamespace:
    root = tmp_path_factory.mktemp("cli_fit")
    args = [
        "fit", "--config", str(QUICKSTART), "--trainer.accelerator=cpu",
        "--trainer.max_epochs=2", "--trainer.limit_train_batches=2", "--trainer.check_val_every_n_epoch=1",
        "--trainer.log_every_n_steps=1",
        "--trainer.enable_progress_bar=false", "--trainer.enable_model_summary=false",
        f"--trainer.logger.init_args.save_dir={root / 'runs'}",
        f"--data.init_args.path={shared_clip_path}", f"--data.init_args.resize=[{FIT_SIZE[0]},{FIT_SIZE[1]}]",
    ]  # fmt: skip
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        patch.setenv("INRZOO_CACHE_DIR", str(root / "cache"))
        assert run(args) == 0
        first = root / "runs" / "quickstart" / "version_0"
        snapshot = {p.name: p.read_bytes() for p in first.iterdir() if p.is_file()}
        assert run(args) == 0
    return SimpleNamespace(root=root, run=first, args=args, snapshot=snapshot)


def test_fit_fills_the_run_folder(fitted: SimpleNamespace) -> None:
    run_dir = fitted.run
    for name in ("reconstruction.mp4", "comparison.png", "metrics.json", "config.yaml"):
        assert (run_dir / name).is_file(), f"{name} missing from {run_dir}"
    assert (run_dir / "checkpoints" / "last.ckpt").is_file()
    assert list(run_dir.glob("events.out.tfevents.*")), "no TensorBoard events file"


def test_fit_metrics_json(fitted: SimpleNamespace) -> None:
    record = json.loads((fitted.run / "metrics.json").read_text())
    assert (record["num_frames"], record["height"], record["width"]) == (CLIP_FRAMES, *FIT_SIZE)
    assert math.isfinite(record["psnr"]) and record["psnr"] > 5
    assert 0 < record["ms_ssim"] <= 1
    assert record["bpp_16bit"] == pytest.approx(record["params"] * 16 / (CLIP_FRAMES * FIT_SIZE[0] * FIT_SIZE[1]))
    assert record["epochs"] == 2 and record["steps"] == 4 and record["stopped_by_max_time"] is False
    # Per-frame truth: every frame's PSNR, the worst one and the 5th percentile beside the mean.
    scores = record["frame_psnr"]
    assert len(scores) == CLIP_FRAMES
    assert record["psnr"] == pytest.approx(sum(scores) / len(scores), abs=1e-3)
    assert record["psnr_worst"] == pytest.approx(min(scores), abs=1e-3) and scores[record["worst_frame"]] == min(scores)
    assert record["psnr_worst"] <= record["psnr_p5"] <= record["psnr"]


def test_fit_summary_prints_the_worst_frame(fitted: SimpleNamespace, capsys: pytest.CaptureFixture[str]) -> None:
    record = json.loads((fitted.run / "metrics.json").read_text())
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(fitted.root)
        patch.setenv("INRZOO_CACHE_DIR", str(fitted.root / "cache"))
        capsys.readouterr()
        assert run([*fitted.args, "--trainer.logger.init_args.version=worst_frame_print"]) == 0
    out = capsys.readouterr().out
    assert f"worst frame {record['psnr_worst']:.2f} dB: frame {record['worst_frame']}" in out
    assert f"5th percentile {record['psnr_p5']:.2f} dB" in out


def test_epochs_count_completed_epochs(workdir: Path, shared_clip_path: Path) -> None:
    """Two epochs of 2 steps and one step more is 2.5 epochs, not 3."""
    args = ["fit", "--config", str(QUICKSTART), "--trainer.accelerator=cpu", "--trainer.max_epochs=5",
            "--trainer.max_steps=5", "--trainer.limit_train_batches=2", "--trainer.enable_progress_bar=false",
            "--trainer.check_val_every_n_epoch=100", f"--trainer.logger.init_args.save_dir={workdir / 'runs'}",
            f"--data.init_args.path={shared_clip_path}", "--data.init_args.resize=[20,40]"]  # fmt: skip
    assert run(args) == 0
    [run_dir] = (workdir / "runs").glob("*/version_0")
    record = json.loads((run_dir / "metrics.json").read_text())
    assert (record["epochs"], record["steps"]) == (2.5, 5)


def test_fit_reconstruction_has_the_declared_size(fitted: SimpleNamespace) -> None:
    frames = decode(fitted.run / "reconstruction.mp4")
    assert tuple(frames.shape) == (CLIP_FRAMES, 3, *FIT_SIZE)
    from torchvision.io import read_image

    comparison = read_image(str(fitted.run / "comparison.png"))
    assert comparison.shape[0] == 3 and comparison.shape[2] > 2 * FIT_SIZE[1], "ground truth | reconstruction"
    # Four rows (the worst frame among them) under a caption strip naming the columns.
    assert comparison.shape[1] == 16 + 4 + 4 * (FIT_SIZE[0] + 4)
    assert (comparison[:, :16] < 128).any(), "the caption strip holds the column labels"


def _scalar_tags(run_dir: Path) -> set[str]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    return set(EventAccumulator(str(run_dir)).Reload().Tags()["scalars"])


def test_fit_logs_to_tensorboard(fitted: SimpleNamespace) -> None:
    scalars = _scalar_tags(fitted.run)
    assert {"train/loss", "train/psnr", "val/psnr", "val/ms_ssim"} <= scalars, scalars
    assert 0 < logged_scalar(fitted.run, "val/ms_ssim") <= 1


def test_saved_config_reproduces_the_run(fitted: SimpleNamespace) -> None:
    config = yaml.safe_load((fitted.run / "config.yaml").read_text())
    assert config["data"]["init_args"]["resize"] == list(FIT_SIZE)
    assert config["trainer"]["max_epochs"] == 2
    assert config["model"]["init_args"]["backbone"]["class_path"].endswith("HNeRVBackbone")


def test_checkpoint_loads_with_weights_only(fitted: SimpleNamespace) -> None:
    checkpoint = torch.load(fitted.run / "checkpoints" / "last.ckpt", weights_only=True)
    # The quickstart's spatial latent: 16 channels on a 2x3 grid (30x50 frames render padded to 40x60).
    assert tuple(checkpoint["state_dict"]["latents.weight"].shape) == (CLIP_FRAMES, 16 * 2 * 3)
    # The whole config travels as data: the plugins as their class paths and arguments.
    saved = checkpoint["hyper_parameters"]
    for plugin in ("backbone", "hypernet", "frame_encoder"):
        assert saved[plugin]["class_path"].startswith("inrzoo."), (plugin, saved[plugin])
    assert saved["hypernet"]["init_args"]["layers"] == ["blocks.1.conv", "head"] and saved["alignment"] is None


def test_a_checkpoint_from_a_newer_inrzoo_is_refused_clearly(
    fitted: SimpleNamespace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from inrzoo.errors import InrzooError
    from inrzoo.models.loading import load_video_inr

    checkpoint = torch.load(fitted.run / "checkpoints" / "last.ckpt", weights_only=True)
    assert checkpoint["inrzoo_checkpoint_format"] == 1 and checkpoint["inrzoo_version"]
    checkpoint["inrzoo_checkpoint_format"] = 9
    future = tmp_path / "future.ckpt"
    torch.save(checkpoint, future)
    with pytest.raises(InrzooError, match="checkpoint format 9 .* upgrade inrzoo"):
        load_video_inr(future)
    assert run(["compress", str(future), "-o", str(tmp_path / "x.inrz")]) == 2
    assert "upgrade inrzoo" in error_line(capsys)


def test_a_second_fit_gets_a_new_folder(fitted: SimpleNamespace) -> None:
    second = fitted.run.parent / "version_1"
    assert (second / "metrics.json").is_file() and (second / "checkpoints" / "last.ckpt").is_file()
    for name, content in fitted.snapshot.items():
        assert (fitted.run / name).read_bytes() == content, f"the second fit changed version_0/{name}"


def test_same_seed_same_numbers(fitted: SimpleNamespace) -> None:
    second = fitted.run.parent / "version_1"
    first_record, second_record = (json.loads((d / "metrics.json").read_text()) for d in (fitted.run, second))
    for key in ("psnr", "ms_ssim", "params", "bpp_16bit"):
        assert first_record[key] == second_record[key], key
    first_state, second_state = (
        torch.load(d / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"] for d in (fitted.run, second)
    )
    assert all(torch.equal(first_state[k], second_state[k]) for k in first_state)


def test_an_explicit_version_is_never_reused(
    fitted: SimpleNamespace, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(fitted.root)
    assert run([*fitted.args, "--trainer.logger.init_args.version=0"]) == 2
    assert "already holds a run" in error_line(capsys)
    for name, content in fitted.snapshot.items():
        assert (fitted.run / name).read_bytes() == content


def test_predict_writes_native_size_video_and_frames(
    fitted: SimpleNamespace, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(fitted.root)
    before = set(fitted.root.glob("runs/**/predict/decoded.mp4"))
    args = [
        "predict",
        "--config",
        str(fitted.run / "config.yaml"),
        "--ckpt_path",
        str(fitted.run / "checkpoints" / "last.ckpt"),
        "--trainer.enable_progress_bar=false",
    ]
    assert run(args) == 0, capsys.readouterr().err
    [video] = set(fitted.root.glob("runs/**/predict/decoded.mp4")) - before
    assert tuple(decode(video).shape) == (CLIP_FRAMES, 3, *FIT_SIZE)
    pngs = sorted((video.parent / "frames").glob("frame_*.png"))
    assert [p.name for p in pngs] == [f"frame_{t:06d}.png" for t in range(CLIP_FRAMES)]

    from torchvision.io import read_image

    from inrzoo.models import VideoINR

    model = VideoINR.load_from_checkpoint(fitted.run / "checkpoints" / "last.ckpt", map_location="cpu").eval()
    with torch.no_grad():
        expected = (model.decode_frames(torch.arange(CLIP_FRAMES)).clamp(0, 1) * 255).round().to(torch.uint8)
    for t in (0, CLIP_FRAMES - 1):
        frame = read_image(str(pngs[t]))
        assert tuple(frame.shape) == (3, *FIT_SIZE)
        assert (frame.int() - expected[t].int()).abs().max() <= 1, "PNG frames are the checkpoint's decode"


def test_predict_refuses_to_overwrite_unless_asked(
    fitted: SimpleNamespace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(fitted.root)
    out = tmp_path / "decoded"
    args = [
        "predict",
        "--config",
        str(fitted.run / "config.yaml"),
        "--ckpt_path",
        str(fitted.run / "checkpoints" / "last.ckpt"),
        f"--predict_writer.output_dir={out}",
        "--trainer.enable_progress_bar=false",
    ]
    assert run(args) == 0
    assert (out / "decoded.mp4").is_file() and len(list((out / "frames").glob("*.png"))) == CLIP_FRAMES
    written = (out / "decoded.mp4").read_bytes()
    capsys.readouterr()

    assert run(args) == 2
    assert "already exists" in error_line(capsys)
    assert (out / "decoded.mp4").read_bytes() == written

    assert run([*args, "--predict_writer.overwrite=true"]) == 0
    assert tuple(decode(out / "decoded.mp4").shape) == (CLIP_FRAMES, 3, *FIT_SIZE)


def test_test_subcommand_scores_the_checkpoint(
    fitted: SimpleNamespace, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(fitted.root)
    args = [
        "test",
        "--config",
        str(fitted.run / "config.yaml"),
        "--ckpt_path",
        str(fitted.run / "checkpoints" / "last.ckpt"),
        "--trainer.enable_progress_bar=false",
    ]
    assert run(args) == 0, capsys.readouterr().err
    assert "test/psnr" in capsys.readouterr().out
    [test_run] = [d for d in fitted.run.parent.iterdir() if "test/psnr" in _scalar_tags(d)]
    assert math.isfinite(logged_scalar(test_run, "test/psnr"))


def test_a_resumed_fit_matches_an_uninterrupted_one(
    shared_clip_path: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Stop after epoch 1 of 3 (a checkpoint every epoch), resume from it: the same final weights."""
    every_epoch = workdir / "every_epoch.yaml"
    every_epoch.write_text(yaml.safe_dump({"trainer": {"callbacks": [{
        "class_path": "lightning.pytorch.callbacks.ModelCheckpoint",
        "init_args": {"save_last": True, "save_top_k": -1, "every_n_epochs": 1, "filename": "epoch{epoch}"},
    }]}}))  # fmt: skip
    args = ["fit", "--config", str(QUICKSTART), "--config", str(every_epoch), "--trainer.max_epochs=3",
            "--trainer.limit_train_batches=2", "--trainer.check_val_every_n_epoch=1",
            "--trainer.enable_progress_bar=false", "--trainer.logger.init_args.save_dir=runs",
            f"--data.init_args.path={shared_clip_path}", "--data.init_args.resize=[20,40]",
            "--report.write_video=false"]  # fmt: skip
    assert run(args) == 0, capsys.readouterr().err
    uninterrupted = workdir / "runs" / "quickstart" / "version_0" / "checkpoints"
    [after_first_epoch] = uninterrupted.glob("epoch*0.ckpt")
    assert run([*args, f"--ckpt_path={after_first_epoch}"]) == 0, capsys.readouterr().err
    resumed = workdir / "runs" / "quickstart" / "version_1" / "checkpoints"
    expected, actual = (torch.load(d / "last.ckpt", weights_only=True) for d in (uninterrupted, resumed))
    assert actual["epoch"] == expected["epoch"] and actual["global_step"] == expected["global_step"]
    for key, value in expected["state_dict"].items():
        assert torch.equal(actual["state_dict"][key], value), f"{key} differs after resuming"


# -- as a real process -----------------------------------------------------------------------
def test_console_entry_point_user_error(tmp_path: Path) -> None:
    """Outside pytest's capture: exit 2, one error line on stderr, no traceback."""
    missing = tmp_path / "nowhere.mp4"
    result = subprocess.run(
        [sys.executable, "-m", "inrzoo", "fit", "--config", str(QUICKSTART), f"--data.init_args.path={missing}"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("inrzoo: error:")]
    assert len(errors) == 1 and "video file not found" in errors[0] and str(missing) in errors[0], result.stderr
    assert list(tmp_path.iterdir()) == [], "a refused run writes nothing"


def test_console_entry_point_plugins() -> None:
    result = subprocess.run([sys.executable, "-m", "inrzoo", "plugins"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "nerv-conv" in result.stdout and "lowrank-gate" in result.stdout


@requires_samples
def test_sample_clip_fit_end_to_end(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The carphone config on the real clip (fewer frames and epochs), then predict from its checkpoint."""
    config = REPO_ROOT / "configs" / "carphone_siren.yaml"
    args = ["fit", "--config", str(config), "--data.init_args.path=sample:carphone", "--data.init_args.max_frames=8",
            "--trainer.max_epochs=3", "--trainer.max_time=null", "--trainer.enable_progress_bar=false",
            "--trainer.accelerator=cpu", f"--trainer.logger.init_args.save_dir={workdir / 'runs'}"]  # fmt: skip
    assert run(args) == 0, capsys.readouterr().err
    [run_dir] = (workdir / "runs").glob("*/version_0")
    record = json.loads((run_dir / "metrics.json").read_text())
    assert (record["num_frames"], record["height"], record["width"]) == (8, 144, 176)
    assert tuple(decode(run_dir / "reconstruction.mp4").shape) == (8, 3, 144, 176)
    predict = [
        "predict",
        "--config",
        str(run_dir / "config.yaml"),
        "--ckpt_path",
        str(run_dir / "checkpoints" / "last.ckpt"),
        f"--predict_writer.output_dir={workdir / 'out'}",
    ]
    assert run(predict) == 0, capsys.readouterr().err
    assert tuple(decode(workdir / "out" / "decoded.mp4").shape) == (8, 3, 144, 176)


@pytest.mark.slow
@requires_samples
def test_quickstart_on_carphone_learns_and_interpolates(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """~20 s: the quickstart model on all 120 carphone frames, odd frames held out, then `inrzoo test` on them."""
    args = ["fit", "--config", str(QUICKSTART), "--data.init_args.path=sample:carphone", "--data.init_args.resize=null",
            "--data.init_args.train_every=2", "--trainer.max_epochs=12", "--trainer.max_time=null",
            "--trainer.check_val_every_n_epoch=6", "--trainer.enable_progress_bar=false",
            f"--trainer.logger.init_args.save_dir={workdir / 'runs'}"]  # fmt: skip
    assert run(args) == 0, capsys.readouterr().err
    [run_dir] = (workdir / "runs").glob("*/version_0")
    record = json.loads((run_dir / "metrics.json").read_text())
    assert (record["num_frames"], record["height"], record["width"]) == (120, 144, 176)
    # An untrained model scores ~11 dB here; the fit must be far above it.
    assert record["psnr"] > 19, record
    capsys.readouterr()
    test = ["test", "--config", str(run_dir / "config.yaml"), "--ckpt_path", str(run_dir / "checkpoints" / "last.ckpt"),
            "--trainer.enable_progress_bar=false"]  # fmt: skip
    assert run(test) == 0
    heldout_psnr = logged_scalar(run_dir.parent / "version_1", "test/psnr")
    print(f"fit PSNR {record['psnr']:.2f} dB (all frames); held-out odd frames {heldout_psnr:.2f} dB")
    assert heldout_psnr > 16, "frames never seen, decoded from blended neighbour latents"
