"""``inrzoo bench``: the plugin-combination matrix, its outputs, and declared incompatibilities."""

from __future__ import annotations

import fnmatch
import json
import math
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
from helpers import REPO_ROOT
from PIL import Image
from test_cli import error_line, run
from torch import Tensor

from inrzoo.backbones import BACKBONES, HNeRVBackbone, NeRVBackbone, SirenBackbone
from inrzoo.backbones.layers import LayerParams, ModulatedLayer, ModulatedLinear
from inrzoo.bench import codec_psnr_at, plan_matrix, size_to_budget
from inrzoo.bench.sizing import training_recipe
from inrzoo.compat import IncompatiblePluginsError
from inrzoo.hypernets import HYPERNETS, FiLMHyperHead
from inrzoo.models import VideoINR

FAST = ["--tier", "smoke", "--fit_steps", "1", "--codecs", "none"]


@pytest.fixture(scope="module")
def smoke(shared_clip_path: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Path]:
    """The whole smoke tier, every registered combination, on the test clip (as CI runs it)."""
    out = tmp_path_factory.mktemp("bench") / "smoke"
    status = run(["bench", "--tier", "smoke", "--video", str(shared_clip_path), "--out", str(out)])
    return status, out


def test_smoke_tier_runs_every_combination(smoke: tuple[int, Path]) -> None:
    status, out = smoke
    assert status == 0
    report = json.loads((out / "bench.json").read_text())
    # The tier's geometry applies to any video: 6 frames at 40x48.
    assert report["status"] == "complete" and report["frames"] == 6 and report["resolution"] == [40, 48]
    runnable, declared = plan_matrix("*", "*")
    fitted = {(r["backbone"], r["hypernet"]) for r in report["results"] if r["kind"] == "inrzoo"}
    assert fitted == {(c.backbone, c.hypernet) for c in runnable}, report["skipped"] + report["failed"]
    assert not report["failed"] and len(report["skipped"]) == len(declared)
    for record in (r for r in report["results"] if r["kind"] == "inrzoo"):
        assert abs(record["params"] - record["budget"]) <= 0.1 * record["budget"], record["name"]
        assert math.isfinite(record["psnr"]) and record["psnr"] > 5, record["name"]
        assert record["bpp"] == pytest.approx(record["params"] * 16 / (6 * 40 * 48))
        assert record["steps"] == report["fit_steps"]
    codecs = [r for r in report["results"] if r["kind"] == "codec"]
    assert {(r["codec"], r["crf"]) for r in codecs} == {(c, crf) for c in ("x264", "x265") for crf in (26, 38)}
    assert report["hardware"]["cpu_count"] and report["versions"]["torch"]


def test_smoke_tier_writes_a_leaderboard_and_a_plot(smoke: tuple[int, Path]) -> None:
    _, out = smoke
    report = json.loads((out / "bench.json").read_text())
    board = (out / "leaderboard.md").read_text()
    for record in report["results"]:
        assert f"| {record['name']} |" in board
    psnrs = [r["psnr"] for r in report["results"] if r["kind"] == "inrzoo"]
    ranked = [line.split("|")[2].strip() for line in board.splitlines() if line.startswith("| 1 |")]
    best = max((r for r in report["results"] if r["kind"] == "inrzoo"), key=lambda r: r["psnr"])
    assert ranked == [best["name"]] and best["psnr"] == max(psnrs)
    with Image.open(out / "rd.png") as image:
        assert image.format == "PNG" and image.width > 400 and image.height > 300


def test_a_second_run_never_overwrites(
    smoke: tuple[int, Path], shared_clip_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out = smoke
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert run(["bench", *FAST, "--video", str(shared_clip_path), "--out", str(out), "--backbones", "siren"]) == 2
    assert "--overwrite" in error_line(capsys)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_overwrite_replaces_and_patterns_select(shared_clip_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "bench"
    args = ["bench", *FAST, "--video", str(shared_clip_path), "--out", str(out), "--hypernets", "film"]
    assert run([*args, "--backbones", "nerv-conv"]) == 0
    assert run([*args, "--backbones", "siren*,fourier-*", "--overwrite"]) == 0
    report = json.loads((out / "bench.json").read_text())
    assert {r["name"] for r in report["results"]} == {"siren+film@80k", "fourier-mlp+film@80k"}


def test_several_budgets_give_a_curve(shared_clip_path: Path, tmp_path: Path) -> None:
    args = ["bench", *FAST, "--video", str(shared_clip_path), "--out", str(tmp_path), "--budgets", "30000,90000"]
    assert run([*args, "--backbones", "siren", "--hypernets", "film"]) == 0
    params = [r["params"] for r in json.loads((tmp_path / "bench.json").read_text())["results"]]
    assert len(params) == 2 and 27_000 <= params[0] <= 33_000 and 81_000 <= params[1] <= 99_000


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--backbones", "no-such*"], "known backbones: "),
        (["--hypernets", ""], "--hypernets is empty"),
        (["--codecs", "x266"], "choose from x264, x265, av1"),
        (["--budgets", "100k"], "--budgets: got '100k', expected parameter counts"),
        (["--tier", "gpu"], "config key tier"),
        (["--no_such_option", "1"], "inrzoo bench --help"),
    ],
)
def test_bad_options_are_one_line_errors(
    args: list[str], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["bench", "--out", str(tmp_path / "out"), *args]) == 2
    assert expected in error_line(capsys)
    assert not (tmp_path / "out").exists()


def test_codec_psnr_is_interpolated_in_log_bpp() -> None:
    report = {"results": [
        {"kind": "codec", "codec": "x265", "bpp": 0.4, "psnr": 36.0},
        {"kind": "codec", "codec": "x265", "bpp": 0.1, "psnr": 30.0},
        {"kind": "inrzoo", "bpp": 0.2, "psnr": 1.0},
    ]}  # fmt: skip
    assert codec_psnr_at(report, "x265", 0.1) == pytest.approx(30.0)
    assert codec_psnr_at(report, "x265", 0.2) == pytest.approx(33.0)  # halfway in log(bpp)
    assert codec_psnr_at(report, "x265", 0.05) is None and codec_psnr_at(report, "x264", 0.2) is None


# -- declared incompatibilities -----------------------------------------------------------------
class LinearOnlyFiLM(FiLMHyperHead):
    """A head that declares it can modulate only linear layers (so not nerv-conv's convolutions)."""

    supported_layer_types = (ModulatedLinear,)


@pytest.fixture
def linear_only_head() -> str:
    HYPERNETS.register("linear-only")(LinearOnlyFiLM)
    yield "linear-only"
    HYPERNETS.unregister("linear-only")


def test_the_matrix_skips_declared_incompatible_combinations(linear_only_head: str) -> None:
    runnable, skipped = plan_matrix("siren,nerv-conv", linear_only_head)
    assert [c.name for c in runnable] == ["siren+linear-only"]
    assert [s.backbone for s in skipped] == ["nerv-conv"] and "ModulatedConv2d" in skipped[0].reason


def test_asking_only_for_an_incompatible_combination_is_an_error(
    linear_only_head: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        run(["bench", *FAST, "--backbones", "nerv-conv", "--hypernets", linear_only_head, "--out", str(tmp_path)]) == 2
    )
    assert "nerv-conv+linear-only: the head modulates ModulatedLinear layers" in error_line(capsys)


def test_the_model_refuses_an_incompatible_pair_before_building(linear_only_head: str) -> None:
    with pytest.raises(
        IncompatiblePluginsError, match=r"backbone 'nerv-conv' cannot be combined with hypernet 'linear-only'"
    ):
        VideoINR(backbone=NeRVBackbone(), hypernet=LinearOnlyFiLM(), num_frames=2, frame_size=(20, 20))
    VideoINR(backbone=SirenBackbone(width=8), hypernet=LinearOnlyFiLM(), num_frames=2, frame_size=(20, 20))


def test_fit_with_an_incompatible_pair_is_a_one_line_error(
    tmp_path: Path, clip_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [
        "fit", "--model", "VideoINR", "--model.backbone", "NeRVBackbone",
        "--model.hypernet", f"{__name__}.LinearOnlyFiLM", "--data", "VideoDataModule", f"--data.path={clip_path}",
        "--trainer.fast_dev_run=true", f"--trainer.default_root_dir={tmp_path}",
    ]  # fmt: skip
    assert run(args) == 2
    line = error_line(capsys)
    assert "cannot be combined" in line and "ModulatedConv2d" in line


def test_the_builtin_declarations_are_consistent() -> None:
    """Every built-in head accepts every built-in backbone's layer types (the conformance matrix runs them all)."""
    runnable, skipped = plan_matrix("*", "*")
    assert not [s for s in skipped if "ModulatedLayer" in s.reason or "modulates" in s.reason]
    assert issubclass(ModulatedLinear, ModulatedLayer)


@pytest.mark.parametrize(
    "backbone", [b for b in BACKBONES.names() if getattr(BACKBONES.get(b), "recommended_modulated_layers", None)]
)
def test_the_bench_modulates_only_the_layers_a_backbone_recommends(
    backbone: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Heads sized by ``inrzoo bench`` sit only on the recommended layers, and the budget a head on every layer
    would have taken goes to the decoder: a larger backbone at the same total."""
    frames, size = 24, (90, 160)
    recommended = size_to_budget(backbone, 30_000, frames, size, hypernet="film")
    model = recommended.build(frames, size)
    assert model.hypernet.layer_names == [
        name
        for name in model.backbone.modulated_layers()
        if any(fnmatch.fnmatchcase(name, p) for p in BACKBONES.get(backbone).recommended_modulated_layers)
    ]
    assert 0 < len(model.hypernet.layer_names) < len(model.backbone.modulated_layers())
    monkeypatch.setattr(BACKBONES.get(backbone), "recommended_modulated_layers", None)
    everywhere = size_to_budget(backbone, 30_000, frames, size, hypernet="film").build(frames, size)
    assert everywhere.hypernet.layer_names == list(everywhere.backbone.modulated_layers())
    decoder = sum(p.numel() for p in model.backbone.parameters())
    assert decoder > sum(p.numel() for p in everywhere.backbone.parameters())


@pytest.mark.parametrize("backbone", ["hnerv", "siren"])
def test_the_bench_trains_with_each_backbones_recommended_optimiser(
    backbone: str, shared_clip_path: Path, tmp_path: Path
) -> None:
    """A backbone's ``recommended_training`` may name Adam's betas, a warm-up, the decay and gradient clipping
    (hnerv does); the bench's fit uses them and records them, and a backbone that names none keeps PyTorch's
    betas, VideoINR's 5% warm-up and cosine, and no clipping."""
    out = tmp_path / "bench"
    status = run(["bench", *FAST, "--video", str(shared_clip_path), "--backbones", backbone, "--hypernets", "film",
                  "--out", str(out)])  # fmt: skip
    assert status == 0
    (record,) = [r for r in json.loads((out / "bench.json").read_text())["results"] if r["kind"] == "inrzoo"]
    assert record["adam_betas"] == list(training_recipe(backbone).get("adam_betas", (0.9, 0.999)))
    assert record["warmup_fraction"] == training_recipe(backbone).get("warmup_fraction", 0.05)
    assert record["lr_decay"] == training_recipe(backbone).get("lr_decay", "cosine")
    assert record["decay_fraction"] == training_recipe(backbone).get("decay_fraction", 1.0)
    assert record["gradient_clip_norm"] == training_recipe(backbone).get("gradient_clip_norm")
    encoder = BACKBONES.get(backbone).recommended_frame_encoder
    defaults = {"channels": 16, "handoff": 1.0, "init": "kaiming"}
    assert record["frame_encoder"] == (None if encoder is None else defaults | encoder)


class WideningHNeRV(HNeRVBackbone):
    """hnerv whose size family widens the latent with the scale (one channel per unit of scale, at least 2)."""

    @classmethod
    def scaled_latent_dim(cls, scale: float) -> int:
        return max(2, round(scale))


@pytest.fixture
def widening_backbone() -> str:
    BACKBONES.register("widening-hnerv")(WideningHNeRV)
    yield "widening-hnerv"
    BACKBONES.unregister("widening-hnerv")


def test_a_size_family_may_widen_the_latent(widening_backbone: str) -> None:
    """The sizing builds each member with the latent its family gives that size, and counts it in the budget:
    a larger budget gets a wider latent, and the model built from the recipe has exactly the counted size."""
    frames, size = 24, (80, 160)
    small, large = (size_to_budget(widening_backbone, b, frames, size) for b in (20_000, 80_000))
    assert small.latent_dim < large.latent_dim
    model = large.build(frames, size)
    assert model.latents.weight.shape[1] == large.latent_dim * 2 * 4  # channels x the frame / 40 grid
    assert model.parameter_count() == large.params
    fixed = size_to_budget("hnerv", 80_000, frames, size)
    assert fixed.latent_dim == BACKBONES.get("hnerv").recommended_latent_dim


class SpikingHNeRV(HNeRVBackbone):
    """hnerv whose training forward returns NaN at the steps in ``spikes``: a fit that diverges there."""

    spikes: frozenset[int] = frozenset()
    calls = 0

    def forward(self, latent: Tensor, params: Mapping[ModulatedLayer, LayerParams]) -> Tensor:
        out = super().forward(latent, params)
        if not self.training:
            return out
        type(self).calls += 1
        return out * math.nan if type(self).calls in self.spikes else out


@pytest.fixture
def spiking_backbone() -> str:
    BACKBONES.register("spiking-hnerv")(SpikingHNeRV)
    SpikingHNeRV.calls = 0
    yield "spiking-hnerv"
    BACKBONES.unregister("spiking-hnerv")


def _bench_record(args: list[str], out: Path) -> tuple[int, dict]:
    status = run(["bench", "--tier", "smoke", "--codecs", "none", *args, "--out", str(out)])
    return status, json.loads((out / "bench.json").read_text())


def test_a_bench_fit_that_diverges_once_is_rewound_and_finishes(
    spiking_backbone: str, shared_clip_path: Path, tmp_path: Path
) -> None:
    """A NaN at one step rewinds the fit to its last good weights at a lower learning rate (the divergence
    guard `inrzoo fit` uses); the combination still gets a finite score and the rewind is recorded."""
    SpikingHNeRV.spikes = frozenset({15})
    status, report = _bench_record(["--video", str(shared_clip_path), "--fit_steps", "30", "--backbones",
                                    spiking_backbone, "--hypernets", "film"], tmp_path / "bench")  # fmt: skip
    assert status == 0
    (record,) = report["results"]
    assert record["restarts"] == 1
    assert math.isfinite(record["psnr"])
    assert record["steps"] == 30


def test_a_bench_fit_that_keeps_diverging_fails_in_one_line_and_writes_nothing_here(
    spiking_backbone: str, shared_clip_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the guard's restarts the combination is recorded as failed with the fix (a lower learning rate),
    and the weights the guard keeps go to a temporary folder, not into the folder the user ran from."""
    SpikingHNeRV.spikes = frozenset(range(5, 1000))
    monkeypatch.chdir(tmp_path)
    status, report = _bench_record(["--video", str(shared_clip_path), "--fit_steps", "40", "--backbones",
                                    spiking_backbone, "--hypernets", "film"], tmp_path / "bench")  # fmt: skip
    assert status != 0
    assert report["results"] == []
    (failed,) = report["failed"]
    assert "diverged 3 times" in failed["error"] and "--learning_rate" in failed["error"]
    assert not list(tmp_path.rglob("*.ckpt")) and not (tmp_path / "checkpoints").exists()


# -- a broken plugin, installed as a distribution ---------------------------------------------
@pytest.fixture(scope="module")
def broken_plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site folder holding an installed distribution whose backbone entry point fails to import."""
    site = tmp_path_factory.mktemp("site")
    dist = site / "broken_inrzoo_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-inrzoo-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[inrzoo.backbones]\nbroken-net = broken_inrzoo_plugin:BrokenBackbone\n")
    (site / "broken_inrzoo_plugin.py").write_text('raise ImportError("needs libbroken, which is not installed")\n')
    return site


def _inrzoo(site: Path, *args: str, strict: bool = False) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"INRZOO_STRICT_PLUGINS", "INRZOO_DISABLE_PLUGIN_AUTOLOAD"}}
    env["PYTHONPATH"] = os.pathsep.join([str(site), env.get("PYTHONPATH", "")])
    if strict:
        env["INRZOO_STRICT_PLUGINS"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "inrzoo", *args], capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=300
    )


def test_an_installed_broken_plugin_is_reported_and_skipped(broken_plugin_site: Path) -> None:
    done = _inrzoo(broken_plugin_site, "plugins")
    assert done.returncode == 0, done.stderr
    listed, failed = done.stdout.split("failed to load:")
    assert "nerv-conv" in listed and "broken-net" not in listed
    assert "broken-net = broken_inrzoo_plugin:BrokenBackbone from broken-inrzoo-plugin" in failed
    assert "needs libbroken" in failed


def test_a_broken_plugin_does_not_stop_a_benchmark(
    broken_plugin_site: Path, shared_clip_path: Path, tmp_path: Path
) -> None:
    done = _inrzoo(
        broken_plugin_site, "bench", *FAST, "--video", str(shared_clip_path), "--out", str(tmp_path),
        "--backbones", "siren", "--hypernets", "film",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "skipping backbone plugin 'broken-net'" in done.stderr
    assert json.loads((tmp_path / "bench.json").read_text())["results"][0]["name"] == "siren+film@80k"


def test_strict_mode_makes_an_installed_broken_plugin_fatal(broken_plugin_site: Path) -> None:
    done = _inrzoo(broken_plugin_site, "plugins", strict=True)
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("inrzoo: error:")]
    assert len(errors) == 1 and "broken-net" in errors[0] and "broken-inrzoo-plugin" in errors[0]
    assert "Traceback" not in done.stderr


# -- the quality gate: a run compared with a stored one --------------------------------------
def _one_combination(shared_clip_path: Path, out: Path, *extra: str) -> list[str]:
    return ["bench", "--tier", "smoke", "--fit_steps", "2", "--codecs", "none", "--video", str(shared_clip_path),
            "--backbones", "nerv-conv", "--hypernets", "film", "--out", str(out), *extra]  # fmt: skip


@pytest.fixture(scope="module")
def baseline_run(shared_clip_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("baseline") / "first"
    assert run(_one_combination(shared_clip_path, out)) == 0
    return out / "bench.json"


def test_a_rerun_matches_its_baseline(
    baseline_run: Path, shared_clip_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert run(_one_combination(shared_clip_path, tmp_path / "again", "--baseline", str(baseline_run))) == 0
    out = capsys.readouterr().out
    assert "| nerv-conv+film@80k |" in out and "+0.000 | yes |" in out, "fit_steps runs are deterministic"
    again = json.loads((tmp_path / "again" / "bench.json").read_text())
    first = json.loads(baseline_run.read_text())
    assert [r["psnr"] for r in again["results"]] == [r["psnr"] for r in first["results"]]


def test_a_combination_below_its_baseline_fails(
    baseline_run: Path, shared_clip_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    better = json.loads(baseline_run.read_text())
    for record in better["results"]:
        record["psnr"] += 0.5  # the stored run was better than what this code gets now
    stored = tmp_path / "better.json"
    stored.write_text(json.dumps(better))
    assert run(_one_combination(shared_clip_path, tmp_path / "worse", "--baseline", str(stored))) == 1
    line = error_line(capsys)
    assert "fell more than 0.1 dB below the baseline" in line and "nerv-conv+film@80k" in line
    # A wider tolerance lets the same run pass.
    args = _one_combination(shared_clip_path, tmp_path / "tolerant", "--baseline", str(stored), "--tolerance", "0.6")
    assert run(args) == 0


def test_a_combination_missing_from_the_run_fails(
    baseline_run: Path, shared_clip_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stored = json.loads(baseline_run.read_text())
    stored["results"].append({**stored["results"][0], "name": "gone+film@80k"})
    path = tmp_path / "with_more.json"
    path.write_text(json.dumps(stored))
    assert run(_one_combination(shared_clip_path, tmp_path / "out", "--baseline", str(path))) == 1
    assert "gone+film@80k" in error_line(capsys)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"fit_steps": 7}, "was measured with fit_steps=7"),
        ({"budgets": [1234]}, "was measured with budgets=[1234]"),
        ({"results": None}, "has no 'results' list"),
    ],
)
def test_a_baseline_of_other_settings_is_refused_before_fitting(
    change: dict, expected: str, baseline_run: Path, shared_clip_path: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    stored = {**json.loads(baseline_run.read_text()), **change}
    path = tmp_path / "other.json"
    path.write_text(json.dumps(stored))
    assert run(_one_combination(shared_clip_path, tmp_path / "out", "--baseline", str(path))) == 2
    assert expected in error_line(capsys)
    assert not (tmp_path / "out").exists(), "nothing is fitted or written against a baseline that cannot compare"


def test_a_missing_baseline_is_a_one_line_error(
    shared_clip_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.json"
    assert run(_one_combination(shared_clip_path, tmp_path / "out", "--baseline", str(missing))) == 2
    assert "nope.json not found" in error_line(capsys)


# -- the form of a value, and what a tier does to a named video (issue 14) ------------------------------
@pytest.mark.parametrize("given", [["--resize", "320,640"], ["--resize", "[320,640]"], ["--resize=320, 640"]])
def test_resize_takes_a_list_with_or_without_brackets(given: list[str]) -> None:
    from inrzoo.cli.bench import parse_bench_args

    assert parse_bench_args(given).resize == (320, 640)


def test_a_value_of_the_wrong_form_names_the_key_the_value_and_the_form(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["bench", "--out", str(tmp_path / "out"), "--resize", "320x640"]) == 2
    line = error_line(capsys)
    assert "config key resize: got '320x640', expected a list of 2 integers" in line
    assert "keys that exist" not in line, "the key exists: only its value's form is wrong"
    assert not (tmp_path / "out").exists()


def test_the_tier_caps_on_a_named_video_are_stated_before_the_run(
    shared_clip_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "bench.json").write_text("{}")  # refused at the claim, so nothing is fitted: the note comes first
    assert run(["bench", "--video", str(shared_clip_path), "--out", str(out), "--budgets", "330000"]) == 2
    err = capsys.readouterr().err.splitlines()
    notes = [line for line in err if line.startswith("inrzoo bench: the smoke tier")]
    assert len(notes) == 1 and "on its first 6 frames, resized to 40x48" in notes[0], err
    assert "--max_frames and --resize" in notes[0]
    assert err.index(notes[0]) < next(i for i, line in enumerate(err) if line.startswith("inrzoo: error:"))
    capsys.readouterr()
    assert run(["bench", "--video", str(shared_clip_path), "--out", str(out), "--max_frames", "12",
                "--resize", "40,60"]) == 2  # fmt: skip
    assert not [line for line in capsys.readouterr().err.splitlines() if line.startswith("inrzoo bench: the")]
