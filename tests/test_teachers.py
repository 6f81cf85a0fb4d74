"""Alignment teachers: tiny random open_clip / timm models, feature files, the feature cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from inrzoo_example_plugin import ColorStatsTeacher
from safetensors.torch import save_file

from inrzoo.errors import InrzooError
from inrzoo.teachers import TEACHERS, FeatureFileTeacher, ImagePreprocess, OpenClipTeacher, TimmTeacher
from inrzoo.teachers.cache import feature_cache_file, teacher_features
from inrzoo.testing import TeacherConformance
from inrzoo.testing.teachers import TINY_TIMM_KWARGS, TINY_TIMM_MODEL


def tiny_timm(**kwargs: object) -> TimmTeacher:
    return TimmTeacher(TINY_TIMM_MODEL, pretrained=False, model_kwargs=TINY_TIMM_KWARGS, **kwargs)


class TestOpenClipTeacher(TeacherConformance):
    @pytest.fixture(autouse=True)
    def _model(self, tiny_clip: str) -> None:
        self.model_name = tiny_clip

    def make_teacher(self) -> OpenClipTeacher:
        return OpenClipTeacher(self.model_name, pretrained=None)


class TestTimmTeacher(TeacherConformance):
    def make_teacher(self) -> TimmTeacher:
        return tiny_timm()


class TestColorStatsPluginTeacher(TeacherConformance):
    def make_teacher(self) -> ColorStatsTeacher:
        return ColorStatsTeacher(grid=2)


def test_builtin_teachers_are_registered() -> None:
    assert {"open-clip", "timm", "feature-file"} <= set(TEACHERS.names())


def test_open_clip_teacher_loads_a_local_checkpoint(tiny_clip: str, tmp_path: Path) -> None:
    """The real loading path (pretrained = a file), with a tiny model's weights saved to disk."""
    torch.manual_seed(1)
    source = OpenClipTeacher(tiny_clip, pretrained=None)
    frames = torch.randint(0, 256, (3, 3, 40, 60), dtype=torch.uint8)
    expected = source.features_for_video(frames, progress=False)
    weights = tmp_path / "tiny_clip.pt"
    torch.save(source.model.state_dict(), weights)
    torch.manual_seed(2)  # a different random init, which the file must replace
    loaded = OpenClipTeacher(tiny_clip, pretrained=str(weights))
    torch.testing.assert_close(loaded.features_for_video(frames, progress=False), expected)
    assert loaded.cache_key() != OpenClipTeacher(tiny_clip, pretrained=None).cache_key()


def test_timm_teacher_loads_a_local_checkpoint(tmp_path: Path) -> None:
    torch.manual_seed(1)
    source = tiny_timm()
    frames = torch.randint(0, 256, (3, 3, 40, 60), dtype=torch.uint8)
    expected = source.features_for_video(frames, progress=False)
    weights = tmp_path / "tiny_vit.safetensors"
    save_file({k: v.contiguous() for k, v in source.model.state_dict().items()}, str(weights))
    torch.manual_seed(2)
    loaded = tiny_timm(checkpoint=str(weights))
    torch.testing.assert_close(loaded.features_for_video(frames, progress=False), expected)


def test_a_pretrained_tag_without_a_network_says_how_to_pass_a_file(monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    teacher = OpenClipTeacher("ViT-B-32", pretrained="laion2b_s34b_b79k", cache_dir=None)
    with pytest.raises(InrzooError, match=r"need a download.*pass its path as OpenClipTeacher pretrained="):
        teacher.features_for_video(torch.zeros(1, 3, 8, 8, dtype=torch.uint8), progress=False)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"model_name": "ViT-NOPE-99", "pretrained": None}, "open_clip has no model 'ViT-NOPE-99'"),
        ({"model_name": "ViT-B-32", "pretrained": "no-such-tag"}, "no pretrained tag 'no-such-tag'.*laion2b"),
        ({"model_name": "ViT-B-32", "pretrained": "/nonexistent/weights.bin"}, "does not exist"),
    ],
)
def test_open_clip_bad_names_are_clear_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(InrzooError, match=message):
        _ = OpenClipTeacher(**kwargs).model


def test_timm_unknown_model_is_a_clear_error() -> None:
    with pytest.raises(InrzooError, match="timm has no model 'resnet_nope'"):
        _ = TimmTeacher("resnet_nope", pretrained=False).model


def test_teacher_weights_are_not_in_its_state_before_use(tiny_clip: str) -> None:
    teacher = OpenClipTeacher(tiny_clip, pretrained=None)
    assert teacher.feature_dim == 32 and not list(teacher.parameters())  # the config alone gives the dim


# -- feature files ------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".npy", ".safetensors"])
def test_feature_file_teacher_serves_its_rows(suffix: str, tmp_path: Path) -> None:
    features = torch.randn(10, 6)
    path = tmp_path / f"features{suffix}"
    if suffix == ".npy":
        np.save(path, features.numpy())
    else:
        save_file({"features": features}, str(path))
    teacher = FeatureFileTeacher(str(path), first_row=2)
    assert teacher.feature_dim == 6
    frames = torch.zeros(5, 3, 4, 4, dtype=torch.uint8)
    torch.testing.assert_close(teacher.features_for_video(frames), features[2:7])
    with pytest.raises(InrzooError, match="has 10 rows; the video needs rows 2 to 11"):
        teacher.features_for_video(torch.zeros(10, 3, 4, 4, dtype=torch.uint8))
    with pytest.raises(InrzooError, match="no text tower"):
        teacher.encode_text(["anything"])


def test_feature_file_errors(tmp_path: Path) -> None:
    with pytest.raises(InrzooError, match="does not exist"):
        FeatureFileTeacher(str(tmp_path / "missing.npy"))
    (tmp_path / "f.txt").write_text("1 2 3")
    with pytest.raises(InrzooError, match="not .safetensors or .npy"):
        FeatureFileTeacher(str(tmp_path / "f.txt"))
    save_file({"a": torch.zeros(3, 2), "b": torch.zeros(3, 2)}, str(tmp_path / "two.safetensors"))
    with pytest.raises(InrzooError, match=r"holds tensors \['a', 'b'\]; say which"):
        _ = FeatureFileTeacher(str(tmp_path / "two.safetensors")).feature_dim
    np.save(tmp_path / "flat.npy", np.zeros(5, dtype=np.float32))
    with pytest.raises(InrzooError, match=r"expected float \(frames, dim\)"):
        _ = FeatureFileTeacher(str(tmp_path / "flat.npy")).feature_dim


# -- the feature cache --------------------------------------------------------------------------
def test_features_are_cached_per_teacher_and_video(tmp_path: Path) -> None:
    frames = torch.randint(0, 256, (4, 3, 16, 16), dtype=torch.uint8)
    teacher = ColorStatsTeacher(grid=2)
    first = teacher_features(teacher, frames, "video-a", tmp_path, progress=False)
    cache_file = feature_cache_file(teacher, "video-a", 4, tmp_path)
    assert cache_file.is_file()
    # The second call reads the file: planting different values there shows it.
    save_file({"features": torch.full_like(first, 7.0)}, str(cache_file))
    assert torch.equal(
        teacher_features(teacher, frames, "video-a", tmp_path, progress=False), torch.full_like(first, 7.0)
    )
    # Another video or another teacher setting is another entry.
    assert feature_cache_file(teacher, "video-b", 4, tmp_path) != cache_file
    assert feature_cache_file(ColorStatsTeacher(grid=3), "video-a", 4, tmp_path) != cache_file
    # A torn file is recomputed, never trusted.
    cache_file.write_bytes(b"torn")
    torch.testing.assert_close(teacher_features(teacher, frames, "video-a", tmp_path, progress=False), first)


def test_random_weights_change_the_cache_key(tiny_clip: str) -> None:
    torch.manual_seed(0)
    a = OpenClipTeacher(tiny_clip, pretrained=None).cache_key()
    torch.manual_seed(1)
    assert OpenClipTeacher(tiny_clip, pretrained=None).cache_key() != a


def test_preprocess_resizes_crops_and_normalises() -> None:
    frames = torch.rand(2, 3, 40, 80)
    prep = ImagePreprocess(size=(32, 32), mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))
    out = prep(frames)
    assert out.shape == (2, 3, 32, 32)
    flat = torch.full((1, 3, 40, 80), 0.75)
    torch.testing.assert_close(prep(flat), torch.ones(1, 3, 32, 32))  # (0.75 - 0.5) / 0.25
    squash = ImagePreprocess(size=(16, 24), mean=(0, 0, 0), std=(1, 1, 1), resize_mode="squash")
    assert squash(frames).shape == (2, 3, 16, 24)
    longest = ImagePreprocess(size=(32, 32), mean=(0, 0, 0), std=(1, 1, 1), resize_mode="longest")
    padded = longest(torch.ones(1, 3, 40, 80))
    assert padded.shape == (1, 3, 32, 32) and padded[0, 0, 0, 0] == 0 and abs(padded[0, 0, 16, 16] - 1) < 1e-5
