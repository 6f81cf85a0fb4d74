"""Video data: decoding, geometry, the train/held-out split, the frame cache, and input errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from helpers import CLIP_FRAMES, CLIP_HEIGHT, CLIP_WIDTH, requires_samples

import inrzoo.data.video as video
from inrzoo.data import FrameGeometry, VideoDataModule, resolve_video_path, split_frames
from inrzoo.errors import InrzooError


def loader_indices(loader: torch.utils.data.DataLoader) -> list[int]:
    return [int(i) for batch in loader for i in batch["index"]]


# -- decoding and geometry ----------------------------------------------------------------
def test_native_geometry(clip_path: Path, clip_frames: torch.Tensor) -> None:
    data = VideoDataModule(str(clip_path))
    assert data.num_frames == CLIP_FRAMES
    assert data.frame_size == (CLIP_HEIGHT, CLIP_WIDTH)
    assert data.fps == pytest.approx(25.0)
    frames = data.frames
    assert frames.dtype == torch.uint8 and tuple(frames.shape) == (CLIP_FRAMES, 3, CLIP_HEIGHT, CLIP_WIDTH)
    # crf=0 is lossless in YUV; only the 4:2:0 chroma subsampling and RGB rounding differ.
    error = (frames.float() - clip_frames.float()).abs().mean()
    assert error < 6, f"decoded frames differ from the encoded ones by {error:.1f} levels on average"


def test_frames_are_served_as_floats_in_unit_range(clip_path: Path) -> None:
    data = VideoDataModule(str(clip_path), batch_size=5)
    data.setup("fit")
    batch = next(iter(data.val_dataloader()))
    assert batch["frame"].dtype == torch.float32 and tuple(batch["frame"].shape) == (5, 3, 40, 60)
    assert 0 <= batch["frame"].min() and batch["frame"].max() <= 1
    assert torch.equal(batch["frame"], data.frames[batch["index"]].float() / 255)


def test_resize(clip_path: Path) -> None:
    data = VideoDataModule(str(clip_path), resize=(20, 30))
    assert data.frame_size == (20, 30)
    assert tuple(data.frames.shape) == (CLIP_FRAMES, 3, 20, 30)
    native = VideoDataModule(str(clip_path), cache_dir=None).frames
    expected = F.interpolate(native.float(), size=(20, 30), mode="bicubic", antialias=True, align_corners=False)
    assert (data.frames.float() - expected.round().clamp(0, 255)).abs().max() <= 1


def test_center_crop_after_resize(clip_path: Path) -> None:
    native = VideoDataModule(str(clip_path), cache_dir=None).frames
    cropped = VideoDataModule(str(clip_path), center_crop=(20, 30))
    assert cropped.frame_size == (20, 30)
    assert torch.equal(cropped.frames, native[..., 10:30, 15:45])
    both = VideoDataModule(str(clip_path), resize=(30, 45), center_crop=(20, 20))
    assert both.frame_size == (20, 20) and tuple(both.frames.shape[-2:]) == (20, 20)


def test_max_frames(clip_path: Path) -> None:
    data = VideoDataModule(str(clip_path), max_frames=5)
    assert data.num_frames == 5
    assert data.frames.shape[0] == 5
    assert data.train_indices == [0, 1, 2, 3, 4]
    assert VideoDataModule(str(clip_path), max_frames=500).num_frames == CLIP_FRAMES


def test_train_every_two_holds_out_the_odd_frames(clip_path: Path) -> None:
    data = VideoDataModule(str(clip_path), train_every=2, batch_size=3)
    data.setup("fit")
    assert data.train_indices == list(range(0, CLIP_FRAMES, 2))
    assert data.heldout_indices == list(range(1, CLIP_FRAMES, 2))
    for _ in range(3):  # shuffled: several epochs
        seen = loader_indices(data.train_dataloader())
        assert sorted(seen) == data.train_indices, "every trained frame once per epoch, no held-out frame"
    assert all(i % 2 == 0 for i in loader_indices(data.val_dataloader()))
    assert loader_indices(data.test_dataloader()) == data.heldout_indices
    assert loader_indices(data.predict_dataloader()) == list(range(CLIP_FRAMES))


def test_split_frames() -> None:
    assert split_frames(7, 1) == (list(range(7)), [])
    assert split_frames(7, 3) == ([0, 3, 6], [1, 2, 4, 5])
    with pytest.raises(InrzooError, match="train_every must be >= 1"):
        split_frames(7, 0)


# -- the frame cache ----------------------------------------------------------------------
@pytest.fixture
def decode_calls(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Count real decodes (the cache must make the second load free)."""
    calls: list[Path] = []
    real = video.decode_video

    def counting(path: Path, geometry: FrameGeometry, target: Path) -> Path:
        calls.append(path)
        return real(path, geometry, target)

    monkeypatch.setattr(video, "decode_video", counting)
    return calls


def test_second_load_comes_from_the_cache(
    clip_path: Path, isolated_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = VideoDataModule(str(clip_path), resize=(20, 30)).frames
    assert len(list(isolated_cache.glob("*.frames"))) == 1, "the decode is cached under INRZOO_CACHE_DIR"

    def no_decoding(path: Path, geometry: FrameGeometry, target: Path) -> Path:
        raise AssertionError("decoded again although the cache holds these frames")

    monkeypatch.setattr(video, "decode_video", no_decoding)
    second = VideoDataModule(str(clip_path), resize=(20, 30)).frames
    assert torch.equal(first, second)


def test_cache_dir_none_never_writes(clip_path: Path, isolated_cache: Path, decode_calls: list[Path]) -> None:
    VideoDataModule(str(clip_path), cache_dir=None).setup()
    VideoDataModule(str(clip_path), cache_dir=None).setup()
    assert len(decode_calls) == 2
    assert not isolated_cache.exists()


def test_explicit_cache_dir(clip_path: Path, tmp_path: Path, decode_calls: list[Path]) -> None:
    VideoDataModule(str(clip_path), cache_dir=str(tmp_path / "mine")).setup()
    VideoDataModule(str(clip_path), cache_dir=str(tmp_path / "mine")).setup()
    assert len(decode_calls) == 1
    assert len(list((tmp_path / "mine").glob("*.frames"))) == 1


def test_a_touched_file_is_decoded_again(clip_path: Path, decode_calls: list[Path]) -> None:
    VideoDataModule(str(clip_path)).setup()
    stat = clip_path.stat()
    os.utime(clip_path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    VideoDataModule(str(clip_path)).setup()
    assert len(decode_calls) == 2


def test_a_rewritten_file_gives_its_new_frames(clip_path: Path, decode_calls: list[Path]) -> None:
    from helpers import encode_clip, synthetic_frames

    old = VideoDataModule(str(clip_path)).frames
    stat = clip_path.stat()
    encode_clip(255 - synthetic_frames(num_frames=8), clip_path)
    os.utime(clip_path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # a copy tool keeping the mtime: the size differs
    new = VideoDataModule(str(clip_path))
    assert new.num_frames == 8
    assert not torch.equal(new.frames, old[:8])
    assert len(decode_calls) == 2


def test_a_different_geometry_is_a_different_cache_entry(
    clip_path: Path, isolated_cache: Path, decode_calls: list[Path]
) -> None:
    VideoDataModule(str(clip_path), resize=(20, 30)).setup()
    assert tuple(VideoDataModule(str(clip_path), resize=(30, 45)).frames.shape[-2:]) == (30, 45)
    assert tuple(VideoDataModule(str(clip_path), resize=(30, 45), max_frames=4).frames.shape) == (4, 3, 30, 45)
    assert len(decode_calls) == 3
    assert len(list(isolated_cache.glob("*.frames"))) == 3


def test_a_torn_cache_file_is_rebuilt(clip_path: Path, isolated_cache: Path, decode_calls: list[Path]) -> None:
    good = VideoDataModule(str(clip_path)).frames.tensor()
    [cache_file] = isolated_cache.glob("*.frames")
    cache_file.write_bytes(cache_file.read_bytes()[:100])
    assert torch.equal(VideoDataModule(str(clip_path)).frames, good)
    assert len(decode_calls) == 2


# -- the bundled sample -------------------------------------------------------------------
@requires_samples
def test_sample_carphone_geometry() -> None:
    data = VideoDataModule("sample:carphone", max_frames=3)
    assert data.info.num_frames == 120
    assert (data.info.height, data.info.width) == (144, 176)
    assert data.frame_size == (144, 176)
    assert tuple(data.frames.shape) == (3, 3, 144, 176)
    assert data.frames.float().std() > 10, "a real clip, not a blank"


# -- bad inputs ---------------------------------------------------------------------------
def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.mp4"
    with pytest.raises(InrzooError, match="video file not found") as info:
        VideoDataModule(str(missing))
    assert str(missing) in str(info.value)


def test_a_directory_is_not_a_video(tmp_path: Path) -> None:
    with pytest.raises(InrzooError, match="video file not found"):
        resolve_video_path(tmp_path)


@pytest.mark.parametrize("bad_file", ["empty_file", "text_file", "audio_only_file"])
def test_unreadable_or_frameless_files(bad_file: str, request: pytest.FixtureRequest) -> None:
    path: Path = request.getfixturevalue(bad_file)
    with pytest.raises(InrzooError) as info:
        VideoDataModule(str(path))
    message = str(info.value)
    assert str(path) in message
    assert any(reason in message for reason in ("not a readable video", "no video frames", "no video stream"))
    assert "\n" not in message


def test_center_crop_larger_than_the_frame(clip_path: Path) -> None:
    with pytest.raises(InrzooError, match="center_crop 50x50 is larger than the 40x60 frame"):
        VideoDataModule(str(clip_path), center_crop=(50, 50))
    with pytest.raises(InrzooError, match="larger than the 20x30 frame"):
        VideoDataModule(str(clip_path), resize=(20, 30), center_crop=(20, 31))


def test_unknown_sample() -> None:
    with pytest.raises(InrzooError, match="unknown sample clip 'xyz'") as info:
        VideoDataModule("sample:xyz")
    assert "sample:bunny" in str(info.value) and "sample:carphone" in str(info.value)


@pytest.mark.parametrize("kwargs", [{"max_frames": 0}, {"train_every": 0}, {"resize": (0, 10)}])
def test_invalid_numbers(clip_path: Path, kwargs: dict) -> None:
    with pytest.raises(InrzooError):
        VideoDataModule(str(clip_path), **kwargs)


def test_shuffling_depends_only_on_seed_and_epoch(clip_path: Path) -> None:
    """So a fit resumed from a checkpoint sees the same frame order as an uninterrupted one."""
    data = VideoDataModule(str(clip_path), batch_size=4)
    data.setup("fit")

    def epoch_order(epoch: int) -> list[int]:
        loader = data.train_dataloader()
        loader.sampler.set_epoch(epoch)  # what Lightning calls at the start of every epoch
        return loader_indices(loader)

    torch.manual_seed(7)
    orders = [epoch_order(epoch) for epoch in range(4)]
    assert all(sorted(order) == data.train_indices for order in orders)
    assert len({tuple(order) for order in orders}) == 4, "each epoch is shuffled anew"
    torch.manual_seed(7)
    torch.rand(100)  # whatever else consumed random numbers in between
    assert epoch_order(2) == orders[2]
    torch.manual_seed(8)
    assert epoch_order(2) != orders[2], "the run's seed still matters"
