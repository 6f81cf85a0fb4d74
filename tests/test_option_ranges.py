"""Every numeric option of the built-in classes is checked when the config is read.

A value out of range is one ``inrzoo: error:`` line naming the key, the value and the allowed range, exit 2,
and nothing written; a value in range starts the fit. The property test draws the values a user gets wrong
(0, negatives, NaN, infinities, huge numbers, text, lists where a number goes) and runs the CLI in-process.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import io
import math
import os
import sys
import tempfile
import typing
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from inrzoo.alignment import Alignment
from inrzoo.backbones import (
    FourierMLPBackbone,
    GridMLPBackbone,
    HiNeRVBackbone,
    HNeRVBackbone,
    NeRVBackbone,
    SirenBackbone,
)
from inrzoo.bench.runner import BenchOptions
from inrzoo.callbacks import DivergenceGuard, FitReport
from inrzoo.cli import main
from inrzoo.cli.config_ranges import check_config_ranges
from inrzoo.compression.codec import CompressionSettings
from inrzoo.data import VideoDataModule
from inrzoo.errors import InrzooError
from inrzoo.hypernets import FiLMHyperHead, FullWeightHyperHead, LowRankGateHyperHead
from inrzoo.models import FrameEncoder, LatentDictionary, RateTerm, ReconstructionLoss, VideoINR
from inrzoo.options import LEARNING_RATE, OptionError, Range, integers, numbers, option_ranges
from inrzoo.registry import all_registries
from inrzoo.tasks.interpolation import TemporalMLPInterpolator
from inrzoo.teachers import FeatureFileTeacher


def _plugin(cls: type, **init_args: object) -> dict:
    return {"class_path": f"{cls.__module__}.{cls.__qualname__}", "init_args": init_args}


# -- the fits the options are tried on: tiny, one step ------------------------------------------------
FILM = _plugin(FiLMHyperHead, hidden=8)
#: family -> (the model's init_args, the (key prefix, class) pairs whose options it exposes)
FAMILIES: dict[str, tuple[dict, list[tuple[str, type]]]] = {
    "hnerv": (
        {
            "latent_dim": 4,
            "backbone": _plugin(
                HNeRVBackbone,
                channels=[8, 4],
                strides=[5, 2],
                kernel_sizes=[3, 3],
                head_stride=2,
                modulation_grid=[1, 2],
            ),
            "hypernet": FILM,
            "frame_encoder": _plugin(FrameEncoder, channels=4, max_channels=8),
            "loss": {"l1": 0.0, "l2": 1.0, "ssim": 0.0},
        },
        [
            ("model.init_args.", VideoINR),
            ("model.init_args.backbone.init_args.", HNeRVBackbone),
            ("model.init_args.hypernet.init_args.", FiLMHyperHead),
            ("model.init_args.frame_encoder.init_args.", FrameEncoder),
            ("model.init_args.loss.", ReconstructionLoss),
            ("data.init_args.", VideoDataModule),
            ("divergence.", DivergenceGuard),
            ("report.", FitReport),
        ],
    ),
    "siren": (
        {
            "latent_dim": 4,
            "backbone": _plugin(SirenBackbone, width=8, depth=2),
            "hypernet": _plugin(LowRankGateHyperHead, hidden=8, rank=2),
            "interpolator": _plugin(TemporalMLPInterpolator, hidden=8, steps=2),
        },
        [
            ("model.init_args.backbone.init_args.", SirenBackbone),
            ("model.init_args.hypernet.init_args.", LowRankGateHyperHead),
            ("model.init_args.interpolator.init_args.", TemporalMLPInterpolator),
        ],
    ),
    "fourier": (
        {
            "latent_dim": 4,
            "backbone": _plugin(FourierMLPBackbone, width=8, depth=2, num_frequencies=2),
            "hypernet": _plugin(FullWeightHyperHead, hidden=4, layers=["head"]),
        },
        [
            ("model.init_args.backbone.init_args.", FourierMLPBackbone),
            ("model.init_args.hypernet.init_args.", FullWeightHyperHead),
        ],
    ),
    "grid": (
        {
            "latent_dim": 4,
            "backbone": _plugin(
                GridMLPBackbone, width=8, depth=2, num_levels=2, base_resolution=4, finest_resolution=8
            ),  # fmt: skip
            "hypernet": FILM,
        },
        [("model.init_args.backbone.init_args.", GridMLPBackbone)],
    ),
    "nerv": (
        {
            "latent_dim": 4,
            "backbone": _plugin(NeRVBackbone, channels=[8, 4], strides=[5, 2], stem_channels=4, latent_grid=[1, 2]),
            "hypernet": FILM,
        },
        [("model.init_args.backbone.init_args.", NeRVBackbone)],
    ),
    "hinerv": (
        {
            "latent_dim": 4,
            "backbone": _plugin(
                HiNeRVBackbone, channels=[8, 4], strides=[5, 2], kernel_size=3, head_stride=2, modulation_grid=[1, 2]
            ),  # fmt: skip
            "hypernet": FILM,
        },
        [("model.init_args.backbone.init_args.", HiNeRVBackbone)],
    ),
    "aligned": (
        {
            "latent_dim": 4,
            "backbone": _plugin(SirenBackbone, width=8, depth=2),
            "hypernet": FILM,
            "alignment": {"teacher": "FEATURES", "weight": 0.1, "hidden": 8, "feature_batch_size": 4},
        },
        [
            ("model.init_args.alignment.", Alignment),
            ("model.init_args.alignment.teacher.init_args.", FeatureFileTeacher),
        ],
    ),
}
#: Set by the data, never by the user (linked in by the CLI).
LINKED = {"num_frames", "frame_size"}
OPTIONS = [
    (family, prefix + key, allowed)
    for family, (_, sections) in FAMILIES.items()
    for prefix, cls in sections
    for key, allowed in option_ranges(cls).items()
    if not (cls is VideoINR and key in LINKED)
]


@pytest.fixture(scope="module")
def configs(tmp_path_factory: pytest.TempPathFactory, shared_clip_path: Path) -> dict[str, Path]:
    """One YAML config per family, all on 4 frames of the 40x60 test clip."""
    folder = tmp_path_factory.mktemp("option-configs")
    features = folder / "features.npy"
    np.save(features, np.random.default_rng(0).standard_normal((12, 8)).astype(np.float32))
    paths = {}
    for family, (model, _) in FAMILIES.items():
        model = dict(model)
        if "alignment" in model:
            model["alignment"] = {**model["alignment"], "teacher": _plugin(FeatureFileTeacher, path=str(features))}
        config = {
            "model": {"class_path": "inrzoo.models.VideoINR", "init_args": model},
            "data": {"class_path": "inrzoo.data.VideoDataModule",
                     "init_args": {"path": str(shared_clip_path), "max_frames": 4, "batch_size": 2}},
            "trainer": {"accelerator": "cpu", "fast_dev_run": True, "enable_progress_bar": False,
                        "enable_model_summary": False},
        }  # fmt: skip
        paths[family] = folder / f"{family}.yaml"
        paths[family].write_text(yaml.safe_dump(config))
    return paths


def cli_text(value: object) -> str:
    """How a user would type ``value`` on the command line (YAML: ``.nan``, ``.inf``, ``[1,2]``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
    if isinstance(value, list):
        return "[" + ",".join(cli_text(v) for v in value) + "]"
    return str(value)


def run_cli(args: Sequence[str], work: Path) -> tuple[int, str]:
    """``inrzoo ARGS`` in-process, from ``work`` -> (exit status, stderr); any other exception is a traceback
    a user would see, and fails the test."""
    err = io.StringIO()
    with contextlib.chdir(work), contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(list(args))
        except SystemExit as exit_:
            code = 0 if exit_.code is None else exit_.code
    return code, err.getvalue()


def files_under(folder: Path) -> list[Path]:
    return [Path(root) / name for root, _, names in os.walk(folder) for name in names]


def right_form_out_of_range(allowed: Range, value: object) -> bool:
    """A number (or a pair of numbers, for a list option: pairs take no other length) that ``allowed`` refuses:
    the range check's case, which must name the option; the parser refuses other values for their form."""
    items = value if allowed.each and isinstance(value, list) and len(value) == 2 else [value]
    forms = (int,) if allowed.integer else (int, float)
    is_number = all(type(item) in forms for item in items) and (items is value) == allowed.each
    return is_number and not allowed.allows(value)


def outputs_under(work: Path) -> list[Path]:
    """What a fit left under ``work``, its frame cache aside: a check that needs the frames (a feature file with
    fewer rows than the video has frames) can only refuse after they were decoded, and cached."""
    return [path for path in files_under(work) if (work / "cache") not in path.parents]


def fit_args(family: str, config: Path, work: Path) -> list[str]:
    """A one-step fit of ``family`` whose every output (run folder, caches) goes under ``work``."""
    args = ["fit", "--config", str(config), f"--trainer.default_root_dir={work / 'run'}",
            f"--data.init_args.cache_dir={work / 'cache'}"]  # fmt: skip
    if family == "aligned":
        args.append(f"--model.init_args.alignment.cache_dir={work / 'teacher-cache'}")
    return args


def assert_fit_starts_or_one_error(
    family: str, config: Path, key: str, text: str, allowed: Range, value: object
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        code, err = run_cli([*fit_args(family, config, work), f"--{key}={text}"], work)
        assert "Traceback" not in err, err
        event("the fit started" if code == 0 else "refused")  # pytest --hypothesis-show-statistics
        if code == 0:
            return
        errors = [line for line in err.splitlines() if line.startswith("inrzoo: error:")]
        assert code == 2 and len(errors) == 1, f"--{key}={text}: exit {code}, stderr:\n{err}"
        assert not outputs_under(work), f"--{key}={text} was refused but wrote {outputs_under(work)}"
        if right_form_out_of_range(allowed, value):
            assert f"config key {key}: got" in errors[0], errors[0]


def out_of_range(allowed: Range) -> object:
    """A value just outside ``allowed`` (a list of two such items for a list option: pairs take two)."""
    if allowed.low is not None:
        bad: object = allowed.low - (0 if allowed.low_open else 1)
    else:
        bad = allowed.high + (0 if allowed.high_open else 1)
    if allowed.integer:
        bad = int(bad)
    return [bad, bad] if allowed.each else bad


# -- every option: its range is checked, under its whole key -------------------------------------------
@pytest.mark.parametrize(("family", "key", "allowed"), OPTIONS, ids=[f"{f}:{k}" for f, k, _ in OPTIONS])
def test_the_config_check_names_the_whole_key(family: str, key: str, allowed: Range, configs: dict[str, Path]) -> None:
    config = yaml.safe_load(configs[family].read_text())
    *parents, leaf = key.split(".")
    section = config
    for name in parents:
        section = section.setdefault(name, {})
    section[leaf] = out_of_range(allowed)
    with pytest.raises(OptionError) as refused:
        check_config_ranges(config, {"divergence": DivergenceGuard, "report": FitReport})
    assert refused.value.key == f"config key {key}"
    assert str(refused.value).endswith(f"expected {allowed.describe()}")


#: One option of each class, end to end through the CLI (the check above covers every option).
ONE_PER_CLASS = list(
    {(family, key.rpartition(".")[0]): (family, key, allowed) for family, key, allowed in OPTIONS}.values()
)


@pytest.mark.parametrize(("family", "key", "allowed"), ONE_PER_CLASS, ids=[f"{f}:{k}" for f, k, _ in ONE_PER_CLASS])
def test_a_value_out_of_range_names_the_key_the_value_and_the_range(
    family: str, key: str, allowed: Range, configs: dict[str, Path]
) -> None:
    bad = out_of_range(allowed)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        code, err = run_cli([*fit_args(family, configs[family], work), f"--{key}={cli_text(bad)}"], work)
        assert code == 2, err
        errors = [line for line in err.splitlines() if line.startswith("inrzoo: error:")]
        assert len(errors) == 1 and "Traceback" not in err, err
        assert errors[0].startswith(f"inrzoo: error: config key {key}: got "), errors[0]
        assert allowed.describe() in errors[0]
        assert not files_under(work)


# -- the property: whatever a user types, the fit starts or one error line, exit 2, nothing written ---------
NUMBERS = st.sampled_from([0, -1, -3, 1, 2, 3, 2**31, 2**63, 10**30, -(10**30)])
FLOATS = st.sampled_from([0.0, -0.0, -1.0, 1e-3, 0.5, 1.0, 2.0, 1e300, -1e300, math.nan, math.inf, -math.inf])
WRONG_TYPES = st.sampled_from(["abc", "nan", "inf", "1,2", "true", "{a: 1}", "[]", "1e999", "0x10"])
VALUES = st.one_of(NUMBERS, FLOATS, WRONG_TYPES, st.lists(st.one_of(NUMBERS, FLOATS), max_size=3))


@settings(max_examples=60, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(option=st.sampled_from(OPTIONS), value=VALUES)
def test_any_value_starts_the_fit_or_is_one_error_line(
    option: tuple[str, str, Range], value: object, configs: dict[str, Path]
) -> None:
    family, key, allowed = option
    text = value if isinstance(value, str) else cli_text(value)
    assert_fit_starts_or_one_error(family, configs[family], key, text, allowed, value)


def test_values_in_range_start_the_fit(configs: dict[str, Path]) -> None:
    """The other half of the property is not vacuous: valid values of each kind train."""
    for family, key, text in [
        ("hnerv", "model.init_args.learning_rate", "0.5"),
        ("hnerv", "data.init_args.batch_size", "1"),
        ("siren", "model.init_args.backbone.init_args.omega_0", "1.5"),
        ("aligned", "model.init_args.alignment.weight", "0"),
    ]:
        with tempfile.TemporaryDirectory() as folder:
            work = Path(folder)
            code, err = run_cli([*fit_args(family, configs[family], work), f"--{key}={text}"], work)
            assert code == 0, err


# -- the other commands: bench, compress, fit-many ----------------------------------------------------
def _bench(key: str, text: str, work: Path) -> list[str]:
    # An unknown codec is refused after the options are read: a valid value ends there, not in a benchmark.
    return ["bench", "--codecs", "x266", "--out", str(work / "out"), f"--{key}={text}"]


def _compress(key: str, text: str, work: Path) -> list[str]:
    # No run to open: a valid value ends at "not found", checked after the options.
    return ["compress", str(work / "no-run"), "-o", str(work / "x.inrz"), f"--{key.replace('_', '-')}={text}"]


def _fit_many(key: str, text: str, work: Path) -> list[str]:
    # The config does not exist: a valid value ends there, checked after the options.
    out = str(work / "out")
    return ["fit-many", "--manifest", "m.txt", "--config", "missing.yaml", "--out", out, f"--{key}={text}"]


COMMAND_OPTIONS = (
    [(_bench, key, allowed) for key, allowed in option_ranges(BenchOptions).items()]
    + [(_bench, "budgets", integers(1, 10**9))]
    + [(_compress, key, allowed) for key, allowed in option_ranges(CompressionSettings).items()]
    + [(_compress, "qat_epochs", integers(0, 100_000)), (_compress, "qat_lr", LEARNING_RATE.optional())]
    + [(_fit_many, "parallel", integers(1, 1024))]
)


@settings(max_examples=80, deadline=None, database=None, derandomize=True)
@given(option=st.sampled_from(COMMAND_OPTIONS), value=VALUES)
def test_command_options_are_one_error_line(option: tuple, value: object) -> None:
    command, key, allowed = option
    text = value if isinstance(value, str) else cli_text(value)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        code, err = run_cli(command(key, text, work), work)
        errors = [line for line in err.splitlines() if line.startswith("inrzoo: error:")]
        assert code == 2 and len(errors) == 1 and "Traceback" not in err, f"--{key} {text}: {err}"
        assert not files_under(work)
        if right_form_out_of_range(allowed, value):
            assert f"--{key.replace('_', '-') if command is _compress else key}: got" in errors[0], errors[0]


# -- the tables themselves ------------------------------------------------------------------------------
def _built_in_classes() -> list[type]:
    plugins = [
        info.target
        for registry in all_registries().values()
        for info in registry.entries()
        if isinstance(info.target, type) and info.target.__module__.startswith("inrzoo.")
    ]
    others = [VideoINR, VideoDataModule, LatentDictionary, FrameEncoder, ReconstructionLoss, Alignment,
              DivergenceGuard, FitReport, BenchOptions, CompressionSettings, RateTerm]  # fmt: skip
    return plugins + others


def _numeric(hint: object) -> bool:
    """int, float, their Optional, and tuples or lists of them (bool is a switch, not a number)."""
    if hint in (int, float):
        return True
    return any(_numeric(arg) for arg in typing.get_args(hint) if arg is not type(None) and arg is not Ellipsis)


@pytest.mark.parametrize("cls", _built_in_classes(), ids=lambda cls: cls.__name__)
def test_every_numeric_option_has_a_range(cls: type) -> None:
    hints = typing.get_type_hints(cls.__init__)
    parameters = inspect.signature(cls.__init__).parameters
    numeric = {name for name in parameters if name in hints and _numeric(hints[name])}
    ranges = option_ranges(cls)
    assert numeric <= ranges.keys(), f"{cls.__name__}: no range for {sorted(numeric - ranges.keys())}"
    assert ranges.keys() <= parameters.keys(), f"{cls.__name__}: ranges for unknown options"


def test_python_users_get_the_same_check() -> None:
    with pytest.raises(OptionError, match=r"^VideoDataModule batch_size: got 0, expected an integer from 1"):
        VideoDataModule(batch_size=0)
    with pytest.raises(
        InrzooError, match=r"^SirenBackbone omega_0: got nan, expected a finite number in \(0, 10,000\]"
    ):
        SirenBackbone(omega_0=math.nan)
    with pytest.raises(OptionError, match="ReconstructionLoss l2: got inf"):
        ReconstructionLoss(l2=math.inf)
    assert dataclasses.replace(ReconstructionLoss(), l1=0.5).l1 == 0.5


@pytest.mark.parametrize(
    ("allowed", "inside", "outside", "words"),
    [
        (integers(1, 8), [1, 8, np.int64(3)], [0, 9, 1.0, True, np.bool_(True), "1", None, math.nan, np.float32(2)],
         "an integer from 1 to 8"),
        (numbers(0, 1, low_open=True), [1e-9, 1, 1.0], [0, -1, math.nan, math.inf, 2], "a finite number in (0, 1]"),
        (numbers(0), [0, 1e300], [-1e-9, math.inf], "a finite number >= 0"),
        (integers(1, 4).per_item().optional(), [None, [1, 4], (2,)], [[], [0], 3, [1.5]],
         "a non-empty list, each an integer from 1 to 4 or null"),
    ],
)  # fmt: skip
def test_ranges_accept_and_refuse(allowed: Range, inside: list, outside: list, words: str) -> None:
    assert all(allowed.allows(v) for v in inside)
    assert not any(allowed.allows(v) for v in outside)
    assert allowed.describe() == words


def test_a_callback_in_the_trainer_list_is_checked_too() -> None:
    guard = {"class_path": f"{DivergenceGuard.__module__}.DivergenceGuard", "init_args": {"window": 0}}
    with pytest.raises(OptionError) as refused:
        check_config_ranges({"trainer": {"callbacks": [{"class_path": "x.Y"}, guard]}}, {})
    assert refused.value.key == "config key trainer.callbacks[1].init_args.window"


def test_the_config_check_imports_nothing_a_config_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only classes the parser already loaded are looked at: naming a module never runs it."""
    (tmp_path / "side_effect_module.py").write_text("raise RuntimeError('imported')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    config = {"model": {"class_path": "side_effect_module.Model", "init_args": {"latent_dim": -1}}}
    check_config_ranges(config, {})
    assert "side_effect_module" not in sys.modules
